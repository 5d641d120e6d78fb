"""`/abacus table`: the team table, one row per person."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.plain_text import notification_text
from bot.answers.team_table import MAX_PEOPLE, team_table_blocks
from bot.command_text import AbacusRequest
from bot.periods import Period, today_in
from bot.sources import all_tools
from bot.usecases.context import Context
from bot.usecases.result import Answer, say
from storage.analytics.team import team_table
from storage.db import transaction

PEOPLE_ADMINS_ONLY = "{what} names people, which only Abacus admins may see here. `/abacus overview` shows the totals."


@dataclass(frozen=True, slots=True)
class TableRequest:
    period: Period
    tool: str | None = None
    sort: str = "total_tokens"  # a team table sort key
    ascending: bool | None = None  # None: the sort key's natural order


def from_parsed(parsed: AbacusRequest, period: Period) -> TableRequest:
    return TableRequest(period, parsed.tool, parsed.sort or "total_tokens", parsed.ascending)


def answer(ctx: Context, request: TableRequest) -> Answer:
    if not ctx.can_see_people:
        return say(PEOPLE_ADMINS_ONLY.format(what="The team table"))
    period, sort = request.period, request.sort
    # Names and dates read naturally A→Z and oldest first; amounts, largest first.
    ascending = request.ascending if request.ascending is not None else sort == "email"
    with transaction(ctx.engine) as session:
        table = team_table(
            session,
            period.start,
            period.end,
            today=today_in(ctx.zone, ctx.now()),
            sort_by=sort,
            descending=not ascending,
            tool=request.tool,
            tools=all_tools(),
            limit=MAX_PEOPLE,
        )
        freshness = ctx.freshness(session)
    blocks = team_table_blocks(table, period, sort=sort, ascending=ascending, tool=request.tool, freshness=freshness)
    return Answer(notification_text(blocks), blocks)
