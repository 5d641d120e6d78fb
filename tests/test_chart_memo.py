"""A chart is drawn once per distinct input: identical inputs give the stored picture, any change a new one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from charts import memo
from charts.bars import top_users_chart
from charts.data import Bar, Chart
from charts.style import SeriesStyle, describe_series, described


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    memo.forget()
    yield
    memo.forget()


def bars(cost: float = 12.5) -> list[Bar]:
    return [Bar("ada@example.com", {"claude_code": cost, "cursor": 5.0})]


def test_identical_inputs_are_drawn_once_and_any_change_draws_anew() -> None:
    calls: list[int] = []

    @memo.drawn_once
    def render(days: list[Bar], *, label: str) -> Chart:
        calls.append(1)
        return Chart(b"png", f"{label} {days[0].values['claude_code']}", 1, 1)

    first = render(bars(), label="last 30 days")
    assert render(bars(), label="last 30 days") is first and len(calls) == 1
    assert render(bars(12.51), label="last 30 days").alt_text == "last 30 days 12.51"
    assert render(bars(), label="last 7 days").alt_text == "last 7 days 12.5"
    assert len(calls) == 3


def test_a_changed_series_style_is_a_different_chart() -> None:
    kept = described()
    try:
        plain = top_users_chart(bars(), period_label="last 30 days", metric="cost", total=17.5)
        describe_series([*kept, SeriesStyle("claude_code", "Claude Code", "#D97706", estimated_cost=True)][-1:])
        styled = top_users_chart(bars(), period_label="last 30 days", metric="cost", total=17.5)
    finally:
        describe_series(kept)
    assert styled is not plain and styled.png != plain.png


def test_the_store_is_bounded() -> None:
    @memo.drawn_once
    def render(n: int) -> Chart:
        return Chart(b"", str(n), 1, 1)

    first = render(0)
    for n in range(1, memo.KEPT + 1):
        render(n)
    assert render(0) is not first  # the oldest was dropped
    assert render(memo.KEPT) is render(memo.KEPT)
