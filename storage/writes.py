"""Idempotent writes: every provider row goes through one batched ``INSERT ... ON CONFLICT`` path.

The caller owns the transaction. Writing a batch twice leaves the same rows and the same totals, and a
batch that fails part-way leaves nothing behind once the caller's transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Date, Table, and_, case, delete, func, literal, literal_column, select, text
from sqlalchemy.orm import Session

from storage.bulk import UpsertSpec, bulk_upsert
from storage.model_names import normalize_model_name
from storage.models import (
    USAGE_KEY,
    ClaudeCodeActivity,
    Usage,
    UsageDaily,
    UsageModelDaily,
    UsagePersonDaily,
    UsagePersonMonthly,
)


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One row for the ``usage`` table, as a provider hands it over. ``model`` is derived on write."""

    tool: str
    date: date
    actor: str
    org_id: str = ""
    actor_type: str = "user"
    email: str = ""
    raw_model: str = ""
    customer_type: str = ""
    event_key: str = ""
    event_ts_ms: int | None = None
    kind: str | None = None
    max_mode: bool | None = None
    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    source: str = "api"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens + self.output_tokens


# The column order of usage rows on the hot path (tuples, see storage/bulk.py).
USAGE_COLUMNS = (
    "tool",
    "date",
    "org_id",
    "actor",
    "actor_type",
    "email",
    "raw_model",
    "model",
    "customer_type",
    "event_key",
    "event_ts_ms",
    "kind",
    "max_mode",
    "input_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "output_tokens",
    "cost_usd",
    "source",
)
# The tables themselves (declarative classes type ``__table__`` as any FROM clause).
_USAGE = cast(Table, Usage.__table__)
_DAILY = cast(Table, UsageDaily.__table__)
_PERSON_DAILY = cast(Table, UsagePersonDaily.__table__)
_MODEL_DAILY = cast(Table, UsageModelDaily.__table__)
_PERSON_MONTHLY = cast(Table, UsagePersonMonthly.__table__)
_ACTIVITY = cast(Table, ClaudeCodeActivity.__table__)
USAGE_SPEC = UpsertSpec(_USAGE, USAGE_COLUMNS, USAGE_KEY, keep_if_empty=("email",))
_DATE = USAGE_COLUMNS.index("date")
_TOOL = USAGE_COLUMNS.index("tool")


def usage_row(record: UsageRecord) -> tuple[Any, ...]:
    """``record`` in :data:`USAGE_COLUMNS` order, with its normalised model name."""
    r = record
    return (
        r.tool,
        r.date,
        r.org_id,
        r.actor,
        r.actor_type,
        r.email.lower(),
        r.raw_model,
        normalize_model_name(r.raw_model),
        r.customer_type,
        r.event_key,
        r.event_ts_ms,
        r.kind,
        r.max_mode,
        r.input_tokens,
        r.cache_write_tokens,
        r.cache_read_tokens,
        r.output_tokens,
        r.cost_usd,
        r.source,
    )


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """Claude Code's non-token metrics for one (org, UTC day, actor)."""

    date: date
    actor: str
    org_id: str = ""
    actor_type: str = "user"
    email: str = ""
    customer_type: str = ""
    terminal_types: str = ""
    sessions: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    commits: int = 0
    pull_requests: int = 0
    tool_accepted: int = 0
    tool_rejected: int = 0
    tool_actions: dict[str, Any] = field(default_factory=dict)


_ACTIVITY_FIELDS = {f.name for f in fields(ActivityRecord)}
ACTIVITY_COLUMNS = tuple(c.name for c in _ACTIVITY.columns if c.name in _ACTIVITY_FIELDS)
ACTIVITY_SPEC = UpsertSpec(_ACTIVITY, ACTIVITY_COLUMNS, ("date", "org_id", "actor"), keep_if_empty=("email",))


@dataclass(slots=True)
class WriteResult:
    rows: int = 0
    days: set[tuple[str, date]] = field(default_factory=set)


def upsert_usage(session: Session, records: Iterable[UsageRecord], *, refresh_rollup: bool = True) -> WriteResult:
    """Insert or overwrite usage rows by their grain key, then bring the daily rollup in step.

    A later record with the same key as an earlier one in the same call wins, as a later write would.
    An empty incoming email never erases an attribution already made (for example by an admin's mapping).
    """
    return upsert_usage_rows(session, [usage_row(record) for record in records], refresh_rollup=refresh_rollup)


def upsert_usage_rows(session: Session, rows: Sequence[tuple[Any, ...]], *, refresh_rollup: bool = True) -> WriteResult:
    """:func:`upsert_usage` for rows already in :data:`USAGE_COLUMNS` order (the import and sync hot path)."""
    written = bulk_upsert(session, USAGE_SPEC, rows)
    result = WriteResult(rows=written, days={(row[_TOOL], row[_DATE]) for row in rows})
    if refresh_rollup:
        refresh_daily_rollup(session, result.days)
    return result


def upsert_activity(session: Session, records: Iterable[ActivityRecord]) -> int:
    """Insert or overwrite Claude Code activity rows by (date, org, actor)."""
    return bulk_upsert(session, ACTIVITY_SPEC, [tuple(getattr(r, name) for name in ACTIVITY_COLUMNS) for r in records])


def refresh_daily_rollup(
    session: Session, days: Iterable[tuple[str, date]], *, months: bool = True
) -> set[tuple[str, date]]:
    """Re-derive the rollup rows of the given (tool, day) pairs from the facts: ``usage_daily`` from
    ``usage``, then the coarser ``usage_person_daily`` (without the model) and ``usage_model_daily``
    (without the person) from those ``usage_daily`` rows, and last ``usage_person_monthly`` for every month
    the days fall in, from its person-days. Returns those (tool, first day of the month) pairs.

    Recomputing whole days (rather than applying deltas) keeps every rollup exact whatever happened to
    the facts: overwrites, deletes, or an API key re-attributed to a person.

    ``months=False`` leaves ``usage_person_monthly`` behind for the caller to bring in step with
    :func:`refresh_monthly_rollup` before its transaction ends: a writer that refreshes a few days per
    batch (the CSV import) would otherwise sum the same month's person-days again for every batch, though
    only its last sum counts. Nothing outside the transaction sees the months in between.
    """
    by_tool: dict[str, set[date]] = {}
    for tool, day in days:
        by_tool.setdefault(tool, set()).add(day)
    if not by_tool:
        return set()
    with _grouped_by_hashing(session):
        _refresh_days(session, by_tool)
    touched = {(tool, day.replace(day=1)) for tool, tool_days in by_tool.items() for day in tool_days}
    if months:
        refresh_monthly_rollup(session, touched)
    return touched


def _refresh_days(session: Session, by_tool: dict[str, set[date]]) -> None:
    usage, daily = _USAGE, _DAILY
    rollup_actor = case((usage.c.email == "", usage.c.actor), else_=literal_column("''"))
    for tool, tool_days in by_tool.items():
        ordered = sorted(tool_days)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            session.execute(delete(daily).where(and_(daily.c.tool == tool, daily.c.date.in_(chunk))))
            source = (
                select(
                    usage.c.date,
                    usage.c.tool,
                    usage.c.org_id,
                    usage.c.email,
                    rollup_actor,
                    usage.c.model,
                    func.sum(usage.c.input_tokens),
                    func.sum(usage.c.cache_write_tokens),
                    func.sum(usage.c.cache_read_tokens),
                    func.sum(usage.c.output_tokens),
                    func.sum(usage.c.cost_usd),
                    func.count(),
                )
                .where(and_(usage.c.tool == tool, usage.c.date.in_(chunk)))
                .group_by(usage.c.date, usage.c.tool, usage.c.org_id, usage.c.email, rollup_actor, usage.c.model)
            )
            columns = [
                "date",
                "tool",
                "org_id",
                "email",
                "actor",
                "model",
                "input_tokens",
                "cache_write_tokens",
                "cache_read_tokens",
                "output_tokens",
                "cost_usd",
                "records",
            ]
            session.execute(daily.insert().from_select(columns, source))
            # The coarser grains, from the rows just written (far fewer than the facts).
            for coarser, grain in (
                (_PERSON_DAILY, ("date", "tool", "org_id", "email", "actor")),
                (_MODEL_DAILY, ("date", "tool", "model")),
            ):
                session.execute(delete(coarser).where(and_(coarser.c.tool == tool, coarser.c.date.in_(chunk))))
                keys = [daily.c[name] for name in grain]
                coarse = (
                    select(*keys, *(func.sum(daily.c[name]) for name in _SUMMED))
                    .where(and_(daily.c.tool == tool, daily.c.date.in_(chunk)))
                    .group_by(*keys)
                )
                session.execute(coarser.insert().from_select([*grain, *_SUMMED], coarse))


def month_end(month: date) -> date:
    """The last day of the month that starts on ``month``."""
    if month.month == 12:
        return month.replace(day=31)
    return month.replace(month=month.month + 1, day=1) - timedelta(days=1)


# A day of a per-event tool is tens of thousands of rows (2,000 people's events), grouped by five text
# columns. PostgreSQL plans the grouping by its statistics, which overestimate the groups of a stored table
# (it expects one per row and sorts, in the default 4 MB of work memory on disk) and which a table filled
# in this very transaction does not have (a first import: it expects one row and sorts). Sorting text is
# what costs; hashing the same rows costs less (a day of 33,000 events: 156 ms sorted on disk against 68 ms
# hashed; in a first import of a million rows, 31 days' refreshes took 6.6 s instead of 7.7-8.3 s). So while
# the rollups are refreshed, sorting is discouraged and grouping has 32 MB (a hash may take twice that on
# PostgreSQL 15: a day's groups need a few MB, the planner's overestimate of them tens), and afterwards both
# settings are what they were, for the rest of the transaction only, as SET LOCAL made them.
_READ_GROUPING = text("SELECT current_setting('work_mem'), current_setting('enable_sort')")
_SET_GROUPING = text("SELECT set_config('work_mem', :work_mem, true), set_config('enable_sort', :enable_sort, true)")


@contextmanager
def _grouped_by_hashing(session: Session) -> Iterator[None]:
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    work_mem, enable_sort = session.execute(_READ_GROUPING).one()
    session.execute(_SET_GROUPING, {"work_mem": "32MB", "enable_sort": "off"})
    yield
    # Not on the way out of a failure: the transaction is lost then, and its settings with it.
    session.execute(_SET_GROUPING, {"work_mem": work_mem, "enable_sort": enable_sort})


def refresh_monthly_rollup(session: Session, months: Iterable[tuple[str, date]]) -> None:
    """Sum the person-days of each (tool, first day of a month) again into ``usage_person_monthly``."""
    person, monthly = _PERSON_DAILY, _PERSON_MONTHLY
    grain = ("tool", "org_id", "email", "actor")
    for tool, month in sorted(set(months)):
        session.execute(delete(monthly).where(and_(monthly.c.tool == tool, monthly.c.month == month)))
        keys = [person.c[name] for name in grain]
        source = (
            select(
                literal(month, Date()),
                *keys,
                *(func.sum(person.c[name]) for name in _SUMMED),
                func.max(person.c.date),
            )
            .where(and_(person.c.tool == tool, person.c.date.between(month, month_end(month))))
            .group_by(*keys)
        )
        session.execute(monthly.insert().from_select(["month", *grain, *_SUMMED, "last_day"], source))


_SUMMED = ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens", "cost_usd", "records")
