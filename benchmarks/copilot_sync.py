"""GitHub Copilot sync ingest throughput from the fake GitHub API, with no network delay, beside the bulk load.

    .venv/bin/python -m benchmarks.copilot_sync [--people 5000] [--days 3]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

``--people`` GitHub logins, each with a record every day (credits, activity, per-model counts, Copilot CLI
tokens for one in three), served by ``tests.fakes.github_copilot_server.FakeGitHub`` in its own process on
127.0.0.1 as two NDJSON parts per day behind short-lived download links, through
``providers.copilot.sync.sync_org`` (seats included: every other login has an email there). Each person-day
is one usage row and one activity row. "First sync" writes into an empty database (and remembers the seat
emails); "re-sync" is the same days again into that database, which is what every scheduled run is (it
re-reads the settling window). The yardsticks bulk-load the stored usage rows into a bare table and into the
usage table of a fresh database (``benchmarks/bulk_load.py``). Fixed seed; sizes bounded by the arguments.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine

from benchmarks.cursor_csv_import import drop_postgres, fresh_postgres
from benchmarks.sync_ingest import NOW, _remove, _with_server, measure
from providers.copilot.client import CopilotClient
from providers.copilot.settings import Scope
from providers.copilot.sync import sync_org

FIRST_DAY = date(2026, 11, 1)
TOKEN = "ghp_benchCopilotToken000000000000"  # noqa: S105 - the fake server's own token
MODELS = ("claude-sonnet-4.5", "gpt-5", "gemini-2.5-pro")
SCOPE = Scope("bench", enterprise=False)


def _serve(conn: Connection, people: int, days: int, seed: int) -> None:
    from tests.fakes.github_copilot_server import FakeGitHub, record

    rng = random.Random(seed)  # noqa: S311 - benchmark data, not security
    fake = FakeGitHub(TOKEN, link_lifetime=3_600)
    org = fake.org("bench")
    for n in range(people):
        org.add_seat(f"dev-{n}", 10_000 + n, f"dev{n}@example.com" if n % 2 else None)
        for d in range(days):
            org.add(
                record(
                    FIRST_DAY + timedelta(days=d),
                    f"dev-{n}",
                    10_000 + n,
                    credits=Decimal(rng.randint(0, 4_000)) / 4,
                    interactions=rng.randint(0, 60),
                    generations=rng.randint(0, 200),
                    acceptances=rng.randint(0, 80),
                    added=rng.randint(0, 900),
                    deleted=rng.randint(0, 200),
                    cli=(rng.randint(1_000, 90_000), rng.randint(100, 9_000)) if n % 3 == 0 else None,
                    models={m: rng.randint(1, 20) for m in rng.sample(MODELS, rng.randint(0, 2))},
                )
            )
    conn.send(fake.url)
    conn.recv()
    fake.close()


def _sync(engine: Engine, url: str, days: int, *, rounds: int = 1) -> tuple[int, float]:
    """The last of ``rounds`` syncs of the same days."""
    wanted = [FIRST_DAY + timedelta(days=d) for d in range(days)]
    rows, seconds = 0, 0.0
    for _ in range(rounds):
        client = CopilotClient(TOKEN, who="GitHub Copilot organisation bench", scope_path=SCOPE.path, base_url=url)
        started = time.perf_counter()
        with client:
            result = sync_org(engine, client, SCOPE, wanted, now=lambda: NOW)
        seconds = time.perf_counter() - started
        if result.error is not None or len(result.days_done) != days:
            raise SystemExit(f"Copilot sync failed: {result.error or result.days_without_report}")
        rows = result.rows
    return rows, seconds


def _resync(engine: Engine, url: str, days: int) -> tuple[int, float]:
    return _sync(engine, url, days, rounds=2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=5_000, help="GitHub logins, each with a record every day")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a throwaway database is created and dropped)")
    parser.add_argument("--dir", type=Path, default=Path("."), help="where the SQLite files go (removed after)")
    args = parser.parse_args(argv)
    url, stop = _with_server(_serve, args.people, args.days, args.seed)
    print(f"GitHub Copilot: {args.people:,} people x {args.days} days\n")
    print("| database | source | rows | sync | sync rows/s | bulk, bare table | ratio | bulk, usage table | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    try:
        for dialect in ["sqlite"] + (["postgresql"] if args.postgres else []):
            for source, sync in (("Copilot, first sync", _sync), ("Copilot, re-sync", _resync)):
                files: list[Path] = []
                if dialect == "sqlite":
                    files = [args.dir / f"bench-copilot-{kind}.db" for kind in ("sync", "bare", "usage")]
                    for f in files:
                        _remove(f)
                    urls = [f"sqlite:///{f}" for f in files]
                else:
                    urls = [fresh_postgres(args.postgres) for _ in range(3)]
                try:
                    m = measure(urls, "copilot", sync, url, args.days)
                finally:
                    if dialect == "postgresql":
                        for made in urls:
                            drop_postgres(args.postgres, made)
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
        stop()


if __name__ == "__main__":
    main()
