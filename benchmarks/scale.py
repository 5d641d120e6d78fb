"""The scale table (question, figure before the coarser rollups, target): each question's whole answer,
measured on SQLite and PostgreSQL side by side.

    .venv/bin/python -m benchmarks.run --url sqlite:///real.db --real --repeat 1          # generate once
    .venv/bin/python -m benchmarks.run --url postgresql://…/real --real --repeat 1        # (each database)
    .venv/bin/python -m benchmarks.scale --sqlite sqlite:///real.db --postgres postgresql://…/real

Every answer goes through ``Services.answer`` as `/abacus …` from Slack (and `abacus ask`) would: the
queries, the freshness footer, the blocks and the chart, everything before the Slack upload. The data is
what ``--sqlite`` and ``--postgres`` already hold (``benchmarks.run --real`` writes the real shape); a team
``bench`` of 100 people is added if missing. Medians of ``--repeat`` warm runs, printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from charts import memo
from storage.db import make_engine, transaction
from storage.models import UsageDaily

NOW = datetime(2026, 11, 25, 14, tzinfo=UTC)  # the day after benchmarks.run's data ends
TEAM = "bench"


@dataclass(frozen=True, slots=True)
class Question:
    name: str
    target_ms: float
    today: str  # the figure before the coarser rollups (PostgreSQL, the real shape)
    cases: dict[str, Callable[[], Any]]


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    urls = {"SQLite": args.sqlite, "PostgreSQL": args.postgres}
    results: dict[str, dict[str, tuple[float, str]]] = {}
    names: list[tuple[str, float, str]] = []
    for label, url in urls.items():
        if not url:
            continue
        engine = make_engine(url)
        rows = _rollup_rows(engine)
        print(f"{label}: {rows:,} usage_daily rows", file=sys.stderr)
        results[label] = {}
        for q in _questions(engine):
            timings = {case: _median_ms(fn, args.repeat) for case, fn in q.cases.items()}
            with _no_charts():
                data = {case: _median_ms(fn, args.repeat) for case, fn in q.cases.items()}
            worst = max(timings, key=lambda c: timings[c])
            detail = ", ".join(f"{c} {ms:,.0f} ({data[c]:,.0f})" for c, ms in timings.items())
            results[label][q.name] = (timings[worst], detail if len(timings) > 1 else "")
            if (q.name, q.target_ms, q.today) not in names:
                names.append((q.name, q.target_ms, q.today))
            print(f"  {q.name}: {detail}", file=sys.stderr, flush=True)
        engine.dispose()
    started = _startup_ms()
    print(f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, ", end="")
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}\n")
    labels = list(results)
    print("Whole answers, median; in brackets the same answers without their chart render.\n")
    print("| question | before (PostgreSQL) | target | " + " | ".join(labels) + " |")
    print("|---|---|---|" + "---|" * len(labels))
    for name, target, today in names:
        cells = []
        for label in labels:
            ms, detail = results[label][name]
            cells.append(f"{_fmt(ms)}" + (f" ({detail} ms)" if detail else ""))
        print(f"| {name} | {today} | ≤ {_fmt(target)} | " + " | ".join(cells) + " |")
    print(f"| `abacus --help` start-up (CPU) | ~2.3 s | ≤ 500 ms | {_fmt(started)} (either database) |")
    stats = [_fmt(_startup_ms("stats", url=urls[label])) for label in labels]
    print("| `abacus stats` (CPU, whole command) | ~2.3 s | ≤ 500 ms | " + " | ".join(stats) + " |")


def _questions(engine: Engine) -> list[Question]:
    from bot.access import access_policy
    from bot.command_text import parse
    from bot.settings import Settings
    from bot.slack.services import Services
    from bot.slack.users import SlackUser
    from bot.sources import footer_status
    from storage.analytics.profile import find_person
    from storage.teams import add_members, get_team

    with transaction(engine) as s:
        heaviest = s.scalar(
            select(UsageDaily.email)
            .where(UsageDaily.email != "", UsageDaily.date >= date(2026, 8, 27))
            .group_by(UsageDaily.email)
            .order_by(func.sum(UsageDaily.cache_read_tokens).desc())
            .limit(1)
        )
        last = s.scalar(select(func.max(UsageDaily.email)))
        team = get_team(s, TEAM)
    assert heaviest and last, "no data: generate it with benchmarks.run --real first"
    if team is None:
        members = [f"person{i:05d}@example.com" for i in range(0, 2_000, 20)]
        add_members(engine, TEAM, members, by="benchmark", now=NOW)
    settings = Settings(
        **{
            "ANTHROPIC_ADMIN_KEY": "sk-ant-admin-benchmark",
            "CURSOR_ADMIN_KEY": "key_benchmark",
            "ABACUS_ADMINS": heaviest,
            "ABACUS_TIMEZONE": "UTC",
        }
    )
    services = Services(
        settings=settings, engine=engine, directory=None, policy=access_policy(settings), now=lambda: NOW
    )
    asker = SlackUser(id="UBENCH", email=heaviest, name="bench", team_id="", tz="UTC")

    def ask(text: str) -> Callable[[], Any]:
        request = parse(text)
        assert not request.problems, request.problems
        return lambda: _drawn(services.answer(request, asker, is_admin=True))

    def footer() -> Any:
        with transaction(engine) as s:
            return footer_status(s, now=NOW)

    def lookup(text: str) -> Callable[[], Any]:
        def run() -> Any:
            with transaction(engine) as s:
                return find_person(s, text)

        return run

    return [
        Question(
            "any 30-day answer (overview, top, models, table, team)",
            250,
            "0.66–1.85 s",
            {
                "overview": ask("overview 30d"),
                "top": ask("top 10 30d"),
                "models": ask("models 30d"),
                "table": ask("table 30d"),
                "team": ask(f"team {TEAM} 30d"),
            },
        ),
        Question("`me` / `user` 90 days", 300, "1.58 s", {"me": ask("me 90d"), "user": ask(f"user {last} 90d")}),
        Question(
            "365-day overview or ranking",
            1000,
            "5.75 s",
            {"overview": ask("overview 365d"), "top by cost": ask("top 10 by cost 365d")},
        ),
        Question("freshness footer", 5, "0.4–0.65 s", {"footer": footer}),
        Question(
            "person lookup by email or name",
            10,
            "up to 1.3 s",
            {"email": lookup(last), "name": lookup(last.split("@")[0])},
        ),
    ]


_DRAW_CHARTS = [True]


def _drawn(answer: Any) -> Any:
    """The answer with its charts drawn, as the Slack delivery draws them (after the text is shown)."""
    if _DRAW_CHARTS[0]:
        for chart in answer.charts:
            _ = chart.png
    return answer


@contextmanager
def _no_charts() -> Iterator[None]:
    """Answers without their chart renders (matplotlib, independent of the data): the figures in brackets."""
    _DRAW_CHARTS[0] = False
    try:
        yield
    finally:
        _DRAW_CHARTS[0] = True


def _rollup_rows(engine: Engine) -> int:
    with transaction(engine) as s:
        return int(s.scalar(select(func.count()).select_from(UsageDaily)) or 0)


_RUN_CLI = "import sys; from bot.cli import main; sys.argv[0] = 'abacus'; main()"


def _startup_ms(*args: str, url: str = "") -> float:
    """CPU time (user + system) of `abacus ARGS` (default `--help`) in a fresh interpreter, median of 5;
    ``url`` is the database it talks to."""
    times = []
    env = {**os.environ, "DATABASE_URL": url} if url else None
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-c", _RUN_CLI, *(args or ("--help",))],
            check=True,
            capture_output=True,
            env=env,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return statistics.median(times)


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm caches (and matplotlib's font cache)
    times = []
    for _ in range(repeat):
        memo.forget()  # time the first asker's chart, not one drawn for an earlier run
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _fmt(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:,.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", default="", help="a SQLite URL holding the data (benchmarks.run --real)")
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL holding the data")
    parser.add_argument("--repeat", type=int, default=5)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
