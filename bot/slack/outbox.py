"""Delivering the scheduled jobs' messages to Slack: a post in a channel or a DM, the chart in its thread."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.outbox import Message, Sent, Undelivered


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "unknown_error")


class SlackOutbox:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def _channel(self, message: Message) -> str:
        if message.channel:
            return message.channel
        user_id = message.user_id
        if not user_id:
            try:
                user_id = str((self.client.users_lookupByEmail(email=message.email).get("user") or {}).get("id"))
            except SlackApiError as exc:
                raise Undelivered(_error(exc), step="users.lookupByEmail") from None
        try:
            return str(self.client.conversations_open(users=user_id)["channel"]["id"])
        except SlackApiError as exc:
            raise Undelivered(_error(exc), step="conversations.open") from None

    def send(self, message: Message) -> Sent:
        channel = self._channel(message)
        kwargs: dict[str, Any] = {"channel": channel, "text": message.text}
        if message.blocks:
            kwargs["blocks"] = message.blocks
        try:
            # The client retries 429s (after Retry-After) and 5xx itself; what still fails ends up here.
            posted = self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            raise Undelivered(_error(exc), step="chat.postMessage") from None
        ts = str(posted.get("ts") or "posted")
        if message.chart is None:
            return Sent(ts)
        chart = message.chart
        try:
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=ts,
                file_uploads=[
                    {
                        "content": chart.png,
                        "filename": chart.filename,
                        "title": chart.title,
                        "alt_txt": chart.alt_text[:1000],
                    }
                ],
            )
        except SlackApiError as exc:
            return Sent(ts, f"chart upload: {exc.response.get('error', 'unknown_error')}")
        return Sent(ts)
