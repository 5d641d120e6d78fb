"""OpenAI sync ingest throughput from the fake Admin API, with no network delay, beside the raw bulk load.

    .venv/bin/python -m benchmarks.openai_sync_ingest [--users 2000] [--days 31]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

``--users`` people, each active every day with one or two models through one or two API keys (so results of
one grain arrive split by key and are summed), plus one service-account key, served by
``tests.fakes.openai_server.FakeOpenAI`` in its own process on 127.0.0.1, through
``providers.openai.sync.sync_org``: users list, usage and costs of the whole span (31 daily buckets a page),
each day priced from the genai-prices table and written in its own transaction. Measured twice: a first sync
into a fresh database (which also remembers every user id -> email) and a re-sync of the same days (what every
scheduled run is). The yardsticks bulk-load the very rows the sync stored into a bare table and into the usage
table of a fresh database (``benchmarks/bulk_load.py``), as ``benchmarks/sync_ingest.py`` does for the other
providers. Fixed seed; sizes bounded by the arguments.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine

from benchmarks.cursor_csv_import import drop_postgres, fresh_postgres
from benchmarks.sync_ingest import FIRST_DAY, NOW, _remove, _with_server, measure
from providers.openai.client import OpenAIClient
from providers.openai.sync import sync_org

KEY = "sk-admin-bench"
MODELS = ("gpt-5-codex", "gpt-5.1-codex", "codex-mini-latest", "gpt-5")


def _serve(conn: Connection, users: int, days: int, seed: int) -> None:
    from tests.fakes.openai_server import FakeOpenAI

    rng = random.Random(seed)  # noqa: S311 - benchmark data
    fake = FakeOpenAI()
    org = fake.add_org(KEY)
    ids = [org.add_user(f"dev{i:05d}@example.com", underscore=i % 2 == 1) for i in range(users)]
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d)
        for n, user_id in enumerate(ids):
            for model in rng.sample(MODELS, rng.choice((1, 1, 2))):
                for key in rng.sample((f"key_{n}_laptop", f"key_{n}_ci"), rng.choice((1, 2))):
                    total, cached = rng.randint(10_000, 5_000_000), 0
                    cached = rng.randint(0, total * 3 // 4)
                    org.add_usage(day, model, user=user_id, key=key, tokens=(total, cached, 0, rng.randint(1, 80_000)))
        org.add_usage(day, "gpt-5-codex", key="key_service", tokens=(1_000_000, 500_000, 0, 20_000))
        org.add_cost(day, "gpt-5-codex, input", round(rng.uniform(100, 900), 4))
    conn.send(fake.url)
    conn.recv()
    fake.close()


def _sync(engine: Engine, url: str, days: int, *, rounds: int) -> tuple[int, float]:
    wanted = [FIRST_DAY + timedelta(days=d) for d in range(days)]
    for _ in range(rounds):
        started = time.perf_counter()
        with OpenAIClient(KEY, who="OpenAI org 'bench'", base_url=url) as client:
            result = sync_org(engine, client, "openai:bench", wanted, now=lambda: NOW)
        seconds = time.perf_counter() - started
        if result.error is not None:
            raise SystemExit(f"OpenAI sync failed: {result.error}")
    return result.rows, seconds


def _first(engine: Engine, url: str, days: int) -> tuple[int, float]:
    return _sync(engine, url, days, rounds=1)


def _again(engine: Engine, url: str, days: int) -> tuple[int, float]:
    return _sync(engine, url, days, rounds=2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2_000, help="people, each active every day")
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a throwaway database is created and dropped)")
    parser.add_argument("--dir", type=Path, default=Path("."), help="where the SQLite files go (removed after)")
    args = parser.parse_args(argv)

    url, stop = _with_server(_serve, args.users, args.days, args.seed)
    print(f"OpenAI: {args.users:,} people x {args.days} days\n")
    print("| database | source | rows | sync | sync rows/s | bulk, bare table | ratio | bulk, usage table | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    try:
        for dialect in ["sqlite"] + (["postgresql"] if args.postgres else []):
            for source, sync in (("openai, first sync", _first), ("openai, re-sync", _again)):
                files: list[Path] = []
                if dialect == "sqlite":
                    files = [args.dir / f"bench-openai-{source[8:].replace(' ', '-')}-{k}.db" for k in ("s", "b", "u")]
                    for f in files:
                        _remove(f)
                    urls = [f"sqlite:///{f}" for f in files]
                else:
                    assert args.postgres
                    urls = [fresh_postgres(args.postgres) for _ in range(3)]
                try:
                    m = measure(urls, "openai", sync, url, args.days)
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
