"""Settings of the OpenAI provider (the organisation Admin API: Codex on API keys and other API use)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from providers.spec import BaseUrl, ProviderKey, ProviderSettings, parse_provider_keys, secret_value

# The sync_state provider key, the lock prefix and the prefix of the org ids it stores.
STATE_KEY = "openai"


class OpenAISettings(ProviderSettings):
    openai_admin_key: SecretStr | None = Field(None, alias="OPENAI_ADMIN_KEY")
    openai_admin_keys: SecretStr | None = Field(None, alias="OPENAI_ADMIN_KEYS")
    openai_base_url: BaseUrl = Field("https://api.openai.com", alias="OPENAI_BASE_URL")
    # OpenAI documents no freshness for its usage data; a day can still grow after it ends, so every run
    # re-reads the last few days and replaces them whole.
    openai_lookback_days: int = Field(3, ge=1, le=62, alias="ABACUS_OPENAI_LOOKBACK_DAYS")
    openai_backfill_days_per_run: int = Field(62, ge=1, le=3660, alias="ABACUS_OPENAI_BACKFILL_DAYS_PER_RUN")
    schedule_openai_sync_hours: int = Field(3, ge=1, le=168, alias="ABACUS_SCHEDULE_OPENAI_SYNC_HOURS")

    @property
    def keys(self) -> list[ProviderKey]:
        return parse_provider_keys(secret_value(self.openai_admin_keys), secret_value(self.openai_admin_key))
