"""Reading and advancing per (provider, org) sync progress.

Attempts, successes and failures are recorded in their own short transactions, so a failure is on
record even when the data transaction it interrupted was rolled back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from storage.db import transaction
from storage.models import SyncState

_MAX_ERROR_CHARS = 2_000


def get_state(session: Session, provider: str, org_id: str) -> SyncState:
    """The state row, created (unsaved until the session commits) if this org never synced."""
    state = session.get(SyncState, (provider, org_id))
    if state is None:
        state = SyncState(provider=provider, org_id=org_id, backfill_complete=False, backfill_empty_days=0)
        session.add(state)
        session.flush()
    return state


def list_states(session: Session, provider: str | None = None) -> list[SyncState]:
    query = select(SyncState).order_by(SyncState.provider, SyncState.org_id)
    if provider:
        query = query.where(SyncState.provider == provider)
    return list(session.scalars(query))


def record_attempt(engine: Engine, provider: str, org_id: str, now: datetime) -> None:
    with transaction(engine) as session:
        state = get_state(session, provider, org_id)
        state.last_attempt_at = now
        state.updated_at = now


def record_success(
    engine: Engine, provider: str, org_id: str, now: datetime, *, forward_watermark: datetime | None = None
) -> None:
    """A run finished with every page of every window stored. The watermark never moves backwards."""
    with transaction(engine) as session:
        state = get_state(session, provider, org_id)
        state.last_success_at = now
        state.last_error = None
        state.last_error_at = None
        if forward_watermark is not None and (
            state.forward_watermark is None or forward_watermark > state.forward_watermark
        ):
            state.forward_watermark = forward_watermark
        state.updated_at = now


def record_failure(engine: Engine, provider: str, org_id: str, now: datetime, error: str) -> None:
    with transaction(engine) as session:
        state = get_state(session, provider, org_id)
        state.last_error = error[:_MAX_ERROR_CHARS]
        state.last_error_at = now
        state.updated_at = now


def set_backfill_complete(engine: Engine, provider: str, org_id: str, complete: bool, now: datetime) -> None:
    """The operator's override (`abacus backfill complete|reset`). Reset also forgets the empty-day count."""
    with transaction(engine) as session:
        state = get_state(session, provider, org_id)
        state.backfill_complete = complete
        state.backfill_empty_days = 0
        state.updated_at = now
