"""Copilot sync: a set of days (forward: the settling window) and history (backfill), one scope at a time.

Each day is one report (one request, then its download links). A day is parsed whole before anything is
written, then replaces that (org, day) in one transaction: its usage rows, its activity rows and the
rollups. So re-fetching the days that are still settling (GitHub finalises a day within three full UTC
days) replaces their figures exactly, never adds to them, and a day whose data is malformed leaves the
stored day as it was while the other days are still written.

A day GitHub has no report for (204) is left as it is: recent days answer that until their report exists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, delete

from providers.copilot.client import CopilotClient
from providers.copilot.rows import TOOL, UserDay, activity_records, parse_day, seat_emails, usage_records
from providers.copilot.settings import SETTLING_DAYS, STATE_KEY, Scope
from providers.errors import AuthError, ProviderError
from providers.sync_engine import BackfillOutcome, run_backfill, utc_midnight
from storage.copilot_activity import replace_day
from storage.db import transaction
from storage.locks import hold_lock
from storage.mappings import load_mappings, remember_identities, removed_mappings
from storage.models import Usage
from storage.sync_state import get_state, record_attempt, record_failure, record_success
from storage.writes import refresh_daily_rollup, upsert_usage

log = logging.getLogger(__name__)

# Identity mappings of GitHub logins are kept under the tool id, as `abacus mappings set --provider` writes them.
IDENTITY_SOURCE = TOOL
# Reports exist from these days on (organisation reports started later than enterprise ones).
EARLIEST_ORG_DAY = date(2025, 12, 12)
EARLIEST_ENTERPRISE_DAY = date(2025, 10, 10)
DAY = timedelta(days=1)


def earliest_day(scope: Scope) -> date:
    return EARLIEST_ENTERPRISE_DAY if scope.enterprise else EARLIEST_ORG_DAY


@dataclass(slots=True)
class CopilotSync:
    days_done: list[date] = field(default_factory=list)
    days_without_report: list[date] = field(default_factory=list)
    rows: int = 0  # usage rows written (one per person and day)
    activity_rows: int = 0
    unmapped: set[str] = field(default_factory=set)  # logins written without an email
    emails_from_seats: int = 0
    seats_note: str | None = None  # why seat emails could not be read, when they could not
    identities: dict[str, str] | None = None  # login -> email, read once per run
    error: ProviderError | None = None


def read_seat_emails(client: CopilotClient, result: CopilotSync) -> dict[str, str]:
    """Emails GitHub gives on seats; reading them is a bonus, so a refusal is noted, not a failure."""
    try:
        return seat_emails(client.seats())
    except AuthError:
        result.seats_note = "the seats list is not readable with this token (emails of logins come from mappings only)"
    except ProviderError as exc:
        result.seats_note = f"the seats list could not be read ({exc})"
    return {}


def store_day(
    engine: Engine, org_id: str, day: date, users: Mapping[str, UserDay], identities: Mapping[str, str]
) -> tuple[int, int, set[str]]:
    """Replace the stored (org, day) usage and activity with this day's records, in one transaction."""
    usage = usage_records(users, day=day, org_id=org_id, identities=identities)
    activity = activity_records(users, day=day, org_id=org_id, identities=identities)
    with transaction(engine) as session:
        session.execute(delete(Usage).where(Usage.tool == TOOL, Usage.org_id == org_id, Usage.date == day))
        written = upsert_usage(session, usage, refresh_rollup=False)
        # The day may have shrunk to nothing, so it is re-derived even when no row was written.
        refresh_daily_rollup(session, written.days | {(TOOL, day)})
        replace_day(session, org_id, day, activity)
    return len(usage), len(activity), {r.actor for r in usage if not r.email}


def _identities(
    engine: Engine, org_id: str, from_seats: Mapping[str, str], now: datetime, result: CopilotSync
) -> dict[str, str]:
    """Login -> email: admins' and earlier mappings first; seat emails only fill logins nobody mapped yet (a
    login whose mapping an admin removed stays unattributed)."""
    with transaction(engine) as session:
        known = load_mappings(session, IDENTITY_SOURCE, org_id)
        removed = removed_mappings(session, IDENTITY_SOURCE, org_id)
        fresh = {login: email for login, email in from_seats.items() if login not in known and login not in removed}
        if fresh:
            result.emails_from_seats = remember_identities(
                session, source=IDENTITY_SOURCE, org_id=org_id, emails=fresh, by="github-seats", now=now
            )
    return {**known, **fresh}


def sync_days(
    engine: Engine,
    client: CopilotClient,
    scope: Scope,
    days: Sequence[date],
    result: CopilotSync,
    *,
    now: Callable[[], datetime],
    report: Callable[[str], None],
    stop_on_bad_day: bool = False,
) -> int:
    """Fetch and store each day; returns how many records GitHub returned. Fetch failures raise."""
    if result.identities is None:
        # Once per run: a backfill calls this for every day, and the seats list costs requests.
        result.identities = _identities(engine, scope.org_id, read_seat_emails(client, result), now(), result)
        if result.seats_note:
            report(f"{client.who}: {result.seats_note}")
    identities = result.identities
    records = 0
    for day in days:
        fetched = client.users_day(day)
        if not fetched.available:
            result.days_without_report.append(day)
            report(f"{client.who} {day}: no report (GitHub has no data for the day yet, or none at all)")
            continue
        try:
            users = parse_day(fetched.records, day)
        except ProviderError as exc:
            refused = ProviderError(f"{client.who}: {exc}")
            log.error("%s", refused)
            report(str(refused))
            result.error = result.error or refused
            if stop_on_bad_day:
                raise refused from None
            continue
        rows, activity, unmapped = store_day(engine, scope.org_id, day, users, identities)
        records += len(fetched.records)
        result.days_done.append(day)
        result.rows += rows
        result.activity_rows += activity
        result.unmapped |= unmapped
        report(f"{client.who} {day}: {rows} people, {len(fetched.records)} record(s) in {fetched.parts} part(s)")
    return records


def _watermark(engine: Engine, org_id: str, days: Sequence[date], result: CopilotSync, today: date) -> datetime | None:
    """Midnight after the newest final day of an unbroken run of days this sync stored (or found empty).

    Days younger than the settling window may still change, so they are never claimed complete; a run that
    starts after the current watermark leaves a gap, so it claims nothing.
    """
    if not days:
        return None
    with transaction(engine) as session:
        current = get_state(session, STATE_KEY, org_id).forward_watermark
    if current is not None and utc_midnight(days[0]) > current:
        return None
    handled = set(result.days_done) | set(result.days_without_report)
    newest: date | None = None
    expected = days[0]
    for day in days:
        if day != expected or day not in handled or day > today - timedelta(days=SETTLING_DAYS):
            break
        newest, expected = day, day + DAY
    return utc_midnight(newest + DAY) if newest is not None else None


def sync_org(
    engine: Engine,
    client: CopilotClient,
    scope: Scope,
    days: list[date],
    *,
    now: Callable[[], datetime],
    report: Callable[[str], None] = lambda _line: None,
) -> CopilotSync:
    """Sync ``days`` of one scope, holding its sync lock and recording the outcome in sync_state.

    Failures are returned in ``error`` (and recorded), not raised; another sync of the same scope running
    raises ``LockHeld``.
    """
    wanted = sorted({day for day in days if day >= earliest_day(scope)})
    result = CopilotSync()
    org_id = scope.org_id
    with hold_lock(engine, f"sync:{STATE_KEY}:{org_id}"):
        record_attempt(engine, STATE_KEY, org_id, now())
        try:
            sync_days(engine, client, scope, wanted, result, now=now, report=report)
        except ProviderError as exc:
            result.error = exc
        if result.error is not None:
            record_failure(engine, STATE_KEY, org_id, now(), str(result.error))
            return result
        watermark = _watermark(engine, org_id, wanted, result, now().date())
        record_success(engine, STATE_KEY, org_id, now(), forward_watermark=watermark)
    return result


def backfill_org(
    engine: Engine,
    client: CopilotClient,
    scope: Scope,
    *,
    target: date,
    start_before: date,
    max_windows: int,
    now: Callable[[], datetime],
    report: Callable[[str], None] = lambda _line: None,
) -> tuple[BackfillOutcome, CopilotSync]:
    """Walk backwards a day at a time from the stored cursor (or ``start_before``) towards ``target``.

    Reports do not exist before GitHub's first day, so the target is never earlier; a malformed day stops
    the walk above it, so the cursor never passes a day that was not stored.
    """
    totals = CopilotSync()

    def process(start: datetime, end: datetime) -> int:
        days = [start.date() + timedelta(days=i) for i in range((end - start).days)]
        try:
            return sync_days(engine, client, scope, days, totals, now=now, report=report, stop_on_bad_day=True)
        except ProviderError as exc:
            totals.error = exc
            raise

    with hold_lock(engine, f"backfill:{STATE_KEY}:{scope.org_id}"):
        outcome = run_backfill(
            engine,
            provider=STATE_KEY,
            org_id=scope.org_id,
            target=max(target, earliest_day(scope)),
            start_cursor=utc_midnight(start_before),
            max_windows=max_windows,
            # Quiet days (a holiday, an organisation that started late) are no sign that history has ended.
            complete_after_empty=10_000,
            process=process,
            now=now,
        )
    return outcome, totals
