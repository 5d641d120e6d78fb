"""Costs a provider reports per organisation and day, and the check of computed per-person cost against them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.analytics.common import to_decimal
from storage.models import ReportedCost, UsageDaily


@dataclass(frozen=True, slots=True)
class DayCost:
    date: date
    reported_usd: Decimal
    unpriced_tokens: int = 0
    unpriced_models: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CostCheck:
    """Computed against reported cost over the days both are stored for, one organisation."""

    org_id: str
    first: date
    last: date
    days: int
    computed_usd: Decimal  # the sum of the stored per-person costs of those days
    reported_usd: Decimal  # the sum of what the provider reported for them
    unpriced_tokens: int
    unpriced_models: tuple[str, ...]

    @property
    def difference_usd(self) -> Decimal:
        return self.computed_usd - self.reported_usd


def replace_day_cost(session: Session, provider: str, org_id: str, cost: DayCost, now: datetime) -> None:
    """Store one day's reported cost (replacing what was stored for it), in the caller's transaction."""
    session.execute(
        delete(ReportedCost).where(
            ReportedCost.provider == provider, ReportedCost.org_id == org_id, ReportedCost.date == cost.date
        )
    )
    models = ", ".join(sorted(cost.unpriced_models))
    session.add(
        ReportedCost(
            provider=provider,
            org_id=org_id,
            date=cost.date,
            reported_cost_usd=cost.reported_usd,
            unpriced_tokens=cost.unpriced_tokens,
            unpriced_models=models if len(models) <= 1024 else models[:1021] + "...",
            updated_at=now,
        )
    )


def cost_check(
    session: Session, *, provider: str, tool: str, org_ids: Iterable[str], first: date, last: date
) -> list[CostCheck]:
    """Per organisation with reported costs in ``[first, last]``: computed vs reported over those same days."""
    checks = []
    for org_id in sorted(set(org_ids)):
        rows = list(
            session.execute(
                select(
                    ReportedCost.date,
                    ReportedCost.reported_cost_usd,
                    ReportedCost.unpriced_tokens,
                    ReportedCost.unpriced_models,
                )
                .where(
                    ReportedCost.provider == provider,
                    ReportedCost.org_id == org_id,
                    ReportedCost.date >= first,
                    ReportedCost.date <= last,
                )
                .order_by(ReportedCost.date)
            )
        )
        if not rows:
            continue
        days = [r[0] for r in rows]
        computed = session.scalar(
            select(func.coalesce(func.sum(UsageDaily.cost_usd), 0)).where(
                UsageDaily.tool == tool, UsageDaily.org_id == org_id, UsageDaily.date.in_(days)
            )
        )
        models = sorted({m.strip() for r in rows for m in (r[3] or "").split(",") if m.strip()})
        checks.append(
            CostCheck(
                org_id=org_id,
                first=days[0],
                last=days[-1],
                days=len(days),
                computed_usd=to_decimal(computed),
                reported_usd=sum((to_decimal(r[1]) for r in rows), Decimal(0)),
                unpriced_tokens=sum(int(r[2]) for r in rows),
                unpriced_models=tuple(models),
            )
        )
    return checks
