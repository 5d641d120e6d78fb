"""Claude Code from the Anthropic Admin API (`usage_report/claude_code`): API-key and Console users."""

from __future__ import annotations

from datetime import timedelta

from providers.anthropic import jobs
from providers.anthropic.client import AnthropicClient
from providers.anthropic.mappings import sync_mappings
from providers.anthropic.settings import AnthropicSettings
from providers.http import ONE_TRY
from providers.spec import ExtraJob, JobContext, Probe, ProviderKey, ProviderSpec, Tool
from storage.analytics.status import FreshnessRule

CLAUDE_CODE = Tool(
    id="claude_code",
    title="Claude Code",
    short="claude",
    aliases=("claude-code", "claudecode", "anthropic"),
    color="#D97757",
    estimated_cost=True,
    subscription_seats=True,
)


def _probe(settings: AnthropicSettings, key: ProviderKey, timeout: float) -> Probe:
    with AnthropicClient(
        key.key.get_secret_value(),
        who=f"Anthropic ({key.name})",
        base_url=settings.anthropic_base_url,
        timeout=timeout,
        policy=ONE_TRY,
    ) as client:
        org = client.organization()
    return Probe(org.id, f"valid for organisation {org.name or org.id}")


def _mappings_job(ctx: JobContext[AnthropicSettings]) -> tuple[int, str | None]:
    results = sync_mappings(ctx.settings, ctx.engine, now=ctx.now)
    failed = [f"{r.org}: {r.error}" for r in results if not r.ok]
    return sum(r.created + r.updated for r in results), "; ".join(failed) or None


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
    sync=jobs.sync,
    backfill=jobs.backfill,
    org_ids=jobs.org_ids,
    probe=_probe,
    secret_patterns=(r"sk-ant-[A-Za-z0-9_\-]{8,}",),
    backfill_takes_newest=True,
    extra_jobs=(
        ExtraJob("mappings_sync", "API key mappings sync", lambda s: s.schedule_mappings_sync_at, _mappings_job),
    ),
)
