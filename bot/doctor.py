"""`abacus doctor`: every dependency Abacus needs, checked once, each explained with its fix.

The checks are the questions an operator asks when "Abacus says nothing": can it reach its database, is the
Slack token good and does it carry the scopes the features need, is the bot in the digest channels, do the
provider keys work and how old is the data, did the scheduler run, and is the clock right (Slack signatures
and provider windows both depend on it). Network calls use short timeouts and no retries, so the whole
report stays fast enough to run inside `/abacus status` too.
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.database import connect, schema_problem
from bot.errors import AbacusError
from bot.settings import Settings
from bot.sources import status_of
from providers.errors import AuthError, ProviderError
from storage.analytics.status import ProviderStatus
from storage.db import transaction
from storage.digests import list_subscriptions
from storage.job_runs import last_runs

log = logging.getLogger(__name__)
_QUIET_SLACK_LOG = logging.getLogger("bot.doctor.slack_client")
_QUIET_SLACK_LOG.setLevel(logging.CRITICAL)

CheckState = Literal["ok", "warn", "fail", "skip"]

# The bot scopes of manifest.yml (a test keeps the two equal): what the features need from the token.
REQUIRED_SCOPES = (
    "commands",
    "chat:write",
    "files:write",
    "im:write",
    "users:read",
    "users:read.email",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "usergroups:read",
)
MAX_CLOCK_SKEW_SECONDS = 60
DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    state: CheckState
    detail: str
    fix: str | None = None


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False when something needed is wrong (a warning alone does not fail the doctor)."""
        return not any(c.state == "fail" for c in self.checks)

    def add(self, name: str, state: CheckState, detail: str, fix: str | None = None) -> None:
        self.checks.append(Check(name, state, detail, fix))


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_doctor(
    settings: Settings,
    *,
    engine: Engine | None = None,
    slack_client: WebClient | None = None,
    now: Callable[[], datetime] = utc_now,
    timeout: float = DEFAULT_TIMEOUT,
) -> DoctorReport:
    """Run every check. ``engine``: an open engine (the web process's); otherwise the doctor connects itself."""
    report = DoctorReport()
    owned = engine is None
    engine = _check_database(report, settings, engine)
    try:
        _run_checks(report, settings, engine, slack_client, now, timeout)
    finally:
        if owned and engine is not None:
            engine.dispose()
    return report


def _run_checks(
    report: DoctorReport,
    settings: Settings,
    engine: Engine | None,
    slack_client: WebClient | None,
    now: Callable[[], datetime],
    timeout: float,
) -> None:
    client = slack_client
    if client is None and settings.slack_bot_token is not None:
        client = _slack_client(settings, timeout)
    slack_ok = _check_slack(report, settings, client, now)
    if engine is not None:
        if slack_ok and client is not None:
            _check_digest_channels(report, engine, client)
        statuses = _statuses(engine, now())
    else:
        statuses = []
    _check_providers(report, settings, statuses, timeout)
    if engine is not None:
        _check_jobs(report, engine)


# --- database ----------------------------------------------------------------------------------------


def _check_database(report: DoctorReport, settings: Settings, engine: Engine | None) -> Engine | None:
    """The engine when the database is usable, else None (disposing of an engine the doctor opened itself)."""
    created = engine is None
    if engine is None:
        try:
            engine = connect(settings.database_url)
        except AbacusError as exc:
            report.add("database", "fail", str(exc), "Set DATABASE_URL to a reachable PostgreSQL or SQLite database.")
            return None
    try:
        problem = schema_problem(engine)
    except Exception as exc:  # the report explains; it never raises
        problem = f"Cannot read the schema version ({type(exc).__name__}): check DATABASE_URL."
    if problem is not None:
        report.add("database", "fail", problem, "The Procfile's release step migrates on every deploy.")
        if created:
            engine.dispose()
        return None
    report.add("database", "ok", "Reachable and migrated to the latest schema.")
    return engine


# --- Slack -------------------------------------------------------------------------------------------


def _slack_client(settings: Settings, timeout: float) -> WebClient:
    assert settings.slack_bot_token is not None
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=max(1, int(timeout)),
        logger=_QUIET_SLACK_LOG,  # a failure is one of the doctor's lines, not an ERROR log (or a Sentry event)
    )
    client.proxy = None
    return client


def _check_slack(
    report: DoctorReport, settings: Settings, client: WebClient | None, now: Callable[[], datetime]
) -> bool:
    if settings.slack_bot_token is None or client is None:
        report.add(
            "slack token", "skip", "SLACK_BOT_TOKEN is not set: Slack is off.", "Set SLACK_BOT_TOKEN to use Slack."
        )
        return False
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        report.add(
            "slack signing secret",
            "fail",
            "Neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) is set: no request can be verified.",
            "Copy the Signing Secret from the app's Basic Information page into SLACK_SIGNING_SECRET.",
        )
    elif settings.slack_signing_secret is None:
        report.add("slack signing secret", "ok", "Socket Mode (SLACK_APP_TOKEN) needs no signing secret.")
    else:
        report.add("slack signing secret", "ok", "SLACK_SIGNING_SECRET is set.")
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        report.add(
            "slack token",
            "fail",
            f"auth.test refused the token ({error or 'unknown error'}).",
            "Reinstall the app and copy its Bot User OAuth Token (xoxb-...) into SLACK_BOT_TOKEN.",
        )
        return False
    except Exception as exc:  # network: timeouts, DNS, refused connections
        report.add(
            "slack token",
            "fail",
            f"Slack is unreachable ({type(exc).__name__}).",
            "Check the network path to Slack (and SLACK_API_URL).",
        )
        return False
    report.add("slack token", "ok", f"Valid for workspace {response.get('team') or response.get('team_id')}.")
    headers = {str(k).lower(): v for k, v in (response.headers or {}).items()}
    _check_scopes(report, _header(headers, "x-oauth-scopes"))
    _check_clock(report, _header(headers, "date"), now())
    return True


def _header(headers: dict[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, list):  # slack_sdk keeps repeated headers as lists
        value = ",".join(str(v) for v in value)
    return str(value) if value is not None else None


def _check_scopes(report: DoctorReport, header: str | None) -> None:
    if header is None:
        report.add("slack scopes", "warn", "Slack did not report the token's scopes.", None)
        return
    granted = {s.strip() for s in header.split(",") if s.strip()}
    missing = [s for s in REQUIRED_SCOPES if s not in granted]
    if missing:
        report.add(
            "slack scopes",
            "fail",
            f"The token lacks {', '.join(missing)}.",
            "Add the scopes from manifest.yml to the app (OAuth & Permissions) and reinstall it.",
        )
    else:
        report.add("slack scopes", "ok", "The token has every scope the features need.")


def _check_clock(report: DoctorReport, header: str | None, local: datetime) -> None:
    if header is None:
        report.add("clock", "skip", "No Date header to compare the clock with.")
        return
    try:
        remote = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        report.add("clock", "skip", f"Unreadable Date header {header!r}.")
        return
    if remote.tzinfo is None:
        remote = remote.replace(tzinfo=UTC)
    skew = (local - remote).total_seconds()
    if abs(skew) > MAX_CLOCK_SKEW_SECONDS:
        report.add(
            "clock",
            "warn",
            f"The local clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} Slack's.",
            "Enable NTP time sync on this host: Slack rejects requests signed more than 5 minutes off.",
        )
    else:
        report.add("clock", "ok", f"Within {MAX_CLOCK_SKEW_SECONDS} s of Slack's clock.")


def _check_digest_channels(report: DoctorReport, engine: Engine, client: WebClient) -> None:
    try:
        channels = sorted({s.channel_id for s in list_subscriptions(engine)})
    except Exception as exc:
        report.add("digest channels", "fail", f"Cannot read digest subscriptions ({type(exc).__name__}).")
        return
    for channel in channels:
        try:
            info = client.conversations_info(channel=channel)
            member = bool(info["channel"].get("is_member"))
            reason = "the bot is not a member"
        except SlackApiError as exc:
            member = False
            reason = f"conversations.info failed ({exc.response.get('error')})"
        except Exception as exc:
            member = False
            reason = f"Slack is unreachable ({type(exc).__name__})"
        if member:
            report.add(f"digest channel {channel}", "ok", "The bot is a member.")
        else:
            report.add(
                f"digest channel {channel}",
                "fail",
                f"Digests cannot be posted: {reason}.",
                f"Invite the bot with `/invite @Abacus` in <#{channel}>, or `/abacus digest off` there.",
            )


# --- providers ---------------------------------------------------------------------------------------


def _statuses(engine: Engine, now: datetime) -> list[ProviderStatus]:
    try:
        with transaction(engine) as session:
            return status_of(session, now=now, max_keys=0).providers
    except Exception:
        log.warning("doctor: could not read the sync status", exc_info=True)
        return []


def _check_providers(report: DoctorReport, settings: Settings, statuses: list[ProviderStatus], timeout: float) -> None:
    for spec in settings.configured():
        own = settings.provider(spec)
        for key in own.keys:
            name = f"{spec.id} key {key.name}"
            try:
                probe = spec.probe(own, key, timeout)
            except ProviderError as exc:
                _key_failed(report, name, exc, spec.key_hint)
                continue
            behind, lag, fix = _lag(statuses, spec.state_key, probe.org_id)
            detail = f"{spec.title}: {probe.detail[:1].upper()}{probe.detail[1:]}; {lag}."
            report.add(name, "warn" if behind else "ok", detail, fix)
        for note in spec.notes:
            report.add(f"{spec.id} note", "ok", note)


def _key_failed(report: DoctorReport, name: str, exc: ProviderError, wanted: str) -> None:
    fix = f"Put {wanted}." if isinstance(exc, AuthError) else "Check the network path and the provider's status page."
    report.add(name, "fail", str(exc), fix)


def _lag(statuses: list[ProviderStatus], provider: str, org_id: str) -> tuple[bool, str, str | None]:
    """(is it behind, how old the data is, the fix) for one org, from its stored sync state."""
    status = next((s for s in statuses if s.provider == provider and s.org_id == org_id), None)
    if status is None or status.freshness == "never_synced":
        return True, "never synced", "Run `abacus sync` or start the scheduler."
    complete = f"data complete to {status.newest_complete_day}" if status.newest_complete_day else "data stored"
    if status.failing:
        return True, f"{complete}, the last sync failed: {status.last_error}", "See `abacus status`."
    if status.freshness == "behind":
        return True, f"{complete}, {status.days_behind} day(s) behind", "Check that the scheduler runs."
    return False, f"{complete}, up to date", None


# --- scheduler ---------------------------------------------------------------------------------------


def _check_jobs(report: DoctorReport, engine: Engine) -> None:
    try:
        with transaction(engine) as session:
            runs = last_runs(session)
    except Exception as exc:
        report.add("scheduler", "fail", f"Cannot read job runs ({type(exc).__name__}).")
        return
    if not runs:
        report.add(
            "scheduler",
            "warn",
            "No scheduled job has run yet.",
            "Run `abacus scheduler`, `abacus serve --with-scheduler`, or call POST /jobs/<job> from a cron.",
        )
        return
    failed = [r for r in runs if r.status == "failed"]
    if failed:
        names = ", ".join(f"{r.job_id} ({(r.error or 'failed')[:120]})" for r in failed)
        report.add("scheduler", "warn", f"Last run failed: {names}.", "See `abacus status` for the errors.")
    else:
        newest = max(r.started_at for r in runs)
        report.add("scheduler", "ok", f"{len(runs)} job(s) ran; the newest started {newest:%Y-%m-%d %H:%M} UTC.")
