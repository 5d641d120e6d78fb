"""`/abacus table`: the team table, one row per person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bot.answers.plain_text import notification_text
from bot.answers.team_table import MAX_PEOPLE, team_table_blocks
from bot.command_text import AbacusRequest
from bot.periods import Period, today_in
from bot.sources import all_tools
from bot.usecases.context import Context
from bot.usecases.result import Answer, say
from storage.analytics.team import TeamTable, team_table
from storage.db import transaction

PEOPLE_ADMINS_ONLY = "{what} names people, which only Abacus admins may see here. `/abacus overview` shows the totals."


@dataclass(frozen=True, slots=True)
class TableRequest:
    period: Period
    tool: str | None = None
    sort: str = "total_tokens"  # a team table sort key
    ascending: bool | None = None  # None: the sort key's natural order
    search: str | None = None  # only people whose email contains this
    limit: int = MAX_PEOPLE

    @property
    def in_ascending_order(self) -> bool:
        # Names and dates read naturally A→Z and oldest first; amounts, largest first.
        return self.ascending if self.ascending is not None else self.sort == "email"


def from_parsed(parsed: AbacusRequest, period: Period) -> TableRequest:
    return TableRequest(period, parsed.tool, parsed.sort or "total_tokens", parsed.ascending)


def rows(session: Session, request: TableRequest, *, today: date) -> TeamTable:
    """The table (Slack's answer, `/abacus export team`, `abacus report team` and its CSV alike)."""
    p = request.period
    return team_table(
        session,
        p.start,
        p.end,
        today=today,
        sort_by=request.sort,
        descending=not request.in_ascending_order,
        search=request.search,
        tool=request.tool,
        tools=all_tools(),
        limit=request.limit,
    )


def answer(ctx: Context, request: TableRequest) -> Answer:
    if not ctx.can_see_people:
        return say(PEOPLE_ADMINS_ONLY.format(what="The team table"))
    with transaction(ctx.engine) as session:
        table = rows(session, request, today=today_in(ctx.zone, ctx.now()))
        freshness = ctx.freshness(session)
    blocks = team_table_blocks(
        table,
        request.period,
        sort=request.sort,
        ascending=request.in_ascending_order,
        tool=request.tool,
        freshness=freshness,
    )
    return Answer(notification_text(blocks), blocks)
