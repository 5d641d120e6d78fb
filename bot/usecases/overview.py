"""`/abacus overview` (and `/abacus 7d`): the company's dashboard for a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.answers.plain_text import notification_text
from bot.answers.team import overview_blocks
from bot.chart_inputs import scope, trend_days
from bot.command_text import AbacusRequest
from bot.periods import Period
from bot.usecases.context import Context
from bot.usecases.result import Answer, ChartFile
from charts.daily import daily_usage_chart
from charts.data import Chart
from providers.registry import seat_tools, uncounted_tools
from storage.analytics.common import PersonToolSums, person_tool_sums
from storage.analytics.models_breakdown import model_breakdown
from storage.analytics.overview import Overview, overview
from storage.analytics.top_users import top_users
from storage.analytics.trends import Trends, trends
from storage.db import transaction


@dataclass(frozen=True, slots=True)
class OverviewRequest:
    period: Period
    tool: str | None = None
    share: bool = False  # posted in the channel for everyone there


def from_parsed(parsed: AbacusRequest, period: Period) -> OverviewRequest:
    return OverviewRequest(period, parsed.tool, parsed.share)


def daily(session: Session, request: OverviewRequest, *, now: datetime) -> Trends:
    """The daily (weekly above 90 days) series the chart draws, incomplete days projected."""
    return trends(session, request.period.start, request.period.end, now=now, tool=request.tool)


def chart(series: Trends, period: Period, tool: str | None = None) -> Chart:
    return daily_usage_chart(
        trend_days(series), period_label=period.label, granularity=series.granularity, scope=scope(tool)
    )


def totals(session: Session, request: OverviewRequest, *, sums: PersonToolSums | None = None) -> Overview:
    """The cards: totals, averages, tool split, the change, unattributed and subscription usage."""
    p = request.period
    return overview(session, p.start, p.end, tool=request.tool, seat_tools=seat_tools(), sums=sums)


def answer(ctx: Context, request: OverviewRequest) -> Answer:
    period, tool = request.period, request.tool
    # A shared answer is read by everyone in the channel, so it names people only if everyone may see them.
    named = ctx.can_see_people and not (request.share and not ctx.policy.people_visible_to_all)
    with transaction(ctx.engine) as session:
        # The cards and the ranking add up the same (tool, person) sums: one scan of the period for both.
        sums = person_tool_sums(session, period.start, period.end, tool)
        ov = totals(session, request, sums=sums)
        models = model_breakdown(
            session,
            period.start,
            period.end,
            tool=tool,
            limit=5,
            seat_tools=seat_tools(),
            uncounted_tools=uncounted_tools(),
        )
        top = (
            top_users(
                session,
                period.start,
                period.end,
                rank_by="cost",
                tool=tool,
                limit=5,
                seat_tools=seat_tools(),
                sums=sums,
            )
            if named
            else None
        )
        series = daily(session, request, now=ctx.now())
        freshness = ctx.freshness(session)
    blocks = overview_blocks(ov, period, tool=tool, models=models, top=top, freshness=freshness)
    charts = []
    if ov.current.total_tokens:
        charts.append(
            ChartFile(
                lambda: chart(series, period, tool),
                "daily.png",
                f"AI coding usage · {period.label}",
            )
        )
    return Answer(notification_text(blocks), blocks, charts, public=request.share)
