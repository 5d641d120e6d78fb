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

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.answers.plain_text import notification_text
from bot.answers.spikes import spike_dm_blocks, spike_summary_blocks
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


def check_spikes(settings: Settings, engine: Engine, client: WebClient, *, now: datetime) -> SpikeTick:
    tick = SpikeTick()
    fired: list[UnusualSpend] = []
    for spike in find_spikes(settings, engine, now=now):
        alert_id = claim_spike(engine, spike.email, spike.date, spike.cost_usd, spike.usual_cost_usd, now)
        if alert_id is None:
            continue  # already sent (or being sent) for that day
        try:
            user = client.users_lookupByEmail(email=spike.email).get("user") or {}
            channel = client.conversations_open(users=str(user.get("id")))["channel"]["id"]
            blocks = spike_dm_blocks(spike, factor=settings.spike_factor)
            client.chat_postMessage(channel=channel, text=notification_text(blocks), blocks=blocks)
        except SlackApiError as exc:
            finish_spikes(engine, [alert_id], ok=False)
            tick.errors.append(f"{spike.email}: {exc.response.get('error') or exc}")
            continue
        finish_spikes(engine, [alert_id], ok=True)
        fired.append(spike)
        tick.sent += 1
    if fired and settings.spike_admin_channel:
        blocks = spike_summary_blocks(fired, named=settings.people_visibility == "everyone")
        try:
            client.chat_postMessage(channel=settings.spike_admin_channel, text=notification_text(blocks), blocks=blocks)
        except SlackApiError as exc:
            tick.errors.append(f"summary to {settings.spike_admin_channel}: {exc.response.get('error') or exc}")
    return tick
