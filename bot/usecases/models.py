"""`/abacus models`: cost and tokens per model, merged across tools."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.plain_text import notification_text
from bot.answers.team import models_blocks
from bot.chart_inputs import model_bars
from bot.command_text import AbacusRequest
from bot.periods import Period
from bot.usecases.context import Context
from bot.usecases.result import Answer, ChartFile
from charts.bars import model_chart
from providers.registry import seat_tools
from storage.analytics.models_breakdown import model_breakdown
from storage.db import transaction


@dataclass(frozen=True, slots=True)
class ModelsRequest:
    period: Period
    tool: str | None = None


def from_parsed(parsed: AbacusRequest, period: Period) -> ModelsRequest:
    return ModelsRequest(period, parsed.tool)


def answer(ctx: Context, request: ModelsRequest) -> Answer:
    period, tool = request.period, request.tool
    with transaction(ctx.engine) as session:
        breakdown = model_breakdown(session, period.start, period.end, tool=tool, seat_tools=seat_tools())
        freshness = ctx.freshness(session)
    blocks = models_blocks(breakdown, period, tool=tool, freshness=freshness)
    charts = []
    if breakdown.models:
        charts.append(
            ChartFile(
                lambda: model_chart(
                    model_bars(breakdown)[:6], period_label=period.label, total=float(breakdown.total_tokens)
                ),
                "models.png",
                f"Models · {period.label}",
            )
        )
    return Answer(notification_text(blocks), blocks, charts)
