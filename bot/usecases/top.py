"""`/abacus top`: people ranked by cost or tokens (`top teams` is in ``bot.usecases.teams``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from bot.answers.plain_text import notification_text
from bot.answers.team import top_blocks
from bot.chart_inputs import scope, top_user_bars
from bot.command_text import AbacusRequest
from bot.formatting import PEOPLE_TOTAL
from bot.periods import Period
from bot.usecases.context import Context
from bot.usecases.result import Answer, ChartFile
from charts.bars import top_users_chart
from charts.data import Chart
from providers.registry import seat_tools
from storage.analytics.top_users import TopUsers, top_users
from storage.db import transaction

Metric = Literal["cost", "tokens"]


@dataclass(frozen=True, slots=True)
class TopRequest:
    period: Period
    tool: str | None = None
    limit: int = 10
    by: Metric = "cost"
    teams: bool = False  # `top teams`: teams, not people


def from_parsed(parsed: AbacusRequest, period: Period) -> TopRequest:
    by: Metric = "tokens" if parsed.by == "tokens" else "cost"
    return TopRequest(period, parsed.tool, parsed.limit or 10, by, parsed.teams)


def people(session: Session, request: TopRequest) -> TopUsers:
    """The ranking (Slack's answer and `abacus report top` alike)."""
    p = request.period
    return top_users(
        session, p.start, p.end, rank_by=request.by, tool=request.tool, limit=request.limit, seat_tools=seat_tools()
    )


def chart(top: TopUsers, request: TopRequest) -> Chart:
    """The top chart: at most 12 bars, its title saying of how many people."""
    total = float(top.total_cost_usd) if request.by == "cost" else float(top.total_tokens)
    return top_users_chart(
        top_user_bars(top),
        period_label=request.period.label,
        metric=request.by,
        total=total,
        of=top.people,
        total_label=PEOPLE_TOTAL if top.unattributed.keys else "in total",
        scope=scope(request.tool),
    )


def answer(ctx: Context, request: TopRequest) -> Answer:
    named = ctx.can_see_people
    period = request.period
    with transaction(ctx.engine) as session:
        top = people(session, request)
        freshness = ctx.freshness(session)
    blocks = top_blocks(top, period, tool=request.tool, named=named, freshness=freshness)
    charts = []
    if named and top.users:
        charts.append(ChartFile(lambda: chart(top, request), "top.png", f"Top users · {period.label}"))
    return Answer(notification_text(blocks), blocks, charts)
