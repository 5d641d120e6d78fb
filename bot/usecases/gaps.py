"""`/abacus gaps`: missing days per provider and org, and stale tails."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.data_health import gaps_blocks
from bot.answers.plain_text import notification_text
from bot.command_text import AbacusRequest
from bot.periods import Period, today_in
from bot.sources import gaps_of, resolve_source, tool_of_source
from bot.usecases.context import Context
from bot.usecases.result import Answer
from storage.db import transaction


@dataclass(frozen=True, slots=True)
class GapsRequest:
    tool: str | None = None


def from_parsed(parsed: AbacusRequest, _period: Period) -> GapsRequest:
    return GapsRequest(parsed.tool)


def answer(ctx: Context, request: GapsRequest) -> Answer:
    with transaction(ctx.engine) as session:
        today = today_in(ctx.zone, ctx.now())
        everything = gaps_of(session, today=today)
    sources = resolve_source(request.tool)
    results = everything if sources is None else [g for g in everything if g.provider in sources]
    blocks = gaps_blocks(
        results,
        configured=ctx.settings.configured_tools(),
        with_data=[tool_of_source(g.provider) for g in everything if g.first_date],
        tools=None if sources is None else [tool_of_source(s) for s in sources],
    )
    return Answer(notification_text(blocks), blocks)
