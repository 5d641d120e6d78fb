"""`/abacus team NAME`: one team like the overview, with the privacy floor."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.blocks import escape
from bot.answers.plain_text import notification_text
from bot.answers.teams import team_blocks
from bot.chart_inputs import scope, trend_days
from bot.command_text import AbacusRequest
from bot.periods import Period
from bot.usecases.context import Context
from bot.usecases.result import Answer, ChartFile, say
from charts.daily import daily_usage_chart
from storage.analytics.team_usage import team_usage
from storage.analytics.trends import trends
from storage.db import transaction
from storage.teams import get_team


@dataclass(frozen=True, slots=True)
class TeamRequest:
    period: Period
    name: str
    tool: str | None = None


def from_parsed(parsed: AbacusRequest, period: Period) -> TeamRequest:
    return TeamRequest(period, parsed.team_name or "", parsed.tool)


def answer(ctx: Context, request: TeamRequest) -> Answer:
    period, tool = request.period, request.tool
    with transaction(ctx.engine) as session:
        team = get_team(session, request.name)
        if team is None:
            return say(f"There is no team `{escape(request.name)}`; `/abacus team list` shows the teams.")
        usage = team_usage(
            session,
            team.members,
            period.start,
            period.end,
            min_people=ctx.settings.team_min_people,
            tool=tool,
        )
        # Below the privacy floor only counts are shown, so no chart either.
        series = (
            None
            if usage.counts_only or not usage.tokens
            else trends(session, period.start, period.end, now=ctx.now(), tool=tool, emails=team.members)
        )
        freshness = ctx.freshness(session)
    blocks = team_blocks(
        team.name,
        usage,
        period,
        tool=tool,
        named=ctx.can_see_people,
        min_people=ctx.settings.team_min_people,
        freshness=freshness,
    )
    charts = []
    if series is not None:
        drawn = series
        charts.append(
            ChartFile(
                lambda: daily_usage_chart(
                    trend_days(drawn),
                    period_label=period.label,
                    granularity=drawn.granularity,
                    scope=scope(tool, team.name),
                ),
                "team.png",
                f"Team {team.name} · AI coding usage · {period.label}",
            )
        )
    return Answer(notification_text(blocks), blocks, charts)
