"""Settings of the Cursor Admin API provider."""

from __future__ import annotations

from pydantic import Field, SecretStr

from providers.spec import BaseUrl, ProviderKey, ProviderSettings, parse_provider_keys, secret_value


class CursorSettings(ProviderSettings):
    cursor_admin_key: SecretStr | None = Field(None, alias="CURSOR_ADMIN_KEY")
    cursor_admin_keys: SecretStr | None = Field(None, alias="CURSOR_ADMIN_KEYS")
    cursor_base_url: BaseUrl = Field("https://api.cursor.com", alias="CURSOR_BASE_URL")
    # Every forward sync re-fetches this many hours before its watermark, for events that appear late.
    cursor_overlap_hours: int = Field(3, ge=0, le=168, alias="ABACUS_CURSOR_OVERLAP_HOURS")
    # A backfill stops (complete) after this many consecutive days without a single event.
    cursor_backfill_empty_days: int = Field(30, ge=1, le=3660, alias="ABACUS_CURSOR_BACKFILL_EMPTY_DAYS")
    # Days a scheduled backfill run processes before it yields (the CLI's --max-days overrides it).
    cursor_backfill_days_per_run: int = Field(14, ge=1, le=3660, alias="ABACUS_CURSOR_BACKFILL_DAYS_PER_RUN")
    # Events per page of /teams/filtered-usage-events (the API's default is 10; fewer pages, fewer requests).
    cursor_page_size: int = Field(1000, ge=1, le=10_000, alias="ABACUS_CURSOR_PAGE_SIZE")
    # Cursor's documented limit is 20 requests per minute per team; lower it if several tools share a team.
    cursor_requests_per_minute: int = Field(20, ge=1, le=1000, alias="ABACUS_CURSOR_REQUESTS_PER_MINUTE")
    schedule_cursor_sync_minutes: int = Field(60, ge=5, le=1440, alias="ABACUS_SCHEDULE_CURSOR_SYNC_MINUTES")

    @property
    def keys(self) -> list[ProviderKey]:
        return parse_provider_keys(secret_value(self.cursor_admin_keys), secret_value(self.cursor_admin_key))
