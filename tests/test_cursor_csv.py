"""Cursor CSV import: every header variant and value quirk, refusals with line numbers, idempotence,
and agreement with the API sync on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.settings import Settings
from providers.cursor import SPEC as CURSOR
from providers.cursor import csv_import as cursor_csv
from providers.cursor.client import CursorClient, to_ms
from providers.cursor.csv_import import DISJOINT, SUPERSET, CsvImportError, import_cursor_csv
from providers.cursor.jobs import make_jobs
from providers.cursor.settings import CursorSettings
from providers.pacing import RatePacer
from providers.spec import JobContext, ProviderKey, SyncRequest
from storage.db import transaction
from storage.models import Usage, UsageDaily
from storage.writes import refresh_daily_rollup
from tests.fakes.cursor_server import FakeClock, FakeCursorServer, api_event, running

ORG = "cursor:acme"

TEAM = (
    '"Date","User","Kind","Model","Max Mode","Input (w/ Cache Write)","Input (w/o Cache Write)",'
    '"Cache Read","Output Tokens","Total Tokens","Cost"\n'
    """\
"2025-12-02T01:46:34.592Z","dana@example.com","Included","auto","No","22783","2263","683776","3314","712136","Included"
"2025-12-02T01:46:34.592Z","dana@example.com","Included","auto","No","100","0","1,000","10","1,110","$0.12"
"2025-12-02T01:46:34.592Z","dana@example.com","Included","auto","No","100","0","1,000","10","1,110","$0.12"
"2025-12-01T23:10:00.001Z","Bob@Example.com","Usage-based","claude-4-sonnet","Yes","9541","117382","1383578","13232","1523733","0.06"
"2025-12-01T22:00:00.000Z","bob@example.com","Errored, No Charge","claude-4-sonnet","No","","","","","","0"
"2025-12-01T21:00:00.000Z","bob@example.com","Free","cursor-grok-4.5-high-fast","No","1","2","3","4","10","Free"
"""
)

INDIVIDUAL = """\
Date,Kind,Model,Max Mode,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost
"2025-12-02T01:46:34.592Z","Included","auto","No","22783","2263","683776","3314","712136","0.03"
"2025-12-01T01:00:00.000Z","On-Demand","composer-1","No","10","20","30","40","100","0.003"
"""

V3_TEAM = (
    "Date,User,Cloud Agent ID,Automation ID,Kind,Model,Max Mode,Input (w/ Cache Write),Input (w/o Cache Write),"
    "Cache Read,Output Tokens,Total Tokens,Cost\n"
    """\
2026-09-15T10:00:00.000Z,ann@example.com,bc-123,"nightly ""lint"", then fix",Usage-based,gpt-5,No,5,6,7,8,26,$1.50
2026-09-15T09:00:00.000Z,ann@example.com,,,Included,auto,Yes,1,1,1,1,4,Included
"""
)

TEAM_REQUESTS = """\
Date,User,Kind,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Requests
2026-03-01T10:00:00.000Z,ann@example.com,Included,auto,5,6,7,8,26,1
2026-03-01T09:00:00.000Z,ann@example.com,Included,auto,0,0,0,0,0,1
"""

OLD = """\
Date,User,Kind,Max Mode,Model,Tokens,Cost ($)
2025-06-01T10:00:00.000Z,ann@example.com,Usage-based,No,claude-4-sonnet,1200,0.50
"""

# "Input (w/ Cache Write)" as a superset of "w/o": Total = w/ + cache read + output.
MID_SUPERSET = """\
Date,User,Kind,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output,Total Tokens,Cost ($)
2025-08-01T10:00:00.000Z,ann@example.com,Usage-based,gpt-5,150,100,1000,50,1200,0.10
2025-08-01T09:00:00.000Z,ann@example.com,Usage-based,gpt-5,30,10,100,5,135,0.01
2025-08-01T08:00:00.000Z,ann@example.com,Usage-based,gpt-5,1,1,1,1,999,0.01
"""


def write(tmp_path: Path, text: str, *, name: str = "usage.csv", bom: bool = False, crlf: bool = False) -> Path:
    path = tmp_path / name
    if crlf:
        text = text.replace("\n", "\r\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def totals(engine: Engine) -> tuple[int, int, Decimal]:
    tokens = Usage.input_tokens + Usage.cache_write_tokens + Usage.cache_read_tokens + Usage.output_tokens
    with transaction(engine) as s:
        count, total, cost = s.execute(
            select(func.count(), func.coalesce(func.sum(tokens), 0), func.coalesce(func.sum(Usage.cost_usd), 0))
        ).one()
    return int(count), int(total), Decimal(cost)


def test_team_export_with_bom_crlf_quotes_and_every_cost_form(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, TEAM, bom=True, crlf=True)
    summary = import_cursor_csv(engine, path, org_id=ORG)
    assert summary.rows == 6 and summary.imported == 5
    assert dict(summary.skipped) == {"no tokens and no cost": 1}
    assert summary.reading == DISJOINT and summary.mismatched_rows == 0
    assert summary.users == {"dana@example.com", "bob@example.com"}
    assert summary.days == {date(2025, 12, 1), date(2025, 12, 2)}
    assert summary.cost_usd == Decimal("0.30")  # Included 0 + 0.12 + 0.12 + 0.06 + Free 0
    tokens = 712136 + 2 * 1110 + 1523733 + 10
    assert summary.total_tokens == tokens
    assert summary.new_rows == 5
    assert totals(engine) == (5, tokens, Decimal("0.30"))
    with transaction(engine) as s:
        rows = s.scalars(select(Usage).order_by(Usage.event_ts_ms)).all()
        first = next(r for r in rows if r.output_tokens == 3314)
        # Disjoint reading: w/ Cache Write is the cache write, w/o is plain input.
        assert (first.input_tokens, first.cache_write_tokens, first.cache_read_tokens) == (2263, 22783, 683776)
        assert first.event_ts_ms == to_ms(datetime(2025, 12, 2, 1, 46, 34, 592000, tzinfo=UTC))
        assert (first.source, first.org_id, first.raw_model, first.max_mode) == ("csv", ORG, "auto", False)
        bob = next(r for r in rows if r.output_tokens == 13232)
        assert (bob.email, bob.kind, bob.max_mode, bob.cost_usd) == (
            "bob@example.com",
            "Usage-based",
            True,
            Decimal("0.06"),
        )
        # The two identical same-millisecond rows are two events, both kept.
        assert sum(1 for r in rows if r.output_tokens == 10) == 2
        assert s.scalar(select(func.sum(UsageDaily.records))) == 5


def test_reimporting_the_same_file_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, TEAM)
    import_cursor_csv(engine, path, org_id=ORG)
    before = totals(engine)
    again = import_cursor_csv(engine, path, org_id=ORG, batch_size=2)
    assert again.new_rows == 0 and again.imported == 5
    assert totals(engine) == before


def test_a_personal_export_needs_a_user(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, INDIVIDUAL)
    with pytest.raises(CsvImportError) as caught:
        import_cursor_csv(engine, path, org_id=ORG)
    assert caught.value.line == 1 and "--user EMAIL" in str(caught.value)
    summary = import_cursor_csv(engine, path, org_id=ORG, user="Me@Example.com")
    assert summary.users == {"me@example.com"} and summary.imported == 2
    assert totals(engine) == (2, 712136 + 100, Decimal("0.033"))


def test_2026_export_with_agent_columns_and_quoted_commas(engine: Engine, tmp_path: Path) -> None:
    summary = import_cursor_csv(engine, write(tmp_path, V3_TEAM), org_id=ORG)
    assert summary.imported == 2 and summary.mismatched_rows == 0
    assert totals(engine) == (2, 26 + 4, Decimal("1.50"))


def test_requests_export_has_no_cost_and_skips_empty_rows(engine: Engine, tmp_path: Path) -> None:
    summary = import_cursor_csv(engine, write(tmp_path, TEAM_REQUESTS), org_id=ORG)
    assert not summary.has_cost and summary.imported == 1 and summary.skipped["no tokens and no cost"] == 1
    assert totals(engine) == (1, 26, Decimal(0))


def test_old_single_tokens_column(engine: Engine, tmp_path: Path) -> None:
    summary = import_cursor_csv(engine, write(tmp_path, OLD), org_id=ORG)
    assert summary.imported == 1 and not summary.checked_totals
    with transaction(engine) as s:
        row = s.scalars(select(Usage)).one()
    assert (row.input_tokens, row.cost_usd, row.max_mode) == (1200, Decimal("0.50"), False)


def test_superset_reading_is_detected_per_file_and_misfits_are_reported(engine: Engine, tmp_path: Path) -> None:
    summary = import_cursor_csv(engine, write(tmp_path, MID_SUPERSET), org_id=ORG)
    assert summary.reading == SUPERSET
    assert summary.mismatched_rows == 1 and summary.mismatched_lines == [4]
    with transaction(engine) as s:
        row = s.scalars(select(Usage).where(Usage.output_tokens == 50)).one()
    # Superset: cache write = w/ - w/o = 50, input = w/o = 100; the four add up to Total Tokens.
    assert (row.input_tokens, row.cache_write_tokens, row.cache_read_tokens) == (100, 50, 1000)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (TEAM.replace('"Model",', ""), 1, "missing column(s) Model"),
        (TEAM.replace("2025-12-01T23:10:00.001Z", "yesterday"), 5, "unreadable Date 'yesterday'"),
        (TEAM.replace('"0.06"', '"0.06","extra"'), 5, "expected 11 values as in the header, found 12"),
        (TEAM.replace('"9541"', '"95x1"'), 5, "unreadable Input (w/ Cache Write) '95x1'"),
        (TEAM.replace('"$0.12"\n', '"twelve"\n', 1), 3, "unreadable Cost 'twelve'"),
        (
            TEAM + '"2025-12-01T20:00:00.000Z","a@example.com","Included","auto","No","1","1","1","1","4","0\n',
            8,
            "malformed",
        ),
        ("", 1, "the file is empty"),
    ],
)
def test_a_malformed_file_is_refused_with_its_line_and_stores_nothing(
    engine: Engine, tmp_path: Path, text: str, line: int, problem: str
) -> None:
    # Something already stored must stay exactly as it is.
    import_cursor_csv(engine, write(tmp_path, V3_TEAM, name="before.csv"), org_id=ORG)
    before = totals(engine)
    path = write(tmp_path, text, crlf=True)
    with pytest.raises(CsvImportError) as caught:
        # Tiny batches: had anything been written before the bad line, it would show.
        import_cursor_csv(engine, path, org_id=ORG, batch_size=1)
    assert caught.value.line == line, str(caught.value)
    assert problem in str(caught.value)
    assert totals(engine) == before


def test_identical_events_apart_in_an_unsorted_file_are_both_kept(engine: Engine, tmp_path: Path) -> None:
    text = """\
Date,User,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost
2025-12-01T10:00:00.000Z,ann@example.com,auto,1,1,1,1,4,0.01
2025-12-01T12:00:00.000Z,ann@example.com,auto,2,2,2,2,8,0.01
2025-12-01T10:00:00.000Z,ann@example.com,auto,1,1,1,1,4,0.01
"""
    summary = import_cursor_csv(engine, write(tmp_path, text), org_id=ORG)
    assert not summary.sorted_by_time and summary.imported == 3
    assert totals(engine) == (3, 16, Decimal("0.03"))


def test_dry_run_reports_and_stores_nothing(engine: Engine, tmp_path: Path) -> None:
    summary = import_cursor_csv(engine, write(tmp_path, TEAM), org_id=ORG, dry_run=True)
    assert summary.imported == 5 and summary.cost_usd == Decimal("0.30") and summary.new_rows is None
    assert totals(engine) == (0, 0, Decimal(0))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeCursorServer]:
    with running(FakeCursorServer(clock=clock)) as srv:
        yield srv


def _sync(engine: Engine, server: FakeCursorServer, clock: FakeClock, day: date) -> None:
    def factory(settings: CursorSettings, key: ProviderKey) -> CursorClient:
        pacer = RatePacer(20, 60.0, clock=clock, sleep=clock.sleep)
        return CursorClient(key.key.get_secret_value(), who="t", base_url=settings.cursor_base_url, pacer=pacer)

    settings = Settings(CURSOR_ADMIN_KEYS="acme=key_acme", CURSOR_BASE_URL=server.base_url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    [result] = make_jobs(factory).sync(
        JobContext(settings.provider(CURSOR), engine, now=lambda: now), SyncRequest(day, day)
    )
    assert result.ok, result.message


def _same_events_from_the_api() -> list[dict]:
    """The TEAM file's events as the API reports them: cents, `default` for `auto`, separate token fields."""
    same = to_ms(datetime(2025, 12, 2, 1, 46, 34, 592000, tzinfo=UTC))
    bob = to_ms(datetime(2025, 12, 1, 23, 10, 0, 1000, tzinfo=UTC))
    free = to_ms(datetime(2025, 12, 1, 21, tzinfo=UTC))
    return [
        api_event(same, "dana@example.com", "default", (2263, 22783, 683776, 3314), total_cents=0),
        api_event(same, "dana@example.com", "default", (0, 100, 1000, 10), charged_cents=12),
        api_event(same, "dana@example.com", "default", (0, 100, 1000, 10), charged_cents=12),
        api_event(bob, "bob@example.com", "claude-4-sonnet", (117382, 9541, 1383578, 13232), charged_cents=6),
        api_event(free, "bob@example.com", "cursor-grok-4.5-high-fast", (2, 1, 3, 4), total_cents=0),
    ]


@pytest.mark.parametrize("csv_first", [True, False], ids=["csv-then-api", "api-then-csv"])
def test_csv_and_api_rows_of_the_same_events_are_never_counted_twice(
    engine: Engine, tmp_path: Path, server: FakeCursorServer, clock: FakeClock, csv_first: bool
) -> None:
    server.add_team("key_acme", events=_same_events_from_the_api())
    path = write(tmp_path, TEAM)
    steps = [lambda: import_cursor_csv(engine, path, org_id=ORG)] + [
        lambda d=d: _sync(engine, server, clock, d) for d in (date(2025, 12, 1), date(2025, 12, 2))
    ]
    for step in steps if csv_first else steps[::-1]:
        step()
    count, tokens, _cost = totals(engine)
    assert (count, tokens) == (5, 712136 + 2 * 1110 + 1523733 + 10)
    with transaction(engine) as s:
        assert s.scalar(select(func.sum(UsageDaily.records))) == 5


def _big_file(path: Path, rows: int) -> Path:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Date,User,Kind,Model,Max Mode,Input (w/ Cache Write),Input (w/o Cache Write),")
        handle.write("Cache Read,Output Tokens,Total Tokens,Cost\n")
        for i in range(rows):
            moment = start + timedelta(seconds=i * 7)
            handle.write(f"{moment:%Y-%m-%dT%H:%M:%S}.000Z,user{i % 50}@example.com,Included,auto,No,1,2,3,4,10,0.01\n")
    return path


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    peaks = []
    # Both sizes well past the first batches (the reading sample, caches), where the peak settles.
    for rows in (10_000, 40_000):
        path = _big_file(tmp_path / f"{rows}.csv", rows)
        tracemalloc.start()
        # Batches of 1,000 rows: both files span several, so only growth with the file can show.
        summary = import_cursor_csv(None, path, org_id=ORG, dry_run=True, batch_size=1_000)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert summary.imported == rows
    # Four times the rows, about the same peak (days and users are sets, but there are few of them).
    assert peaks[1] < peaks[0] * 1.3 + 200_000, peaks


# --- one pass, re-reads, and the writer thread ----------------------------------------------------------


def _rollup(engine: Engine) -> list[tuple]:
    columns = [c for c in UsageDaily.__table__.c if c.name != "id"]
    with transaction(engine) as s:
        return sorted(tuple(row) for row in s.execute(select(*columns)))


def _days_file(tmp_path: Path, *, days: int, per_day: int, newest_first: bool) -> Path:
    """A time-sorted team export over several days, two people, two models, identical events included."""
    lines = [
        "Date,User,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost"
    ]
    start = datetime(2025, 11, 1, tzinfo=UTC)
    for d in range(days):
        for i in range(per_day):
            moment = start + timedelta(days=d, minutes=i // 2)  # pairs of rows share a minute
            who = ("ann", "bob")[i % 2]
            model = ("auto", "gpt-5")[(i // 3) % 2]
            lines.append(f"{moment:%Y-%m-%dT%H:%M:%S}.000Z,{who}@example.com,{model},1,2,3,4,10,0.01")
    body = lines[1:][::-1] if newest_first else lines[1:]
    return write(tmp_path, "\n".join([lines[0], *body]) + "\n")


@pytest.mark.parametrize("newest_first", [True, False], ids=["newest-first", "oldest-first"])
def test_days_rolled_up_during_the_import_match_a_full_refresh(
    engine: Engine, tmp_path: Path, newest_first: bool
) -> None:
    # Small batches: days finish (and are rolled up on the writer thread) long before the end of the file.
    path = _days_file(tmp_path, days=6, per_day=40, newest_first=newest_first)
    summary = import_cursor_csv(engine, path, org_id=ORG, batch_size=7)
    assert summary.imported == 240 and summary.new_rows == 240 and summary.sorted_by_time
    during = _rollup(engine)
    with transaction(engine) as s:
        refresh_daily_rollup(s, {("cursor", day) for day in summary.days})
    assert _rollup(engine) == during
    assert sum(row[-1] for row in during) == 240  # records per rollup row add up to every event


def test_a_file_whose_rows_disagree_with_its_first_rows_is_read_again_with_the_right_reading(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first two rows fit the disjoint reading, the three after them the superset one.
    text = """\
Date,User,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost
2025-08-01T10:00:00.000Z,ann@example.com,gpt-5,10,20,30,40,100,0.01
2025-08-01T09:00:00.000Z,ann@example.com,gpt-5,10,20,30,40,100,0.01
2025-08-01T08:00:00.000Z,ann@example.com,gpt-5,150,100,1000,50,1200,0.10
2025-08-01T07:00:00.000Z,ann@example.com,gpt-5,30,10,100,5,135,0.01
2025-08-01T06:00:00.000Z,ann@example.com,gpt-5,60,20,100,5,165,0.01
"""
    monkeypatch.setattr("providers.cursor.csv_import.READING_SAMPLE", 2)
    summary = import_cursor_csv(engine, write(tmp_path, text), org_id=ORG, batch_size=1)
    assert summary.reading == SUPERSET and summary.mismatched_lines == [2, 3]
    # Nothing of the first read survives: five rows, stored under the superset reading only.
    assert summary.imported == 5 and summary.new_rows == 5
    with transaction(engine) as s:
        rows = s.execute(select(Usage.input_tokens, Usage.cache_write_tokens).order_by(Usage.event_ts_ms)).all()
    assert [tuple(r) for r in rows] == [(20, 40), (10, 20), (100, 50), (20, 0), (20, 0)]
    assert _rollup(engine)[0][-1] == 5


def test_an_unsorted_file_found_late_is_read_again_numbering_across_the_file(engine: Engine, tmp_path: Path) -> None:
    rows = [f"2025-12-01T{h:02d}:00:00.000Z,ann@example.com,auto,1,1,1,1,4,0.01" for h in range(10, 20)]
    rows.append("2025-12-01T10:00:00.000Z,ann@example.com,auto,1,1,1,1,4,0.01")  # the first event again, at the end
    text = "Date,User,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost\n"
    summary = import_cursor_csv(engine, write(tmp_path, text + "\n".join(rows) + "\n"), org_id=ORG, batch_size=2)
    assert not summary.sorted_by_time and summary.imported == 11 and summary.new_rows == 11
    assert totals(engine) == (11, 44, Decimal("0.11"))
    assert _rollup(engine)[0][-1] == 11


def test_a_failing_write_on_the_writer_thread_stores_nothing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_cursor_csv(engine, write(tmp_path, V3_TEAM, name="before.csv"), org_id=ORG)
    before, rollup_before = totals(engine), _rollup(engine)
    real_merge = cursor_csv.merge_staged
    calls = []

    def merge_then_fail(session: Session, spec: object, *, new_keys: bool = False) -> None:
        calls.append(spec)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        real_merge(session, spec, new_keys=new_keys)  # type: ignore[arg-type]

    monkeypatch.setattr(cursor_csv, "merge_staged", merge_then_fail)
    interval = sys.getswitchinterval()
    path = _days_file(tmp_path, days=3, per_day=10, newest_first=True)
    with pytest.raises(RuntimeError, match="went away"):
        import_cursor_csv(engine, path, org_id=ORG, batch_size=4)
    assert len(calls) == 3
    assert totals(engine) == before and _rollup(engine) == rollup_before
    assert sys.getswitchinterval() == interval


def test_rows_of_days_the_team_had_nothing_on_go_in_without_conflict_checks(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_merge = cursor_csv.merge_staged
    plain: list[bool] = []

    def recording_merge(session: Session, spec: object, *, new_keys: bool = False) -> None:
        plain.append(new_keys)
        real_merge(session, spec, new_keys=new_keys)  # type: ignore[arg-type]

    monkeypatch.setattr(cursor_csv, "merge_staged", recording_merge)
    first = import_cursor_csv(engine, _days_file(tmp_path, days=3, per_day=10, newest_first=True), org_id=ORG)
    assert plain == [True] and first.new_rows == 30

    # The same three days again plus a fourth, newest first in batches of 7: the fourth day's own batch is
    # inserted plainly; the batch that reaches into a stored day, and every later one, is an upsert.
    plain.clear()
    path = _days_file(tmp_path, days=4, per_day=10, newest_first=True)
    second = import_cursor_csv(engine, path, org_id=ORG, batch_size=7)
    assert plain == [True, False, False, False, False, False]
    assert second.imported == 40 and second.new_rows == 10
    assert totals(engine) == (40, 400, Decimal("0.40"))
    during = _rollup(engine)
    with transaction(engine) as s:
        refresh_daily_rollup(s, {("cursor", day) for day in second.days})
    assert _rollup(engine) == during


def test_a_superset_file_is_read_again_once_its_first_rows_say_so(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every row fits only the superset reading (w/ includes w/o); the first read assumes disjoint, counts
    # the sample's rows and starts again from the top, storing nothing of its own.
    rows = [f"2025-08-01T{h:02d}:00:00.000Z,ann@example.com,gpt-5,30,10,100,5,135,0.01" for h in range(10, 0, -1)]
    text = "Date,User,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost\n"
    opened: list[int] = []
    real_reader = cursor_csv._csv_reader

    def counting_reader(path: Path) -> AbstractContextManager[Any]:
        opened.append(1)
        return real_reader(path)

    monkeypatch.setattr(cursor_csv, "_csv_reader", counting_reader)
    monkeypatch.setattr(cursor_csv, "READING_SAMPLE", 3)
    summary = import_cursor_csv(engine, write(tmp_path, text + "\n".join(rows) + "\n"), org_id=ORG, batch_size=1)
    assert len(opened) == 2 and summary.reading == SUPERSET and summary.mismatched_rows == 0
    assert summary.imported == 10 and summary.new_rows == 10
    with transaction(engine) as s:
        stored = s.execute(select(Usage.input_tokens, Usage.cache_write_tokens)).all()
    assert {tuple(r) for r in stored} == {(10, 20)} and len(stored) == 10


def test_sums_past_the_columns_under_the_assumed_reading_ask_for_the_other_one_first(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read as disjoint, two rows' cache writes add up past BIGINT; read as superset (as their totals say),
    # the cache write is ten tokens a row and the file fits.
    big, plain = 2**62, 2**62 - 10
    rows = [f"2025-08-01T{h:02d}:00:00.000Z,ann@example.com,gpt-5,{big},{plain},1,1,{big + 2},0.01" for h in (11, 10)]
    text = "Date,User,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost\n"
    monkeypatch.setattr(cursor_csv, "READING_SAMPLE", 1_000)
    summary = import_cursor_csv(engine, write(tmp_path, text + "\n".join(rows) + "\n"), org_id=ORG)
    assert summary.reading == SUPERSET and summary.cache_write_tokens == 20 and summary.input_tokens == 2 * plain
