"""What `abacus config` shows: the effective settings with secrets masked, and feature readiness."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import SecretStr

from bot.database import display_url
from bot.settings import Settings
from providers import registry
from providers.spec import ProviderKey, ProviderSettings


def _mask(secret: SecretStr | None) -> str | None:
    # Never show any part of a secret: not even a prefix or suffix survives into logs or screenshots.
    return None if secret is None or not secret.get_secret_value() else "set (hidden)"


def _keys(keys: list[ProviderKey]) -> str | None:
    return ", ".join(f"{k.name} (hidden)" for k in keys) or None


def describe_settings(settings: Settings) -> dict[str, Any]:
    values: dict[str, Any] = {
        "DATABASE_URL": display_url(settings.database_url),
        "SLACK_BOT_TOKEN": _mask(settings.slack_bot_token),
        "SLACK_SIGNING_SECRET": _mask(settings.slack_signing_secret),
        "SLACK_APP_TOKEN": _mask(settings.slack_app_token),
        "SLACK_API_URL": settings.slack_api_url,
        "CRON_SECRET": _mask(settings.cron_secret),
        "SENTRY_DSN": _mask(settings.sentry_dsn),
        "ABACUS_LOG_FORMAT": settings.log_format,
        "ABACUS_LOG_LEVEL": settings.log_level,
        "ABACUS_EMAIL_DOMAINS": settings.email_domains,
        "ABACUS_ADMINS": settings.admins,
        "ABACUS_TIMEZONE": settings.timezone,
        "ABACUS_PEOPLE_VISIBILITY": settings.people_visibility,
        "ABACUS_SCHEDULE_BACKFILL_HOURS": settings.schedule_backfill_hours,
        "ABACUS_BACKFILL_TARGET": settings.backfill_target.isoformat(),
        "ABACUS_SCHEDULE_DIGEST_MINUTES": settings.schedule_digest_minutes,
        "ABACUS_DIGEST_UNUSUAL_FACTOR": settings.digest_unusual_factor,
        "ABACUS_DIGEST_UNUSUAL_FLOOR_USD": str(settings.digest_unusual_floor_usd),
        "ABACUS_TEAM_USERGROUPS": settings.team_usergroups,
        "ABACUS_TEAM_MIN_PEOPLE": settings.team_min_people,
        "ABACUS_SCHEDULE_TEAM_SYNC_AT": settings.schedule_team_sync_at,
        "ABACUS_BUDGET_THRESHOLDS": ",".join(str(t) for t in settings.budget_thresholds),
        "ABACUS_SCHEDULE_BUDGET_MINUTES": settings.schedule_budget_minutes,
        "ABACUS_SPIKE_FACTOR": settings.spike_factor,
        "ABACUS_SPIKE_FLOOR_USD": str(settings.spike_floor_usd),
        "ABACUS_SPIKE_ADMIN_CHANNEL": settings.spike_admin_channel or None,
        "ABACUS_SCHEDULE_SPIKE_MINUTES": settings.schedule_spike_minutes,
    }
    for spec in registry.providers():
        values |= _provider_values(settings.provider(spec))
    return {"settings": values, "features": feature_readiness(settings)}


def _provider_values(own: ProviderSettings) -> dict[str, Any]:
    """A provider's settings by variable name: key lists by their labels only, other secrets masked."""
    values: dict[str, Any] = {}
    secret_names = []
    secret_set = False
    for name, info in type(own).model_fields.items():
        variable = info.alias or name.upper()
        if info.annotation == SecretStr | None:
            secret_names.append(variable)
            secret_set = secret_set or _mask(getattr(own, name)) is not None
            continue
        value = getattr(own, name)
        values[variable] = value.isoformat() if isinstance(value, date) else value
    if secret_names:
        # Key lists are shown under their plural name (it folds in the singular form), by label only.
        # A secret that names no organisation yet (a token still missing the organisations it reads) is set
        # all the same, and says so.
        values[max(secret_names, key=len)] = _keys(own.keys) or ("set (hidden)" if secret_set else None)
    return values


def feature_readiness(settings: Settings) -> dict[str, dict[str, Any]]:
    slack_missing = []
    if settings.slack_bot_token is None:
        slack_missing.append("SLACK_BOT_TOKEN")
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        slack_missing.append("SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)")
    if not settings.email_domains:
        slack_missing.append("ABACUS_EMAIL_DOMAINS (without it nobody gets answers)")
    admin_missing = [] if settings.admins else ["ABACUS_ADMINS (without it nobody can map keys or set digests)"]
    return {
        "database": {"ready": True, "missing": []},
        "slack": {"ready": not slack_missing, "missing": slack_missing},
        "slack_admin_actions": {"ready": not admin_missing, "missing": admin_missing},
    } | {tool.id: _tool_readiness(settings, tool.id) for tool in registry.tools()}


def _tool_readiness(settings: Settings, tool_id: str) -> dict[str, Any]:
    """A tool is ready when any provider that feeds it has a key; each provider's own state is listed."""
    specs = registry.providers_of(tool_id)
    configured = {spec.id: bool(settings.keys_of(spec)) for spec in specs}
    ready = any(configured.values())
    missing = [] if ready else [" or ".join(spec.key_settings for spec in specs)]
    return {"ready": ready, "missing": missing, "providers": configured}
