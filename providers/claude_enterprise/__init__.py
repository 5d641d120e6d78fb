"""Claude Code from the Claude Enterprise Analytics API: people on claude.ai Enterprise seats.

The Admin API's Claude Code report covers API-key and Console users only; seat users appear here, per person,
day and model, with their activity. Their usage is stored under the tool Claude Code (so answers count it
with the Admin API's), in organisations of their own (``claude-enterprise:<label>``), so every row's source
stays visible in status, gaps and doctor.
"""

from __future__ import annotations

from datetime import timedelta

from providers.anthropic import CLAUDE_CODE
from providers.claude_enterprise.settings import STATE_KEY, EnterpriseSettings
from providers.spec import ProviderSpec, lazy
from storage.analytics.freshness import FreshnessRule

SPEC = ProviderSpec(
    id="claude-enterprise",
    title="Claude Code (Enterprise)",
    tool=CLAUDE_CODE,
    aliases=("claude_enterprise", "enterprise", "claude-enterprise-analytics"),
    state_key=STATE_KEY,
    org_prefix=f"{STATE_KEY}:",
    settings=EnterpriseSettings,
    key_settings="ANTHROPIC_ANALYTICS_KEY or ANTHROPIC_ANALYTICS_KEYS",
    key_hint="a claude.ai Admin API key with the read:analytics scope (sk-ant-api01-...) in ANTHROPIC_ANALYTICS_KEYS",
    # Token and cost data usually appear within hours; activity one to three days late. Complete to three days
    # ago, with a successful run in the last day, is up to date.
    freshness=FreshnessRule(max_complete_day_lag=3, max_success_age=timedelta(hours=25)),
    sync_every=lambda s: timedelta(hours=s.schedule_claude_enterprise_sync_hours),
    sync=lazy("providers.claude_enterprise.jobs", "sync"),
    backfill=lazy("providers.claude_enterprise.jobs", "backfill"),
    org_ids=lazy("providers.claude_enterprise.jobs", "org_ids"),
    probe=lazy("providers.claude_enterprise.jobs", "probe"),
    secret_patterns=(r"sk-ant-[A-Za-z0-9_\-]{8,}",),
    backfill_takes_newest=True,
    notes=("Cost on seat-based Enterprise plans covers extra usage only (usage included in a seat shows no cost).",),
)
