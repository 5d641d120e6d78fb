"""Claude Code from the Claude Enterprise Analytics API: people on claude.ai Enterprise seats.

The Admin API's Claude Code report covers API-key and Console users only; seat users appear here, per person,
day and model, with their activity. Their usage is stored under the tool Claude Code (so answers count it
with the Admin API's), in organisations of their own (``claude-enterprise:<label>``), so every row's source
stays visible in status, gaps and doctor.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from providers.anthropic import CLAUDE_CODE
from providers.claude_enterprise import jobs
from providers.claude_enterprise.client import EnterpriseClient
from providers.claude_enterprise.settings import EnterpriseSettings
from providers.claude_enterprise.sync import STATE_KEY
from providers.http import ONE_TRY
from providers.spec import Probe, ProviderKey, ProviderSpec
from storage.analytics.status import FreshnessRule


def _probe(settings: EnterpriseSettings, key: ProviderKey, timeout: float) -> Probe:
    with EnterpriseClient(
        key.key.get_secret_value(),
        who=f"Claude Enterprise ({key.name})",
        base_url=settings.anthropic_base_url,
        retry=ONE_TRY,
        timeout=timeout,
    ) as client:
        organization = client.check(datetime.now(UTC).date())
    return Probe(jobs.org_id_of(key), f"valid (read:analytics) for organisation {organization or 'unknown'}")


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
    sync=jobs.sync,
    backfill=jobs.backfill,
    org_ids=jobs.org_ids,
    probe=_probe,
    secret_patterns=(r"sk-ant-[A-Za-z0-9_\-]{8,}",),
    backfill_takes_newest=True,
    notes=("Cost on seat-based Enterprise plans covers extra usage only (usage included in a seat shows no cost).",),
)
