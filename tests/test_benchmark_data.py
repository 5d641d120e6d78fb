"""The benchmark's data generator: deterministic, and written through the real write path into the rollup."""

from datetime import date

from sqlalchemy import Engine, delete, func, select

from benchmarks.generate import generate
from storage.analytics.overview import overview
from storage.db import transaction
from storage.models import ClaudeCodeActivity, Usage, UsageDaily


def test_generator_fills_facts_rollup_and_activity(engine: Engine) -> None:
    made = generate(engine, people=4, days=10, end=date(2026, 11, 24), chunk_days=3)
    with transaction(engine) as s:
        usage_rows = s.scalar(select(func.count()).select_from(Usage))
        rollup_records = s.scalar(select(func.sum(UsageDaily.records)))
        activity_rows = s.scalar(select(func.count()).select_from(ClaudeCodeActivity))
        span = s.execute(select(func.min(Usage.date), func.max(Usage.date))).one()
        summary = overview(s, date(2026, 11, 15), date(2026, 11, 24))
    assert made.usage_rows == usage_rows == rollup_records and made.usage_rows > 0
    assert made.activity_rows == activity_rows
    assert date(2026, 11, 15) <= span[0] and span[1] <= date(2026, 11, 24)
    assert 1 <= summary.current.active_users <= 4


def test_generator_is_deterministic(engine: Engine) -> None:
    first = generate(engine, people=3, days=5, end=date(2026, 11, 24), seed=1)
    with transaction(engine) as s:
        tokens = s.scalar(select(func.sum(UsageDaily.input_tokens)))
        s.execute(delete(UsageDaily))
        s.execute(delete(Usage))
        s.execute(delete(ClaudeCodeActivity))
    second = generate(engine, people=3, days=5, end=date(2026, 11, 24), seed=1)
    with transaction(engine) as s:
        assert s.scalar(select(func.sum(UsageDaily.input_tokens))) == tokens
    assert first == second
