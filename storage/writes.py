"""Idempotent writes: every provider row goes through one batched ``INSERT ... ON CONFLICT`` path.

The caller owns the transaction. Writing a batch twice leaves the same rows and the same totals, and a
batch that fails part-way leaves nothing behind once the caller's transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, case, delete, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.model_names import normalize_model_name
from storage.models import USAGE_KEY, ClaudeCodeActivity, Usage, UsageDaily

# Parameter sets per executemany call: bounds the memory one call holds.
_MAX_ROWS_PER_STATEMENT = 1_000


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
    def key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in USAGE_KEY)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens + self.output_tokens


_USAGE_FIELDS = tuple(f.name for f in fields(UsageRecord))


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


@dataclass(slots=True)
class WriteResult:
    rows: int = 0
    days: set[tuple[str, date]] = field(default_factory=set)


def upsert_usage(session: Session, records: Iterable[UsageRecord], *, refresh_rollup: bool = True) -> WriteResult:
    """Insert or overwrite usage rows by their grain key, then bring the daily rollup in step.

    A later record with the same key as an earlier one in the same call wins, as a later write would.
    An empty incoming email never erases an attribution already made (for example by an admin's mapping).
    """
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        # A shallow copy: every field is an immutable value, and asdict's deep copy dominated big imports.
        row = {name: getattr(record, name) for name in _USAGE_FIELDS}
        row["model"] = normalize_model_name(record.raw_model)
        latest[record.key] = row
    result = WriteResult(rows=len(latest), days={(row["tool"], row["date"]) for row in latest.values()})
    table = Usage.__table__
    keep_email = _keep_existing_if_empty(table, "email")
    _upsert(session, table, USAGE_KEY, list(latest.values()), overrides={"email": keep_email})
    if refresh_rollup:
        refresh_daily_rollup(session, result.days)
    return result


def upsert_activity(session: Session, records: Iterable[ActivityRecord]) -> int:
    """Insert or overwrite Claude Code activity rows by (date, org, actor)."""
    latest = {(r.date, r.org_id, r.actor): asdict(r) for r in records}
    table = ClaudeCodeActivity.__table__
    keep_email = _keep_existing_if_empty(table, "email")
    _upsert(session, table, ("date", "org_id", "actor"), list(latest.values()), overrides={"email": keep_email})
    return len(latest)


def refresh_daily_rollup(session: Session, days: Iterable[tuple[str, date]]) -> None:
    """Re-derive the rollup rows of the given (tool, day) pairs from the facts.

    Recomputing whole days (rather than applying deltas) keeps the rollup exact whatever happened to
    the facts: overwrites, deletes, or an API key re-attributed to a person.
    """
    by_tool: dict[str, set[date]] = {}
    for tool, day in days:
        by_tool.setdefault(tool, set()).add(day)
    usage, daily = Usage.__table__, UsageDaily.__table__
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


def _keep_existing_if_empty(table: Table, column: str) -> Any:
    """``excluded.column`` unless it is empty, in which case the stored value stays."""
    excluded = literal_column(f"excluded.{column}")
    return case((excluded == "", table.c[column]), else_=excluded)


def _upsert(
    session: Session,
    table: Table,
    key: Sequence[str],
    rows: list[dict[str, Any]],
    *,
    overrides: dict[str, Any] | None = None,
) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = list(rows[0])
    stmt = insert_fn(table)
    updates: dict[str, Any] = {name: stmt.excluded[name] for name in columns if name not in key}
    updates.update(overrides or {})
    if "updated_at" in table.c:
        updates["updated_at"] = func.now()
    stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=updates)
    # One statement, compiled once and cached, executed for many parameter sets (the driver's executemany).
    # Building a multi-row VALUES clause instead costs a fresh compile of thousands of bind parameters per
    # chunk, which dominated large imports.
    for start in range(0, len(rows), _MAX_ROWS_PER_STATEMENT):
        session.execute(stmt, rows[start : start + _MAX_ROWS_PER_STATEMENT])
