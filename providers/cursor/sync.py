"""Cursor sync for one team: forward (hourly, overlapping), explicit day ranges, and backfill.

Each day of events is fetched completely (every page), checked whole, and then replaces the events the API
stored before for that span in one transaction, so a failure part-way, or a day with a structurally wrong
event, leaves the stored day as it was and never a partial one. The forward watermark moves only when every
window of the run succeeded; the overlap re-fetches the last few hours on every run, so events that become
visible late are still picked up (the original had no overlap and lost them, W5).

Why replace rather than add: Cursor events carry no id, so an event's key is made of what it says (time,
user, model, token counts). Cursor aggregates usage hourly and documents nothing about events being final;
an event whose figures changed between two fetches would have a new key, and adding would count it twice.
Replacing the span's API rows with what the API says now stores it once, with its current figures, while
two genuine identical events in one millisecond still get two rows (their occurrence index differs).
Rows a CSV import stored are left alone unless the API returns the same event (then the API's row wins).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, delete

from providers.cursor.client import (
    TOOL,
    BadEvent,
    CursorClient,
    OccurrenceCounter,
    event_row,
    ms_to_date,
    parse_api_event,
    split_window,
    to_ms,
)
from providers.errors import ProviderError
from providers.sync_engine import BackfillOutcome, run_backfill, utc_midnight
from providers.write_behind import WriteBehind
from storage.db import transaction
from storage.models import Usage
from storage.sync_state import get_state, record_attempt, record_failure, record_success
from storage.writes import refresh_daily_rollup, upsert_usage_rows

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
FIRST_RUN_LOOKBACK = timedelta(hours=24)
EMPTY_EVENT = "no tokens and no cost"

Report = Callable[[str], None]


def _quiet(_line: str) -> None:
    return None


@dataclass(slots=True)
class WindowResult:
    """What one fetched span held: events the API returned, rows stored, and why the others were not."""

    start: datetime | None = None
    end: datetime | None = None
    events: int = 0
    stored: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    days: set[date] = field(default_factory=set)

    def merge(self, other: WindowResult) -> None:
        self.events += other.events
        self.stored += other.stored
        self.skipped.update(other.skipped)
        self.days |= other.days

    def describe(self) -> str:
        if self.start is None or self.end is None:
            return "nothing to fetch"
        span = f"{self.start:%Y-%m-%d %H:%M}..{self.end:%Y-%m-%d %H:%M} UTC"
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
        return f"{span}: {self.events} events, {self.stored} stored" + (f", skipped {skipped}" if skipped else "")


def last_complete_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


class _MemberEmails:
    """userId -> email from /teams/members, fetched once and only if an event lacks its email."""

    def __init__(self, client: CursorClient) -> None:
        self._client = client
        self._emails: dict[int, str] | None = None

    def __call__(self, user_id: int) -> str | None:
        if self._emails is None:
            self._emails = {m.user_id: m.email for m in self._client.members() if m.user_id is not None}
        return self._emails.get(user_id)


def store_window(
    engine: Engine,
    client: CursorClient,
    org_id: str,
    start: datetime,
    end: datetime,
    *,
    report: Report = _quiet,
) -> WindowResult:
    """Fetch ``[start, end)`` a day at a time; each day's events replace the API's stored events of that
    day in its own transaction.

    A day is written on a writer thread while the next one is fetched; a failed write stops the window, and
    so does a structurally wrong event (a :class:`ProviderError` naming the day and the field), before its
    day is written: earlier days stay stored, that day and later ones are left as they were.
    """
    total = WindowResult(start=start, end=end)
    emails = _MemberEmails(client)
    with WriteBehind("abacus-cursor-writer") as writer:
        for piece_start, piece_end in split_window(start, end, DAY):
            piece = WindowResult(start=piece_start, end=piece_end)
            rows: list[tuple[Any, ...]] = []
            occurrences = OccurrenceCounter()
            for raw in client.usage_events(piece_start, piece_end):
                piece.events += 1
                try:
                    parsed = parse_api_event(raw, emails)
                except BadEvent as exc:
                    what = f"event {piece.events}'s {exc.field}" if exc.field else f"event {piece.events}"
                    raise ProviderError(
                        f"{client.who}: Cursor data from {piece_start:%Y-%m-%d %H:%M} UTC: {what} {exc.detail}; "
                        "nothing was stored for that day."
                    ) from None
                if parsed.is_empty:
                    piece.skipped[EMPTY_EVENT] += 1
                    continue
                rows.append(event_row(parsed, org_id=org_id, occurrences=occurrences, source="api"))
            writer.submit(_store_piece, engine, org_id, piece, rows, total, report)
    return total


def _store_piece(
    engine: Engine,
    org_id: str,
    piece: WindowResult,
    rows: list[tuple[Any, ...]],
    total: WindowResult,
    report: Report,
) -> None:
    """Replace the team's API rows of ``[piece.start, piece.end)`` with ``rows``, in one transaction."""
    assert piece.start is not None and piece.end is not None
    start_ms, end_ms = to_ms(piece.start), to_ms(piece.end)
    spanned = {ms_to_date(start_ms), ms_to_date(end_ms - 1)}
    with transaction(engine) as session:
        result = session.execute(
            delete(Usage).where(
                Usage.tool == TOOL,
                Usage.org_id == org_id,
                Usage.date.in_(sorted(spanned)),
                Usage.event_ts_ms >= start_ms,
                Usage.event_ts_ms < end_ms,
                Usage.source == "api",
            )
        )
        replaced = cast("CursorResult[Any]", result).rowcount
        written = upsert_usage_rows(session, rows, refresh_rollup=False)
        days = {day for _tool, day in written.days} | (spanned if replaced else set())
        refresh_daily_rollup(session, {(TOOL, day) for day in days})
    piece.stored = written.rows
    piece.days = {day for _tool, day in written.days}
    report(piece.describe())
    total.merge(piece)


def forward_sync(
    engine: Engine,
    client: CursorClient,
    org_id: str,
    *,
    now: datetime,
    overlap: timedelta,
    report: Report = _quiet,
) -> WindowResult:
    """The scheduled sync: from the watermark minus ``overlap`` (first run: the last 24 h) to the last
    complete hour. The watermark moves to that hour only after every page of every day was stored."""
    end = last_complete_hour(now)
    with transaction(engine) as session:
        watermark = get_state(session, TOOL, org_id).forward_watermark
    start = end - FIRST_RUN_LOOKBACK if watermark is None else min(watermark, end) - overlap
    record_attempt(engine, TOOL, org_id, now)
    try:
        result = store_window(engine, client, org_id, start, end, report=report)
    except Exception as exc:
        record_failure(engine, TOOL, org_id, now, f"sync: {exc}")
        raise
    with transaction(engine) as session:
        state = get_state(session, TOOL, org_id)
        if state.backfill_cursor is None:
            # Backfill starts exactly where forward sync first started, so no hour is missed (W5).
            state.backfill_cursor = start
    record_success(engine, TOOL, org_id, now, forward_watermark=end)
    return result


def range_sync(
    engine: Engine,
    client: CursorClient,
    org_id: str,
    *,
    first_day: date,
    last_day: date,
    now: datetime,
    report: Report = _quiet,
) -> WindowResult:
    """An operator's explicit re-sync of whole UTC days, capped at the last complete hour.

    It leaves the forward watermark alone: the scheduled sync keeps its own continuous coverage.
    """
    start = utc_midnight(first_day)
    end = min(utc_midnight(last_day) + DAY, last_complete_hour(now))
    if start >= end:
        return WindowResult()
    record_attempt(engine, TOOL, org_id, now)
    try:
        result = store_window(engine, client, org_id, start, end, report=report)
    except Exception as exc:
        record_failure(engine, TOOL, org_id, now, f"sync {first_day}..{last_day}: {exc}")
        raise
    record_success(engine, TOOL, org_id, now)
    return result


def backfill(
    engine: Engine,
    client: CursorClient,
    org_id: str,
    *,
    target: date,
    max_days: int,
    complete_after_empty_days: int,
    now: Callable[[], datetime],
    report: Report = _quiet,
) -> BackfillOutcome:
    """Walk backwards a day at a time from the oldest fully processed instant (a stored cursor).

    The cursor starts where forward sync first started; with no forward sync yet, the caller runs one
    first (:func:`forward_sync` sets the cursor), so the two never leave a gap between them.
    """
    with transaction(engine) as session:
        state = get_state(session, TOOL, org_id)
        start_cursor = state.backfill_cursor or state.forward_watermark
    if start_cursor is None:
        raise ValueError("backfill needs a forward sync first: it starts where forward sync started")

    def process(start: datetime, end: datetime) -> int:
        return store_window(engine, client, org_id, start, end, report=report).events

    return run_backfill(
        engine,
        provider=TOOL,
        org_id=org_id,
        target=target,
        start_cursor=start_cursor,
        max_windows=max_days,
        complete_after_empty=complete_after_empty_days,
        process=process,
        now=now,
        window=DAY,
    )


def needs_forward_sync(engine: Engine, org_id: str) -> bool:
    with transaction(engine) as session:
        state = get_state(session, TOOL, org_id)
        return state.backfill_cursor is None and state.forward_watermark is None
