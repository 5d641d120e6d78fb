"""What the use cases may ask of Slack, answered with the bot's Web API client."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.doctor import DoctorReport
from bot.settings import Settings
from bot.slack.doctor import run_doctor
from bot.slack.usergroups import SlackUsergroups


class SlackWorkspace(SlackUsergroups):
    """One request's (or one job run's) view of Slack: people looked up once for its life."""

    def is_member(self, channel_id: str) -> bool:
        """Digests are posted (and charts uploaded) as a channel member; Slack refuses otherwise."""
        try:
            info = self.client.conversations_info(channel=channel_id)
        except SlackApiError as exc:
            if exc.response.get("error") in ("channel_not_found", "not_in_channel"):
                return False  # a private channel the bot is not in looks like this
            raise
        return bool(info["channel"].get("is_member") or info["channel"].get("is_im"))

    def run_doctor(self, settings: Settings, engine: Engine, *, timeout: float) -> DoctorReport:
        return run_doctor(settings, engine=engine, slack_client=self.client, timeout=timeout)
