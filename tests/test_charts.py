"""Every chart renders a PNG of the promised size for empty, one-day and year-long data, the same bytes for
the same data, and alt text that states the main number."""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from charts.bars import model_chart, top_users_chart
from charts.daily import daily_usage_chart, digest_chart
from charts.data import Bar, Chart, PersonalDay, StackedDay
from charts.style import draw_bars, new_figure

START = date(2025, 11, 1)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def stacked(days: int) -> list[StackedDay]:
    return [
        StackedDay(START + timedelta(days=i), {"claude_code": 1_000_000.0 * (1 + i % 7), "cursor": 250_000.0})
        for i in range(days)
    ]


def personal(days: int) -> list[PersonalDay]:
    return [PersonalDay(START + timedelta(days=i), {"claude_code": 2_000_000.0}, 1.5) for i in range(days)]


def people(n: int) -> list[Bar]:
    return [
        Bar(f"person{i}@example.com", {"claude_code": 3_000_000.0 - i * 100_000, "cursor": 50_000.0}) for i in range(n)
    ]


def render(kind: str, size: int) -> Chart:
    from charts.personal import personal_trend_chart

    if kind == "daily":
        return daily_usage_chart(stacked(size), period_label="test period")
    if kind == "digest":
        return digest_chart(stacked(size), period_label="test period")
    if kind == "top":
        bars = people(min(size, 15))
        return top_users_chart(bars, period_label="test period", total=sum(b.total for b in bars))
    if kind == "models":
        bars = people(min(size, 9))
        return model_chart(bars, period_label="test period", total=sum(b.total for b in bars))
    return personal_trend_chart(personal(size), period_label="test period")


KINDS = ["daily", "digest", "top", "models", "personal"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [0, 1, 365])
def test_renders_png_of_slack_preview_size(kind: str, size: int) -> None:
    chart = render(kind, size)
    width, height = png_size(chart.png)
    assert (width, height) == (chart.width, chart.height)
    assert width == 1200 and height == (420 if kind == "digest" else 600)
    assert "test period" in chart.alt_text
    if size == 0:
        assert "no usage" in chart.alt_text


@pytest.mark.parametrize("kind", KINDS)
def test_same_data_same_bytes_and_no_software_metadata(kind: str) -> None:
    first, second = render(kind, 30), render(kind, 30)
    assert first.png == second.png
    assert first.png[24:26] == b"\x08\x02"  # 8-bit RGB: the background is opaque, so no alpha channel
    assert b"matplotlib" not in first.png.lower() and b"Software" not in first.png
    assert render(kind, 3).png != render(kind, 4).png


def test_alt_text_states_the_main_numbers() -> None:
    days = stacked(3)
    days.append(StackedDay(START + timedelta(days=3), {"cursor": 100_000.0}, {"claude_code": 2_000_000.0}))
    chart = daily_usage_chart(days, period_label="last 4 days")
    # 1M + 2M + 3M Claude Code, 3 x 250K + 100K Cursor = 6.85M.
    assert "6.8M tokens in total" in chart.alt_text or "6.9M tokens in total" in chart.alt_text
    assert "busiest day Nov 3 with 3.2M" in chart.alt_text
    assert "1 day(s) not complete yet" in chart.alt_text
    top = top_users_chart(
        [Bar("dana", {"claude_code": 750.0}), Bar("bob", {"cursor": 250.0})], period_label="7d", total=1_000
    )
    assert "1K tokens in total" in top.alt_text and "dana 750 (75%)" in top.alt_text
    cost = top_users_chart([Bar("dana", {"claude_code": 12.5})], period_label="7d", metric="cost", total=50)
    assert "by cost" in cost.alt_text and "$12.50 (25%)" in cost.alt_text


def test_projected_part_changes_the_image() -> None:
    plain = [StackedDay(START, {"claude_code": 100.0})]
    projected = [StackedDay(START, {"claude_code": 100.0}, {"claude_code": 400.0})]
    assert daily_usage_chart(plain, period_label="p").png != daily_usage_chart(projected, period_label="p").png


def test_models_beyond_six_become_one_grey_bar() -> None:
    bars = [Bar(f"model-{i}", {"claude_code": 100.0 - i}) for i in range(9)]
    chart = model_chart(bars, period_label="p", total=sum(b.total for b in bars))
    assert "model-0 100 (12%)" in chart.alt_text  # 100 of 864
    six = model_chart(bars[:6], period_label="p", total=sum(b.total for b in bars))
    assert chart.png != six.png


def test_renders_in_parallel_threads_identically() -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work(fn: Callable[[], Chart]) -> None:
        try:
            results.append(fn().png)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(lambda: render("daily", 60),)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1


@pytest.mark.parametrize("horizontal", [False, True])
def test_bars_paint_the_pixels_of_matplotlibs_own_bars(horizontal: bool) -> None:
    """The charts draw each series' bars as one collection, for speed; the picture must stay the one that
    ``Axes.bar`` painted: plain, dimmed per bar, hatched and translucent, zero-length bars among them.

    The two compute a bar's far edge in a different order, so an edge that falls exactly halfway between
    two pixels may land on either; the limits here put no edge there."""
    positions = list(range(7))
    lengths = [3.3, 0.0, 5.17, 1.01, 7.5, 0.0, 2.25]
    starts = [0.5, 1.0, 0.0, 2.37, 0.25, 0.0, 4.4]
    shifted = [s + 2 for s in starts]
    alphas = [None, None, 0.4, 0.4, None, 0.4, None]

    def pixels(collections: bool) -> bytes:
        figure, axes = new_figure()
        (axes.set_ylim if horizontal else axes.set_xlim)(-0.63, 6.71)
        (axes.set_xlim if horizontal else axes.set_ylim)(0, 10.3)
        if collections:
            draw_bars(
                axes, positions, lengths, starts, thickness=0.8, color="#D97757", alphas=alphas, horizontal=horizontal
            )
            draw_bars(
                axes,
                positions,
                lengths,
                shifted,
                thickness=0.8,
                color="#3B82F6",
                alpha=0.35,
                hatch="////",
                horizontal=horizontal,
            )
        else:
            draw = axes.barh if horizontal else axes.bar
            bars = draw(positions, lengths, 0.8, starts, color="#D97757", linewidth=0)
            for bar, alpha in zip(bars, alphas, strict=True):
                bar.set_alpha(alpha)
            draw(
                positions,
                lengths,
                0.8,
                shifted,
                color="#3B82F6",
                alpha=0.35,
                hatch="////",
                edgecolor="#3B82F6",
                linewidth=0,
            )
        figure.canvas.draw()
        return bytes(figure.canvas.buffer_rgba())  # type: ignore[attr-defined]

    assert pixels(collections=True) == pixels(collections=False)
