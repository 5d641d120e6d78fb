"""Digest subscriptions and their runs.

A run is claimed with an INSERT before anything is posted: the unique (subscription, period) key makes a
second claimant (a restarted process, a second scheduler) fail, so a digest is posted at most once per
period. A claim whose post failed before anything reached Slack may be taken again by the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from storage.claims import claim_once
from storage.db import transaction
from storage.models import DigestRun, DigestSubscription


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    channel_id: str
    cadence: str  # daily | weekly
    local_time: str  # HH:MM
    weekday: int | None  # 0 = Monday (weekly digests)
    timezone: str
    created_by: str  # Slack user id of the admin who set it up
    created_at: datetime
    active: bool


def _plain(row: DigestSubscription) -> Subscription:
    return Subscription(
        row.id,
        row.channel_id,
        row.cadence,
        row.local_time,
        row.weekday,
        row.timezone,
        row.created_by,
        row.created_at,
        row.active,
    )


def subscribe(
    engine: Engine,
    *,
    channel_id: str,
    cadence: str,
    local_time: str,
    weekday: int | None,
    timezone: str,
    created_by: str,
    now: datetime,
) -> Subscription:
    """Create the channel's subscription of this cadence, or replace its schedule (and re-activate it)."""
    with transaction(engine) as session:
        row = session.scalar(
            select(DigestSubscription).where(
                DigestSubscription.channel_id == channel_id, DigestSubscription.cadence == cadence
            )
        )
        if row is None:
            row = DigestSubscription(channel_id=channel_id, cadence=cadence)
            session.add(row)
        row.local_time = local_time
        row.weekday = weekday
        row.timezone = timezone
        row.created_by = created_by
        # A new schedule starts now: periods that were due before it are not posted.
        row.created_at = now
        row.active = True
        session.flush()
        return _plain(row)


def list_subscriptions(
    engine: Engine, *, channel_id: str | None = None, active_only: bool = True
) -> list[Subscription]:
    stmt = select(DigestSubscription).order_by(DigestSubscription.channel_id, DigestSubscription.cadence)
    if channel_id is not None:
        stmt = stmt.where(DigestSubscription.channel_id == channel_id)
    if active_only:
        stmt = stmt.where(DigestSubscription.active.is_(True))
    with transaction(engine) as session:
        return [_plain(r) for r in session.scalars(stmt)]


def deactivate(
    engine: Engine, *, channel_id: str | None = None, subscription_id: int | None = None, cadence: str | None = None
) -> int:
    """Switch subscriptions off (a channel's, of one cadence or all, or one by id); returns how many were on."""
    stmt = update(DigestSubscription).where(DigestSubscription.active.is_(True)).values(active=False)
    if cadence is not None:
        stmt = stmt.where(DigestSubscription.cadence == cadence)
    if channel_id is not None:
        stmt = stmt.where(DigestSubscription.channel_id == channel_id)
    if subscription_id is not None:
        stmt = stmt.where(DigestSubscription.id == subscription_id)
    with transaction(engine) as session:
        return session.execute(stmt).rowcount or 0  # type: ignore[attr-defined]


def claim_run(engine: Engine, subscription_id: int, period: str, now: datetime) -> int | None:
    """The run id if this caller now owns (subscription, period), else None (someone else posted or is
    posting it). A failed run that never reached Slack is taken over atomically."""
    return claim_once(
        engine,
        DigestRun,
        {"subscription_id": subscription_id, "period": period},
        {"status": "claimed", "started_at": now},
        retake_if=[DigestRun.status == "failed", DigestRun.message_ts.is_(None)],
        retake_values={"status": "claimed", "started_at": now, "finished_at": None},
    )


def record_posted(engine: Engine, run_id: int, message_ts: str) -> None:
    """Called right after Slack accepted the message, before the chart: the message can never post twice."""
    with transaction(engine) as session:
        session.execute(update(DigestRun).where(DigestRun.id == run_id).values(message_ts=message_ts))


def finish_run(engine: Engine, run_id: int, now: datetime, *, ok: bool, error: str | None = None) -> None:
    with transaction(engine) as session:
        session.execute(
            update(DigestRun)
            .where(DigestRun.id == run_id)
            .values(status="posted" if ok else "failed", finished_at=now, error=error[:2000] if error else None)
        )


@dataclass(frozen=True, slots=True)
class RunRecord:
    subscription_id: int
    period: str
    status: str
    message_ts: str | None
    error: str | None


def runs_for(engine: Engine, subscription_id: int) -> list[RunRecord]:
    with transaction(engine) as session:
        rows = session.scalars(
            select(DigestRun).where(DigestRun.subscription_id == subscription_id).order_by(DigestRun.id)
        )
        return [RunRecord(r.subscription_id, r.period, r.status, r.message_ts, r.error) for r in rows]
