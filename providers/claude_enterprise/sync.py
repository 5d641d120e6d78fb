"""Claude Enterprise sync: a set of recent days (forward) and history (backfill), one organisation at a time.

Per run, every requested day's activity is fetched first (one request per day: the activity endpoint takes
a single date), then the usage and cost reports for the span of the days that are available, each in as few
requests as the API allows (up to 31 days per request). Only once everything has arrived is anything
written, a day per transaction: that day's usage and activity rows are replaced as a whole and its rollup
re-derived. So a failure part-way through fetching leaves every stored day as it was, and re-syncing a day
whose figures the API revised (it revises usage and cost for up to 30 days) replaces the old figures exactly.

A day whose activity is not available yet (activity lands a day or more after the day ends) is skipped and
reported, not failed: its usage would be incomplete without it, and a later run picks it up.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete

from providers.claude_enterprise.client import EARLIEST_DAY, EnterpriseClient
from providers.claude_enterprise.rows import TOOL, activity_records, rows_by_day, usage_records, user_identities
from providers.claude_enterprise.settings import STATE_KEY
from providers.errors import ProviderError
from providers.sync_engine import BackfillOutcome, run_backfill, utc_midnight
from storage.db import transaction
from storage.locks import hold_lock
from storage.mappings import load_mappings, remember_identities
from storage.models import ClaudeCodeActivity, Usage
from storage.sync_state import get_state, record_attempt, record_failure, record_success
from storage.writes import ActivityRecord, UsageRecord, refresh_daily_rollup, upsert_activity, upsert_usage

log = logging.getLogger(__name__)

# claude.ai user id -> email pairs are remembered under this identity-mapping source, so a user's usage
# can still be attributed after the account is deleted (the API then reports the email as null).
IDENTITY_SOURCE = "claude-enterprise"
# Backfill walks a week per window. Activity costs one request per day whatever the window, so the window
# only sets how often the usage and cost reports are asked for: two requests per window. A week makes
# that about 9 requests per week of history instead of 21 with daily windows (the organisation's budget
# is 60 a minute, shared with every other tool reading it), while a failure re-does at most a week.
BACKFILL_WINDOW_DAYS = 7
DAY = timedelta(days=1)


def org_id_for_key(key: str, label: str | None) -> str:
    """A stable org id for one key: its label, else a short hash of the key; never its position in a list."""
    if label:
        return f"{STATE_KEY}:{label}"
    return f"{STATE_KEY}:" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(slots=True)
class EnterpriseSync:
    days_done: list[date] = field(default_factory=list)
    days_not_ready: list[date] = field(default_factory=list)
    records: int = 0  # rows the API returned for the days written (activity, usage and cost rows)
    rows: int = 0  # usage rows written
    activity_rows: int = 0
    unattributed: set[str] = field(default_factory=set)  # user ids of deleted users nobody could be tied to
    refreshed_at: datetime | None = None  # the API's data_refreshed_at (the earliest seen)
    latest_available_day: date | None = None  # as named by the API when a day was not ready
    error: ProviderError | None = None


@dataclass(slots=True)
class _Fetched:
    """Everything the API said about a set of days, before anything is written."""

    activity: dict[date, list[dict[str, Any]]] = field(default_factory=dict)  # days whose activity is available
    not_ready: list[date] = field(default_factory=list)
    usage: dict[date, list[Mapping[str, Any]]] = field(default_factory=dict)
    cost: dict[date, list[Mapping[str, Any]]] = field(default_factory=dict)
    refreshed_at: datetime | None = None


def _fetch(client: EnterpriseClient, days: Sequence[date], report: Callable[[str], None]) -> _Fetched:
    """Fetch every day's activity, then usage and cost over the available days. Raises ProviderError."""
    fetched = _Fetched()
    for day in days:
        if fetched.not_ready:
            # Days become available in date order: once one is not, no later one is either.
            fetched.not_ready.append(day)
            continue
        rows = client.users_day(day)
        if rows is None:
            fetched.not_ready.append(day)
            latest = client.latest_available_day
            report(f"{client.who}: {day} is not available yet" + (f" (latest available: {latest})" if latest else ""))
            continue
        fetched.activity[day] = rows
    if not fetched.activity:
        return fetched
    start, end = min(fetched.activity), max(fetched.activity) + DAY
    usage, cost = client.usage_report(start, end), client.cost_report(start, end)
    stamps = [s for s in (usage.refreshed_at, cost.refreshed_at) if s is not None]
    fetched.refreshed_at = min(stamps) if stamps else None
    try:
        fetched.usage, fetched.cost = rows_by_day(usage.rows), rows_by_day(cost.rows)
    except ProviderError as exc:
        raise ProviderError(f"{client.who}: {exc}") from None
    return fetched


def store_day(
    engine: Engine,
    org_id: str,
    day: date,
    usage: Sequence[UsageRecord],
    activity: Sequence[ActivityRecord],
    remember: Mapping[str, str],
    now: datetime,
) -> None:
    """Replace the stored (org, day) usage and activity with these rows, in one transaction."""
    with transaction(engine) as session:
        session.execute(delete(Usage).where(Usage.tool == TOOL, Usage.org_id == org_id, Usage.date == day))
        session.execute(
            delete(ClaudeCodeActivity).where(ClaudeCodeActivity.org_id == org_id, ClaudeCodeActivity.date == day)
        )
        written = upsert_usage(session, usage, refresh_rollup=False)
        # The day may have shrunk to nothing, so it is re-derived even when no row was written.
        refresh_daily_rollup(session, written.days | {(TOOL, day)})
        upsert_activity(session, activity)
        remember_identities(
            session, source=IDENTITY_SOURCE, org_id=org_id, emails=remember, by="claude-enterprise-api", now=now
        )


def _write(
    engine: Engine,
    client: EnterpriseClient,
    org_id: str,
    fetched: _Fetched,
    result: EnterpriseSync,
    now: Callable[[], datetime],
    report: Callable[[str], None],
) -> None:
    """Write each available day. A day whose data is malformed is refused (and reported); the others are written."""
    with transaction(engine) as session:
        identities = load_mappings(session, IDENTITY_SOURCE, org_id)
    for day in sorted(fetched.activity):
        users = fetched.activity[day]
        day_usage, day_cost = fetched.usage.get(day, []), fetched.cost.get(day, [])
        from_activity = user_identities(users)
        known = {**identities, **from_activity}
        try:
            by_day, from_usage = usage_records(day_usage, day_cost, org_id=org_id, identities=known)
            activity = activity_records(users, day=day, org_id=org_id, identities=known)
        except ProviderError as exc:
            refused = ProviderError(f"{client.who}: {exc}")
            log.error("%s", refused)
            report(str(refused))
            result.error = result.error or refused
            continue
        usage = by_day.get(day, [])
        pairs = {**from_activity, **from_usage}
        remember = {user_id: email for user_id, email in pairs.items() if email and identities.get(user_id) != email}
        store_day(engine, org_id, day, usage, activity, remember, now())
        identities.update(remember)
        result.days_done.append(day)
        result.records += len(users) + len(day_usage) + len(day_cost)
        result.rows += len(usage)
        result.activity_rows += len(activity)
        result.unattributed |= {r.actor for r in usage if not r.email} | {a.actor for a in activity if not a.email}
        report(f"{client.who} {day}: {len(usage)} usage rows, {len(activity)} activity rows")


def _watermark(
    engine: Engine, org_id: str, days: Sequence[date], done: set[date], refreshed_at: datetime | None
) -> datetime | None:
    """Midnight after the newest day of an unbroken run of written days whose usage the API calls refreshed.

    A day counts only when ``data_refreshed_at`` is past its end: usage of a later day may still be
    arriving. A run of days starting after the current watermark leaves a gap, so it claims nothing.
    """
    if not days or refreshed_at is None:
        return None
    with transaction(engine) as session:
        current = get_state(session, STATE_KEY, org_id).forward_watermark
    if current is not None and utc_midnight(days[0]) > current:
        return None
    newest: date | None = None
    expected = days[0]
    for day in days:
        if day != expected or day not in done or utc_midnight(day + DAY) > refreshed_at:
            break
        newest, expected = day, day + DAY
    return utc_midnight(newest + DAY) if newest is not None else None


def sync_org(
    engine: Engine,
    client: EnterpriseClient,
    org_id: str,
    days: list[date],
    *,
    now: Callable[[], datetime],
    report: Callable[[str], None] = lambda _line: None,
) -> EnterpriseSync:
    """Sync ``days`` for one organisation, holding its sync lock and recording the outcome in sync_state.

    Days before the API's first day hold no data and are left out. Failures are returned in ``error`` (and
    recorded), not raised; another sync of the same organisation running raises ``LockHeld``.
    """
    wanted = sorted({day for day in days if day >= EARLIEST_DAY})
    result = EnterpriseSync()
    with hold_lock(engine, f"sync:{STATE_KEY}:{org_id}"):
        record_attempt(engine, STATE_KEY, org_id, now())
        fetched = _Fetched()
        try:
            fetched = _fetch(client, wanted, report)
        except ProviderError as exc:
            result.error = exc
        else:
            result.days_not_ready = list(fetched.not_ready)
            result.refreshed_at = fetched.refreshed_at
            _write(engine, client, org_id, fetched, result, now, report)
        result.latest_available_day = client.latest_available_day
        if result.error is not None:
            record_failure(engine, STATE_KEY, org_id, now(), str(result.error))
            return result
        watermark = _watermark(engine, org_id, wanted, set(result.days_done), result.refreshed_at)
        record_success(engine, STATE_KEY, org_id, now(), forward_watermark=watermark)
    return result


def backfill_org(
    engine: Engine,
    client: EnterpriseClient,
    org_id: str,
    *,
    target: date,
    start_before: date,
    max_windows: int,
    complete_after_empty: int,
    now: Callable[[], datetime],
    report: Callable[[str], None] = lambda _line: None,
    window_days: int = BACKFILL_WINDOW_DAYS,
) -> tuple[BackfillOutcome, EnterpriseSync]:
    """Walk backwards ``window_days`` at a time from the stored cursor (or ``start_before``) towards ``target``.

    ``max_windows`` and ``complete_after_empty`` count windows, not days. The API holds nothing before its
    first day, so the target is never earlier than that. A window containing a day that is not available
    yet fails rather than being passed over, so the cursor can never move past a day that was not stored.
    """
    totals = EnterpriseSync()

    def process(start: datetime, end: datetime) -> int:
        try:
            return window(start, end)
        except ProviderError as exc:
            totals.error = exc
            raise

    def window(start: datetime, end: datetime) -> int:
        days = [start.date() + timedelta(days=i) for i in range((end - start).days)]
        fetched = _fetch(client, [day for day in days if day >= EARLIEST_DAY], report)
        if fetched.not_ready:
            raise ProviderError(
                f"{client.who}: {fetched.not_ready[0]} is not available yet, so the backfill stops above it "
                "(recent days are the forward sync's)."
            )
        if fetched.refreshed_at is not None:
            stamps = [s for s in (totals.refreshed_at, fetched.refreshed_at) if s is not None]
            totals.refreshed_at = min(stamps)
        before = totals.rows + totals.activity_rows
        _write(engine, client, org_id, fetched, totals, now, report)
        if totals.error is not None:
            raise totals.error
        return totals.rows + totals.activity_rows - before

    with hold_lock(engine, f"backfill:{STATE_KEY}:{org_id}"):
        outcome = run_backfill(
            engine,
            provider=STATE_KEY,
            org_id=org_id,
            target=max(target, EARLIEST_DAY),
            start_cursor=utc_midnight(start_before),
            max_windows=max_windows,
            complete_after_empty=complete_after_empty,
            process=process,
            now=now,
            window=timedelta(days=window_days),
        )
    totals.latest_available_day = client.latest_available_day
    return outcome, totals
