"""Cursor sync: a day with a structurally wrong event fails loudly and leaves the stored day untouched
(through `abacus sync cursor`), and events Cursor revises after a first sync are not counted twice (through
the scheduled forward sync and `abacus sync cursor`), against the fake Cursor server on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.cli import main
from providers.cursor.client import to_ms
from providers.spec import SyncRequest
from storage.db import make_engine, transaction
from storage.models import SyncState, Usage, UsageDaily
from tests.fakes.cursor_server import FakeClock, FakeCursorServer, api_event, running
from tests.test_cursor_csv import write
from tests.test_cursor_sync import context, jobs_for

KEY = "key_" + "d" * 64
DAY = date(2026, 11, 19)
T = datetime(2026, 11, 19, 9, tzinfo=UTC)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def server() -> Iterator[FakeCursorServer]:
    with running(FakeCursorServer()) as srv:
        yield srv


@pytest.fixture
def database(
    db_url_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    server: FakeCursorServer,
) -> str:
    url = db_url_factory()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CURSOR_ADMIN_KEYS", f"acme={KEY}")
    monkeypatch.setenv("CURSOR_BASE_URL", server.base_url)
    assert run(capsys, "db", "migrate")[0] == 0
    return url


def rows_of(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with transaction(engine) as s:
        usage = sorted(
            tuple(r)
            for r in s.execute(
                select(
                    Usage.event_ts_ms,
                    Usage.email,
                    Usage.input_tokens,
                    Usage.output_tokens,
                    Usage.cost_usd,
                    Usage.source,
                    Usage.event_key,
                )
            )
        )
        daily = sorted(
            tuple(r)
            for r in s.execute(
                select(
                    UsageDaily.date, UsageDaily.email, UsageDaily.input_tokens, UsageDaily.cost_usd, UsageDaily.records
                )
            )
        )
    return usage, daily


def stored(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    engine = make_engine(url)
    try:
        return rows_of(engine)
    finally:
        engine.dispose()


def good_events() -> list[dict[str, Any]]:
    return [
        api_event(to_ms(T), "dana@example.com", "gpt-5", (10, 0, 100, 5), charged_cents=2),
        api_event(to_ms(T + timedelta(hours=1)), "bob@example.com", "gpt-5", (20, 1, 200, 6), charged_cents=3),
    ]


def _usage(field_name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        event["tokenUsage"][field_name] = value

    return change


def _top(field_name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        event[field_name] = value

    return change


EVENT_BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "null-tokens": (_usage("inputTokens", None), "tokenUsage.inputTokens is None"),
    "string-tokens": (_usage("outputTokens", "12"), "tokenUsage.outputTokens is '12'"),
    "nan-tokens": (_usage("cacheReadTokens", float("nan")), "tokenUsage.cacheReadTokens is nan"),
    "infinite-tokens": (_usage("inputTokens", float("inf")), "tokenUsage.inputTokens is inf"),
    "negative-tokens": (_usage("inputTokens", -3), "tokenUsage.inputTokens is -3"),
    "fractional-tokens": (_usage("inputTokens", 2.5), "tokenUsage.inputTokens is 2.5"),
    "tokens-past-64-bits": (_usage("cacheWriteTokens", 2**63), "tokenUsage.cacheWriteTokens is 9223372036854775808"),
    "null-token-usage": (_top("tokenUsage", None), "tokenUsage is None"),
    "nan-cost": (_top("chargedCents", float("nan")), "chargedCents is nan"),
    "null-cost": (_top("chargedCents", None), "chargedCents is None"),
    "negative-cost": (_top("chargedCents", -5), "chargedCents is -5"),
    "cost-past-numeric": (_top("chargedCents", 10**20), "chargedCents is 100000000000000000000"),
    "null-user": (_top("userEmail", None), "userEmail is None"),
    "user-not-a-string": (_top("userEmail", 42), "userEmail is 42"),
    "null-model": (_top("model", None), "model is None"),
    "max-mode-not-a-flag": (_top("maxMode", "yes"), "maxMode is 'yes'"),
}


def _page(events: list[Any], **extra: Any) -> dict[str, Any]:
    return {"usageEvents": events, "pagination": {"hasNextPage": False}, **extra}


# Whole responses that the fake server sends instead of its own (unparseable timestamps, wrong shapes).
PAGE_BREAKAGES: dict[str, tuple[Callable[[], Any], str]] = {
    "unreadable-timestamp": (
        lambda: _page([*good_events(), {**good_events()[0], "timestamp": "soon"}]),
        "event 3's timestamp is 'soon'",
    ),
    "null-timestamp": (lambda: _page([{**good_events()[0], "timestamp": None}]), "event 1's timestamp is None"),
    "event-not-an-object": (lambda: _page([*good_events(), "garbage"]), "event 3 is 'garbage', not an object"),
    "null-event": (lambda: _page([None]), "event 1 is None, not an object"),
    "null-events": (lambda: {"usageEvents": None, "pagination": {"hasNextPage": False}}, "usageEvents is None"),
    "missing-events": (lambda: {"pagination": {"hasNextPage": False}}, "usageEvents is missing"),
    "has-next-page-not-a-flag": (
        lambda: {"usageEvents": good_events(), "pagination": {"hasNextPage": "no"}},
        "pagination.hasNextPage is 'no'",
    ),
    "not-an-object": (lambda: ["not", "an", "object"], "the response is ['not', 'an', 'object']"),
}


def _sync_day(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code, out, _err = run(capsys, "sync", "cursor", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--json")
    return code, json.loads(out)


@pytest.mark.parametrize("breakage", [*EVENT_BREAKAGES, *PAGE_BREAKAGES])
def test_a_day_with_a_structurally_wrong_event_fails_loudly_and_leaves_the_stored_day_untouched(
    database: str, server: FakeCursorServer, capsys: pytest.CaptureFixture[str], breakage: str
) -> None:
    team = server.add_team(KEY, events=good_events())
    code, payload = _sync_day(capsys)
    assert code == 0 and payload["results"][0]["records"] == 2
    before = stored(database)

    if breakage in EVENT_BREAKAGES:
        change, problem = EVENT_BREAKAGES[breakage]
        # The day now also holds a broken event (and a new good one): none of it may be stored.
        broken = api_event(to_ms(T + timedelta(hours=2)), "erin@example.com", "gpt-5", (1, 1, 1, 1), charged_cents=1)
        change(broken)
        team.events = [good_events()[0], broken, api_event(to_ms(T + timedelta(hours=3)), "new@example.com")]
        team.windows.clear()
    else:
        body, problem = PAGE_BREAKAGES[breakage]
        server.fail_next(200, body=body())
    code, payload = _sync_day(capsys)
    assert code == 1
    [result] = payload["results"]
    assert result["ok"] is False and problem in result["message"], result["message"]
    assert "2026-11-19" in result["message"] and "nothing was stored for that day" in result["message"]
    assert KEY not in result["message"]
    assert stored(database) == before
    engine = make_engine(database)
    with transaction(engine) as s:
        state = s.get(SyncState, ("cursor", "cursor:acme"))
        assert state is not None and state.last_error is not None and problem in state.last_error
    engine.dispose()


def test_whole_numbers_spelled_as_floats_and_absent_optional_fields_are_accepted(
    database: str, server: FakeCursorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    float_tokens = api_event(to_ms(T), "dana@example.com", "gpt-5", (10, 0, 100, 5), total_cents=2.5)
    float_tokens["tokenUsage"]["inputTokens"] = 10.0
    older_shape = api_event(to_ms(T + timedelta(hours=1)), "bob@example.com", "gpt-5", (1, 2, 3, 4), total_cents=1)
    for name in ("kind", "maxMode", "isFreeBugbot"):
        del older_shape[name]
    del older_shape["tokenUsage"]["cacheWriteTokens"]
    request_based = api_event(to_ms(T + timedelta(hours=2)), "bob@example.com", "gpt-5", None, charged_cents=8)
    server.add_team(KEY, events=[float_tokens, older_shape, request_based])
    code, payload = _sync_day(capsys)
    assert code == 0 and payload["results"][0]["records"] == 3
    usage, _daily = stored(database)
    assert [(r[2], r[4]) for r in usage] == [(10, Decimal("0.025")), (1, Decimal("0.01")), (0, Decimal("0.08"))]


# --- events Cursor revises after a first sync --------------------------------------------------------------

NOW = datetime(2026, 11, 20, 12, 34, tzinfo=UTC)  # the forward sync's last complete hour: 12:00
HOUR = timedelta(hours=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def paced_server(clock: FakeClock) -> Iterator[FakeCursorServer]:
    with running(FakeCursorServer(clock=clock)) as srv:
        yield srv


def test_a_revised_event_in_the_overlap_replaces_its_first_figures_and_identical_events_both_survive(
    engine: Engine, paced_server: FakeCursorServer, clock: FakeClock
) -> None:
    server = paced_server
    same_ms = to_ms(NOW - 2 * HOUR)
    twin = api_event(same_ms, "dana@example.com", "gpt-5", (10, 0, 100, 5), charged_cents=2)
    first_figures = api_event(same_ms, "bob@example.com", "gpt-5", (100, 10, 1000, 50), charged_cents=20)
    team = server.add_team(KEY, events=[twin, dict(twin), first_figures])
    jobs = jobs_for(clock)
    ctx = context(engine, server, f"acme={KEY}")

    [first] = jobs.sync(ctx, SyncRequest())
    assert first.ok and first.records == 3
    usage, _ = rows_of(engine)
    # Two genuine identical events in one millisecond: two rows, two keys.
    assert [r[1] for r in usage].count("dana@example.com") == 2 and len({r[6] for r in usage}) == 3

    # An hour later Cursor reports bob's event with revised figures; the next run's overlap re-fetches it.
    revised = api_event(same_ms, "bob@example.com", "gpt-5", (120, 10, 1000, 70), charged_cents=25)
    team.events = [twin, dict(twin), revised]
    team.windows.clear()
    [second] = jobs.sync(context(engine, server, f"acme={KEY}", now=NOW + HOUR), SyncRequest())
    assert second.ok and second.records == 3
    usage, daily = rows_of(engine)
    assert len(usage) == 3, usage
    bob = [r for r in usage if r[1] == "bob@example.com"]
    assert [(r[2], r[3], r[4]) for r in bob] == [(120, 70, Decimal("0.25"))]  # stored once, as revised
    assert [r[1] for r in usage].count("dana@example.com") == 2  # the twins are both still there
    day = (NOW - 2 * HOUR).date()
    assert (day, "bob@example.com", 120, Decimal("0.25"), 1) in daily
    assert (day, "dana@example.com", 20, Decimal("0.04"), 2) in daily

    # Re-running with nothing changed changes nothing.
    [third] = jobs.sync(context(engine, server, f"acme={KEY}", now=NOW + 2 * HOUR), SyncRequest())
    assert third.ok and rows_of(engine) == (usage, daily)


def test_a_revision_past_the_overlap_is_fixed_by_an_explicit_resync_of_the_day(
    database: str, server: FakeCursorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    team = server.add_team(KEY, events=good_events())
    assert _sync_day(capsys)[0] == 0
    team.events = [good_events()[0], api_event(to_ms(T + HOUR), "bob@example.com", "gpt-5", (25, 1, 200, 6))]
    team.windows.clear()
    code, payload = _sync_day(capsys)
    assert code == 0 and payload["results"][0]["records"] == 2
    usage, daily = stored(database)
    assert sorted((r[1], r[2]) for r in usage) == [("bob@example.com", 25), ("dana@example.com", 10)]
    assert sum(r[4] for r in daily) == 2


def test_a_resync_keeps_csv_rows_the_api_does_not_return_and_takes_over_those_it_does(
    database: str, server: FakeCursorServer, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = (
        "Date,User,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost\n"
        # The same event as the API's first one (0 cache writes, 10 input, 100 cache read, 5 output)...
        f"{T:%Y-%m-%dT%H:%M:%S}.000Z,dana@example.com,gpt-5,0,10,100,5,115,0.02\n"
        # ...and one the API does not return.
        f"{T + 4 * HOUR:%Y-%m-%dT%H:%M:%S}.000Z,carol@example.com,gpt-5,1,1,1,1,4,0.01\n"
    )
    assert run(capsys, "import", "cursor-csv", str(write(tmp_path, csv)), "--org", "acme")[0] == 0
    server.add_team(KEY, events=good_events())
    for _ in range(2):
        assert _sync_day(capsys)[0] == 0
        usage, daily = stored(database)
        assert sorted((r[1], r[5]) for r in usage) == [
            ("bob@example.com", "api"),
            ("carol@example.com", "csv"),
            ("dana@example.com", "api"),
        ]
        assert sum(r[4] for r in daily) == 3
