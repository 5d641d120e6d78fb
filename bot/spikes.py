"""Spike alerts: a person whose day costs far more than their usual day hears it first, privately.

"Usual" is the median of the person's active days in the 28 days before (``storage.analytics.unusual``):
zero days (weekends, holidays) are left out, so a part-timer's median is not zero and every working day
is not a spike; a new person with fewer than three active days has no usual day yet and is not judged.
A day must be above both ``ABACUS_SPIKE_FACTOR`` times that median and ``ABACUS_SPIKE_FLOOR_USD``.

Each person gets one DM per day at most (claimed in ``spike_alerts``); when ``ABACUS_SPIKE_ADMIN_CHANNEL``
is set, one summary of everyone who fired in a run goes there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.answers.plain_text import notification_text
from bot.answers.spikes import spike_dm_blocks, spike_summary_blocks
from bot.outbox import Message, Outbox, Undelivered
from bot.settings import Settings
from storage.analytics.unusual import UnusualSpend, unusual_spenders
from storage.db import transaction
from storage.spikes import claim_spike, finish_spikes

log = logging.getLogger(__name__)


@dataclass
class SpikeTick:
    sent: int = 0
    errors: list[str] = field(default_factory=list)


def find_spikes(settings: Settings, engine: Engine, *, now: datetime) -> list[UnusualSpend]:
    """Spikes of yesterday (complete for every provider by now) and of today so far, judged day by day so
    a spike yesterday does not hide one today."""
    today = now.date()
    found: list[UnusualSpend] = []
    with transaction(engine) as session:
        for day in (today - timedelta(days=1), today):
            found += unusual_spenders(
                session, day, day, factor=settings.spike_factor, floor_usd=settings.spike_floor_usd
            )
    return found


def spike_message(settings: Settings, spike: UnusualSpend) -> Message:
    """The private note to the person whose day it was."""
    blocks = spike_dm_blocks(spike, factor=settings.spike_factor)
    return Message(notification_text(blocks), blocks, email=spike.email)


def summary_message(settings: Settings, fired: list[UnusualSpend]) -> Message | None:
    """One summary of a run's spikes for the admins' channel (named only when everyone may see people)."""
    if not fired or not settings.spike_admin_channel:
        return None
    blocks = spike_summary_blocks(fired, named=settings.people_visibility == "everyone")
    return Message(notification_text(blocks), blocks, channel=settings.spike_admin_channel)


def check_spikes(settings: Settings, engine: Engine, outbox: Outbox, *, now: datetime) -> SpikeTick:
    tick = SpikeTick()
    fired: list[UnusualSpend] = []
    for spike in find_spikes(settings, engine, now=now):
        alert_id = claim_spike(engine, spike.email, spike.date, spike.cost_usd, spike.usual_cost_usd, now)
        if alert_id is None:
            continue  # already sent (or being sent) for that day
        try:
            outbox.send(spike_message(settings, spike))
        except Undelivered as exc:
            finish_spikes(engine, [alert_id], ok=False)
            tick.errors.append(f"{spike.email}: {exc.error}")
            continue
        finish_spikes(engine, [alert_id], ok=True)
        fired.append(spike)
        tick.sent += 1
    summary = summary_message(settings, fired)
    if summary is not None:
        try:
            outbox.send(summary)
        except Undelivered as exc:
            tick.errors.append(f"summary to {summary.channel}: {exc.error}")
    return tick
