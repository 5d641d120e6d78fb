"""`/abacus overview` (and `/abacus 7d`): the company's dashboard for a period."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.plain_text import notification_text
from bot.answers.team import overview_blocks
from bot.chart_inputs import trend_days
from bot.command_text import AbacusRequest
from bot.periods import Period
from bot.usecases.context import Context
from bot.usecases.result import Answer, ChartFile
from charts.daily import daily_usage_chart
from providers.registry import seat_tools
from storage.analytics.common import person_tool_sums
from storage.analytics.models_breakdown import model_breakdown
from storage.analytics.overview import overview
from storage.analytics.top_users import top_users
from storage.analytics.trends import trends
from storage.db import transaction


@dataclass(frozen=True, slots=True)
class OverviewRequest:
    period: Period
    tool: str | None = None
    share: bool = False  # posted in the channel for everyone there


def from_parsed(parsed: AbacusRequest, period: Period) -> OverviewRequest:
    return OverviewRequest(period, parsed.tool, parsed.share)


def answer(ctx: Context, request: OverviewRequest) -> Answer:
    period, tool = request.period, request.tool
    # A shared answer is read by everyone in the channel, so it names people only if everyone may see them.
    named = ctx.can_see_people and not (request.share and not ctx.policy.people_visible_to_all)
    with transaction(ctx.engine) as session:
        # The cards and the ranking add up the same (tool, person) sums: one scan of the period for both.
        sums = person_tool_sums(session, period.start, period.end, tool)
        ov = overview(session, period.start, period.end, tool=tool, seat_tools=seat_tools(), sums=sums)
        models = model_breakdown(session, period.start, period.end, tool=tool, limit=5, seat_tools=seat_tools())
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
        series = trends(session, period.start, period.end, now=ctx.now(), tool=tool)
        freshness = ctx.freshness(session)
    blocks = overview_blocks(ov, period, tool=tool, models=models, top=top, freshness=freshness)
    charts = []
    if ov.current.total_tokens:
        charts.append(
            ChartFile(
                lambda: daily_usage_chart(
                    trend_days(series), period_label=period.label, granularity=series.granularity
                ),
                "daily.png",
                f"AI coding usage · {period.label}",
            )
        )
    return Answer(notification_text(blocks), blocks, charts, public=request.share)
