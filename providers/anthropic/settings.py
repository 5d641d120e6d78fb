"""Settings of the Anthropic Admin API provider (Claude Code used through API keys and Console accounts)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from providers.spec import BaseUrl, ClockTime, ProviderKey, ProviderSettings, parse_provider_keys, secret_value


class AnthropicSettings(ProviderSettings):
    anthropic_admin_key: SecretStr | None = Field(None, alias="ANTHROPIC_ADMIN_KEY")
    anthropic_admin_keys: SecretStr | None = Field(None, alias="ANTHROPIC_ADMIN_KEYS")
    # Shared with the Claude Enterprise Analytics provider: one host serves both APIs.
    anthropic_base_url: BaseUrl = Field("https://api.anthropic.com", alias="ANTHROPIC_BASE_URL")
    claude_code_lookback_days: int = Field(3, ge=1, le=60, alias="ABACUS_CLAUDE_CODE_LOOKBACK_DAYS")
    claude_code_backfill_days_per_run: int = Field(30, ge=1, le=3660, alias="ABACUS_CLAUDE_CODE_BACKFILL_DAYS_PER_RUN")
    claude_code_backfill_empty_days: int = Field(30, ge=1, alias="ABACUS_CLAUDE_CODE_BACKFILL_EMPTY_DAYS")
    schedule_claude_code_sync_hours: int = Field(6, ge=1, le=168, alias="ABACUS_SCHEDULE_CLAUDE_CODE_SYNC_HOURS")
    schedule_mappings_sync_at: ClockTime = Field("03:30", alias="ABACUS_SCHEDULE_MAPPINGS_SYNC_AT")

    @property
    def keys(self) -> list[ProviderKey]:
        return parse_provider_keys(secret_value(self.anthropic_admin_keys), secret_value(self.anthropic_admin_key))
