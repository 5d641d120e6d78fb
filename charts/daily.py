"""Usage over time: bars stacked by tool, projected (not yet complete) parts hatched in the tool's colour,
days without data shaded and labelled rather than drawn as zero usage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Literal

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from charts import format as fmt
from charts.data import Chart, PersonalDay, StackedDay
from charts.memo import drawn_once
from charts.style import (
    COMPACT_HEIGHT_IN,
    DPI,
    FONT,
    HEIGHT_IN,
    MUTED,
    PROJECTED_ALPHA,
    PROJECTED_HATCH,
    TEXT,
    WIDTH_IN,
    bar_xlim,
    color_for,
    cost_total_name,
    counted_in_tokens,
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

Granularity = Literal["day", "week"]

MISSING_COLOR = "#F3F4F6"  # the band behind a day without data: lighter than any bar, darker than the page
MISSING_EDGE = "#D1D5DB"
SMALL_PT = 9
DIMMED_ALPHA = 0.4  # bars outside the reported day or week of a digest


@drawn_once
def daily_usage_chart(
    days: Sequence[StackedDay], *, period_label: str, granularity: Granularity = "day", scope: str = ""
) -> Chart:
    """Tokens per day (or week) stacked by tool, for ``period_label`` ("last 30 days"). ``scope`` names the
    filter the numbers are limited to ("Cursor", "team Platform"), so a forwarded chart still says it."""
    unit = "Weekly" if granularity == "week" else "Daily"
    return _stacked_chart(days, title=_title(f"{unit} AI coding usage", scope, period_label), granularity=granularity)


@drawn_once
def digest_chart(
    days: Sequence[StackedDay],
    *,
    period_label: str,
    reported: tuple[date, date] | None = None,
    reported_label: str = "",
    with_cost: bool = False,
) -> Chart:
    """The compact chart under a digest message: the same bars, lower. ``reported`` (first and last day) is
    the digest's own day or week, drawn in full colour with the other days dimmed, and named in the legend
    as ``reported_label``; ``with_cost`` adds the daily cost as a line on its own axis, for digests whose
    headline is money."""
    return _stacked_chart(
        days,
        title=f"{'Tokens and cost' if with_cost else 'Tokens'} per day · {period_label}",
        granularity="day",
        height_in=COMPACT_HEIGHT_IN,
        reported=reported,
        reported_label=reported_label,
        with_cost=with_cost,
    )


def _tokens_only(day: StackedDay) -> StackedDay:
    """The day as a chart of tokens draws it: series counted in other units left out (its cost stays whole)."""
    return replace(
        day,
        values=token_values(day.values),
        projected=token_values(day.projected),
        missing=tuple(k for k in day.missing if counted_in_tokens(k)),
    )


def _title(what: str, scope: str, period_label: str) -> str:
    return " · ".join(part for part in (what, scope, period_label) if part)


def _stacked_chart(
    days: Sequence[StackedDay],
    *,
    title: str,
    granularity: Granularity,
    height_in: float = HEIGHT_IN,
    reported: tuple[date, date] | None = None,
    reported_label: str = "",
    with_cost: bool = False,
) -> Chart:
    figure, axes = new_figure(height_in)
    # Every series with usage, those a chart of tokens leaves out included: the cost line sums them all.
    costed = {k for d in days for k, v in (*d.values.items(), *d.projected.items()) if v}
    left_out = left_out_note(k for d in days for k, v in (*d.values.items(), *d.projected.items()) if v)
    days = [_tokens_only(d) for d in days]
    total = sum(d.total for d in days)
    keys = series_order({k for d in days for k in (*d.values, *d.projected)})
    if total == 0 and not any(d.projected for d in days):
        titles(figure, title)
        no_data(figure, axes, "No usage in this period")
        alt = f"{title}: no usage recorded."
        if any(d.missing for d in days):
            alt = f"{title}: no usage recorded; {_missing_count(days, granularity)} without data."
    else:
        subtitle = f"{fmt.tokens(total)} tokens in total"
        if with_cost:
            subtitle += f" · {fmt.usd(sum(d.cost for d in days))}"
        titles(figure, title, subtitle + _shares(days, keys, total) + left_out)
        compact = height_in < HEIGHT_IN
        figure.subplots_adjust(
            top=0.62 if compact else 0.70,
            left=0.08,
            right=0.91 if with_cost else 0.98,
            bottom=0.16 if compact else 0.13,
        )
        style_axes(axes)
        dimmed = _dimmed(days, reported)
        projected_any = _draw_bars(axes, days, keys, dimmed)
        top = max((d.total + d.projected_extra for d in days), default=0.0) or 1.0
        axes.set_ylim(0, top * 1.18)
        missing_any = draw_missing(axes, days, keys, top * 1.18)
        _partial_weeks(axes, days, granularity)
        value_axis(axes, fmt.tokens_axis)
        _date_ticks(axes, days, granularity)
        handles: list[Artist] = [Patch(color=color_for(k)) for k in keys]
        labels = [series_name(k) for k in keys]
        if projected_any:
            handles.append(Patch(facecolor="white", edgecolor=MUTED, hatch=PROJECTED_HATCH, linewidth=0))
            labels.append("Projected")
        if missing_any:
            handles.append(Patch(facecolor=MISSING_COLOR, edgecolor=MISSING_EDGE, linewidth=0.8))
            labels.append("No data")
        if with_cost:
            handles.append(_draw_cost(axes, days))
            labels.append(cost_total_name(costed))
        if reported_label and any(dimmed):
            _name_reported(axes, dimmed, reported_label, top * 1.18)
        legend(axes, handles, labels, size=SMALL_PT if compact else None, above=1.22 if compact else None)
        alt = _alt_text(title, days, keys, total, granularity, reported_label if any(dimmed) else "")
    if left_out:
        alt += f" {left_out.removeprefix(' · ')}."
    return Chart(to_png(figure), alt, int(WIDTH_IN * DPI), int(height_in * DPI))


def _dimmed(days: Sequence[StackedDay], reported: tuple[date, date] | None) -> list[bool]:
    if reported is None:
        return [False] * len(days)
    return [not (reported[0] <= d.date <= reported[1]) for d in days]


def _draw_bars(axes: Axes, days: Sequence[StackedDay], keys: list[str], dimmed: list[bool]) -> bool:
    positions = list(range(len(days)))
    bottoms = [0.0] * len(days)
    projected_any = False
    width = 0.8 if len(days) <= 120 else 1.0
    for key in keys:
        actual = [d.values.get(key, 0.0) for d in days]
        extra = [max(d.projected.get(key, 0.0) - d.values.get(key, 0.0), 0.0) for d in days]
        alphas = [DIMMED_ALPHA if dim else None for dim in dimmed]
        draw_bars(axes, positions, actual, bottoms, thickness=width, color=color_for(key), alphas=alphas)
        bottoms = [b + a for b, a in zip(bottoms, actual, strict=True)]
        if any(extra):
            projected_any = True
            draw_bars(
                axes,
                positions,
                extra,
                bottoms,
                thickness=width,
                color=color_for(key),
                alpha=PROJECTED_ALPHA,
                hatch=PROJECTED_HATCH,
            )
            bottoms = [b + e for b, e in zip(bottoms, extra, strict=True)]
    bar_xlim(axes, len(days))
    return projected_any


def draw_missing(axes: Axes, days: Sequence[StackedDay | PersonalDay], keys: list[str], height: float) -> bool:
    """A light band behind each run of bars that lack some series' data, labelled with what is missing:
    "no data" when every series is missing (the empty slot is not a day without usage), "no Cursor data"
    when only some are."""
    runs: list[tuple[int, int, tuple[str, ...]]] = []
    for i, day in enumerate(days):
        missing = tuple(k for k in keys if k in day.missing)
        if not missing:
            continue
        if runs and runs[-1][1] == i - 1 and runs[-1][2] == missing:
            runs[-1] = (runs[-1][0], i, missing)
        else:
            runs.append((i, i, missing))
    for first, last, missing in runs:
        axes.axvspan(first - 0.5, last + 0.5, facecolor=MISSING_COLOR, edgecolor=MISSING_EDGE, linewidth=0, zorder=0)
        names = " or ".join(series_name(k) for k in missing)
        everything = set(missing) >= {k for k in keys if any(_values(d).get(k) for d in days)}
        if any(_values(d).get(k) for d in days[first : last + 1] for k in missing):
            # A week with some of its days missing: its bar holds the other days only.
            label = f"{names} days missing" if not everything else "days missing"
        else:
            label = "no data" if everything else f"no {names} data"
        # In the headroom above the tallest bar, so the words never cross a bar.
        axes.text(
            (first + last) / 2,
            height * 0.985,
            label,
            ha="center",
            va="top",
            fontsize=SMALL_PT,
            fontfamily=FONT,
            color=MUTED,
        )
    return bool(runs)


def _values(day: StackedDay | PersonalDay) -> dict[str, float]:
    return day.values if isinstance(day, StackedDay) else day.tokens


def _partial_weeks(axes: Axes, days: Sequence[StackedDay], granularity: Granularity) -> None:
    """A week the period cuts short says how many of its days it holds, so it does not read as a drop."""
    if granularity != "week":
        return
    for i, day in enumerate(days):
        if not 0 < day.days < 7 or (day.total == 0 and day.projected_extra == 0):
            continue
        label = f"{day.days} of 7 days" + (" so far" if day.projected_extra > 0 else "")
        left_half = i < len(days) / 2
        axes.text(
            i - 0.4 if left_half else i + 0.4,
            day.total + day.projected_extra,
            label,
            ha="left" if left_half else "right",
            va="bottom",
            fontsize=SMALL_PT,
            fontfamily=FONT,
            color=MUTED,
        )


def _name_reported(axes: Axes, dimmed: list[bool], label: str, height: float) -> None:
    shown = [i for i, dim in enumerate(dimmed) if not dim]
    middle = (shown[0] + shown[-1]) / 2
    right_edge = middle > len(dimmed) * 0.8
    axes.text(
        shown[-1] + 0.4 if right_edge else middle,
        height * 0.985,
        label,
        ha="right" if right_edge else "center",
        va="top",
        fontsize=SMALL_PT,
        fontfamily=FONT,
        fontweight="bold",
        color=TEXT,
    )


def _draw_cost(axes: Axes, days: Sequence[StackedDay]) -> Line2D:
    cost_axes = axes.twinx()
    # A day without any data breaks the line rather than dipping to $0.
    costs = [float("nan") if d.missing and not d.total else d.cost for d in days]
    (line,) = cost_axes.plot(
        list(range(len(days))), costs, color=TEXT, linewidth=1.4, marker="o" if len(days) < 3 else ""
    )
    for side in ("top", "left", "bottom", "right"):
        cost_axes.spines[side].set_visible(False)
    cost_axes.tick_params(labelsize=SMALL_PT + 1, labelfontfamily=FONT, colors=MUTED, length=0)
    cost_axes.set_ylim(0, max((d.cost for d in days), default=0.0) * 1.18 or 1.0)
    value_axis(cost_axes, fmt.usd_axis)
    return line


def _date_ticks(axes: Axes, days: Sequence[StackedDay], granularity: Granularity) -> None:
    """At most eight labels; when the bars span more than one year, the first label and the first of each
    new year carry the year, so "Jan 5" after "Dec 29" is not read as the same year's January."""
    step = max(1, -(-len(days) // 8))  # at most 8 labels
    ticks = list(range(0, len(days), step))
    spans_years = bool(days) and days[0].date.year != days[-1].date.year
    labels = []
    previous_year: int | None = None
    for i in ticks:
        day = days[i].date
        label = fmt.short_date(day)
        if spans_years and day.year != previous_year:
            label += f"\n{day.year}"
        previous_year = day.year
        labels.append(label)
    axes.set_xticks(ticks)
    axes.set_xticklabels(labels)


def _shares(days: Sequence[StackedDay], keys: list[str], total: float) -> str:
    if len(keys) < 2 or not total:
        return ""
    parts = [f"{series_name(k)} {fmt.percent(sum(d.values.get(k, 0.0) for d in days), total)}" for k in keys]
    return " · " + " · ".join(parts)


def _missing_count(days: Sequence[StackedDay], granularity: Granularity) -> str:
    count = sum(1 for d in days if d.missing)
    unit = "week" if granularity == "week" else "day"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _alt_text(
    title: str, days: Sequence[StackedDay], keys: list[str], total: float, granularity: Granularity, reported: str
) -> str:
    peak = max(days, key=lambda d: d.total)
    unit = "week" if granularity == "week" else "day"
    text = f"{title}. Stacked bar chart, {fmt.tokens(total)} tokens in total"
    if len(keys) > 1:
        text += (
            " ("
            + ", ".join(f"{series_name(k)} {fmt.percent(sum(d.values.get(k, 0.0) for d in days), total)}" for k in keys)
            + ")"
        )
    busiest = "week of " if granularity == "week" else "day "
    year = f" {peak.date.year}" if days[0].date.year != days[-1].date.year else ""
    text += f"; busiest {busiest}{fmt.short_date(peak.date)}{year} with {fmt.tokens(peak.total)}"
    projected = [d for d in days if d.projected_extra > 0]
    if projected:
        text += f"; {len(projected)} {unit}(s) not complete yet, projected part hatched"
    if any(d.missing for d in days):
        lacking = "with days without data" if granularity == "week" else "without data"
        text += f"; {_missing_count(days, granularity)} {lacking} (shaded, not zero usage)"
    short = [d for d in days if granularity == "week" and 0 < d.days < 7]
    if short:
        text += "; " + ", ".join(f"week of {fmt.short_date(d.date)} holds {d.days} of 7 days" for d in short)
    if reported:
        text += f"; {reported} highlighted"
    return text + "."
