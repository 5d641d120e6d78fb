"""A synthetic organisation written through the real write path (``upsert_usage``), so the daily rollup is
built exactly as a sync would build it.

Deterministic for a given seed. People are busier on weekdays; about 70% use Claude Code and 50% Cursor,
with one or two models a day. Cursor usage is written as one row per (person, day, model) rather than per
event: the analytics read only the daily rollup, whose size is what matters here.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from storage.db import transaction
from storage.writes import ActivityRecord, UsageRecord, upsert_activity, upsert_usage

CLAUDE_MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001")
CURSOR_MODELS = ("gpt-5", "claude-4.5-sonnet", "composer-1", "auto")


@dataclass(frozen=True, slots=True)
class Generated:
    people: int
    days: int
    usage_rows: int
    activity_rows: int


def generate(engine: Engine, *, people: int, days: int, end: date, seed: int = 7, chunk_days: int = 15) -> Generated:
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    profiles = [_profile(rng, i) for i in range(people)]
    start = end - timedelta(days=days - 1)
    usage_rows = activity_rows = 0
    day = start
    while day <= end:
        last = min(day + timedelta(days=chunk_days - 1), end)
        usage, activity = [], []
        for current in _days(day, last):
            for person in profiles:
                u, a = _person_day(rng, person, current)
                usage.extend(u)
                activity.extend(a)
        with transaction(engine) as session:
            upsert_usage(session, usage)
            upsert_activity(session, activity)
        usage_rows += len(usage)
        activity_rows += len(activity)
        day = last + timedelta(days=1)
    return Generated(people, days, usage_rows, activity_rows)


@dataclass(frozen=True, slots=True)
class _Person:
    email: str
    claude_code: bool
    cursor: bool
    intensity: float  # median tokens per active day, heavy-tailed across people


def _profile(rng: random.Random, index: int) -> _Person:
    uses_cc = rng.random() < 0.7
    uses_cursor = rng.random() < 0.5 or not uses_cc
    return _Person(f"person{index:05d}@example.com", uses_cc, uses_cursor, rng.lognormvariate(13.5, 1.0))


def _days(first: date, last: date) -> Iterator[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


def _person_day(rng: random.Random, p: _Person, day: date) -> tuple[list[UsageRecord], list[ActivityRecord]]:
    active = rng.random() < (0.7 if day.weekday() < 5 else 0.15)
    if not active:
        return [], []
    usage: list[UsageRecord] = []
    activity: list[ActivityRecord] = []
    if p.claude_code:
        for model in rng.sample(CLAUDE_MODELS, rng.choice((1, 1, 2))):
            usage.append(_record(rng, "claude_code", day, p, model, ""))
        activity.append(
            ActivityRecord(
                date=day,
                actor=p.email,
                email=p.email,
                sessions=rng.randint(1, 8),
                lines_added=rng.randint(0, 800),
                lines_removed=rng.randint(0, 300),
                commits=rng.randint(0, 5),
                pull_requests=rng.randint(0, 2),
                tool_accepted=rng.randint(0, 40),
                tool_rejected=rng.randint(0, 10),
            )
        )
    if p.cursor:
        for model in rng.sample(CURSOR_MODELS, rng.choice((1, 2))):
            usage.append(_record(rng, "cursor", day, p, model, f"{p.email}:{day}:{model}"))
    return usage, activity


def _record(rng: random.Random, tool: str, day: date, p: _Person, model: str, event_key: str) -> UsageRecord:
    total = int(p.intensity * rng.uniform(0.3, 1.7))
    cache_read = int(total * 0.8)
    output = int(total * 0.05)
    cache_write = int(total * 0.05)
    return UsageRecord(
        tool=tool,
        date=day,
        actor=p.email,
        email=p.email,
        raw_model=model,
        event_key=event_key,
        input_tokens=total - cache_read - output - cache_write,
        cache_write_tokens=cache_write,
        cache_read_tokens=cache_read,
        output_tokens=output,
        cost_usd=Decimal(total) * Decimal("0.0000012"),
    )
