"""Where data is missing: per provider and org, the days without data between the first and the last day
with data, and a stale tail (no data for days although the sync keeps succeeding)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.analytics.common import D
from storage.analytics.status import SourceOf, tool_is_source
from storage.models import SyncState

# A tail is stale when the newest data is older than this many days while the sync still succeeds after it.
STALE_AFTER_DAYS = 2


@dataclass(frozen=True, slots=True)
class Gap:
    first_missing: date
    last_missing: date

    @property
    def days(self) -> int:
        return (self.last_missing - self.first_missing).days + 1


@dataclass(frozen=True, slots=True)
class StaleTail:
    """No data after ``last_data`` for ``days_without_data`` days, although the last successful sync ran at
    ``last_success`` (so the sync is not the obvious culprit: a revoked key, an emptied team...)."""

    last_data: date
    days_without_data: int
    last_success: date


@dataclass(frozen=True, slots=True)
class ProviderGaps:
    provider: str
    org_id: str
    first_date: date | None
    last_date: date | None
    days_with_data: int
    gaps: list[Gap]
    stale: StaleTail | None

    @property
    def expected_days(self) -> int:
        return (self.last_date - self.first_date).days + 1 if self.first_date and self.last_date else 0

    @property
    def missing_days(self) -> int:
        return sum(g.days for g in self.gaps)


def find_gaps(
    session: Session,
    *,
    today: date,
    provider: str | None = None,
    stale_after_days: int = STALE_AFTER_DAYS,
    source_of: SourceOf = tool_is_source,
) -> list[ProviderGaps]:
    """Every (provider, org) that has data or a sync state, ordered by provider then org.

    ``provider`` is a sync-state provider name; ``source_of(tool, org)`` names the provider of stored usage.
    """
    stmt = select(D.tool, D.org_id, D.date).distinct().order_by(D.tool, D.org_id, D.date)
    states_stmt = select(SyncState)
    if provider:
        states_stmt = states_stmt.where(SyncState.provider == provider)
    dates: dict[tuple[str, str], list[date]] = {}
    for tool, org, day in session.execute(stmt):
        key = (source_of(tool, org), org)
        if provider is None or key[0] == provider:
            dates.setdefault(key, []).append(day)
    states = {(s.provider, s.org_id): s for s in session.scalars(states_stmt)}
    results = []
    for key in sorted(set(dates) | set(states)):
        days = dates.get(key, [])
        state = states.get(key)
        last_success = state.last_success_at.date() if state and state.last_success_at else None
        results.append(
            ProviderGaps(
                provider=key[0],
                org_id=key[1],
                first_date=days[0] if days else None,
                last_date=days[-1] if days else None,
                days_with_data=len(days),
                gaps=gaps_between(days),
                stale=_stale_tail(days, today, last_success, stale_after_days),
            )
        )
    return results


def gaps_between(days: list[date]) -> list[Gap]:
    """Runs of missing days between consecutive days with data (``days`` ascending, distinct)."""
    return [
        Gap(before + timedelta(days=1), after - timedelta(days=1))
        for before, after in pairwise(days)
        if (after - before).days > 1
    ]


def _stale_tail(days: list[date], today: date, last_success: date | None, stale_after_days: int) -> StaleTail | None:
    if not days or last_success is None:
        return None
    last = days[-1]
    silent = (today - last).days
    if silent > stale_after_days and last_success > last:
        return StaleTail(last_data=last, days_without_data=silent, last_success=last_success)
    return None
