"""Usage over time: bars stacked by tool, projected (not yet complete) parts hatched in the tool's colour."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.patches import Patch

from charts import format as fmt
from charts.data import Chart, StackedDay
from charts.style import (
    COMPACT_HEIGHT_IN,
    DPI,
    HEIGHT_IN,
    PROJECTED_ALPHA,
    PROJECTED_HATCH,
    WIDTH_IN,
    bar_xlim,
    color_for,
    legend,
    new_figure,
    no_data,
    series_name,
    series_order,
    style_axes,
    titles,
    to_png,
    value_axis,
)

Granularity = Literal["day", "week"]


def daily_usage_chart(days: Sequence[StackedDay], *, period_label: str, granularity: Granularity = "day") -> Chart:
    """Tokens per day (or week) stacked by tool, for ``period_label`` ("last 30 days")."""
    unit = "Weekly" if granularity == "week" else "Daily"
    return _stacked_chart(days, title=f"{unit} AI coding usage · {period_label}", granularity=granularity)


def digest_chart(days: Sequence[StackedDay], *, period_label: str) -> Chart:
    """The compact chart under a digest message: the same bars, lower, without a legend."""
    return _stacked_chart(
        days, title=f"Tokens per day · {period_label}", granularity="day", height_in=COMPACT_HEIGHT_IN, compact=True
    )


def _stacked_chart(
    days: Sequence[StackedDay],
    *,
    title: str,
    granularity: Granularity,
    height_in: float = HEIGHT_IN,
    compact: bool = False,
) -> Chart:
    figure, axes = new_figure(height_in)
    total = sum(d.total for d in days)
    keys = series_order({k for d in days for k in (*d.values, *d.projected)})
    if total == 0 and not any(d.projected for d in days):
        titles(figure, title)
        no_data(figure, axes, "No usage in this period")
        alt = f"{title}: no usage recorded."
    else:
        titles(figure, title, f"{fmt.tokens(total)} tokens in total" + _shares(days, keys, total))
        figure.subplots_adjust(top=0.70, left=0.08, right=0.98, bottom=0.13)
        style_axes(axes)
        projected_any = _draw_bars(axes, days, keys)
        value_axis(axes, fmt.tokens_axis)
        _date_ticks(axes, days, granularity)
        if not compact:
            handles: list[Patch] = [Patch(color=color_for(k)) for k in keys]
            labels = [series_name(k) for k in keys]
            if projected_any:
                handles.append(Patch(facecolor="white", edgecolor="#6B7280", hatch=PROJECTED_HATCH, linewidth=0))
                labels.append("Projected")
            legend(axes, handles, labels)
        alt = _alt_text(title, days, keys, total, granularity)
    return Chart(to_png(figure), alt, int(WIDTH_IN * DPI), int(height_in * DPI))


def _draw_bars(axes: Axes, days: Sequence[StackedDay], keys: list[str]) -> bool:
    positions = list(range(len(days)))
    bottoms = [0.0] * len(days)
    projected_any = False
    width = 0.8 if len(days) <= 120 else 1.0
    for key in keys:
        actual = [d.values.get(key, 0.0) for d in days]
        extra = [max(d.projected.get(key, 0.0) - d.values.get(key, 0.0), 0.0) for d in days]
        axes.bar(positions, actual, width=width, bottom=bottoms, color=color_for(key), linewidth=0)
        bottoms = [b + a for b, a in zip(bottoms, actual, strict=True)]
        if any(extra):
            projected_any = True
            axes.bar(
                positions,
                extra,
                width=width,
                bottom=bottoms,
                color=color_for(key),
                alpha=PROJECTED_ALPHA,
                hatch=PROJECTED_HATCH,
                edgecolor=color_for(key),
                linewidth=0,
            )
            bottoms = [b + e for b, e in zip(bottoms, extra, strict=True)]
    bar_xlim(axes, len(days))
    return projected_any


def _date_ticks(axes: Axes, days: Sequence[StackedDay], granularity: Granularity) -> None:
    step = max(1, -(-len(days) // 8))  # at most 8 labels
    ticks = list(range(0, len(days), step))
    axes.set_xticks(ticks)
    axes.set_xticklabels([fmt.short_date(days[i].date) for i in ticks])


def _shares(days: Sequence[StackedDay], keys: list[str], total: float) -> str:
    if len(keys) < 2 or not total:
        return ""
    parts = [f"{series_name(k)} {fmt.percent(sum(d.values.get(k, 0.0) for d in days), total)}" for k in keys]
    return " · " + " · ".join(parts)


def _alt_text(title: str, days: Sequence[StackedDay], keys: list[str], total: float, granularity: str) -> str:
    peak = max(days, key=lambda d: d.total)
    unit = "week" if granularity == "week" else "day"
    text = f"{title}. Stacked bar chart, {fmt.tokens(total)} tokens in total"
    if len(keys) > 1:
        text += (
            " ("
            + ", ".join(f"{series_name(k)} {fmt.percent(sum(d.values.get(k, 0.0) for d in days), total)}" for k in keys)
            + ")"
        )
    busiest = "week of " if granularity == "week" else ""
    text += f"; busiest {unit} {busiest}{fmt.short_date(peak.date)} with {fmt.tokens(peak.total)}"
    projected = [d for d in days if d.projected_extra > 0]
    if projected:
        text += f"; {len(projected)} {unit}(s) not complete yet, projected part hatched"
    return text + "."
