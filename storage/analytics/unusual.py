"""Unusual spend: a person whose daily cost is far above their own usual day.

"Usual" is the median of the person's daily cost over their active days in the 28 days before the day
(zero days are left out: someone who codes twice a week would otherwise have a median of nothing). Too
little history says nothing, so people with fewer than ``min_active_days`` active days are not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.analytics.common import D, in_range, sum_cost, to_decimal


@dataclass(frozen=True, slots=True)
class UnusualSpend:
    email: str
    date: date
    cost_usd: Decimal
    usual_cost_usd: Decimal  # the median of the person's active days before
    ratio: float


def unusual_spenders(
    session: Session,
    start: date,
    end: date,
    *,
    factor: float = 3.0,
    floor_usd: Decimal = Decimal(10),
    history_days: int = 28,
    min_active_days: int = 3,
) -> list[UnusualSpend]:
    """Per person, the day of ``start..end`` furthest above their usual daily cost, when it is more than
    ``factor`` times that and above ``floor_usd``; largest ratio first."""
    stmt = (
        select(D.email, D.date, sum_cost())
        .where(in_range(start - timedelta(days=history_days), end), D.email != "")
        .group_by(D.email, D.date)
    )
    daily: dict[str, dict[date, Decimal]] = {}
    for email, day, cost in session.execute(stmt):
        daily.setdefault(email, {})[day] = to_decimal(cost)
    found = []
    for email, days in daily.items():
        best: UnusualSpend | None = None
        for day, cost in days.items():
            if not start <= day <= end or cost <= floor_usd:
                continue
            history = [c for d, c in days.items() if day - timedelta(days=history_days) <= d < day and c > 0]
            if len(history) < min_active_days:
                continue
            usual = Decimal(median(history))
            if usual <= 0 or cost <= usual * Decimal(str(factor)):
                continue
            ratio = float(cost / usual)
            if best is None or ratio > best.ratio:
                best = UnusualSpend(email, day, cost, usual, round(ratio, 1))
        if best is not None:
            found.append(best)
    return sorted(found, key=lambda u: (-u.ratio, u.email))
