"""`/abacus digest here|list|off`: the admins' channel digests (composing and posting is ``bot.digests``)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.digest import not_in_channel_blocks, stopped_blocks, subscribed_blocks, subscriptions_blocks
from bot.answers.plain_text import notification_text
from bot.command_text import AbacusRequest
from bot.usecases.budgets import NEEDS_SLACK
from bot.usecases.context import Context
from bot.usecases.result import Answer, problems, say
from storage.digests import deactivate, list_subscriptions, subscribe


@dataclass(frozen=True, slots=True)
class DigestRequest:
    action: str  # here | list | off
    cadence: str | None = None  # daily | weekly (None with off: both)
    local_time: str = "09:00"
    weekday: int = 0  # weekly: 0 = Monday
    timezone: str | None = None  # None: the admin's own
    problems: tuple[str, ...] = ()
    usage: str = ""


def from_parsed(parsed: AbacusRequest) -> DigestRequest:
    return DigestRequest(
        parsed.action or "list",
        parsed.cadence,
        parsed.local_time or "09:00",
        parsed.weekday or 0,
        parsed.timezone,
        tuple(parsed.problems),
        parsed.usage,
    )


def manage(ctx: Context, request: DigestRequest) -> Answer:
    if not ctx.is_admin:
        return say("Only Abacus admins can manage digests (the ABACUS_ADMINS setting).")
    if request.problems:
        return problems(request.problems, request.usage)
    if request.action == "list":
        blocks = subscriptions_blocks(list_subscriptions(ctx.engine))
        return Answer(notification_text(blocks), blocks)
    channel_id = ctx.channel_id
    if channel_id is None:
        # Only `abacus ask` asks without a channel (`--channel ID` gives one).
        return say("Digests belong to a channel: run this in the Slack channel that should get them.")
    if request.action == "off":
        count = deactivate(ctx.engine, channel_id=channel_id, cadence=request.cadence)
        blocks = stopped_blocks(channel_id, count)
        return Answer(notification_text(blocks), blocks)
    if ctx.workspace is None:
        return say(NEEDS_SLACK.format(what="Setting up a digest", channel=channel_id))
    if not ctx.workspace.is_member(channel_id):
        blocks = not_in_channel_blocks()
        return Answer(notification_text(blocks), blocks)
    sub = subscribe(
        ctx.engine,
        channel_id=channel_id,
        cadence=request.cadence or "daily",
        local_time=request.local_time,
        weekday=request.weekday if request.cadence == "weekly" else None,
        timezone=request.timezone or ctx.zone.key,
        created_by=ctx.asker.id,
        now=ctx.now(),
    )
    blocks = subscribed_blocks(sub)
    return Answer(notification_text(blocks), blocks)
