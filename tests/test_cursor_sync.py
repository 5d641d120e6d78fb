"""Cursor sync end to end: fake Admin API over HTTP -> jobs -> SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from bot.settings import Settings
from providers.cursor import SPEC as CURSOR
from providers.cursor import sync as cursor_sync
from providers.cursor.client import CursorClient, to_ms
from providers.cursor.jobs import CursorJobs, make_jobs, org_id_of
from providers.cursor.settings import CursorSettings
from providers.http import RetryPolicy
from providers.pacing import RatePacer
from providers.spec import BackfillRequest, JobContext, ProviderKey, SyncRequest
from storage.db import transaction
from storage.locks import LockHeld, hold_lock
from storage.models import SyncState, Usage, UsageDaily
from tests.fakes.cursor_server import FakeClock, FakeCursorServer, api_event, running

KEY_A = "key_" + "a" * 64
KEY_B = "key_" + "b" * 64
NOW = datetime(2026, 11, 20, 12, 34, tzinfo=UTC)  # last complete hour: 12:00
HOUR = timedelta(hours=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeCursorServer]:
    with running(FakeCursorServer(clock=clock)) as srv:
        yield srv


def jobs_for(clock: FakeClock) -> CursorJobs:
    def factory(settings: CursorSettings, key: ProviderKey) -> CursorClient:
        return CursorClient(
            key.key.get_secret_value(),
            who=f"Cursor team {key.name}",
            base_url=settings.cursor_base_url,
            page_size=settings.cursor_page_size,
            pacer=RatePacer(settings.cursor_requests_per_minute, 60.0, clock=clock, sleep=clock.sleep),
            sleep=clock.sleep,
            policy=RetryPolicy(max_attempts=3, base_delay=1.0),
        )

    return make_jobs(factory)


def context(
    engine: Engine, server: FakeCursorServer, keys: str, now: datetime = NOW, **extra: Any
) -> JobContext[CursorSettings]:
    settings = Settings(CURSOR_ADMIN_KEYS=keys, CURSOR_BASE_URL=server.base_url, ABACUS_CURSOR_PAGE_SIZE=3, **extra)
    lines: list[str] = []
    ctx = JobContext(settings=settings.provider(CURSOR), engine=engine, now=lambda: now, report=lines.append)
    return ctx


def ms(moment: datetime) -> int:
    return to_ms(moment)


def stored(engine: Engine) -> tuple[int, int, Decimal]:
    tokens = Usage.input_tokens + Usage.cache_write_tokens + Usage.cache_read_tokens + Usage.output_tokens
    with transaction(engine) as s:
        count, total, cost = s.execute(
            select(func.count(), func.coalesce(func.sum(tokens), 0), func.coalesce(func.sum(Usage.cost_usd), 0))
        ).one()
    return int(count), int(total), Decimal(cost)


def state(engine: Engine, org_id: str) -> SyncState:
    with transaction(engine) as s:
        row = s.get(SyncState, ("cursor", org_id))
        assert row is not None
        return row


def a_day_of_events() -> list[dict]:
    base = datetime(2026, 11, 19, 9, tzinfo=UTC)
    same_ms = ms(base + timedelta(minutes=5))
    return [
        # Two genuine, identical events in the same millisecond: both must be stored.
        api_event(same_ms, "dana@example.com", "claude-4.5-sonnet", (10, 0, 100, 5), total_cents=1.25),
        api_event(same_ms, "dana@example.com", "claude-4.5-sonnet", (10, 0, 100, 5), total_cents=1.25),
        # Same millisecond, different person.
        api_event(same_ms, "bob@example.com", "claude-4.5-sonnet", (10, 0, 100, 5), total_cents=1.25),
        # chargedCents wins over totalCents; `default` is stored as `auto`; kind and maxMode kept.
        api_event(
            ms(base + HOUR),
            "Dana@Example.com",
            "default",
            (1, 2, 3, 4),
            total_cents=2.0,
            charged_cents=2.5,
            kind="Included in Business",
            max_mode=True,
        ),
        # A request-based call: no tokenUsage, only chargedCents.
        api_event(ms(base + 2 * HOUR), "bob@example.com", "gpt-5", None, charged_cents=8),
        # Nothing to count: skipped and reported.
        api_event(ms(base + 3 * HOUR), "bob@example.com", "gpt-5", None, total_cents=None, kind="Errored, No Charge"),
    ]


def test_range_sync_stores_exactly_the_servers_events_and_cents_and_rerunning_changes_nothing(
    engine: Engine, server: FakeCursorServer, clock: FakeClock
) -> None:
    server.add_team(KEY_A, events=a_day_of_events())
    jobs = jobs_for(clock)
    ctx = context(engine, server, f"acme={KEY_A}")
    [result] = jobs.sync(ctx, SyncRequest(date(2026, 11, 19), date(2026, 11, 19)))
    assert result.ok and result.org_id == "cursor:acme"
    assert result.records == 5 and result.details["events"] == 6
    assert result.details["skipped"] == {"no tokens and no cost": 1}
    # 3 x 115 + 10 tokens; 3 x 1.25 + 2.5 + 8 cents.
    first = stored(engine)
    assert first == (5, 3 * 115 + 10, Decimal("0.1425"))
    with transaction(engine) as s:
        rows = s.scalars(select(Usage).order_by(Usage.event_ts_ms, Usage.actor)).all()
        auto = next(r for r in rows if r.raw_model == "auto")
        assert (auto.email, auto.actor, auto.kind, auto.max_mode) == (
            "dana@example.com",
            "dana@example.com",
            "Included in Business",
            True,
        )
        assert auto.cost_usd == Decimal("0.025") and auto.source == "api" and auto.date == date(2026, 11, 19)
        assert len({r.event_key for r in rows}) == 5
        daily = s.scalar(select(func.sum(UsageDaily.records)))
    assert daily == 5

    [again] = jobs.sync(ctx, SyncRequest(date(2026, 11, 19), date(2026, 11, 19)))
    assert again.ok and stored(engine) == first


def test_forward_sync_overlaps_the_watermark_and_picks_up_late_events(
    engine: Engine, server: FakeCursorServer, clock: FakeClock
) -> None:
    early = api_event(ms(NOW - 5 * HOUR), "dana@example.com")
    late = api_event(ms(NOW - 2 * HOUR), "late@example.com", total_cents=3)
    team = server.add_team(KEY_A, events=[early], hidden=[late])
    jobs = jobs_for(clock)
    org = org_id_of(ProviderKey("default", SecretStr(KEY_A), labelled=False))

    [first] = jobs.sync(context(engine, server, KEY_A), SyncRequest())
    assert first.ok and first.records == 1
    st = state(engine, org)
    hour = datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert st.forward_watermark == hour
    # First run: the last 24 hours; backfill will start exactly there.
    assert st.backfill_cursor == hour - timedelta(hours=24)
    assert server.event_requests()[0]["startDate"] == ms(hour - timedelta(hours=24))

    # The late event becomes visible after its hour was synced; the next hourly run still sees it.
    team.reveal()
    [second] = jobs.sync(context(engine, server, KEY_A, now=NOW + HOUR), SyncRequest())
    assert second.ok and stored(engine)[0] == 2
    assert state(engine, org).forward_watermark == hour + HOUR
    assert server.event_requests()[-1]["startDate"] == ms(hour - 3 * HOUR)


def test_a_failing_team_keeps_its_watermark_and_does_not_stop_the_others(
    engine: Engine, server: FakeCursorServer, clock: FakeClock
) -> None:
    server.add_team(KEY_A, events=[api_event(ms(NOW - HOUR), "a@example.com")])
    server.add_team(KEY_B, events=[api_event(ms(NOW - HOUR), "b@example.com")])
    jobs = jobs_for(clock)
    keys = f"alpha={KEY_A},beta={KEY_B}"
    assert all(r.ok for r in jobs.sync(context(engine, server, keys), SyncRequest()))
    before = state(engine, "cursor:alpha").forward_watermark

    for _ in range(3):  # the whole retry budget of alpha's first request
        server.fail_next(500)
    results = jobs.sync(context(engine, server, keys, now=NOW + 2 * HOUR), SyncRequest())
    by_org = {r.org: r for r in results}
    assert not by_org["alpha"].ok and "500" in by_org["alpha"].message and KEY_A not in by_org["alpha"].message
    assert by_org["beta"].ok
    alpha, beta = state(engine, "cursor:alpha"), state(engine, "cursor:beta")
    assert alpha.forward_watermark == before and alpha.last_error and "500" in alpha.last_error
    assert before is not None and beta.forward_watermark == before + 2 * HOUR and beta.last_error is None
    assert stored(engine)[0] == 2


def test_org_ids_survive_reordering_and_adding_keys(engine: Engine, server: FakeCursorServer, clock: FakeClock) -> None:
    server.add_team(KEY_A, events=[api_event(ms(NOW - HOUR), "a@example.com")])
    server.add_team(KEY_B, events=[api_event(ms(NOW - HOUR), "b@example.com")])
    jobs = jobs_for(clock)
    one = jobs.sync(context(engine, server, KEY_A), SyncRequest(date(2026, 11, 20), date(2026, 11, 20)))
    two = jobs.sync(context(engine, server, f"{KEY_B},{KEY_A}"), SyncRequest(date(2026, 11, 20), date(2026, 11, 20)))
    assert one[0].org_id == next(r.org_id for r in two if r.org == "KEY_2")
    assert stored(engine)[0] == 2  # team A's event was not stored a second time under a new org id


def test_a_second_sync_of_the_same_team_is_refused_while_one_runs(
    engine: Engine, server: FakeCursorServer, clock: FakeClock
) -> None:
    server.add_team(KEY_A)
    jobs = jobs_for(clock)
    with hold_lock(engine, "sync:cursor:cursor:acme"), pytest.raises(LockHeld):
        jobs.sync(context(engine, server, f"acme={KEY_A}"), SyncRequest())


def test_backfill_walks_back_from_the_first_forward_window_resumably_and_completes(
    engine: Engine, server: FakeCursorServer, clock: FakeClock
) -> None:
    hour = datetime(2026, 11, 20, 12, tzinfo=UTC)
    forward_start = hour - timedelta(hours=24)
    events = [
        # One hour before the first forward window: the original's midnight-based backfill missed such hours.
        api_event(ms(forward_start - HOUR), "early@example.com"),
        *[api_event(ms(forward_start - timedelta(days=d, hours=5)), "a@example.com") for d in range(1, 6)],
    ]
    server.add_team(KEY_A, events=events)
    jobs = jobs_for(clock)
    ctx = context(engine, server, f"acme={KEY_A}", ABACUS_CURSOR_BACKFILL_EMPTY_DAYS=4)

    # No forward sync yet: the backfill runs one first, then walks 3 days back and stops (bounded).
    [first] = jobs.backfill(ctx, BackfillRequest(target=date(2026, 1, 1), max_windows=3))
    assert first.ok and first.status == "in_progress" and first.windows == 3
    st = state(engine, "cursor:acme")
    assert st.backfill_cursor == forward_start - timedelta(days=3) and not st.backfill_complete
    # Days back: [fs-1d, fs) holds the early event and the d=1 event sits 5 h before fs-1d, and so on.
    assert stored(engine)[0] == 3

    # Resumes from the stored cursor; after 4 empty days in a row it is complete.
    [second] = jobs.backfill(ctx, BackfillRequest(target=date(2026, 1, 1), max_windows=20))
    assert second.ok and second.status == "complete"
    assert second.windows == 3 + 4
    assert stored(engine)[0] == len(events)
    assert state(engine, "cursor:acme").backfill_complete
    # Nothing was fetched twice, nothing skipped: windows are contiguous days ending at the forward start.
    starts = sorted(b["startDate"] for b in server.event_requests())
    assert starts == [ms(forward_start - timedelta(days=n)) for n in range(10, 0, -1)] + [
        ms(hour - timedelta(hours=24))
    ]

    [third] = jobs.backfill(ctx, BackfillRequest(target=date(2026, 1, 1)))
    assert third.status == "complete" and third.windows == 0


def test_backfill_completes_on_reaching_its_target(engine: Engine, server: FakeCursorServer, clock: FakeClock) -> None:
    server.add_team(KEY_A, events=[api_event(ms(NOW - timedelta(days=d)), "a@example.com") for d in range(6)])
    jobs = jobs_for(clock)
    ctx = context(engine, server, f"acme={KEY_A}")
    [result] = jobs.backfill(ctx, BackfillRequest(target=date(2026, 11, 17), max_windows=50))
    assert result.status == "complete"
    assert state(engine, "cursor:acme").backfill_cursor == datetime(2026, 11, 17, tzinfo=UTC)
    # Everything from the target day on is stored; nothing older was asked for.
    with transaction(engine) as s:
        assert s.scalar(select(func.min(Usage.date))) == date(2026, 11, 17)
    # 11-19, 11-18 and 11-17; today's 12:34 event is in the hour that is not complete yet.
    assert stored(engine)[0] == 3


def test_a_backfill_failure_is_recorded_and_resumes_where_it_stopped(
    engine: Engine, server: FakeCursorServer, clock: FakeClock
) -> None:
    server.add_team(KEY_A, events=[api_event(ms(NOW - timedelta(days=d)), "a@example.com") for d in range(1, 8)])
    jobs = jobs_for(clock)
    ctx = context(engine, server, f"acme={KEY_A}")
    jobs.sync(ctx, SyncRequest())  # forward first
    for _ in range(3):
        server.fail_next(500)
    [failed] = jobs.backfill(ctx, BackfillRequest(target=date(2026, 11, 10), max_windows=5))
    assert not failed.ok and failed.status == "failed"
    st = state(engine, "cursor:acme")
    assert st.last_error and st.last_error.startswith("backfill:")
    assert st.backfill_cursor == datetime(2026, 11, 19, 12, tzinfo=UTC)  # nothing was processed
    [resumed] = jobs.backfill(ctx, BackfillRequest(target=date(2026, 11, 10), max_windows=50))
    assert resumed.ok and resumed.status == "complete"
    assert stored(engine)[0] == 7


def test_cursor_settings_have_documented_defaults_and_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings().provider(CURSOR)
    assert (
        defaults.cursor_overlap_hours,
        defaults.cursor_backfill_empty_days,
        defaults.cursor_backfill_days_per_run,
        defaults.cursor_page_size,
        defaults.cursor_requests_per_minute,
    ) == (3, 30, 14, 1000, 20)
    monkeypatch.setenv("ABACUS_CURSOR_OVERLAP_HOURS", "6")
    monkeypatch.setenv("ABACUS_CURSOR_BACKFILL_EMPTY_DAYS", "90")
    monkeypatch.setenv("ABACUS_CURSOR_BACKFILL_DAYS_PER_RUN", "7")
    configured = Settings().provider(CURSOR)
    assert (configured.cursor_overlap_hours, configured.cursor_backfill_empty_days) == (6, 90)
    assert configured.cursor_backfill_days_per_run == 7


def test_a_day_whose_write_fails_stops_the_range_and_earlier_days_stay(
    engine: Engine, server: FakeCursorServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Days are written on a writer thread while the next day is fetched; a failed write must still stop
    # everything after it and leave the days before it whole.
    days = [datetime(2026, 11, 16, 9, tzinfo=UTC) + timedelta(days=d) for d in range(3)]
    server.add_team(KEY_A, events=[api_event(ms(day), "dana@example.com", "gpt-5", (1, 2, 3, 4)) for day in days])
    real_write = cursor_sync.upsert_usage_rows

    def fail_on_the_second_day(session: object, rows: list, **kwargs: Any) -> object:
        if rows[0][1] == date(2026, 11, 17):
            raise RuntimeError("disk full")
        return real_write(session, rows, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cursor_sync, "upsert_usage_rows", fail_on_the_second_day)
    [result] = jobs_for(clock).sync(
        context(engine, server, f"acme={KEY_A}"), SyncRequest(date(2026, 11, 16), date(2026, 11, 18))
    )
    assert not result.ok and "disk full" in result.message
    with transaction(engine) as s:
        assert s.scalars(select(Usage.date)).all() == [date(2026, 11, 16)]
        assert s.scalar(select(func.sum(UsageDaily.records))) == 1
