"""Time every analytics query and chart on a generated organisation.

    .venv/bin/python -m benchmarks.run --url sqlite:///bench.db --people 2000 --days 365

A fresh database is created and migrated at ``--url`` unless ``--reuse`` is given (then the data already
there is measured). Each measurement is the median of ``--repeat`` warm runs; the result is a Markdown
table on stdout, ready for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from benchmarks.generate import generate
from bot import chart_inputs
from charts import memo
from charts.bars import model_chart, top_users_chart
from charts.daily import daily_usage_chart, digest_chart
from charts.personal import personal_trend_chart
from providers.registry import seat_tools
from storage.analytics.exports import team_csv, usage_csv
from storage.analytics.gaps import find_gaps
from storage.analytics.models_breakdown import model_breakdown
from storage.analytics.overview import overview
from storage.analytics.profile import user_profile
from storage.analytics.status import sync_status
from storage.analytics.team import team_table
from storage.analytics.top_users import top_users
from storage.analytics.trends import trends
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.models import UsageDaily, UsageModelDaily, UsagePersonDaily, UsagePersonMonthly

SEATS = seat_tools()

END = date(2026, 11, 24)
NOW = datetime(2026, 11, 25, 14, tzinfo=UTC)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    engine = make_engine(args.url)
    if not args.reuse:
        upgrade(engine)
        started = time.perf_counter()
        made = generate(engine, people=args.people, days=args.days, end=END, real=args.real, events=args.events)
        took = time.perf_counter() - started
        print(
            f"Generated {made.people:,} people x {made.days} days{' (real shape)' if args.real else ''}: "
            f"{made.usage_rows:,} usage rows, {made.activity_rows:,} activity rows in {took:.1f} s "
            f"({made.usage_rows / took:,.0f} usage rows/s)\n"
        )
    print(data_shape(engine) + "\n")
    with transaction(engine) as s:
        rollup_rows = s.scalar(select(func.count()).select_from(UsageDaily)) or 0
        heaviest = s.scalar(
            select(UsageDaily.email)
            .where(UsageDaily.email != "")
            .group_by(UsageDaily.email)
            .order_by(func.sum(UsageDaily.cache_read_tokens).desc())
            .limit(1)
        )
    print(f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"Database: {engine.dialect.name}; usage_daily rows: {rollup_rows:,}\n")
    print("| what | median ms |")
    print("|---|---|")
    for name, fn in _cases(engine, heaviest or "").items():
        print(f"| {name} | {_median_ms(fn, args.repeat):,.1f} |", flush=True)
    engine.dispose()


def data_shape(engine: Engine) -> str:
    """The rollups' sizes and what an active person-day looks like, as one line."""
    with transaction(engine) as s:
        rollup_rows = s.scalar(select(func.count()).select_from(UsageDaily)) or 0
        person_rows = s.scalar(select(func.count()).select_from(UsagePersonDaily)) or 0
        month_rows = s.scalar(select(func.count()).select_from(UsagePersonMonthly)) or 0
        model_rows = s.scalar(select(func.count()).select_from(UsageModelDaily)) or 0
        cursor = select(func.count(), func.coalesce(func.sum(UsagePersonDaily.records), 0)).where(
            UsagePersonDaily.tool == "cursor", UsagePersonDaily.email != ""
        )
        person_days, events = s.execute(cursor).one()
        cursor_models = s.scalar(
            select(func.count()).select_from(UsageDaily).where(UsageDaily.tool == "cursor", UsageDaily.email != "")
        )
    per_day = int(events) / person_days if person_days else 0.0
    models = (cursor_models or 0) / person_days if person_days else 0.0
    return (
        f"usage_daily rows: {rollup_rows:,}; usage_person_daily: {person_rows:,}; usage_person_monthly: "
        f"{month_rows:,}; usage_model_daily: {model_rows:,}; Cursor: {person_days:,} "
        f"active person-days, {per_day:,.1f} usage rows (events) and {models:.1f} models per active person-day"
    )


def _cases(engine: Engine, heaviest: str) -> dict[str, Callable[[], Any]]:
    d30, d90, d365 = END - timedelta(days=29), END - timedelta(days=89), END - timedelta(days=364)

    def q(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
        def run() -> Any:
            with transaction(engine) as s:
                return fn(s, *args, **kwargs)

        return run

    with transaction(engine) as s:
        trend30 = trends(s, d30, END, now=NOW)
        trend365 = trends(s, d365, END, now=NOW)
        top = top_users(s, d30, END)
        models = model_breakdown(s, d30, END)
        profile = user_profile(s, heaviest, d90, END)
    return {
        # As the answers ask: the subscription split reads only the tools that can have seats.
        "overview, 30 days (with previous period)": q(overview, d30, END, seat_tools=SEATS),
        "overview, 365 days": q(overview, d365, END, seat_tools=SEATS),
        "top 10 users, 30 days": q(top_users, d30, END, seat_tools=SEATS),
        "top 10 users by cost, 365 days": q(top_users, d365, END, rank_by="cost", seat_tools=SEATS),
        "user profile, heaviest user, 90 days": q(user_profile, heaviest, d90, END, seat_tools=SEATS),
        "models, 30 days": q(model_breakdown, d30, END, seat_tools=SEATS),
        "trends, 30 days (projected)": q(trends, d30, END, now=NOW),
        "trends, 365 days (weekly)": q(trends, d365, END, now=NOW),
        "team table, 30 days (500 rows)": q(team_table, d30, END, today=END),
        "gaps, all providers": q(find_gaps, today=END),
        "status, all providers": q(sync_status, now=NOW),
        "CSV usage per day and model, 30 days": q(usage_csv, d30, END, view="models"),
        "CSV team, 30 days": lambda: team_csv(q(team_table, d30, END, today=END)()),
        "chart: daily, 30 days": lambda: daily_usage_chart(chart_inputs.trend_days(trend30), period_label="30d"),
        "chart: weekly, 365 days": lambda: daily_usage_chart(
            chart_inputs.trend_days(trend365), period_label="365d", granularity="week"
        ),
        "chart: digest, 30 days": lambda: digest_chart(chart_inputs.trend_days(trend30), period_label="30d"),
        "chart: top users": lambda: top_users_chart(
            chart_inputs.top_user_bars(top), period_label="30d", total=float(top.total_tokens)
        ),
        "chart: models": lambda: model_chart(
            chart_inputs.model_bars(models), period_label="30d", total=float(models.total_tokens)
        ),
        "chart: personal, 90 days": lambda: personal_trend_chart(
            chart_inputs.personal_days(profile), period_label="90d"
        ),
    }


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm caches (and matplotlib's font cache)
    times = []
    for _ in range(repeat):
        memo.forget()  # time the first asker's chart, not one drawn for an earlier run
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="sqlite:///bench.db", help="database URL (created and migrated)")
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="measure the data already in the database")
    parser.add_argument(
        "--real", action="store_true", help="a real company's shape: ~6.5 Cursor models and ~80 events per person-day"
    )
    parser.add_argument("--events", action="store_true", help="with --real: write every Cursor event (12x rows)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
