"""The original's projection of incomplete days and its percentile, edge case by edge case."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from storage.analytics.percentile import percentile_rank
from storage.analytics.projection import DayTotals, historical_average, project
from storage.analytics.trends import weekly

TOOLS = ["claude_code", "cursor"]
TODAY = date(2026, 11, 7)  # a Saturday


def day(d: date, cc: int = 0, cursor: int = 0) -> DayTotals:
    tokens = {k: v for k, v in (("claude_code", cc), ("cursor", cursor)) if v}
    return DayTotals(d, tokens)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 7, hour, minute, tzinfo=UTC)


def history_of(values: dict[date, int]) -> list[DayTotals]:
    return [day(d, cc=v, cursor=v) for d, v in values.items()]


FLAT = history_of({TODAY - timedelta(days=n): 1_000 for n in range(1, 6)})  # Mon..Fri, 1,000 each


def test_complete_days_are_unchanged() -> None:
    points = project(
        [day(date(2026, 11, 5), cc=700, cursor=300)],
        tools=TOOLS,
        now=at(12),
        last_data={"claude_code": TODAY, "cursor": TODAY},
        history=FLAT,
    )
    assert points[0].incomplete is False and points[0].projected == {} and points[0].actual["claude_code"] == 700


def test_today_extrapolates_usage_so_far_and_estimates_a_tool_with_none() -> None:
    [point] = project(
        [day(TODAY, cursor=600)],
        tools=TOOLS,
        now=at(6),  # a quarter of the UTC day
        last_data={"claude_code": date(2026, 11, 6), "cursor": TODAY},
        history=FLAT,
    )
    assert point.incomplete
    assert point.projected == {"cursor": 2_400, "claude_code": 1_000}
    assert point.actual == {"claude_code": 0, "cursor": 600}
    assert point.projected_total == 3_400


def test_today_in_its_first_hour_is_marked_but_not_projected() -> None:
    [point] = project(
        [day(TODAY, cursor=50)],
        tools=TOOLS,
        now=at(0, 59),
        last_data={"claude_code": TODAY, "cursor": TODAY},
        history=FLAT,
    )
    assert point.incomplete and point.projected == {}


def test_past_late_day_gets_the_average_only_for_late_tools_without_data() -> None:
    friday = date(2026, 11, 6)
    [point] = project(
        [day(friday, cursor=900)],
        tools=TOOLS,
        now=at(12),
        last_data={"claude_code": date(2026, 11, 5), "cursor": TODAY},
        history=FLAT,
    )
    # Claude Code is late and shows 0: estimated. Cursor is complete: left alone.
    assert point.incomplete and point.projected == {"claude_code": 1_000}


def test_past_late_day_with_some_data_is_not_projected() -> None:
    [point] = project(
        [day(date(2026, 11, 6), cc=10)],
        tools=["claude_code"],
        now=at(12),
        last_data={"claude_code": date(2026, 11, 5)},
        history=FLAT,
    )
    assert point.incomplete and point.projected == {}


def test_no_history_means_no_estimate_and_a_tool_never_synced_is_late() -> None:
    [point] = project(
        [day(date(2026, 11, 6))], tools=TOOLS, now=at(12), last_data={"claude_code": None, "cursor": None}, history=[]
    )
    assert point.incomplete and point.projected == {}


def test_average_uses_the_same_weekday_when_two_exist() -> None:
    fridays = {date(2026, 10, 30): 4_000, date(2026, 10, 23): 2_000}
    others = {date(2026, 11, 2): 100, date(2026, 11, 3): 100}
    history = history_of(fridays | others)
    assert historical_average(history, "cursor", 4, TODAY) == 3_000  # Friday: mean of the two Fridays
    assert historical_average(history, "cursor", 0, TODAY) == (4_000 + 2_000 + 100 + 100) / 4  # one Monday only
    # Days after the tool's last data day and zero days do not count.
    assert historical_average(history, "cursor", 4, date(2026, 10, 25)) == 2_000
    assert historical_average([day(date(2026, 11, 2))], "cursor", 0, TODAY) == 0.0


def test_weekly_folds_monday_start_weeks_and_keeps_the_projection() -> None:
    points = project(
        [day(date(2026, 11, 1) + timedelta(days=n), cc=100, cursor=10) for n in range(7)],
        tools=TOOLS,
        now=at(12),
        last_data={"claude_code": TODAY, "cursor": TODAY},
        history=FLAT,
    )
    weeks = weekly(points)
    assert [w.date for w in weeks] == [date(2026, 10, 26), date(2026, 11, 2)]  # Sunday 11-01 belongs to 10-26
    assert weeks[0].actual == {"claude_code": 100, "cursor": 10} and not weeks[0].incomplete
    assert weeks[1].actual == {"claude_code": 600, "cursor": 60} and weeks[1].incomplete
    assert weeks[1].projected == {"claude_code": 700, "cursor": 70}  # today's 100 and 10 doubled at noon


@pytest.mark.parametrize(
    ("values", "who", "expected"),
    [
        ({"a": 10.0}, "a", 100),  # a population of one
        ({"a": 30.0, "b": 20.0, "c": 10.0}, "a", 100),
        ({"a": 30.0, "b": 20.0, "c": 10.0}, "b", 50),
        ({"a": 30.0, "b": 20.0, "c": 10.0}, "c", 0),
        ({"a": 30.0, "b": 30.0, "c": 10.0}, "b", 100),  # ties share the best rank, whatever the order
        ({"a": 30.0, "b": 30.0, "c": 10.0}, "a", 100),
        ({"a": 30.0, "b": 20.0}, "z", None),  # not ranked (fewer than two active days)
        ({}, "z", None),  # empty population
        ({f"u{i}": float(i) for i in range(8)}, "u5", 71),  # round((7 - 2) / 7 * 100)
    ],
)
def test_percentile_rank(values: dict[str, float], who: str, expected: int | None) -> None:
    assert percentile_rank(values, who) == expected
