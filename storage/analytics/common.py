"""Definitions shared by the analytics queries: total tokens, previous periods, changes and shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, case, cast, func, select
from sqlalchemy.orm import Session

from storage.model_names import DEFAULT_MODEL
from storage.models import UsageDaily, UsageModelDaily, UsagePersonDaily, UsagePersonMonthly
from storage.writes import month_end

# The rollups, finest first. Each answer reads the coarsest one that still has what it needs: P (per
# person-day, no model) for people and totals, M (per model-day, no person) for company-wide models and
# daily series, D only where both a person and a model matter. All three hold the same sums.
D = UsageDaily
P = UsagePersonDaily
M = UsageModelDaily
PM = UsagePersonMonthly
Rollup = type[UsageDaily] | type[UsagePersonDaily] | type[UsageModelDaily]
Summed = Rollup | type[UsagePersonMonthly]  # every table with the token and cost sums
PersonRollup = type[UsageDaily] | type[UsagePersonDaily]


def total_tokens_of(t: Summed) -> Any:
    """Total tokens as the original abacus defines them (cache reads included, which dominate; see W11)."""
    return t.input_tokens + t.cache_write_tokens + t.cache_read_tokens + t.output_tokens


TOTAL_TOKENS = total_tokens_of(D)

# Changes smaller than this are noise on a dashboard card and are not shown (the original's rule).
MIN_VISIBLE_CHANGE_PCT = 3.0

# Shown for rows whose model string was empty.
UNKNOWN_MODEL = "unknown"
# Cursor's Auto mode (Cursor picks the model) is stored under the normalised name "(default)", which the
# normaliser also gives "default" and "unknown"; people know it from Cursor as "Auto", so every answer,
# chart, report and export calls it that. The stored name does not change.
AUTO_MODEL = "Auto"


def sum_tokens(t: Summed = D) -> Any:
    return func.coalesce(func.sum(total_tokens_of(t)), 0)


def sum_cost(t: Summed = D) -> Any:
    return func.coalesce(func.sum(t.cost_usd), 0)


def sum_of(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def to_decimal(value: Any) -> Decimal:
    """Money from a result row; never goes through a float."""
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of equal length that ends the day before ``start``."""
    days = (end - start).days + 1
    previous_end = start - timedelta(days=1)
    return previous_end - timedelta(days=days - 1), previous_end


def calendar_days(start: date, end: date) -> int:
    return max((end - start).days + 1, 1)


def percent_change(current: int | Decimal | float, previous: int | Decimal | float) -> float | None:
    """Change against the previous period in percent, one decimal; None when there is nothing to compare
    against or when the change is under 3% (not worth a card's attention)."""
    if not previous:
        return None
    change = (float(current) - float(previous)) / float(previous) * 100
    if abs(change) < MIN_VISIBLE_CHANGE_PCT:
        return None
    return round(change, 1)


def share_pct(part: int | Decimal | float, whole: int | Decimal | float) -> float:
    """``part`` as a percentage of ``whole``, unrounded; 0 for an empty whole. Rounding is left to the one
    place that words the share (``charts.format.share``): rounding here as well would round twice, and
    3.46% would read "4%" in a message beside "3%" in its chart."""
    if not whole:
        return 0.0
    return float(part) / float(whole) * 100


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so a search for ``a_b`` matches only that text (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def model_label(model: str) -> str:
    """A stored (normalised) model name as every surface shows it."""
    if model == DEFAULT_MODEL:
        return AUTO_MODEL
    return model or UNKNOWN_MODEL


def in_range(start: date, end: date, t: Rollup = D) -> Any:
    return t.date.between(start, end)


def when(condition: Any, value: Any) -> Any:
    """``value`` where ``condition`` holds, else 0: for conditional sums."""
    return case((condition, value), else_=0)


def tool_tokens(tool: str, t: Rollup = D) -> Any:
    return func.coalesce(func.sum(when(t.tool == tool, total_tokens_of(t))), 0)


@dataclass(frozen=True, slots=True)
class PersonToolRow:
    """One person's (or, with an empty email, all unattributed) usage of one tool over a period."""

    tool: str
    email: str
    input_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    output_tokens: int
    cost_usd: Decimal
    last_day: date

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class PersonToolSums:
    """A period summed per (tool, person): at most tools x people rows, from which the overview's totals and
    people and the ranking are all added up. Computed once, it can serve both (the overview answer)."""

    start: date
    end: date
    tool: str | None
    rows: list[PersonToolRow]

    def covers(self, start: date, end: date, tool: str | None) -> bool:
        return (self.start, self.end, self.tool) == (start, end, tool)


def whole_months(start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """``start..end`` as the calendar months wholly inside it (their first days) and the day ranges left at
    the edges (at most two)."""
    first = start if start.day == 1 else month_end(start) + timedelta(days=1)
    months: list[date] = []
    while first <= end and month_end(first) <= end:
        months.append(first)
        first = month_end(first) + timedelta(days=1)
    if not months:
        return [], [(start, end)]
    edges = [(start, months[0] - timedelta(days=1))] if start < months[0] else []
    after = month_end(months[-1]) + timedelta(days=1)
    if after <= end:
        edges.append((after, end))
    return months, edges


def person_tool_sums(session: Session, start: date, end: date, tool: str | None = None) -> PersonToolSums:
    """``start..end`` summed per (tool, person): its whole months from the person-month rollup, the days
    at the edges from the person-day rollup (a year is ~12 x people rows plus two partial months, instead of
    365 x people)."""
    months, edges = whole_months(start, end)
    totals: dict[tuple[str, str], list[Any]] = {}

    def add(stmt: Any) -> None:
        for t, email, i, cw, cr, o, c, last in session.execute(stmt):
            row = totals.get((t, email))
            if row is None:
                totals[(t, email)] = [i, cw, cr, o, to_decimal(c), last]
            else:
                row[0] += i
                row[1] += cw
                row[2] += cr
                row[3] += o
                row[4] += to_decimal(c)
                row[5] = max(row[5], last)

    def grouped(t: type[UsagePersonDaily] | type[UsagePersonMonthly], last: Any, *where: Any) -> Any:
        # Token sums as bigint: PostgreSQL sums bigints into numeric, which arrives as Decimal and would
        # cost a conversion per value here.
        columns = (t.input_tokens, t.cache_write_tokens, t.cache_read_tokens, t.output_tokens)
        tokens = [cast(sum_of(c), BigInteger) for c in columns]
        return (
            select(t.tool, t.email, *tokens, sum_cost(t), func.max(last))
            .where(*where, *([t.tool == tool] if tool else []))
            .group_by(t.tool, t.email)
        )

    if months:
        add(grouped(PM, PM.last_day, PM.month.between(months[0], months[-1])))
    for first, last in edges:
        add(grouped(P, P.date, in_range(first, last, P)))
    rows = [PersonToolRow(t, email, *row) for (t, email), row in totals.items()]
    return PersonToolSums(start, end, tool, rows)
