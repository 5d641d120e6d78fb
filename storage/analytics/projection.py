"""Projection of days whose data is not complete yet, after the original abacus (its ``projection.ts``).

Claude Code data arrives up to a day late and Cursor an hour or two late, so the newest days look like
a drop in usage. A day is incomplete for a tool when it is after the tool's last day with data, and
today is incomplete for every tool. For today, a tool with usage so far is extrapolated by the share
of the UTC day elapsed (under one hour elapsed: no projection, only the mark); a tool with nothing yet,
and a past incomplete day of a tool with nothing, gets the tool's historical daily average.

Fixed against the original (W15): the historical average comes from a fixed window before the
projected day supplied by the caller (not only from the days that happen to be visible), the weekday
used is that of the projected day (not always today's), and "now" is an explicit UTC instant rather
than the server's local clock. Cost is never projected, as in the original.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

# The original falls back from "same weekday" to "all days" when fewer than this many same-weekday days exist.
MIN_SAME_WEEKDAY_DAYS = 2


@dataclass(frozen=True, slots=True)
class DayTotals:
    """Actual tokens and cost of one day, per tool."""

    date: date
    tokens: dict[str, int]
    cost_usd: dict[str, Decimal] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # tools without any data that day, company-wide (see trends.missing_days)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One day (or week) of the trend. ``projected`` holds, for each projected tool, the full expected
    value (actual plus the estimated missing part), so ``projected[t] - actual[t]`` is the hatched part."""

    date: date
    actual: dict[str, int]
    projected: dict[str, int]
    cost_usd: Decimal
    incomplete: bool
    # Tools with no data at all on this day although they have data before and after it (a gap, as
    # ``gaps`` reports it) or only after it (not connected yet): their zero is unknown, not no usage.
    missing: tuple[str, ...] = ()
    # How many calendar days of the period the point covers: 1 for a day; up to 7 for a week, fewer when
    # the period starts or ends inside it, so a short week reads as short and not as a drop in usage.
    days: int = 1

    @property
    def total(self) -> int:
        return sum(self.actual.values())

    @property
    def projected_total(self) -> int:
        return sum(max(self.projected.get(tool, value), value) for tool, value in self.actual.items())


def historical_average(history: Sequence[DayTotals], tool: str, weekday: int, last_data: date | None) -> float:
    """Mean of the tool's non-zero complete days; same weekday only when there are at least two of them."""
    values = [
        (day.date.weekday(), day.tokens.get(tool, 0))
        for day in history
        if last_data is not None and day.date <= last_data and day.tokens.get(tool, 0) > 0
    ]
    same_weekday = [v for wd, v in values if wd == weekday]
    pool = same_weekday if len(same_weekday) >= MIN_SAME_WEEKDAY_DAYS else [v for _, v in values]
    return sum(pool) / len(pool) if pool else 0.0


def project(
    days: Sequence[DayTotals],
    *,
    tools: Sequence[str],
    now: datetime,
    last_data: Mapping[str, date | None],
    history: Sequence[DayTotals],
) -> list[TrendPoint]:
    """Mark and project the incomplete days of ``days`` (one entry per calendar day, ascending).

    ``last_data`` is each tool's newest day with any data (all time); ``history`` is the daily totals of a
    window before the period's incomplete days (the caller picks it, e.g. the previous 28 days).
    """
    now = now.astimezone(UTC)
    today = now.date()
    hours_elapsed = now.hour + now.minute / 60
    points = []
    for day in days:
        actual = {tool: day.tokens.get(tool, 0) for tool in tools}
        cost = sum(day.cost_usd.values(), Decimal(0))
        late_tools = [t for t in tools if _is_late(day.date, last_data.get(t))]
        is_today = day.date == today
        if not is_today and not late_tools:
            points.append(TrendPoint(day.date, actual, {}, cost, incomplete=False))
            continue
        projected: dict[str, int] = {}
        if is_today and hours_elapsed >= 1:
            factor = hours_elapsed / 24
            for tool in tools:
                avg = historical_average(history, tool, day.date.weekday(), last_data.get(tool))
                if actual[tool] > 0:
                    projected[tool] = max(round(actual[tool] / factor), actual[tool])
                elif avg > 0:
                    projected[tool] = round(avg)
        elif not is_today and day.date < today:
            for tool in late_tools:
                avg = historical_average(history, tool, day.date.weekday(), last_data.get(tool))
                if actual[tool] == 0 and avg > 0:
                    projected[tool] = round(avg)
        points.append(TrendPoint(day.date, actual, projected, cost, incomplete=True))
    return points


def _is_late(day: date, last_data: date | None) -> bool:
    return last_data is None or day > last_data
