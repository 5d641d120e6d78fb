"""What the renderers take and give: small dataclasses of plain numbers, and the rendered chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered PNG and the text a screen reader (or a notification) says instead of it."""

    png: bytes
    alt_text: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class StackedDay:
    """One bar of a usage-over-time chart (a day, or a week starting on ``date``).

    ``values``: actual tokens per series (a tool, or "unattributed"). ``projected``: for series whose data is
    incomplete, the expected full value; the part above the actual value is drawn hatched. ``missing``: series
    with no data for (part of) the bar although data exists later, so their zero is unknown, not no usage.
    ``days``: the calendar days a week's bar covers when the period cuts it short. ``cost``: dollars, drawn
    only by charts about cost.
    """

    date: date
    values: dict[str, float]
    projected: dict[str, float] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    days: int = 0  # 0: not stated (a whole day or week)
    cost: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.values.values())

    @property
    def projected_extra(self) -> float:
        return sum(max(self.projected.get(k, 0.0) - v, 0.0) for k, v in self.values.items()) + sum(
            v for k, v in self.projected.items() if k not in self.values
        )


@dataclass(frozen=True, slots=True)
class Bar:
    """One horizontal bar (a person or a model), split into segments per series (tool)."""

    label: str
    values: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.values.values())


@dataclass(frozen=True, slots=True)
class PersonalDay:
    date: date
    tokens: dict[str, float]  # per tool
    cost_usd: float
    missing: tuple[str, ...] = ()  # tools without data that day, as StackedDay.missing

    @property
    def total_tokens(self) -> float:
        return sum(self.tokens.values())
