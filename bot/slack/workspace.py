"""What the use cases may ask of Slack, answered with the bot's Web API client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.doctor import DoctorReport, run_doctor
from bot.settings import Settings
from bot.teams import TeamSync, sync_followed_usergroups, sync_usergroup
from storage.teams import Team


@dataclass(frozen=True, slots=True)
class SlackWorkspace:
    client: WebClient

    def is_member(self, channel_id: str) -> bool:
        """Digests are posted (and charts uploaded) as a channel member; Slack refuses otherwise."""
        try:
            info = self.client.conversations_info(channel=channel_id)
        except SlackApiError as exc:
            if exc.response.get("error") in ("channel_not_found", "not_in_channel"):
                return False  # a private channel the bot is not in looks like this
            raise
        return bool(info["channel"].get("is_member") or info["channel"].get("is_im"))

    def sync_usergroup(self, engine: Engine, *, now: datetime, by: str, usergroup_id: str, handle: str) -> Team:
        return sync_usergroup(self.client, engine, now=now, by=by, usergroup_id=usergroup_id, handle=handle)

    def sync_followed_usergroups(self, settings: Settings, engine: Engine, *, now: datetime) -> list[TeamSync]:
        return sync_followed_usergroups(settings, engine, self.client, now=now)

    def run_doctor(self, settings: Settings, engine: Engine, *, timeout: float) -> DoctorReport:
        return run_doctor(settings, engine=engine, slack_client=self.client, timeout=timeout)
