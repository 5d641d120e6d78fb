"""Cursor from the Cursor Admin API (usage events) and the dashboard's CSV exports."""

from __future__ import annotations

from datetime import timedelta

from providers.cursor import jobs
from providers.cursor.client import CursorClient
from providers.cursor.settings import CursorSettings
from providers.http import ONE_TRY
from providers.spec import Probe, ProviderKey, ProviderSpec, Tool
from storage.analytics.status import FreshnessRule

CURSOR = Tool(id="cursor", title="Cursor", short="cursor", aliases=(), color="#3B82F6")

_JOBS = jobs.make_jobs()


def _probe(settings: CursorSettings, key: ProviderKey, timeout: float) -> Probe:
    with CursorClient(
        key.key.get_secret_value(),
        who=f"Cursor ({key.name})",
        base_url=settings.cursor_base_url,
        timeout=timeout,
        policy=ONE_TRY,
    ) as client:
        members = client.members()
    return Probe(jobs.org_id_of(key), f"valid for a team of {len(members)}")


SPEC = ProviderSpec(
    id="cursor",
    title="Cursor",
    tool=CURSOR,
    aliases=(),
    state_key="cursor",
    org_prefix="",
    settings=CursorSettings,
    key_settings="CURSOR_ADMIN_KEY or CURSOR_ADMIN_KEYS",
    key_hint="a Cursor Admin API key (key_...) in CURSOR_ADMIN_KEYS",
    # Syncs hourly with little delay.
    freshness=FreshnessRule(max_watermark_age=timedelta(hours=2)),
    sync_every=lambda s: timedelta(minutes=s.schedule_cursor_sync_minutes),
    sync=_JOBS.sync,
    backfill=_JOBS.backfill,
    org_ids=_JOBS.org_ids,
    probe=_probe,
    secret_patterns=(r"key_[A-Za-z0-9]{16,}",),
)
