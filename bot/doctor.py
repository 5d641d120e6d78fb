"""`abacus doctor`: every dependency Abacus needs, checked once, each explained with its fix.

The checks are the questions an operator asks when "Abacus says nothing": can it reach its database, is the
Slack token good and does it carry the scopes the features need, is the bot in the digest channels, do the
provider keys work and how old is the data, did the scheduler run, and is the clock right (Slack signatures
and provider windows both depend on it). Network calls use short timeouts and no retries, so the whole
report stays fast enough to run inside `/abacus status` too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import Engine

from bot.database import connect, schema_problem
from bot.errors import AbacusError
from bot.jobs import utc_now
from bot.settings import Settings
from bot.sources import status_of
from providers.errors import AuthError, ProviderError
from storage.analytics.status import ProviderStatus
from storage.db import transaction
from storage.digests import list_subscriptions
from storage.job_runs import last_runs

log = logging.getLogger(__name__)

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


class SlackDoctor(Protocol):
    """The Slack checks (``bot.slack.doctor``): the token, its scopes, the clock, the digest channels."""

    def check(self, report: DoctorReport, settings: Settings, now: Callable[[], datetime]) -> bool:
        """Adds the token, signing-secret, scope and clock lines; True when Slack accepted the token."""
        ...

    def check_channels(self, report: DoctorReport, channels: list[str]) -> None:
        """Adds one line per digest channel: is the bot a member."""
        ...


def run_doctor(
    settings: Settings,
    *,
    engine: Engine | None = None,
    slack: SlackDoctor | None = None,
    now: Callable[[], datetime] = utc_now,
    timeout: float = DEFAULT_TIMEOUT,
) -> DoctorReport:
    """Run every check. ``engine``: an open engine (the web process's); otherwise the doctor connects itself.
    ``slack``: the Slack checks; without them Slack is reported as not checked."""
    report = DoctorReport()
    owned = engine is None
    engine = _check_database(report, settings, engine)
    try:
        _run_checks(report, settings, engine, slack, now, timeout)
    finally:
        if owned and engine is not None:
            engine.dispose()
    return report


def _run_checks(
    report: DoctorReport,
    settings: Settings,
    engine: Engine | None,
    slack: SlackDoctor | None,
    now: Callable[[], datetime],
    timeout: float,
) -> None:
    if slack is not None:
        slack_ok = slack.check(report, settings, now)
    else:
        slack_ok = False
        report.add(
            "slack token",
            "skip",
            "SLACK_BOT_TOKEN is not set: Slack is off."
            if settings.slack_bot_token is None
            else "Slack is not checked here; `abacus doctor` checks it.",
            "Set SLACK_BOT_TOKEN to use Slack." if settings.slack_bot_token is None else None,
        )
    if engine is not None:
        if slack_ok and slack is not None:
            channels = _digest_channels(report, engine)
            if channels is not None:
                slack.check_channels(report, channels)
        statuses = _statuses(engine, now())
    else:
        statuses = []
    _check_providers(report, settings, statuses, timeout)
    if engine is not None:
        _check_jobs(report, engine)


def _digest_channels(report: DoctorReport, engine: Engine) -> list[str] | None:
    try:
        return sorted({s.channel_id for s in list_subscriptions(engine)})
    except Exception as exc:
        report.add("digest channels", "fail", f"Cannot read digest subscriptions ({type(exc).__name__}).")
        return None


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
