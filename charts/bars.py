"""Horizontal bar charts: top users and the model breakdown, split into segments per tool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal

from matplotlib.patches import Patch

from charts import format as fmt
from charts.data import Bar, Chart
from charts.memo import drawn_once
from charts.style import (
    DPI,
    FONT,
    HEIGHT_IN,
    MAX_SERIES,
    MUTED,
    TICK_PT,
    WIDTH_IN,
    color_for,
    cost_series_name,
    draw_bars,
    left_out_note,
    legend,
    new_figure,
    no_data,
    series_name,
    series_order,
    style_axes,
    titles,
    to_png,
    token_values,
    value_axis,
)

Metric = Literal["tokens", "cost"]
MAX_BARS = 12  # what stays readable at Slack's preview size


@drawn_once
def top_users_chart(
    users: Sequence[Bar],
    *,
    period_label: str,
    metric: Metric = "tokens",
    total: float,
    of: int | None = None,
    total_label: str = "in total",
    scope: str = "",
) -> Chart:
    """People ranked by ``metric``; ``total`` is everyone's total (for shares), not only the bars shown.
    ``of``: how many people the ranking has; the title says "Top 12 of 50" whenever fewer are drawn.
    ``total_label`` says what ``total`` is ("in total", or "people's total, unattributed excluded").
    ``scope`` names a filter ("Cursor") for the title."""
    noun = "cost" if metric == "cost" else "tokens"
    shown = len(users[:MAX_BARS])
    count = max(of or 0, len(users))
    ranked = f"Top {shown} of {count}" if count > shown else f"Top {shown}"
    what = f"{ranked} by {noun}" if users else "Top users"
    title = " · ".join(part for part in (what, scope, period_label) if part)
    return _bar_chart(
        list(users[:MAX_BARS]), title=title, metric=metric, total=total, what="people", total_label=total_label
    )


@drawn_once
def model_chart(
    models: Sequence[Bar], *, period_label: str, total: float, scope: str = "", keep: int = MAX_SERIES
) -> Chart:
    """Tokens per model, split by tool. Beyond the first ``keep`` models the rest is one grey "other" bar,
    so the bars always add up to the total the subtitle states."""
    shown = list(models[:keep])
    rest = models[keep:]
    if rest:
        merged: dict[str, float] = {}
        for bar in rest:
            for key, value in bar.values.items():
                merged[key] = merged.get(key, 0.0) + value
        # Only the token-counted part is drawn; the rest keeps its own key so the chart still says it left
        # that unit out.
        counted = token_values(merged)
        uncounted = {k: v for k, v in merged.items() if k not in counted}
        shown.append(Bar(f"{len(rest)} other models", {"other": sum(counted.values()), **uncounted}))
    title = " · ".join(part for part in ("Models by tokens", scope, period_label) if part)
    return _bar_chart(shown, title=title, metric="tokens", total=total, what="models")


def _bar_chart(
    bars: list[Bar], *, title: str, metric: Metric, total: float, what: str, total_label: str = "in total"
) -> Chart:
    figure, axes = new_figure()
    left_out = ""
    if metric == "tokens":
        left_out = left_out_note(k for b in bars for k, v in b.values.items() if v)
        bars = [replace(b, values=token_values(b.values)) for b in bars]
    largest = max([total, *(b.total for b in bars)])
    formatter: Callable[[float], str] = fmt.usd_for(largest) if metric == "cost" else fmt.tokens
    if left_out and not any(b.total for b in bars):
        # Only tools counted in other units: nothing to draw in tokens, and the chart says why.
        titles(figure, title)
        no_data(figure, axes, f"No token usage to draw: {left_out.removeprefix(' · ')}")
        alt = f"{title}: no token usage; {left_out.removeprefix(' · ')}."
        return Chart(to_png(figure), alt, int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
    if not bars or total == 0:
        titles(figure, title)
        no_data(figure, axes, f"No {what} with usage in this period")
        return Chart(to_png(figure), f"{title}: no usage recorded.", int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
    unit = "" if metric == "cost" else " tokens"
    titles(figure, title, f"{formatter(total)}{unit} {total_label}{left_out}")
    left = min(0.36, 0.06 + 0.0125 * max(len(b.label) for b in bars))
    figure.subplots_adjust(top=0.74, left=left, right=0.9, bottom=0.1)
    style_axes(axes, grid_axis="x")
    keys = series_order({k for b in bars for k in b.values})
    positions = list(range(len(bars)))[::-1]  # the first bar on top
    lefts = [0.0] * len(bars)
    for key in keys:
        widths = [b.values.get(key, 0.0) for b in bars]
        draw_bars(axes, positions, widths, lefts, thickness=0.7, color=color_for(key), horizontal=True)
        lefts = [lft + w for lft, w in zip(lefts, widths, strict=True)]
    for position, bar in zip(positions, bars, strict=True):
        axes.text(
            bar.total,
            position,
            f"  {formatter(bar.total)} ({fmt.percent(bar.total, total)})",
            va="center",
            fontsize=TICK_PT,
            fontfamily=FONT,
            color=MUTED,
        )
    # The bars' slots with matplotlib's default 5% margin above and below, as its autoscaling framed them:
    # the rectangles leave the limits to the chart, and a zero bar keeps its row.
    low = -0.7 / 2
    high = (len(bars) - 1 - 0.7 / 2) + 0.7
    margin = (high - low) * 0.05
    axes.set_ylim(low - margin, high + margin)
    axes.set_yticks(positions)
    axes.set_yticklabels([b.label for b in bars])
    axes.set_xlim(0, max(b.total for b in bars) * 1.22)
    # Money ticks in the labels' format once the labels drop their cents, so one chart has one money format.
    ticks = fmt.tokens_axis if metric != "cost" else formatter if largest >= 100 else fmt.usd_axis
    value_axis(axes, ticks, axis="x")
    name = cost_series_name if metric == "cost" else series_name
    if len(keys) > 1 or any(name(k) != series_name(k) for k in keys):
        legend(axes, [Patch(color=color_for(k)) for k in keys], [name(k) for k in keys])
    listed = "; ".join(f"{b.label} {formatter(b.total)} ({fmt.percent(b.total, total)})" for b in bars[:5])
    alt = f"{title}. Horizontal bar chart, {formatter(total)}{unit} {total_label}. {listed}."
    if left_out:
        alt += f" {left_out.removeprefix(' · ')}."
    return Chart(to_png(figure), alt, int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
