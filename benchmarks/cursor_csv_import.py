"""Cursor CSV import throughput: generate a team export, import it into fresh SQLite and PostgreSQL databases.

    .venv/bin/python benchmarks/cursor_csv_import.py [--rows 200000] [--postgres postgresql://postgres@127.0.0.1/postgres]

Each import runs in its own process (so its peak memory is its own) into a freshly migrated database,
and is timed end to end: reading and checking the file, the batched upserts, the rollup refresh, the commit.

Beside it, the yardsticks (``benchmarks/bulk_load.py``): the very rows the import stored, read back and
loaded by the database's own bulk path (PostgreSQL ``COPY``, SQLite ``executemany`` in one transaction),
once into a bare table with the same columns and once into the ``usage`` table of a fresh database (its
key and indexes, no upsert, no rollup). The figures are import rows/s divided by each bulk rows/s
(target: at least 1/3).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADER = (
    "Date,User,Kind,Model,Max Mode,Input (w/ Cache Write),Input (w/o Cache Write),"
    "Cache Read,Output Tokens,Total Tokens,Cost\n"
)
MODELS = ["auto", "claude-4.5-sonnet", "gpt-5", "composer-1", "claude-4-sonnet-thinking"]


def generate(path: Path, rows: int, users: int = 2_000, seed: int = 7) -> None:
    """A 30-day team export, newest first, like the dashboard writes it."""
    rng = random.Random(seed)  # noqa: S311 - test data
    end = datetime(2026, 11, 1, tzinfo=UTC)
    step = timedelta(days=30) / rows
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER)
        for i in range(rows):
            moment = end - step * i
            cw, inp, cr, out = (
                rng.randint(0, 30_000),
                rng.randint(0, 5_000),
                rng.randint(0, 900_000),
                rng.randint(0, 15_000),
            )
            cost = f"{rng.random() * 0.5:.4f}" if rng.random() < 0.7 else "Included"
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
            handle.write(
                f'"{stamp}","user{rng.randrange(users)}@example.com","Included","{rng.choice(MODELS)}","No",'
                f'"{cw}","{inp}","{cr}","{out}","{cw + inp + cr + out}","{cost}"\n'
            )


def import_once(url: str, path: Path) -> dict[str, object]:
    from providers.cursor.csv_import import import_cursor_csv
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    summary = import_cursor_csv(engine, path, org_id="cursor:bench")
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "rows": summary.rows,
        "imported": summary.imported,
        "seconds": round(seconds, 2),
        "rows_per_second": round(summary.rows / seconds),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def import_cli_once(url: str, path: Path) -> dict[str, object]:
    """The whole ``abacus import cursor-csv`` command as an operator runs it (start-up, settings, schema
    check, team lock, import, summary), timed from spawning the process to its exit, its peak memory from
    the kernel's accounting of that process."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    abacus = Path(sys.executable).with_name("abacus")
    with tempfile.TemporaryDirectory() as home:
        # No .env and no provider keys: the file goes to the documented default Cursor org.
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "DATABASE_URL": url}
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own command
            [str(abacus), "import", "cursor-csv", str(path), "--json"],
            cwd=home,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = process.communicate()
        seconds = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode:
        raise SystemExit(f"abacus import cursor-csv failed ({process.returncode}): {err.decode()[-2000:]}")
    summary = json.loads(out)
    return {
        "rows": summary["rows"],
        "imported": summary["imported"],
        "seconds": round(seconds, 2),
        "rows_per_second": round(summary["rows"] / seconds),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),
    }


def baseline_once(url: str, raw_url: str, into: str) -> dict[str, object]:
    """The rows the import stored at ``url``, bulk-loaded raw at ``raw_url``. Reading happens before the clock."""
    from benchmarks.bulk_load import bulk_load, stored_rows
    from storage.db import make_engine
    from storage.migrate import upgrade

    source = make_engine(url)
    rows = stored_rows(source, "cursor")
    source.dispose()
    engine = make_engine(raw_url)
    if into == "usage":
        upgrade(engine)
    count, seconds = bulk_load(engine, rows, into=into)
    engine.dispose()
    return {"rows": count, "seconds": round(seconds, 2), "rows_per_second": round(count / seconds)}


def fresh_postgres(server_url: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.db import make_engine, normalize_database_url

    url = make_url(normalize_database_url(server_url))
    name = f"abacus_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres(server_url: str, database_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.db import make_engine, normalize_database_url

    admin = make_engine(normalize_database_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'))
    admin.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--postgres", default=os.environ.get("ABACUS_TEST_DATABASE_URL"), help="server URL")
    parser.add_argument("--repeat", type=int, default=1, help="runs per database; the table shows the median")
    parser.add_argument(
        "--cli", action="store_true", help="time the whole `abacus import cursor-csv` command (a process of its own)"
    )
    parser.add_argument("--one", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--one-cli", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--baseline", nargs=3, metavar=("URL", "RAW_URL", "INTO"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(import_once(args.one[0], Path(args.one[1]))))
        return
    if args.one_cli:
        print(json.dumps(import_cli_once(args.one_cli[0], Path(args.one_cli[1]))))
        return
    if args.baseline:
        print(json.dumps(baseline_once(*args.baseline)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "usage.csv"
        generate(csv_path, args.rows)
        size = csv_path.stat().st_size / 2**20
        what = "the whole `abacus import cursor-csv` command" if args.cli else "import_cursor_csv in process"
        print(f"{args.rows:,} rows, {size:.1f} MiB; {what}; {os.cpu_count()} CPUs, {platform.platform()}")
        print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        print(f"median of {args.repeat} run(s), each on fresh databases; ratios are per run (range in brackets)\n")
        print("| database | import | import rows/s | peak RSS | bulk, bare table | ratio | bulk, usage table | ratio |")
        print("|---|---|---|---|---|---|---|---|")
        databases = ["SQLite"] + (["PostgreSQL"] if args.postgres else [])
        for name in databases:
            runs = [
                _measure(name, Path(tmp), csv_path, args.postgres, attempt, cli=args.cli)
                for attempt in range(args.repeat)
            ]
            print(f"| {name} | " + " | ".join(_summarise(runs)) + " |", flush=True)
        print(f"\nload average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


def _measure(
    name: str, tmp: Path, csv_path: Path, server: str | None, attempt: int, *, cli: bool = False
) -> dict[str, float]:
    """One import and its two yardsticks, each into databases of its own."""
    if name == "SQLite":
        urls = [f"sqlite:///{tmp / f'{kind}-{attempt}.db'}" for kind in ("import", "bare", "usage")]
    else:
        assert server is not None
        urls = [fresh_postgres(server) for _ in range(3)]
    try:
        imported = _child("--one-cli" if cli else "--one", urls[0], str(csv_path))
        run = {
            "seconds": float(imported["seconds"]),  # type: ignore[arg-type]
            "rate": float(imported["rows_per_second"]),  # type: ignore[arg-type]
            "rss": float(imported["peak_rss_mib"]),  # type: ignore[arg-type]
        }
        for raw_url, into in ((urls[1], "bare"), (urls[2], "usage")):
            raw = _child("--baseline", urls[0], raw_url, into)
            run[f"{into}_seconds"] = float(raw["seconds"])  # type: ignore[arg-type]
            run[f"{into}_rate"] = float(raw["rows_per_second"])  # type: ignore[arg-type]
            run[f"{into}_ratio"] = run[f"{into}_rate"] / run["rate"]
        return run
    finally:
        if server is not None and name == "PostgreSQL":
            for database in urls:
                drop_postgres(server, database)


def _summarise(runs: list[dict[str, float]]) -> list[str]:
    def mid(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    def ratio(key: str) -> str:
        values = sorted(run[key] for run in runs)
        spread = f" (1/{values[0]:.1f}–1/{values[-1]:.1f})" if len(values) > 1 else ""
        return f"1/{mid(key):.1f}{spread}"

    cells = [f"{mid('seconds'):.1f} s", f"{mid('rate'):,.0f}", f"{max(run['rss'] for run in runs):.0f} MiB"]
    for into in ("bare", "usage"):
        cells += [f"{mid(into + '_seconds'):.2f} s, {mid(into + '_rate'):,.0f}/s", ratio(into + "_ratio")]
    return cells


def _child(mode: str, *args: str) -> dict[str, object]:
    """One measurement in its own interpreter, so its peak memory is its own."""
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, mode, *args], check=True, capture_output=True, text=True
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


if __name__ == "__main__":
    main()
