"""Sync ingest throughput from the fake provider servers, with no network delay, beside the raw bulk load.

    .venv/bin/python -m benchmarks.sync_ingest [--actors 5000] [--cc-days 3] [--events 20000] [--cursor-days 3]
        [--seats 2000] [--enterprise-days 3] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Claude Code: ``--actors`` people a day, each with one or two models, paged 1,000 records a request, through
``providers.anthropic.sync.sync_org`` against ``tests.fakes.anthropic_server.FakeAnthropic``. Cursor:
``--events`` events a day through ``providers.cursor.sync.range_sync`` against
``tests.fakes.cursor_server.FakeCursorServer`` (its rate limit off, 1,000 events a page). Claude Enterprise:
``--seats`` people, each active every day with one or two models, through
``providers.claude_enterprise.sync.sync_org`` against ``tests.fakes.claude_enterprise_server.FakeEnterprise``
(its rate limit off, each report built once per query rather than once per page; 1,000 rows a page of
activity, usage and cost) with a pacer that never waits. Each fake server
runs in its own process on 127.0.0.1, so its JSON encoding does not compete with the sync for the GIL.
Each sync writes into a freshly migrated database; the yardsticks then bulk-load the very rows the sync
stored into a bare table and into the usage table of a fresh database (``benchmarks/bulk_load.py``). The
figures are sync rows/s divided by each bulk rows/s. Claude Enterprise is measured twice: a first sync,
which also remembers every seat's user id -> email mapping, and a re-sync of the same days (what every
scheduled run is, as it re-reads a 32-day window), timed on its second run into the same database.
Fixed seed; sizes bounded by the arguments.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine

from benchmarks.bulk_load import bulk_load, stored_rows
from benchmarks.cursor_csv_import import drop_postgres, fresh_postgres
from providers.anthropic.client import AnthropicClient
from providers.anthropic.sync import sync_org
from providers.claude_enterprise import sync as enterprise_sync
from providers.claude_enterprise.client import EnterpriseClient
from providers.cursor.client import CursorClient
from providers.cursor.sync import range_sync
from providers.pacing import RatePacer
from storage.db import make_engine
from storage.migrate import upgrade

FIRST_DAY = date(2026, 11, 1)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
CC_KEY = "sk-ant-admin01-bench"
CURSOR_KEY = "key_bench"
ENTERPRISE_KEY = "sk-ant-api01-bench"
CC_MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001")
CURSOR_MODELS = ("claude-4.5-sonnet", "gpt-5", "composer-1", "auto")


# --- fake servers, each in its own process ------------------------------------------------------------


def _serve_anthropic(conn: Connection, actors: int, days: int, seed: int) -> None:
    from tests.fakes.anthropic_server import FakeAnthropic, user

    rng = random.Random(seed)  # noqa: S311 - benchmark data
    fake = FakeAnthropic()
    org = fake.add_org(CC_KEY, "org-bench", "Bench")
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d)
        for i in range(actors):
            models = rng.sample(CC_MODELS, rng.choice((1, 1, 2)))
            org.add_usage(
                day,
                user(f"person{i:05d}@example.com"),
                [(m, rng.randint(1, 9_999), rng.randint(1, 9_999), rng.randint(1, 999_999), 500, 123) for m in models],
                sessions=rng.randint(1, 8),
            )
    conn.send(fake.url)
    conn.recv()  # stop
    fake.close()


def _serve_cursor(conn: Connection, events: int, days: int, seed: int) -> None:
    from tests.fakes.cursor_server import FakeCursorServer, api_event

    rng = random.Random(seed)  # noqa: S311 - benchmark data
    server = FakeCursorServer(limit_per_minute=None)
    start_ms = int(datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC).timestamp() * 1000)
    span = days * 86_400_000
    made = [
        api_event(
            start_ms + rng.randrange(span),
            f"person{rng.randrange(2_000):05d}@example.com",
            rng.choice(CURSOR_MODELS),
            (rng.randint(0, 5_000), rng.randint(0, 30_000), rng.randint(0, 900_000), rng.randint(0, 15_000)),
            total_cents=round(rng.random() * 50, 2),
        )
        for _ in range(events * days)
    ]
    server.add_team(CURSOR_KEY, events=made, members=[])
    server.start()
    conn.send(server.base_url)
    conn.recv()
    server.stop()


def _serve_enterprise(conn: Connection, seats: int, days: int, seed: int) -> None:
    from tests.fakes.claude_enterprise_server import TOOLS, Activity, EnterpriseOrg, FakeEnterprise, Seat

    class Lean(FakeEnterprise):
        """No rate limit, and each report built once per query, not once per page: the sync's cost is what counts."""

        _built: dict[tuple[Any, ...], list[dict[str, Any]]]

        def _rate_limited(self, org: EnterpriseOrg) -> float | None:
            return None

        def _report_rows(
            self,
            org: EnterpriseOrg,
            start: datetime,
            end: datetime,
            groups: set[str],
            products: set[str],
            *,
            cost: bool,
        ) -> list[dict[str, Any]]:
            key = (start, end, frozenset(groups), frozenset(products), cost)
            if key not in self._built:
                self._built[key] = super()._report_rows(org, start, end, groups, products, cost=cost)
            return self._built[key]

    rng = random.Random(seed)  # noqa: S311 - benchmark data
    fake = Lean()
    fake._built = {}
    last = FIRST_DAY + timedelta(days=days - 1)
    org = fake.add_org(ENTERPRISE_KEY, latest_available_day=last, data_refreshed_at=NOW)
    users = [f"user_01bench{i:06d}" for i in range(seats)]
    for i, user_id in enumerate(users):
        org.seats[user_id] = Seat(user_id, f"seat{i:05d}@example.com", f"Seat {i}")
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d)
        for user_id in users:
            for model in rng.sample(CC_MODELS, rng.choice((1, 1, 2))):
                tokens = (
                    rng.randint(1, 9_999),
                    rng.randint(0, 50_000),
                    rng.randint(0, 5_000),
                    rng.randint(1, 999_999),
                    rng.randint(1, 9_999),
                )
                cents = rng.randrange(1, 50_000_000)  # ten-thousandths of a cent
                org.add_usage(
                    user_id,
                    day,
                    model,
                    tokens=tokens,
                    amount=f"{cents // 10_000}.{cents % 10_000:04d}00",
                    requests=rng.randint(1, 200),
                )
            org.add_activity(
                user_id,
                day,
                Activity(
                    sessions=rng.randint(1, 8),
                    added=rng.randint(0, 2_000),
                    removed=rng.randint(0, 800),
                    commits=rng.randint(0, 6),
                    pull_requests=rng.randint(0, 2),
                    tool_actions={name: (rng.randint(0, 40), rng.randint(0, 5)) for name in TOOLS},
                ),
            )
    conn.send(fake.url)
    conn.recv()
    fake.close()


def _with_server(target: Callable[..., None], *args: Any) -> tuple[str, Callable[[], None]]:
    parent, child = mp.get_context("fork").Pipe()
    process = mp.get_context("fork").Process(target=target, args=(child, *args), daemon=True)
    process.start()
    url = parent.recv()

    def stop() -> None:
        parent.send("stop")
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()

    return url, stop


# --- measurements ---------------------------------------------------------------------------------


def _sync_claude_code(engine: Engine, url: str, days: int) -> tuple[int, float]:
    client = AnthropicClient(CC_KEY, who="Claude Code org 'bench'", base_url=url)
    wanted = [FIRST_DAY + timedelta(days=d) for d in range(days)]
    started = time.perf_counter()
    with client:
        result = sync_org(engine, client, wanted, now=lambda: NOW)
    seconds = time.perf_counter() - started
    if result.error is not None:
        raise SystemExit(f"Claude Code sync failed: {result.error}")
    return result.rows, seconds


def _sync_cursor(engine: Engine, url: str, days: int) -> tuple[int, float]:
    pacer = RatePacer(limit=1_000_000, period=1.0)
    client = CursorClient(CURSOR_KEY, who="Cursor team bench", base_url=url, page_size=1_000, pacer=pacer)
    last = FIRST_DAY + timedelta(days=days - 1)
    started = time.perf_counter()
    with client:
        result = range_sync(engine, client, "cursor:bench", first_day=FIRST_DAY, last_day=last, now=NOW)
    return result.stored, time.perf_counter() - started


def _sync_enterprise(engine: Engine, url: str, days: int, *, rounds: int = 1) -> tuple[int, float]:
    """The last of ``rounds`` syncs of the same days (a first sync also remembers every user id -> email)."""
    wanted = [FIRST_DAY + timedelta(days=d) for d in range(days)]
    for _ in range(rounds):
        pacer = RatePacer(limit=1_000_000, period=1.0)
        client = EnterpriseClient(ENTERPRISE_KEY, who="Claude Enterprise org 'bench'", base_url=url, pacer=pacer)
        started = time.perf_counter()
        with client:
            result = enterprise_sync.sync_org(engine, client, "claude-enterprise:bench", wanted, now=lambda: NOW)
        seconds = time.perf_counter() - started
        if result.error is not None or len(result.days_done) != days:
            raise SystemExit(f"Claude Enterprise sync failed: {result.error or result.days_not_ready}")
    return result.rows, seconds


def _resync_enterprise(engine: Engine, url: str, days: int) -> tuple[int, float]:
    return _sync_enterprise(engine, url, days, rounds=2)


def measure(
    urls: list[str], tool: str, sync: Callable[[Engine, str, int], tuple[int, float]], server: str, days: int
) -> dict[str, float]:
    """The sync into ``urls[0]``; the rows it stored, bulk-loaded into a bare table and a fresh usage table."""
    engine = make_engine(urls[0])
    upgrade(engine)
    rows, seconds = sync(engine, server, days)
    stored = stored_rows(engine, tool)
    engine.dispose()
    result = {"rows": rows, "seconds": seconds}
    for raw_url, into in ((urls[1], "bare"), (urls[2], "usage")):
        raw_engine = make_engine(raw_url)
        if into == "usage":
            upgrade(raw_engine)
        loaded, raw_seconds = bulk_load(raw_engine, stored, into=into)
        raw_engine.dispose()
        result[f"{into}_rate"], result[f"{into}_seconds"] = loaded / raw_seconds, raw_seconds
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actors", type=int, default=5_000, help="Claude Code actors per day")
    parser.add_argument("--cc-days", type=int, default=3)
    parser.add_argument("--events", type=int, default=20_000, help="Cursor events per day")
    parser.add_argument("--cursor-days", type=int, default=3)
    parser.add_argument("--seats", type=int, default=2_000, help="Claude Enterprise seat users, active every day")
    parser.add_argument("--enterprise-days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a throwaway database is created and dropped)")
    parser.add_argument("--dir", type=Path, default=Path("."), help="where the SQLite files go (removed after)")
    args = parser.parse_args(argv)

    cc_url, stop_cc = _with_server(_serve_anthropic, args.actors, args.cc_days, args.seed)
    cursor_url, stop_cursor = _with_server(_serve_cursor, args.events, args.cursor_days, args.seed)
    enterprise_url, stop_enterprise = _with_server(_serve_enterprise, args.seats, args.enterprise_days, args.seed)
    print(
        f"Claude Code: {args.actors:,} actors/day x {args.cc_days} days; "
        f"Cursor: {args.events:,} events/day x {args.cursor_days} days; "
        f"Claude Enterprise: {args.seats:,} seats x {args.enterprise_days} days\n"
    )
    print("| database | source | rows | sync | sync rows/s | bulk, bare table | ratio | bulk, usage table | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    try:
        targets = ["sqlite"] + (["postgresql"] if args.postgres else [])
        for dialect in targets:
            for source, tool, sync, server, days in (
                ("claude_code", "claude_code", _sync_claude_code, cc_url, args.cc_days),
                ("cursor", "cursor", _sync_cursor, cursor_url, args.cursor_days),
                ("claude_enterprise", "claude_code", _sync_enterprise, enterprise_url, args.enterprise_days),
                ("claude_enterprise, re-sync", "claude_code", _resync_enterprise, enterprise_url, args.enterprise_days),
            ):
                files: list[Path] = []
                if dialect == "sqlite":
                    files = [
                        args.dir / f"bench-sync-{source.replace(', ', '-')}-{kind}.db"
                        for kind in ("sync", "bare", "usage")
                    ]
                    for f in files:
                        _remove(f)
                    urls = [f"sqlite:///{f}" for f in files]
                else:
                    urls = [fresh_postgres(args.postgres) for _ in range(3)]
                try:
                    m = measure(urls, tool, sync, server, days)
                finally:
                    if dialect == "postgresql":
                        for url in urls:
                            drop_postgres(args.postgres, url)
                    for f in files:
                        _remove(f)
                rate = m["rows"] / m["seconds"]
                cells = [
                    "SQLite" if dialect == "sqlite" else "PostgreSQL",
                    source,
                    f"{int(m['rows']):,}",
                    f"{m['seconds']:.1f} s",
                    f"{rate:,.0f}",
                ]
                for into in ("bare", "usage"):
                    cells += [
                        f"{m[into + '_seconds']:.2f} s, {m[into + '_rate']:,.0f}/s",
                        f"1/{m[into + '_rate'] / rate:.1f}",
                    ]
                print("| " + " | ".join(cells) + " |", flush=True)
    finally:
        stop_cc()
        stop_cursor()
        stop_enterprise()


def _remove(database: Path) -> None:
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(f"{database}.lock")):
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
