"""One person's trend: tokens per day stacked by tool, with the daily cost as a line on its own axis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from charts import format as fmt
from charts.daily import MISSING_COLOR, MISSING_EDGE, draw_missing
from charts.data import Chart, PersonalDay
from charts.memo import drawn_once
from charts.style import (
    DPI,
    FONT,
    HEIGHT_IN,
    MUTED,
    TEXT,
    TICK_PT,
    WIDTH_IN,
    bar_xlim,
    color_for,
    cost_total_name,
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


@drawn_once
def personal_trend_chart(days: Sequence[PersonalDay], *, period_label: str, who: str = "Your") -> Chart:
    """``who`` is the possessive shown in the title ("Your", "Dana's")."""
    title = f"{who} AI coding usage · {period_label}"
    figure, axes = new_figure()
    active = sum(1 for d in days if d.total_tokens > 0 or d.cost_usd > 0)
    left_out = left_out_note(k for d in days for k, v in d.tokens.items() if v)
    days = [replace(d, tokens=token_values(d.tokens)) for d in days]
    total_tokens = sum(d.total_tokens for d in days)
    total_cost = sum(d.cost_usd for d in days)
    if total_tokens == 0 and total_cost == 0:
        titles(figure, title)
        no_data(figure, axes, "No usage in this period")
        return Chart(to_png(figure), f"{title}: no usage recorded.", int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
    titles(figure, title, f"{fmt.tokens(total_tokens)} tokens · {fmt.usd(total_cost)} · {_days(active)}{left_out}")
    figure.subplots_adjust(top=0.70, left=0.08, right=0.9, bottom=0.13)
    style_axes(axes)
    keys = series_order({k for d in days for k in d.tokens})
    positions = list(range(len(days)))
    bottoms = [0.0] * len(days)
    for key in keys:
        values = [d.tokens.get(key, 0.0) for d in days]
        draw_bars(axes, positions, values, bottoms, thickness=0.8, color=color_for(key))
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    value_axis(axes, fmt.tokens_axis)
    top = max(d.total_tokens for d in days) or 1.0
    axes.set_ylim(0, top * 1.18)
    missing_any = draw_missing(axes, days, keys, top * 1.18)
    bar_xlim(axes, len(days))
    step = max(1, -(-len(days) // 8))
    ticks = list(range(0, len(days), step))
    axes.set_xticks(ticks)
    axes.set_xticklabels([fmt.short_date(days[i].date) for i in ticks])
    cost_axes = axes.twinx()
    # A day without any data breaks the cost line rather than dipping to $0.
    costs = [float("nan") if d.missing and not d.total_tokens else d.cost_usd for d in days]
    cost_axes.plot(positions, costs, color=TEXT, linewidth=1.6, marker="o" if len(days) < 3 else "")
    for side in ("top", "left", "bottom"):
        cost_axes.spines[side].set_visible(False)
    cost_axes.spines["right"].set_visible(False)
    cost_axes.tick_params(labelsize=TICK_PT, labelfontfamily=FONT, colors=MUTED, length=0)
    cost_axes.set_ylim(bottom=0)
    value_axis(cost_axes, fmt.usd_axis)
    handles: list[Patch | Line2D] = [Patch(color=color_for(k)) for k in keys]
    handles.append(Line2D([], [], color=TEXT, linewidth=1.6))
    labels = [*(series_name(k) for k in keys), cost_total_name(keys)]
    if missing_any:
        handles.append(Patch(facecolor=MISSING_COLOR, edgecolor=MISSING_EDGE, linewidth=0.8))
        labels.append("No data")
    legend(axes, handles, labels)
    peak = max(days, key=lambda d: d.total_tokens)
    alt = (
        f"{title}. {fmt.tokens(total_tokens)} tokens and {fmt.usd(total_cost)} over {_days(active)}; "
        f"busiest day {fmt.short_date(peak.date)} with {fmt.tokens(peak.total_tokens)} tokens. "
        "Bars are tokens per day by tool, the line is cost per day."
    )
    gaps = sum(1 for d in days if d.missing)
    if gaps:
        alt += f" {gaps} day{'' if gaps == 1 else 's'} without data (shaded, not zero usage)."
    if left_out:
        alt += f" {left_out.removeprefix(' · ')}."
    return Chart(to_png(figure), alt, int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))


def _days(active: int) -> str:
    return "1 active day" if active == 1 else f"{active} active days"
