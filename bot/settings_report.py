"""What `abacus config` shows: the effective settings with secrets masked, and feature readiness."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from bot.database import display_url
from bot.settings import ProviderKey, Settings


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
        "ANTHROPIC_ADMIN_KEYS": _keys(settings.anthropic_keys),
        "ANTHROPIC_BASE_URL": settings.anthropic_base_url,
        "CURSOR_ADMIN_KEYS": _keys(settings.cursor_keys),
        "CURSOR_BASE_URL": settings.cursor_base_url,
        "ABACUS_CURSOR_OVERLAP_HOURS": settings.cursor_overlap_hours,
        "ABACUS_CURSOR_BACKFILL_EMPTY_DAYS": settings.cursor_backfill_empty_days,
        "ABACUS_CURSOR_BACKFILL_DAYS_PER_RUN": settings.cursor_backfill_days_per_run,
        "ABACUS_CURSOR_PAGE_SIZE": settings.cursor_page_size,
        "ABACUS_CURSOR_REQUESTS_PER_MINUTE": settings.cursor_requests_per_minute,
        "ABACUS_PEOPLE_VISIBILITY": settings.people_visibility,
        "ABACUS_SCHEDULE_CLAUDE_CODE_SYNC_HOURS": settings.schedule_claude_code_sync_hours,
        "ABACUS_SCHEDULE_CURSOR_SYNC_MINUTES": settings.schedule_cursor_sync_minutes,
        "ABACUS_SCHEDULE_BACKFILL_HOURS": settings.schedule_backfill_hours,
        "ABACUS_BACKFILL_TARGET": settings.backfill_target.isoformat(),
        "ABACUS_SCHEDULE_MAPPINGS_SYNC_AT": settings.schedule_mappings_sync_at,
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
    return {"settings": values, "features": feature_readiness(settings)}


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
        "claude_code": {
            "ready": bool(settings.anthropic_keys),
            "missing": [] if settings.anthropic_keys else ["ANTHROPIC_ADMIN_KEY or ANTHROPIC_ADMIN_KEYS"],
        },
        "cursor": {
            "ready": bool(settings.cursor_keys),
            "missing": [] if settings.cursor_keys else ["CURSOR_ADMIN_KEY or CURSOR_ADMIN_KEYS"],
        },
    }
