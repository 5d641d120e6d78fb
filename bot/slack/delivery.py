"""Getting an answer to the person: ephemeral reply, charts to their DM, or a post in the channel.

The numbers go first: an answer's charts are drawn only when they are uploaded, after the reply is
shown. Slack cannot attach files to ephemeral messages, so a private answer's chart goes to the asker's DM
with the app, and the reply says so. A shared answer is posted in the channel, which needs the bot
to be a member; when it is not, the asker is told how to invite it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answers.blocks import context
from bot.usecases.result import Answer, ChartFile, ExportFile

log = logging.getLogger(__name__)


Respond = Callable[..., Any]


def deliver(answer: Answer, *, respond: Respond, client: WebClient, user_id: str, channel_id: str) -> None:
    if answer.public:
        _post_in_channel(answer, respond=respond, client=client, channel_id=channel_id)
        return
    note = [context(":chart_with_upwards_trend: Chart on its way to your DM with Abacus.")] if answer.charts else []
    respond(text=answer.text, blocks=answer.blocks + note, response_type="ephemeral")
    if not answer.charts and not answer.files:
        return
    error = send_private_charts(client, user_id, answer)
    if error:
        what = "the file" if answer.files else "the chart"
        rest = "" if answer.files else "; the numbers above are complete"
        respond(
            text=f"I couldn't send {what} to your DM (Slack said `{error}`){rest}.",
            response_type="ephemeral",
            replace_original=False,
        )


def send_private_charts(client: WebClient, user_id: str, answer: Answer) -> str | None:
    """Upload the answer's charts and files to the person's DM with the app; the Slack error code if that failed."""
    try:
        dm = client.conversations_open(users=user_id)["channel"]["id"]
        _upload(client, dm, answer.charts, comment=answer.text, files=answer.files)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown error"))
        log.warning("chart DM to %s failed: %s", user_id, error)
        return error
    return None


def _post_in_channel(answer: Answer, *, respond: Respond, client: WebClient, channel_id: str) -> None:
    try:
        posted = client.chat_postMessage(channel=channel_id, text=answer.text, blocks=answer.blocks)
        if answer.charts:
            _upload(client, channel_id, answer.charts, thread_ts=posted["ts"])
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown error")
        if error in ("not_in_channel", "channel_not_found"):
            message = "I can only post here once I'm in this channel: type `/invite @Abacus`, then ask again."
        else:
            log.warning("posting in %s failed: %s", channel_id, error)
            message = f"I couldn't post in this channel (Slack said `{error}`)."
        respond(text=message, response_type="ephemeral")


def _upload(
    client: WebClient,
    channel: str,
    charts: list[ChartFile],
    *,
    comment: str = "",
    thread_ts: str = "",
    files: list[ExportFile] | None = None,
) -> None:
    uploads: list[dict[str, Any]] = [
        {"content": c.png, "filename": c.filename, "title": c.title, "alt_txt": c.alt_text[:1000]} for c in charts
    ]
    uploads += [{"content": f.content, "filename": f.filename, "title": f.title} for f in files or []]
    kwargs: dict[str, Any] = {"channel": channel, "file_uploads": uploads}
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    elif comment:
        kwargs["initial_comment"] = comment
    client.files_upload_v2(**kwargs)
