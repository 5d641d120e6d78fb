"""Daily usage per tool over a period, with incomplete days projected and long periods folded into weeks."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.analytics.common import D, M, P, Rollup, in_range, sum_cost, sum_tokens, to_decimal
from storage.analytics.projection import DayTotals, TrendPoint, project

# Above this many daily points a chart is unreadable; the original folds them into Monday-start weeks.
MAX_DAILY_POINTS = 90
# How far back the historical average for projections looks, before the first projected day.
HISTORY_DAYS = 28

Granularity = Literal["day", "week"]


@dataclass(frozen=True, slots=True)
class Trends:
    start: date
    end: date
    granularity: Granularity
    tools: list[str]
    points: list[TrendPoint]
    last_data: dict[str, date | None]  # each tool's newest day with any data, all time

    @property
    def total_tokens(self) -> int:
        return sum(p.total for p in self.points)

    @property
    def total_cost_usd(self) -> Decimal:
        return sum((p.cost_usd for p in self.points), Decimal(0))

    @property
    def has_projection(self) -> bool:
        return any(p.projected for p in self.points)


def daily_totals(
    session: Session,
    start: date,
    end: date,
    *,
    tool: str | None = None,
    email: str | None = None,
    emails: Collection[str] | None = None,
) -> list[DayTotals]:
    """One entry per calendar day of ``start..end``, zeros included, tokens and cost per tool; only
    ``email``'s or ``emails``' usage when given."""
    # Company-wide from the per-model rollup (a few rows a day), people from the person-day rollup.
    t: Rollup = M if email is None and emails is None else P
    stmt = select(t.date, t.tool, sum_tokens(t), sum_cost(t)).where(in_range(start, end, t)).group_by(t.date, t.tool)
    if tool:
        stmt = stmt.where(t.tool == tool)
    if email is not None:
        stmt = stmt.where(P.email == email)
    if emails is not None:
        stmt = stmt.where(P.email.in_(sorted(emails)))
    tokens: dict[date, dict[str, int]] = {}
    costs: dict[date, dict[str, Decimal]] = {}
    for day, row_tool, row_tokens, row_cost in session.execute(stmt):
        tokens.setdefault(day, {})[row_tool] = int(row_tokens)
        costs.setdefault(day, {})[row_tool] = to_decimal(row_cost)
    days = []
    day = start
    while day <= end:
        days.append(DayTotals(day, tokens.get(day, {}), costs.get(day, {})))
        day += timedelta(days=1)
    return days


def last_data_dates(session: Session, tools: list[str]) -> dict[str, date | None]:
    """Each tool's newest day with data; one index lookup per tool (the rollup's unique key starts with
    (tool, date)), rather than a scan of the whole rollup."""
    return {tool: session.scalar(select(func.max(D.date)).where(D.tool == tool)) for tool in tools}


def known_tools(session: Session) -> list[str]:
    """The tools present in the rollup, found by skipping through the (tool, ...) index one tool at a time:
    a handful of lookups instead of a DISTINCT over every row."""
    tools: list[str] = []
    current = session.scalar(select(func.min(D.tool)))
    while current is not None:
        tools.append(current)
        current = session.scalar(select(func.min(D.tool)).where(D.tool > current))
    return tools


def trends(
    session: Session,
    start: date,
    end: date,
    *,
    now: datetime,
    tool: str | None = None,
    tools: list[str] | None = None,
    emails: Collection[str] | None = None,
) -> Trends:
    """The daily series of ``start..end`` per tool, projected where incomplete (``now`` is an aware instant).

    ``tools`` fixes which tools get a series (so a tool with no data yet still shows as zero); by default
    the tools present in the data, or just ``tool`` when filtering. ``emails`` limits it to those people
    (a team): their own history projects their incomplete days.
    """
    series_tools = [tool] if tool else (tools or known_tools(session))
    days = daily_totals(session, start, end, tool=tool, emails=emails)
    last_data = last_data_dates(session, series_tools)
    # The history is the weeks before today whatever period is being looked at (W15); each tool's average
    # then skips the days after its own last data day, so a late tool is not averaged over its missing days.
    yesterday = now.astimezone(UTC).date() - timedelta(days=1)
    history = daily_totals(session, yesterday - timedelta(days=HISTORY_DAYS - 1), yesterday, tool=tool, emails=emails)
    points = project(days, tools=series_tools, now=now, last_data=last_data, history=history)
    missing = missing_days(session, start, end, series_tools, last_data)
    points = [replace(p, missing=missing[p.date]) if p.date in missing else p for p in points]
    granularity: Granularity = "day"
    if len(points) > MAX_DAILY_POINTS:
        points, granularity = weekly(points, today=now.astimezone(UTC).date()), "week"
    return Trends(start, end, granularity, series_tools, points, last_data)


def missing_days(
    session: Session, start: date, end: date, tools: list[str], last_data: dict[str, date | None]
) -> dict[date, tuple[str, ...]]:
    """The days of ``start..end`` on which a tool has no data at all, company-wide, although it has data
    later: inside a gap between two days with data (what ``gaps`` reports) or before its first data.
    Days after a tool's newest data are not here: they are late, and the projection marks them."""
    present: dict[str, set[date]] = {}
    stmt = select(M.date, M.tool).where(in_range(start, end, M), M.tool.in_(tools)).distinct()
    for day, tool in session.execute(stmt):
        present.setdefault(tool, set()).add(day)
    missing: dict[date, tuple[str, ...]] = {}
    day = start
    while day <= end:
        absent = tuple(
            tool
            for tool in tools
            if (last := last_data.get(tool)) is not None and day <= last and day not in present.get(tool, ())
        )
        if absent:
            missing[day] = absent
        day += timedelta(days=1)
    return missing


def weekly(points: list[TrendPoint], *, today: date | None = None) -> list[TrendPoint]:
    """Fold daily points into Monday-start weeks (dated by their Monday). Actual values and cost are
    summed; a week is incomplete if any of its days is, and its projection is the sum of its days' expected
    values, so a late final week still shows its hatched part. The week of ``today`` is projected to its
    seven days (its days so far scaled up), so the current week reads as under way, not as a collapse.
    A week's ``missing`` tools are those without data on at least one of its days: its figure for them is
    short by those days."""
    weeks: dict[date, list[TrendPoint]] = {}
    for point in points:
        weeks.setdefault(point.date - timedelta(days=point.date.weekday()), []).append(point)
    folded = []
    for monday, members in sorted(weeks.items()):
        tools = list(members[0].actual)
        actual = {t: sum(p.actual.get(t, 0) for p in members) for t in tools}
        projected: dict[str, int] = {}
        for t in tools:
            if any(t in p.projected for p in members):
                projected[t] = sum(max(p.projected.get(t, 0), p.actual.get(t, 0)) for p in members)
        running = today is not None and monday <= today < monday + timedelta(days=7) and len(members) < 7
        if running and members[-1].date == today:
            for t in tools:
                so_far = sum(max(p.projected.get(t, 0), p.actual.get(t, 0)) for p in members)
                if so_far:
                    projected[t] = round(so_far * 7 / len(members))
        missing = {t for p in members for t in p.missing}
        folded.append(
            TrendPoint(
                date=monday,
                actual=actual,
                projected=projected,
                cost_usd=sum((p.cost_usd for p in members), Decimal(0)),
                incomplete=any(p.incomplete for p in members),
                missing=tuple(t for t in tools if t in missing),
                days=len(members),
            )
        )
    return folded
