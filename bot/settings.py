"""Every setting Abacus reads, from the environment or a ``.env`` file, in one place.

Settings are read once here and passed down as plain values; nothing below ``bot`` reads the environment.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from providers import registry
from providers.spec import ProviderKey, ProviderSettings, ProviderSpec, S, parse_clock
from storage.db import normalize_database_url

CommaList = Annotated[list[str], NoDecode]


def _split_commas(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """The application's settings. Each provider's own settings live in its package and are read beside
    these (see :meth:`provider`); values for them may be given here too, by their variable names."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")
    _providers: dict[str, ProviderSettings] = PrivateAttr(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        specs = registry.providers()
        names = {name for spec in specs for name in (*provider_aliases(spec.settings), *spec.settings.model_fields)}
        given = {key: values.pop(key) for key in list(values) if key in names}
        super().__init__(**values)
        self._providers = {spec.id: _load_provider(spec.settings, given) for spec in specs}

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

    # The scheduler (`abacus scheduler`, or `abacus serve --with-scheduler`). Times are UTC.
    schedule_backfill_hours: int = Field(6, ge=1, le=168, validation_alias="ABACUS_SCHEDULE_BACKFILL_HOURS")
    backfill_target: date = Field(date(2025, 1, 1), validation_alias="ABACUS_BACKFILL_TARGET")
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

    @field_validator("schedule_team_sync_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        return parse_clock(value)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto this base, so it must end with a slash.
        return value if value.endswith("/") else value + "/"

    def provider(self, spec: ProviderSpec[S]) -> S:
        """The provider's own settings, as read from the environment (or given to this object)."""
        return cast("S", self._providers[spec.id])

    def keys_of(self, spec: ProviderSpec[Any]) -> list[ProviderKey]:
        return self.provider(spec).keys

    def configured(self) -> list[ProviderSpec[Any]]:
        """The providers with at least one key, in registry order."""
        return [spec for spec in registry.providers() if self.keys_of(spec)]

    def configured_tools(self) -> list[str]:
        """The ids of the tools fed by a configured provider, in registry order, each once."""
        return list(dict.fromkeys(spec.tool.id for spec in self.configured()))

    def provider_secrets(self) -> set[str]:
        return {value for settings in self._providers.values() for value in settings.secrets()}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def provider_aliases(model: type[ProviderSettings]) -> list[str]:
    """The environment variable names of a provider's settings, in declaration order."""
    return [info.alias or name.upper() for name, info in model.model_fields.items()]


@cache
def _from_environment(model: type[ProviderSettings]) -> type[BaseSettings]:
    """``model`` read like every other setting: given values first, then the environment, then ``.env``."""
    config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)
    return type(f"{model.__name__}FromEnvironment", (BaseSettings, model), {"model_config": config})


def _load_provider(model: type[ProviderSettings], given: dict[str, Any]) -> ProviderSettings:
    names = set(provider_aliases(model)) | set(model.model_fields)
    loaded = _from_environment(model)(**{k: v for k, v in given.items() if k in names})
    return cast(ProviderSettings, loaded)
