"""One visual language for every chart: palette, sizes, fonts, and the PNG writer.

Slack previews images at about 600x300 points; at 2x density that is 1200x600 pixels, hence 8x4 inches
at 150 dpi. Text is 11-13 pt, the grid is a light horizontal line only, and there is no chart junk.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

DPI = 150
WIDTH_IN, HEIGHT_IN = 8.0, 4.0
COMPACT_HEIGHT_IN = 2.8  # 420 px at 150 dpi  # the digest's chart sits under a message: lower, same width

FONT = "DejaVu Sans"  # ships with matplotlib, so renders match on every machine
TITLE_PT, LABEL_PT, TICK_PT = 13, 11, 11
TEXT = "#111827"
MUTED = "#6B7280"
GRID = "#E5E7EB"

OTHER_COLOR = "#9CA3AF"  # "other" and unattributed
# A series nobody described gets one of these, chosen from its key, so a colour never depends on the data.
EXTRA_COLORS = ("#10B981", "#8B5CF6", "#F59E0B", "#EC4899")
TAIL_SERIES = {"unattributed": "Unattributed", "other": "Other"}


@dataclass(frozen=True, slots=True)
class SeriesStyle:
    """How one series (a tool) looks in every chart: its name, colour and place in legends and stacks."""

    key: str
    name: str
    color: str
    estimated_cost: bool = False  # its cost is the provider's list-price estimate: "est." wherever cost is drawn
    # What its usage is counted in. A series counted in something else ("AI credits") may still carry a few
    # real tokens, but a bar of them beside token-billed tools would show the tool as nearly unused: charts
    # of tokens leave it out and say so, charts of cost draw it like any other.
    unit: str = "tokens"


_known: tuple[SeriesStyle, ...] = ()


def describe_series(styles: Sequence[SeriesStyle]) -> None:
    """The application's tools, in the order charts stack and list them; every chart uses these."""
    global _known
    _known = tuple(styles)


def described() -> tuple[SeriesStyle, ...]:
    return _known


PROJECTED_ALPHA = 0.35
PROJECTED_HATCH = "////"
MAX_SERIES = 6  # more than this and the rest become "other"


def series_name(key: str) -> str:
    style = next((s for s in _known if s.key == key), None)
    if style:
        return style.name
    return TAIL_SERIES.get(key, key.replace("_", " ").title())


def cost_series_name(key: str) -> str:
    """The name in a chart of money: "Claude Code (est.)" for a tool whose cost is an estimate."""
    style = next((s for s in _known if s.key == key), None)
    return f"{series_name(key)} (est.)" if style and style.estimated_cost else series_name(key)


def cost_total_name(keys: Iterable[str]) -> str:
    """The name of one cost figure summed over ``keys``: "Cost (est.)" when every part is an estimate,
    "Cost (incl. est.)" when some is, so a total never reads as billed when part of it is not."""
    estimated = [cost_series_name(k) != series_name(k) for k in keys]
    if estimated and all(estimated):
        return "Cost (est.)"
    return "Cost (incl. est.)" if any(estimated) else "Cost"


def counted_in_tokens(key: str) -> bool:
    style = next((s for s in _known if s.key == key), None)
    return style is None or style.unit == "tokens"


def token_values(values: Mapping[str, float]) -> dict[str, float]:
    """The part of a series -> tokens mapping that a chart of tokens draws."""
    return {k: v for k, v in values.items() if counted_in_tokens(k)}


def left_out_note(keys: Iterable[str]) -> str:
    """What a chart of tokens leaves out, for its subtitle: " · GitHub Copilot not drawn (AI credits)"."""
    left = [k for k in series_order(keys) if not counted_in_tokens(k)]
    if not left:
        return ""
    units = list(dict.fromkeys(s.unit for s in _known if s.key in left))
    return f" · {' and '.join(series_name(k) for k in left)} not drawn ({', '.join(units)})"


def series_order(keys: Iterable[str]) -> list[str]:
    """Described series first in their order, then others by name, "unattributed" and "other" last."""
    known = [s.key for s in _known]
    tail = list(TAIL_SERIES)
    keys = set(keys)
    middle = sorted(k for k in keys if k not in known and k not in tail)
    return [k for k in known if k in keys] + middle + [k for k in tail if k in keys]


def color_for(key: str) -> str:
    style = next((s for s in _known if s.key == key), None)
    if style:
        return style.color
    if key in ("other", "unattributed"):
        return OTHER_COLOR
    return EXTRA_COLORS[sum(key.encode()) % len(EXTRA_COLORS)]


def new_figure(height_in: float = HEIGHT_IN) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    return figure, axes


def style_axes(axes: Axes, *, grid_axis: Literal["x", "y"] = "y") -> None:
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(GRID)
    axes.tick_params(labelsize=TICK_PT, labelfontfamily=FONT, colors=MUTED, length=0)
    axes.grid(axis=grid_axis, color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)


def value_axis(axes: Axes, formatter: Callable[[float], str], *, axis: str = "y") -> None:
    target = axes.yaxis if axis == "y" else axes.xaxis
    target.set_major_formatter(FuncFormatter(lambda value, _pos: formatter(value)))
    target.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=3))


def titles(figure: Figure, title: str, subtitle: str = "") -> None:
    """The title names the period; the subtitle carries the headline number."""
    figure.text(0.02, 0.95, title, fontsize=TITLE_PT, fontfamily=FONT, fontweight="bold", color=TEXT, va="top")
    if subtitle:
        text = figure.text(
            0.02,
            0.95 - 0.075 * 4 / _height(figure),
            subtitle,
            fontsize=LABEL_PT,
            fontfamily=FONT,
            color=MUTED,
            va="top",
        )
        text.set_fontsize(fitting_size(figure, text.get_window_extent, LABEL_PT))


def legend(
    axes: Axes,
    handles: Sequence[Artist],
    labels: Sequence[str],
    *,
    size: float | None = None,
    above: float | None = None,
) -> None:
    if not handles:
        return

    def draw(pt: float) -> Any:
        return axes.legend(
            handles,
            labels,
            loc="upper right",
            bbox_to_anchor=(1.0, above or 1.16),
            ncols=len(handles),
            frameon=False,
            prop={"family": FONT, "size": pt},
            handlelength=1.2,
            columnspacing=1.0,
        )

    pt = size or TICK_PT
    box = draw(pt)
    # With four tools and the projected and missing keys, a legend in one row is wider than the chart: drawn
    # smaller it stays whole and on the canvas instead of losing its first entries past the left edge.
    fitted = fitting_size(axes.figure, box.get_window_extent, pt)
    if fitted < pt:
        draw(fitted)


# No text is drawn smaller than this to make it fit: below it a label is harder to read than one cut short.
MIN_FIT_PT = 7.5


def fitting_size(figure: Any, extent: Callable[[Any], Any], size: float) -> float:
    """The font size at which a line of text (a subtitle, a legend) drawn at ``size`` fits the figure's width."""
    room = figure.get_figwidth() * figure.dpi * 0.96
    width = extent(figure.canvas.get_renderer()).width
    return size if width <= room else max(MIN_FIT_PT, size * room / width * 0.97)


def no_data(figure: Figure, axes: Axes, message: str) -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.45, message, ha="center", va="center", fontsize=LABEL_PT, fontfamily=FONT, color=MUTED)


# zlib's level 3, the strongest of its fast levels, against the level 6 that savefig used: measured on charts
# with data, encoding takes 17 ms instead of 29 ms, and with RGB (below) the files come out a little smaller
# than before (77 KB against 80 KB on average; nearly empty charts grow by a few KB). When many people ask at
# once it is the CPU that runs short, not the upload.
PNG_COMPRESS_LEVEL = 3


def to_png(figure: Figure) -> bytes:
    """PNG bytes with no software/version or time metadata, so equal data gives equal bytes.

    RGB, not RGBA: the figure's opaque white background is painted first over the whole canvas, so every
    pixel's alpha is 255 and a fourth channel only costs encoding time and bytes. The canvas is drawn and
    encoded here rather than by ``savefig``, which always writes RGBA; the pixels are the same.
    """
    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    canvas.draw()
    size = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=PNG_COMPRESS_LEVEL, dpi=(DPI, DPI))
    return buffer.getvalue()


def _height(figure: Figure) -> float:
    return float(figure.get_figheight())


def bar_xlim(axes: Axes, count: int, *, min_slots: int = 7) -> None:
    """Room for at least ``min_slots`` bars, centred, so one day is a bar and not a wall of colour."""
    pad = max(min_slots - count, 0) / 2
    axes.set_xlim(-0.6 - pad, count - 0.4 + pad)


def draw_bars(
    axes: Axes,
    positions: Sequence[float],
    lengths: Sequence[float],
    starts: Sequence[float],
    *,
    thickness: float,
    color: str,
    alphas: Sequence[float | None] | None = None,
    alpha: float | None = None,
    hatch: str | None = None,
    horizontal: bool = False,
) -> None:
    """One series' bars, centred on ``positions``, from ``starts`` to ``starts + lengths`` (upwards, or to the
    right when ``horizontal``), ``thickness`` wide; ``alphas`` per bar, ``alpha`` and ``hatch`` for all.

    The pixels of ``Axes.bar`` in a fraction of its time. ``Axes.bar`` makes one Rectangle artist per bar,
    and each widens the axes' data limits when added and is drawn on its own; one collection hands all of a
    series' rectangles to the renderer at once, which fills, antialiases and snaps each to the pixel grid
    as it does a lone rectangle. One difference remains: a Rectangle reaches its far edges by scaling a unit
    square, this by adding thickness and length first, so the two may round an edge's last bit differently,
    and an edge that falls exactly halfway between two pixels may go to the other one (a bar one pixel wider
    or narrower, in 2 of 228 random charts measured). A bar of zero length covers no pixel and is left out:
    drawn, a hatched one still costs about a millisecond (its hatch tile is rendered for every rectangle),
    and a chart of 30 days has a projected part on one or two of them. The collection does not touch the
    axes' limits: callers set both.
    """
    rects: list[tuple[tuple[float, float], ...]] = []
    faces: list[tuple[float, float, float, float]] = []
    for i, (position, length, start) in enumerate(zip(positions, lengths, starts, strict=True)):
        if not length:
            continue
        # A Rectangle's corners in its order; the near edges computed as Axes.bar computes them.
        low = position - thickness / 2
        high = low + thickness
        end = start + length
        if horizontal:
            rects.append(((start, low), (end, low), (end, high), (start, high)))
        else:
            rects.append(((low, start), (high, start), (high, end), (low, end)))
        faces.append(to_rgba(color, alphas[i] if alphas is not None else None))
    if not rects:
        return
    collection = PolyCollection(
        rects,
        facecolors=faces,
        # The edge is not drawn (width 0), but a hatch takes its colour, as a hatched bar's did.
        edgecolors=color,
        linewidths=0,
        alpha=alpha,
        hatch=hatch,
    )
    axes.add_collection(collection, autolim=False)
