"""GitHub Copilot activity rows: written a whole (org, day) at a time, and re-attributed with their login."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, select, update
from sqlalchemy.orm import Session

from storage.bulk import UpsertSpec, bulk_upsert
from storage.models import CopilotActivity

# The tool id of Copilot usage rows: a mapping of this tool's logins also moves their activity rows.
TOOL = "copilot"


@dataclass(frozen=True, slots=True)
class CopilotActivityRecord:
    """One GitHub login's Copilot day in one organisation."""

    date: date
    actor: str
    org_id: str = ""
    email: str = ""
    user_id: int = 0
    credits: Decimal = Decimal(0)
    interactions: int = 0
    code_generations: int = 0
    code_acceptances: int = 0
    lines_suggested_added: int = 0
    lines_suggested_deleted: int = 0
    lines_added: int = 0
    lines_deleted: int = 0
    cli_sessions: int = 0
    cli_requests: int = 0
    features: str = ""
    models: dict[str, Any] = field(default_factory=dict)


_TABLE = cast(Table, CopilotActivity.__table__)
_FIELDS = {f.name for f in fields(CopilotActivityRecord)}
COLUMNS = tuple(c.name for c in _TABLE.columns if c.name in _FIELDS)
SPEC = UpsertSpec(_TABLE, COLUMNS, ("date", "org_id", "actor"), keep_if_empty=("email",))


def replace_day(session: Session, org_id: str, day: date, records: list[CopilotActivityRecord]) -> int:
    """Make the stored activity of (org, day) exactly ``records``, in the caller's transaction."""
    session.execute(delete(CopilotActivity).where(CopilotActivity.org_id == org_id, CopilotActivity.date == day))
    rows = [tuple(getattr(r, name) for name in COLUMNS) for r in records]
    return bulk_upsert(session, SPEC, rows) if rows else 0


def reattribute(session: Session, org_id: str, login: str, email: str) -> int:
    """Give a login's activity rows (in one org, or every org for ``''``) a new email; returns rows moved."""
    which = CopilotActivity.actor == login
    if org_id:
        which = and_(which, CopilotActivity.org_id == org_id)
    return int(session.execute(update(CopilotActivity).where(which).values(email=email)).rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ActivityTotals:
    people: int
    days: int
    interactions: int
    code_generations: int
    code_acceptances: int
    lines_added: int
    lines_deleted: int
    cli_sessions: int
    credits: Decimal


def totals(session: Session, start: date, end: date, email: str | None = None) -> ActivityTotals:
    """Copilot activity over the UTC days ``[start, end]``, for everyone or one person (by email)."""
    a = CopilotActivity

    def total(column: Any) -> Any:
        return func.coalesce(func.sum(column), 0)

    stmt = select(
        func.count(func.distinct(a.actor)),
        func.count(func.distinct(a.date)),
        total(a.interactions),
        total(a.code_generations),
        total(a.code_acceptances),
        total(a.lines_added),
        total(a.lines_deleted),
        total(a.cli_sessions),
        total(a.credits),
    ).where(a.date >= start, a.date <= end)
    if email is not None:
        stmt = stmt.where(a.email == email)
    people, days, interactions, generations, acceptances, added, deleted, sessions, spent = session.execute(stmt).one()
    return ActivityTotals(
        people=int(people),
        days=int(days),
        interactions=int(interactions),
        code_generations=int(generations),
        code_acceptances=int(acceptances),
        lines_added=int(added),
        lines_deleted=int(deleted),
        cli_sessions=int(sessions),
        credits=Decimal(str(spent)),
    )
