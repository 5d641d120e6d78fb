"""The provider-independent part of syncing: walking history backwards with an explicit cursor.

The original derived backfill progress from MIN(date), so an interrupted run left permanent holes.
Here the cursor is the oldest instant whose whole window has been stored, and it moves only after the
window's data is committed: a crash re-processes one window (idempotently), it never skips one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine

from providers.errors import ProviderError
from storage.db import transaction
from storage.sync_state import get_state, record_failure

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class BackfillOutcome:
    status: str  # complete | in_progress | failed
    windows: int
    records: int
    cursor: datetime | None
    error: str | None = None


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def run_backfill(
    engine: Engine,
    *,
    provider: str,
    org_id: str,
    target: date,
    start_cursor: datetime,
    max_windows: int,
    complete_after_empty: int,
    process: Callable[[datetime, datetime], int],
    now: Callable[[], datetime],
    window: timedelta = DAY,
) -> BackfillOutcome:
    """Process up to ``max_windows`` windows backwards from the stored cursor (or ``start_cursor``).

    ``process(start, end)`` fetches and stores ``[start, end)`` and returns how many records the provider
    returned. Completes on reaching ``target`` or after ``complete_after_empty`` consecutive empty windows.
    """
    target_start = utc_midnight(target)
    with transaction(engine) as session:
        state = get_state(session, provider, org_id)
        if state.backfill_target != target:
            # An operator asking for older history re-opens a backfill that had stopped.
            if state.backfill_cursor is None or target_start < state.backfill_cursor:
                state.backfill_complete = False
                state.backfill_empty_days = 0
            state.backfill_target = target
        if state.backfill_complete:
            return BackfillOutcome("complete", 0, 0, state.backfill_cursor)
        cursor = state.backfill_cursor or start_cursor
        empty = state.backfill_empty_days

    windows = records = 0
    while windows < max_windows and cursor > target_start:
        start = max(cursor - window, target_start)
        try:
            found = process(start, cursor)
        except ProviderError as exc:
            record_failure(engine, provider, org_id, now(), f"backfill: {exc}")
            return BackfillOutcome("failed", windows, records, cursor, str(exc))
        windows += 1
        records += found
        empty = 0 if found else empty + 1
        cursor = start
        with transaction(engine) as session:
            state = get_state(session, provider, org_id)
            state.backfill_cursor = cursor
            state.backfill_empty_days = empty
            state.backfill_complete = cursor <= target_start or empty >= complete_after_empty
            state.updated_at = now()
            if state.backfill_complete:
                return BackfillOutcome("complete", windows, records, cursor)
    status = "complete" if cursor <= target_start else "in_progress"
    return BackfillOutcome(status, windows, records, cursor)
