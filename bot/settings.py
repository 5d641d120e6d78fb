"""Every setting Abacus reads, from the environment or a ``.env`` file, in one place.

Settings are read once here and passed down as plain values; nothing below ``bot`` reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.db import normalize_database_url

CommaList = Annotated[list[str], NoDecode]


@dataclass(frozen=True, slots=True)
class ProviderKey:
    """One configured admin key: one organisation (Anthropic) or team (Cursor).

    ``name`` is the operator's label when the entry is written ``label=key``; otherwise ``default`` for a
    single key and ``KEY_1``, ``KEY_2``... by position, as the original abacus named them.
    """

    name: str
    key: SecretStr
    labelled: bool


def _split_commas(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def parse_provider_keys(plural: str | None, singular: str | None) -> list[ProviderKey]:
    """The plural comma-separated form wins over the singular one; blank entries are dropped."""
    entries = _split_commas(plural) if plural and _split_commas(plural) else _split_commas(singular)
    keys = []
    for position, entry in enumerate(entries, start=1):
        # Admin keys (sk-ant-admin01-..., key_...) contain no "=", so "label=key" cannot be misread.
        label, sep, key = entry.partition("=")
        if sep and label.strip() and key.strip() and _looks_like_label(label.strip()):
            keys.append(ProviderKey(label.strip(), SecretStr(key.strip()), labelled=True))
        else:
            name = "default" if len(entries) == 1 else f"KEY_{position}"
            keys.append(ProviderKey(name, SecretStr(entry), labelled=False))
    return keys


def _looks_like_label(text: str) -> bool:
    return len(text) <= 64 and all(ch.isalnum() or ch in "-_." for ch in text)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite:///abacus.db", validation_alias=AliasChoices("DATABASE_URL", "POSTGRES_URL"))

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    # Enables `POST /jobs/<job>` on `abacus serve` for an external scheduler; unset, the route does not exist.
    cron_secret: SecretStr | None = Field(None, validation_alias="CRON_SECRET")
    # Error tracking (needs the optional `[sentry]` extra) and the log line format.
    sentry_dsn: SecretStr | None = Field(None, validation_alias="SENTRY_DSN")
    log_format: Literal["plain", "json"] = Field("plain", validation_alias="ABACUS_LOG_FORMAT")
    # Unset: warnings for one-off commands, info for `serve` and `scheduler`.
    log_level: Literal["debug", "info", "warning", "error"] | None = Field(None, validation_alias="ABACUS_LOG_LEVEL")

    email_domains: CommaList = Field(default_factory=list, validation_alias="ABACUS_EMAIL_DOMAINS")
    admins: CommaList = Field(default_factory=list, validation_alias="ABACUS_ADMINS")
    timezone: str = Field("UTC", validation_alias="ABACUS_TIMEZONE")
    allow_guests: bool = Field(False, validation_alias="ABACUS_ALLOW_GUESTS")
    people_visibility: Literal["everyone", "admins"] = Field("everyone", validation_alias="ABACUS_PEOPLE_VISIBILITY")
    notify_mapped_people: bool = Field(True, validation_alias="ABACUS_NOTIFY_MAPPED_PEOPLE")
    user_cache_seconds: int = Field(300, ge=0, le=86_400, validation_alias="ABACUS_USER_CACHE_SECONDS")
    port: int = Field(3000, ge=1, le=65_535, validation_alias="PORT")
    web_workers: int = Field(1, ge=1, le=64, validation_alias="WEB_CONCURRENCY")
    web_threads: int = Field(8, ge=1, le=256, validation_alias="ABACUS_WEB_THREADS")

    anthropic_admin_key: SecretStr | None = Field(None, validation_alias="ANTHROPIC_ADMIN_KEY")
    anthropic_admin_keys: SecretStr | None = Field(None, validation_alias="ANTHROPIC_ADMIN_KEYS")
    anthropic_base_url: str = Field("https://api.anthropic.com", validation_alias="ANTHROPIC_BASE_URL")
    claude_code_lookback_days: int = Field(3, ge=1, le=60, validation_alias="ABACUS_CLAUDE_CODE_LOOKBACK_DAYS")
    claude_code_backfill_days_per_run: int = Field(
        30, ge=1, le=3660, validation_alias="ABACUS_CLAUDE_CODE_BACKFILL_DAYS_PER_RUN"
    )
    claude_code_backfill_empty_days: int = Field(30, ge=1, validation_alias="ABACUS_CLAUDE_CODE_BACKFILL_EMPTY_DAYS")
    cursor_admin_key: SecretStr | None = Field(None, validation_alias="CURSOR_ADMIN_KEY")
    cursor_admin_keys: SecretStr | None = Field(None, validation_alias="CURSOR_ADMIN_KEYS")
    cursor_base_url: str = Field("https://api.cursor.com", validation_alias="CURSOR_BASE_URL")
    # Every forward sync re-fetches this many hours before its watermark, for events that appear late.
    cursor_overlap_hours: int = Field(3, ge=0, le=168, validation_alias="ABACUS_CURSOR_OVERLAP_HOURS")
    # A backfill stops (complete) after this many consecutive days without a single event.
    cursor_backfill_empty_days: int = Field(30, ge=1, le=3660, validation_alias="ABACUS_CURSOR_BACKFILL_EMPTY_DAYS")
    # Days a scheduled backfill run processes before it yields (the CLI's --max-days overrides it).
    cursor_backfill_days_per_run: int = Field(14, ge=1, le=3660, validation_alias="ABACUS_CURSOR_BACKFILL_DAYS_PER_RUN")
    # Events per page of /teams/filtered-usage-events (the API's default is 10; fewer pages, fewer requests).
    cursor_page_size: int = Field(1000, ge=1, le=10_000, validation_alias="ABACUS_CURSOR_PAGE_SIZE")
    # Cursor's documented limit is 20 requests per minute per team; lower it if several tools share a team.
    cursor_requests_per_minute: int = Field(20, ge=1, le=1000, validation_alias="ABACUS_CURSOR_REQUESTS_PER_MINUTE")

    # The scheduler (`abacus scheduler`, or `abacus serve --with-scheduler`). Times are UTC.
    schedule_claude_code_sync_hours: int = Field(
        6, ge=1, le=168, validation_alias="ABACUS_SCHEDULE_CLAUDE_CODE_SYNC_HOURS"
    )
    schedule_cursor_sync_minutes: int = Field(60, ge=5, le=1440, validation_alias="ABACUS_SCHEDULE_CURSOR_SYNC_MINUTES")
    schedule_backfill_hours: int = Field(6, ge=1, le=168, validation_alias="ABACUS_SCHEDULE_BACKFILL_HOURS")
    backfill_target: date = Field(date(2025, 1, 1), validation_alias="ABACUS_BACKFILL_TARGET")
    schedule_mappings_sync_at: str = Field("03:30", validation_alias="ABACUS_SCHEDULE_MAPPINGS_SYNC_AT")
    schedule_digest_minutes: int = Field(5, ge=1, le=60, validation_alias="ABACUS_SCHEDULE_DIGEST_MINUTES")
    # A person is "unusual" in a digest above this many times their own median day, and above the floor.
    digest_unusual_factor: float = Field(3.0, ge=1.0, le=100.0, validation_alias="ABACUS_DIGEST_UNUSUAL_FACTOR")
    digest_unusual_floor_usd: Decimal = Field(
        Decimal(10), ge=0, le=100_000, validation_alias="ABACUS_DIGEST_UNUSUAL_FLOOR_USD"
    )
    # Teams: Slack user groups to follow (handles, refreshed daily at the sync time), and the privacy floor:
    # a team with fewer active people than this in a period is shown as counts only.
    team_usergroups: CommaList = Field(default_factory=list, validation_alias="ABACUS_TEAM_USERGROUPS")
    team_min_people: int = Field(3, ge=1, le=1000, validation_alias="ABACUS_TEAM_MIN_PEOPLE")
    schedule_team_sync_at: str = Field("04:00", validation_alias="ABACUS_SCHEDULE_TEAM_SYNC_AT")
    # Budgets: the percentages of a budget that each alert once per period, and how often they are checked.
    budget_thresholds: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [50, 80, 100], validation_alias="ABACUS_BUDGET_THRESHOLDS"
    )
    schedule_budget_minutes: int = Field(60, ge=5, le=1440, validation_alias="ABACUS_SCHEDULE_BUDGET_MINUTES")
    # Spike alerts: a day above this many times the person's median active day, and above the floor, is
    # DMed to them; the admins' channel (a channel id) gets one summary per run when set.
    spike_factor: float = Field(3.0, ge=1.0, le=100.0, validation_alias="ABACUS_SPIKE_FACTOR")
    spike_floor_usd: Decimal = Field(Decimal(20), ge=0, le=100_000, validation_alias="ABACUS_SPIKE_FLOOR_USD")
    spike_admin_channel: str = Field("", validation_alias="ABACUS_SPIKE_ADMIN_CHANNEL")
    schedule_spike_minutes: int = Field(60, ge=5, le=1440, validation_alias="ABACUS_SCHEDULE_SPIKE_MINUTES")

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        return normalize_database_url(value.strip())

    @field_validator("email_domains", mode="before")
    @classmethod
    def _domains(cls, value: Any) -> Any:
        return [d.lower().lstrip("@") for d in _split_commas(value)]

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> Any:
        return [email.lower() for email in _split_commas(value)]

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name such as Europe/Vienna") from None
        return value

    @field_validator("team_usergroups", mode="before")
    @classmethod
    def _handles(cls, value: Any) -> Any:
        return [h.lower().lstrip("@") for h in _split_commas(value)]

    @field_validator("budget_thresholds", mode="before")
    @classmethod
    def _thresholds(cls, value: Any) -> Any:
        parts = _split_commas(value)
        try:
            numbers = sorted({int(str(p).strip().rstrip("%")) for p in parts})
        except ValueError:
            raise ValueError("use whole percentages separated by commas, e.g. 50,80,100") from None
        if not numbers or not all(1 <= n <= 1000 for n in numbers):
            raise ValueError("use whole percentages between 1 and 1000, e.g. 50,80,100")
        return numbers

    @field_validator("schedule_mappings_sync_at", "schedule_team_sync_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        return parse_clock(value)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto this base, so it must end with a slash.
        return value if value.endswith("/") else value + "/"

    @field_validator("anthropic_base_url", "cursor_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def anthropic_keys(self) -> list[ProviderKey]:
        return parse_provider_keys(_secret(self.anthropic_admin_keys), _secret(self.anthropic_admin_key))

    @property
    def cursor_keys(self) -> list[ProviderKey]:
        return parse_provider_keys(_secret(self.cursor_admin_keys), _secret(self.cursor_admin_key))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_clock(value: str) -> str:
    """'9:5', '09:05' -> '09:05'; anything else is a ValueError that says the expected form."""
    hours, sep, minutes = value.strip().partition(":")
    if sep and hours.isdigit() and minutes.isdigit() and 0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59:
        return f"{int(hours):02d}:{int(minutes):02d}"
    raise ValueError(f"{value!r} is not a time of day; use HH:MM (24-hour), e.g. 09:00")


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
