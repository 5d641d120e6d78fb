"""Spike alerts: one per person per day, claimed with an INSERT before the DM is sent.

The unique (email, day) key is what makes a restarted or second scheduler never DM anyone twice about the
same day. A claim whose DM failed before reaching Slack is taken over by the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine, select, update

from storage.claims import claim_once
from storage.db import transaction
from storage.models import SpikeAlert


def claim_spike(
    engine: Engine, email: str, day: date, cost_usd: Decimal, usual_usd: Decimal, now: datetime
) -> int | None:
    """The alert id if this caller now owns (email, day), else None."""
    values = {"status": "claimed", "cost_usd": cost_usd, "usual_usd": usual_usd, "created_at": now}
    return claim_once(
        engine,
        SpikeAlert,
        {"email": email, "date": day},
        values,
        retake_if=[SpikeAlert.status == "failed"],
        retake_values=values,
    )


def finish_spikes(engine: Engine, alert_ids: list[int], *, ok: bool) -> None:
    if not alert_ids:
        return
    with transaction(engine) as session:
        session.execute(
            update(SpikeAlert).where(SpikeAlert.id.in_(alert_ids)).values(status="sent" if ok else "failed")
        )


@dataclass(frozen=True, slots=True)
class SpikeRecord:
    email: str
    date: date
    status: str


def spikes_recorded(engine: Engine) -> list[SpikeRecord]:
    with transaction(engine) as session:
        rows = session.scalars(select(SpikeAlert).order_by(SpikeAlert.date, SpikeAlert.email))
        return [SpikeRecord(r.email, r.date, r.status) for r in rows]
