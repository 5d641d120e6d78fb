"""`/abacus models`: cost and tokens per model, merged across tools."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.answers.plain_text import notification_text
from bot.answers.team import models_blocks
from bot.chart_inputs import model_bars, scope
from bot.command_text import AbacusRequest
from bot.periods import Period
from bot.usecases.context import Context
from bot.usecases.result import Answer, ChartFile
from charts.bars import model_chart
from charts.data import Chart
from charts.style import MAX_SERIES
from providers.registry import seat_tools, uncounted_tools
from storage.analytics.models_breakdown import ModelBreakdown, model_breakdown
from storage.db import transaction


@dataclass(frozen=True, slots=True)
class ModelsRequest:
    period: Period
    tool: str | None = None


def from_parsed(parsed: AbacusRequest, period: Period) -> ModelsRequest:
    return ModelsRequest(period, parsed.tool)


SLACK_BARS = 6  # a Slack answer's chart: the biggest models only


def breakdown_of(session: Session, request: ModelsRequest) -> ModelBreakdown:
    p = request.period
    return model_breakdown(
        session, p.start, p.end, tool=request.tool, seat_tools=seat_tools(), uncounted_tools=uncounted_tools()
    )


def chart(breakdown: ModelBreakdown, period: Period, *, tool: str | None = None, bars: int = MAX_SERIES) -> Chart:
    """Every model goes to the chart: the ones beyond ``bars`` become its "other models" bar rather than
    silently dropping out of a picture whose subtitle states the whole total."""
    return model_chart(
        model_bars(breakdown),
        period_label=period.label,
        total=float(breakdown.total_tokens),
        scope=scope(tool),
        keep=bars,
    )


def answer(ctx: Context, request: ModelsRequest) -> Answer:
    period, tool = request.period, request.tool
    with transaction(ctx.engine) as session:
        breakdown = breakdown_of(session, request)
        freshness = ctx.freshness(session)
    blocks = models_blocks(breakdown, period, tool=tool, freshness=freshness)
    charts = []
    if breakdown.models:
        charts.append(
            ChartFile(
                lambda: chart(breakdown, period, tool=tool, bars=SLACK_BARS),
                "models.png",
                f"Models · {period.label}",
            )
        )
    return Answer(notification_text(blocks), blocks, charts)
