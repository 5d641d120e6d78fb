"""OpenAI sync: a set of recent days (forward) and history (backfill), one organisation at a time.

Per run: the organisation's users (user id -> email), then the completions usage and the reported costs of
the whole span of days, each in as few paged requests as the API allows. Only once everything has arrived
and every day has been checked is anything written, in one transaction: each good day's usage rows are
replaced as a whole, the rollups re-derived and each day's reported cost stored beside them. So a failure
while fetching or writing leaves every stored day as it was, a re-sync of unchanged data changes nothing, and
a day whose data is malformed is refused (named in the error) while the good days around it are stored.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete

from providers.errors import ProviderError
from providers.openai.client import OpenAIClient
from providers.openai.rows import TOOL, DayUsage, bucket_day, costs_by_day, usage_by_day, user_emails
from providers.openai.settings import STATE_KEY
from providers.sync_engine import BackfillOutcome, run_backfill, utc_midnight
from storage.db import transaction
from storage.locks import hold_lock
from storage.mappings import load_mappings, remember_identities
from storage.models import Usage
from storage.reported_costs import DayCost, replace_day_cost
from storage.sync_state import get_state, record_attempt, record_failure, record_success
from storage.writes import refresh_daily_rollup, upsert_usage

log = logging.getLogger(__name__)

# OpenAI user id -> email pairs are remembered under this source, so usage of a user who has since left the
# organisation (and the users list) is still attributed to the email seen for them before.
USER_SOURCE = "openai-users"
# Backfill asks for 31 days per window: one page of usage and one of costs (the per-page maximum of daily
# buckets), and a failure re-does at most a month.
BACKFILL_WINDOW_DAYS = 31
DAY = timedelta(days=1)


def org_id_for_key(key: str, label: str | None) -> str:
    """A stable org id for one key: its label, else a short hash of the key; never its position in a list."""
    if label:
        return f"{STATE_KEY}:{label}"
    return f"{STATE_KEY}:" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(slots=True)
class OpenAISync:
    days_done: list[date] = field(default_factory=list)
    results: int = 0  # usage results the API returned for the days written
    rows: int = 0  # usage rows written
    cost_usd: Decimal = Decimal(0)  # computed cost of the rows written
    reported_usd: Decimal = Decimal(0)  # the organisation's reported cost of the same days
    unpriced_models: set[str] = field(default_factory=set)
    unpriced_tokens: int = 0
    unmapped_keys: set[str] = field(default_factory=set)
    unknown_users: set[str] = field(default_factory=set)
    error: ProviderError | None = None


def _by_day(buckets: Sequence[Any], what: str) -> dict[date, list[Any]]:
    grouped: dict[date, list[Any]] = {}
    for bucket in buckets:
        grouped.setdefault(bucket_day(bucket, what), []).append(bucket)
    return grouped


def store_days(
    engine: Engine, org_id: str, days: Mapping[date, tuple[DayUsage, Decimal | None]], now: datetime
) -> None:
    """Replace the stored usage of each (org, day) with its rows and its reported cost, in one transaction.

    One transaction for the run's good days rather than one per day: the rollups (the monthly one above all)
    are then re-derived once, and a failure while writing leaves every day as it was.
    """
    if not days:
        return
    with transaction(engine) as session:
        session.execute(delete(Usage).where(Usage.tool == TOOL, Usage.org_id == org_id, Usage.date.in_(list(days))))
        written = upsert_usage(session, [r for usage, _ in days.values() for r in usage.records], refresh_rollup=False)
        # A day may have shrunk to nothing, so every day is re-derived even when no row was written for it.
        refresh_daily_rollup(session, written.days | {(TOOL, day) for day in days})
        for day, (usage, reported) in days.items():
            if reported is not None:
                cost = DayCost(day, reported, usage.unpriced_tokens, tuple(sorted(usage.unpriced_models)))
                replace_day_cost(session, STATE_KEY, org_id, cost, now)


def _sync_days(
    engine: Engine,
    client: OpenAIClient,
    org_id: str,
    days: Sequence[date],
    result: OpenAISync,
    now: Callable[[], datetime],
    report: Callable[[str], None],
) -> None:
    """Fetch ``days`` (consecutive) and write each one that parsed. Fetch failures raise ProviderError."""
    if not days:
        return
    start, end = days[0], days[-1] + DAY
    users = client.users()
    usage_buckets = client.usage(start, end)
    cost_buckets = client.costs(start, end)
    try:
        usage_days, cost_days = _by_day(usage_buckets, "bucket"), _by_day(cost_buckets, "cost bucket")
    except ProviderError as exc:
        raise ProviderError(f"{client.who}: {exc}") from None
    with transaction(engine) as session:
        remembered = load_mappings(session, USER_SOURCE, org_id)
        keys = load_mappings(session, TOOL, org_id)
    listed = user_emails(users)
    emails = {**remembered, **listed}
    good: dict[date, tuple[DayUsage, Decimal | None]] = {}
    for day in days:
        try:
            parsed = usage_by_day(usage_days.get(day, []), org_id=org_id, emails=emails, keys=keys).get(day, DayUsage())
            reported = costs_by_day(cost_days[day]).get(day, Decimal(0)) if day in cost_days else None
        except ProviderError as exc:
            refused = ProviderError(f"{client.who}: {exc}")
            log.error("%s", refused)
            report(str(refused))
            result.error = result.error or refused
            continue
        good[day] = (parsed, reported)
    store_days(engine, org_id, good, now())
    for day, (parsed, reported) in good.items():
        result.days_done.append(day)
        result.results += parsed.results
        result.rows += len(parsed.records)
        result.cost_usd += sum((r.cost_usd for r in parsed.records), Decimal(0))
        result.reported_usd += reported or Decimal(0)
        result.unpriced_models |= parsed.unpriced_models
        result.unpriced_tokens += parsed.unpriced_tokens
        result.unmapped_keys |= parsed.unmapped_keys
        result.unknown_users |= parsed.unknown_users
        report(f"{client.who} {day}: {len(parsed.records)} usage rows from {parsed.results} results")
    news = {user_id: email for user_id, email in listed.items() if remembered.get(user_id) != email}
    if news:
        with transaction(engine) as session:
            remember_identities(session, source=USER_SOURCE, org_id=org_id, emails=news, by="openai-api", now=now())


def sync_org(
    engine: Engine,
    client: OpenAIClient,
    org_id: str,
    days: list[date],
    *,
    now: Callable[[], datetime],
    report: Callable[[str], None] = lambda _line: None,
) -> OpenAISync:
    """Sync ``days`` for one organisation, holding its sync lock and recording the outcome in sync_state.

    Failures are returned in ``error`` (and recorded), not raised; another sync of the same organisation
    running raises ``LockHeld``. The watermark moves to the end of the newest whole day written (today is
    still growing), and only when the run joins up with the stored watermark, so it never claims a gap.
    """
    wanted = sorted(set(days))
    result = OpenAISync()
    with hold_lock(engine, f"sync:{STATE_KEY}:{org_id}"):
        record_attempt(engine, STATE_KEY, org_id, now())
        spans = _consecutive(wanted)
        try:
            for span in spans:
                _sync_days(engine, client, org_id, span, result, now, report)
        except ProviderError as exc:
            result.error = result.error or exc
        if result.error is not None:
            record_failure(engine, STATE_KEY, org_id, now(), str(result.error))
            return result
        record_success(engine, STATE_KEY, org_id, now(), forward_watermark=_watermark(engine, org_id, wanted, now()))
    return result


def _consecutive(days: Sequence[date]) -> list[list[date]]:
    spans: list[list[date]] = []
    for day in days:
        if spans and spans[-1][-1] + DAY == day:
            spans[-1].append(day)
        else:
            spans.append([day])
    return spans


def _watermark(engine: Engine, org_id: str, days: Sequence[date], now: datetime) -> datetime | None:
    if not days:
        return None
    with transaction(engine) as session:
        current = get_state(session, STATE_KEY, org_id).forward_watermark
    if current is not None and utc_midnight(days[0]) > current:
        return None  # a gap between the stored watermark and these days
    if len(_consecutive(days)) != 1:
        return None
    return min(utc_midnight(days[-1] + DAY), utc_midnight(now.date()))


def backfill_org(
    engine: Engine,
    client: OpenAIClient,
    org_id: str,
    *,
    target: date,
    start_before: date,
    max_windows: int,
    complete_after_empty: int,
    now: Callable[[], datetime],
    report: Callable[[str], None] = lambda _line: None,
    window_days: int = BACKFILL_WINDOW_DAYS,
) -> tuple[BackfillOutcome, OpenAISync]:
    """Walk backwards ``window_days`` at a time from the stored cursor (or ``start_before``) towards ``target``.

    A window with a malformed day fails (the cursor stays above it), so history never gets a silent hole.
    """
    totals = OpenAISync()

    def window(start: datetime, end: datetime) -> int:
        days = [start.date() + timedelta(days=i) for i in range((end - start).days)]
        before = totals.results
        try:
            _sync_days(engine, client, org_id, days, totals, now, report)
        except ProviderError as exc:
            totals.error = exc
            raise
        if totals.error is not None:
            raise totals.error
        return totals.results - before

    with hold_lock(engine, f"backfill:{STATE_KEY}:{org_id}"):
        outcome = run_backfill(
            engine,
            provider=STATE_KEY,
            org_id=org_id,
            target=target,
            start_cursor=utc_midnight(start_before),
            max_windows=max_windows,
            complete_after_empty=complete_after_empty,
            process=window,
            now=now,
            window=timedelta(days=window_days),
        )
    return outcome, totals
