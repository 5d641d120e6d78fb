"""Cursor from the Cursor Admin API (usage events) and the dashboard's CSV exports."""

from __future__ import annotations

from datetime import timedelta

from providers.cursor.settings import CursorSettings
from providers.spec import ProviderSpec, Tool, lazy
from storage.analytics.freshness import FreshnessRule

CURSOR = Tool(id="cursor", title="Cursor", short="cursor", aliases=(), color="#3B82F6")

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
    sync=lazy("providers.cursor.jobs", "sync"),
    backfill=lazy("providers.cursor.jobs", "backfill"),
    org_ids=lazy("providers.cursor.jobs", "org_ids"),
    probe=lazy("providers.cursor.jobs", "probe"),
    secret_patterns=(r"key_[A-Za-z0-9]{16,}",),
)
