"""Settings of the Claude Enterprise Analytics provider (Claude Code used through claude.ai Enterprise seats)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from providers.spec import BaseUrl, ProviderKey, ProviderSettings, parse_provider_keys, secret_value

# The sync_state provider key and the lock prefix.
STATE_KEY = "claude-enterprise"


class EnterpriseSettings(ProviderSettings):
    anthropic_analytics_key: SecretStr | None = Field(None, alias="ANTHROPIC_ANALYTICS_KEY")
    anthropic_analytics_keys: SecretStr | None = Field(None, alias="ANTHROPIC_ANALYTICS_KEYS")
    # Shared with the Admin API provider: one host serves both APIs.
    anthropic_base_url: BaseUrl = Field("https://api.anthropic.com", alias="ANTHROPIC_BASE_URL")
    # Token and cost figures may be revised for 30 days after the day, so every run re-reads that window.
    claude_enterprise_lookback_days: int = Field(32, ge=1, le=120, alias="ABACUS_CLAUDE_ENTERPRISE_LOOKBACK_DAYS")
    # The documented limit is 60 requests a minute per organisation, shared with every other client of it.
    claude_enterprise_requests_per_minute: int = Field(
        50, ge=1, le=1000, alias="ABACUS_CLAUDE_ENTERPRISE_REQUESTS_PER_MINUTE"
    )
    claude_enterprise_backfill_days_per_run: int = Field(
        28, ge=1, le=3660, alias="ABACUS_CLAUDE_ENTERPRISE_BACKFILL_DAYS_PER_RUN"
    )
    schedule_claude_enterprise_sync_hours: int = Field(
        6, ge=1, le=168, alias="ABACUS_SCHEDULE_CLAUDE_ENTERPRISE_SYNC_HOURS"
    )

    @property
    def keys(self) -> list[ProviderKey]:
        return parse_provider_keys(
            secret_value(self.anthropic_analytics_keys), secret_value(self.anthropic_analytics_key)
        )
