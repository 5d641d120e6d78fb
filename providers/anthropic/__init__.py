"""Claude Code from the Anthropic Admin API (`usage_report/claude_code`): API-key and Console users."""

from __future__ import annotations

from datetime import timedelta

from providers.anthropic.settings import AnthropicSettings
from providers.spec import ExtraJob, ProviderSpec, Tool, lazy
from storage.analytics.freshness import FreshnessRule

CLAUDE_CODE = Tool(
    id="claude_code",
    title="Claude Code",
    short="claude",
    aliases=("claude-code", "claudecode", "anthropic"),
    color="#D97757",
    estimated_cost=True,
    subscription_seats=True,
)


SPEC = ProviderSpec(
    id="anthropic",
    title="Claude Code (Admin API)",
    tool=CLAUDE_CODE,
    aliases=("claude_code", "claude-code", "claude", "admin-api"),
    state_key="claude_code",
    org_prefix="",
    settings=AnthropicSettings,
    key_settings="ANTHROPIC_ADMIN_KEY or ANTHROPIC_ADMIN_KEYS",
    key_hint="an Anthropic Admin key (sk-ant-admin01-...) in ANTHROPIC_ADMIN_KEYS",
    # Syncs every 6 h, and the report's data lags up to a day.
    freshness=FreshnessRule(max_complete_day_lag=1, max_success_age=timedelta(hours=7)),
    sync_every=lambda s: timedelta(hours=s.schedule_claude_code_sync_hours),
    sync=lazy("providers.anthropic.jobs", "sync"),
    backfill=lazy("providers.anthropic.jobs", "backfill"),
    org_ids=lazy("providers.anthropic.jobs", "org_ids"),
    probe=lazy("providers.anthropic.jobs", "probe"),
    secret_patterns=(r"sk-ant-[A-Za-z0-9_\-]{8,}",),
    backfill_takes_newest=True,
    extra_jobs=(
        ExtraJob(
            "mappings_sync",
            "API key mappings sync",
            lambda s: s.schedule_mappings_sync_at,
            lazy("providers.anthropic.mappings", "mappings_job"),
        ),
    ),
)
