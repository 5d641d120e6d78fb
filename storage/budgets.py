"""Budgets: a limit per month or week for the company, a team or a person; their spend, pace and alerts.

An alert is claimed with an INSERT of (budget, period, kind) before anything is posted, like a digest run:
a restarted or second scheduler cannot fire it again. A claim whose post failed before reaching Slack is
taken over by the next run; one that reached Slack never repeats.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from storage.claims import claim_once
from storage.db import transaction
from storage.models import Budget as BudgetRow
from storage.models import BudgetAlert, UsageDaily

D = UsageDaily


@dataclass(frozen=True, slots=True)
class Budget:
    id: int
    scope: str  # org | team | person
    target: str  # team name, email, or "" for the company
    cadence: str  # monthly | weekly
    tool: str  # "" for every tool
    amount_usd: Decimal
    channel_id: str
    created_by: str
    active: bool

    @property
    def label(self) -> str:
        who = {"org": "company", "team": f"team {self.target}", "person": self.target}[self.scope]
        return f"{who} · {self.cadence}" + (f" · {self.tool}" if self.tool else "")


@dataclass(frozen=True, slots=True)
class BudgetPeriod:
    key: str  # 2026-11 (monthly) or 2026-W48 (weekly, ISO)
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def budget_period(cadence: str, day: date) -> BudgetPeriod:
    """The calendar month, or the Monday-to-Sunday ISO week, that ``day`` falls in."""
    if cadence == "weekly":
        start = day - timedelta(days=day.weekday())
        year, week, _ = day.isocalendar()
        return BudgetPeriod(f"{year}-W{week:02d}", start, start + timedelta(days=6))
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return BudgetPeriod(f"{day:%Y-%m}", start, following - timedelta(days=1))


# Before this many days of a period a pace says little (one busy Monday is not a month), so no projection.
MIN_DAYS_FOR_PROJECTION = 3


def projected_spend(spend: Decimal, period: BudgetPeriod, as_of: date) -> Decimal | None:
    """End-of-period spend at the pace so far (spend per elapsed day, ``as_of`` included, times the period's
    days), to the cent; None while fewer than MIN_DAYS_FOR_PROJECTION days have passed. Today's partial
    day counts as a whole one, which errs towards a lower projection: no false alarm from a partial day."""
    elapsed = min((as_of - period.start).days + 1, period.days)
    if elapsed < MIN_DAYS_FOR_PROJECTION:
        return None
    return (spend * period.days / elapsed).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _plain(row: BudgetRow) -> Budget:
    return Budget(
        row.id, row.scope, row.target, row.cadence, row.tool, row.amount_usd, row.channel_id, row.created_by, row.active
    )


def set_budget(
    engine: Engine,
    *,
    scope: str,
    target: str,
    cadence: str,
    tool: str,
    amount_usd: Decimal,
    channel_id: str,
    created_by: str,
    now: datetime,
) -> Budget:
    """Create the budget or change its amount and channel (and switch it back on). Alerts already fired
    this period stay fired: raising a budget does not replay them; a new threshold crossing still fires."""
    with transaction(engine) as session:
        row = session.scalar(
            select(BudgetRow).where(
                BudgetRow.scope == scope,
                BudgetRow.target == target,
                BudgetRow.cadence == cadence,
                BudgetRow.tool == tool,
            )
        )
        if row is None:
            row = BudgetRow(scope=scope, target=target, cadence=cadence, tool=tool, created_at=now)
            session.add(row)
        row.amount_usd = amount_usd
        row.channel_id = channel_id
        row.created_by = created_by
        row.active = True
        session.flush()
        return _plain(row)


def active_budgets(session: Session) -> list[Budget]:
    """The budgets that are on, inside a caller's transaction (the digest reads them with its numbers)."""
    stmt = select(BudgetRow).where(BudgetRow.active.is_(True))
    return [_plain(r) for r in session.scalars(stmt.order_by(BudgetRow.scope, BudgetRow.target, BudgetRow.id))]


def list_budgets(engine: Engine, *, active_only: bool = True) -> list[Budget]:
    stmt = select(BudgetRow).order_by(BudgetRow.scope, BudgetRow.target, BudgetRow.cadence, BudgetRow.tool)
    if active_only:
        stmt = stmt.where(BudgetRow.active.is_(True))
    with transaction(engine) as session:
        return [_plain(r) for r in session.scalars(stmt)]


def switch_off(engine: Engine, *, scope: str, target: str, cadence: str | None = None, tool: str | None = None) -> int:
    """Switch matching budgets off (all cadences and tools unless given); returns how many were on."""
    stmt = (
        update(BudgetRow)
        .where(BudgetRow.active.is_(True), BudgetRow.scope == scope, BudgetRow.target == target)
        .values(active=False)
    )
    if cadence is not None:
        stmt = stmt.where(BudgetRow.cadence == cadence)
    if tool is not None:
        stmt = stmt.where(BudgetRow.tool == tool)
    with transaction(engine) as session:
        return session.execute(stmt).rowcount or 0  # type: ignore[attr-defined]


def spend(
    session: Session, start: date, end: date, *, emails: Collection[str] | None = None, tool: str = ""
) -> Decimal:
    """Spend in ``start..end``: everyone's (unattributed API keys included: it is real spend) when
    ``emails`` is None, else those people's."""
    stmt = select(func.coalesce(func.sum(D.cost_usd), 0)).where(D.date.between(start, end))
    if emails is not None:
        if not emails:
            return Decimal(0)
        stmt = stmt.where(D.email.in_(sorted(emails)))
    if tool:
        stmt = stmt.where(D.tool == tool)
    value = session.scalar(stmt)
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def top_contributors(
    session: Session, start: date, end: date, *, emails: Collection[str] | None = None, tool: str = "", limit: int = 3
) -> list[tuple[str, Decimal]]:
    cost = func.sum(D.cost_usd)
    stmt = select(D.email, cost).where(D.date.between(start, end), D.email != "").group_by(D.email)
    if emails is not None:
        if not emails:
            return []
        stmt = stmt.where(D.email.in_(sorted(emails)))
    if tool:
        stmt = stmt.where(D.tool == tool)
    rows = session.execute(stmt.order_by(cost.desc(), D.email).limit(limit))
    return [(email, value if isinstance(value, Decimal) else Decimal(str(value))) for email, value in rows]


def fired_kinds(session: Session, budget_id: int, period: str) -> set[str]:
    """Alerts of this period that are claimed, posted or silent: everything except failed claims."""
    rows = session.scalars(
        select(BudgetAlert.kind).where(
            BudgetAlert.budget_id == budget_id, BudgetAlert.period == period, BudgetAlert.status != "failed"
        )
    )
    return set(rows)


def claim_alert(
    engine: Engine, budget_id: int, period: str, kind: str, spend_usd: Decimal, now: datetime, *, silent: bool = False
) -> int | None:
    """The alert id if this caller now owns (budget, period, kind), else None. ``silent`` records a
    threshold passed on the way to a higher one, so it never fires later on its own."""
    status = "silent" if silent else "claimed"
    return claim_once(
        engine,
        BudgetAlert,
        {"budget_id": budget_id, "period": period, "kind": kind},
        {"status": status, "spend_usd": spend_usd, "created_at": now},
        retake_if=[BudgetAlert.status == "failed", BudgetAlert.message_ts.is_(None)],
        retake_values={"status": status, "spend_usd": spend_usd, "created_at": now, "error": None},
    )


def finish_alerts(engine: Engine, alert_ids: list[int], *, message_ts: str | None, error: str | None = None) -> None:
    with transaction(engine) as session:
        session.execute(
            update(BudgetAlert)
            .where(BudgetAlert.id.in_(alert_ids), BudgetAlert.status == "claimed")
            .values(
                status="posted" if message_ts else "failed",
                message_ts=message_ts,
                error=error[:2000] if error else None,
            )
        )


@dataclass(frozen=True, slots=True)
class AlertRecord:
    period: str
    kind: str
    status: str


def alerts_of(engine: Engine, budget_id: int) -> list[AlertRecord]:
    with transaction(engine) as session:
        rows = session.scalars(select(BudgetAlert).where(BudgetAlert.budget_id == budget_id).order_by(BudgetAlert.id))
        return [AlertRecord(r.period, r.kind, r.status) for r in rows]
