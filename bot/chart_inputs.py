"""Storage results turned into the plain inputs of ``charts`` (which knows nothing of storage or providers).

Every function here first tells ``charts`` the registered tools' names, colours and order, so a tool added
to the registry is drawn like the others without the charts knowing it.
"""

from __future__ import annotations

from charts.data import Bar, PersonalDay, StackedDay
from charts.style import SeriesStyle, describe_series
from providers import registry
from storage.analytics.models_breakdown import ModelBreakdown
from storage.analytics.profile import UserProfile
from storage.analytics.team import TeamTable
from storage.analytics.top_users import TopUsers
from storage.analytics.trends import Trends


def describe_tools() -> None:
    describe_series([SeriesStyle(t.id, t.title, t.color, t.estimated_cost, t.unit) for t in registry.tools()])


def trend_days(trends: Trends) -> list[StackedDay]:
    describe_tools()
    return [
        StackedDay(
            date=p.date,
            values={tool: float(v) for tool, v in p.actual.items()},
            projected={tool: float(v) for tool, v in p.projected.items()},
            missing=p.missing,
            days=p.days,
            cost=float(p.cost_usd),
        )
        for p in trends.points
    ]


def top_user_bars(top: TopUsers) -> list[Bar]:
    describe_tools()
    if top.rank_by == "cost":
        return [Bar(u.email, {t: float(c) for t, c in u.cost_by_tool.items()}) for u in top.users]
    return [Bar(u.email, {t: float(v) for t, v in u.tokens_by_tool.items()}) for u in top.users]


def team_bars(table: TeamTable) -> list[Bar]:
    describe_tools()
    return [Bar(r.email, {t: float(v) for t, v in r.tokens_by_tool.items()}) for r in table.rows]


def model_bars(breakdown: ModelBreakdown) -> list[Bar]:
    describe_tools()
    return [Bar(m.model, {t: float(v) for t, v in m.tokens_by_tool.items()}) for m in breakdown.models]


def personal_days(profile: UserProfile) -> list[PersonalDay]:
    describe_tools()
    return [
        PersonalDay(d.date, {t: float(v) for t, v in d.tokens.items()}, float(sum(d.cost_usd.values())), d.missing)
        for d in profile.daily
    ]


def scope(tool: str | None = None, team: str | None = None) -> str:
    """The filter a chart's numbers are limited to, for its title: "Cursor", "team Platform · Cursor", or
    nothing for the whole company and every tool."""
    parts = [f"team {team}" if team else "", registry.tool_title(tool) if tool else ""]
    return " · ".join(p for p in parts if p)
