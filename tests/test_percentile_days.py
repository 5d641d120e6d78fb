"""Tokens per active day, the figure behind where a person stands: active days are counted once however many
tools and orgs a person used that day, over periods short and long (PostgreSQL counts them as bits of
several 63-day words, so days on either side of each word's edge are checked), on both databases."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from storage.analytics.percentile import MIN_ACTIVE_DAYS, tokens_per_active_day
from storage.db import transaction
from storage.writes import UsageRecord, upsert_usage
from tests.factories import usage

START = date(2025, 1, 1)


def _records() -> list[UsageRecord]:
    rng = random.Random(5)
    records = []
    for person in range(12):
        email = f"p{person:02d}@example.com"
        for offset in [*sorted(rng.sample(range(400), 40)), 62, 63, 125, 126]:
            day = START + timedelta(days=offset)
            # Two tools, and for some people two orgs, on the same day: still one active day.
            for tool, org in (("claude_code", "org-1"), ("cursor", "org-c"), ("claude_code", f"org-{person % 3}")):
                if rng.random() < 0.6:
                    tokens = rng.randint(1, 10_000)
                    records.append(
                        usage(tool=tool, org_id=org, date=day, actor=email, email=email, input_tokens=tokens)
                    )
    # One person active on a single day only (not ranked), and usage nobody is mapped to (never ranked).
    records.append(usage(date=START, actor="once@example.com", email="once@example.com"))
    records.append(usage(date=START, actor="key-1", email="", actor_type="api_key"))
    return records


def _expected(records: list[UsageRecord], start: date, end: date) -> dict[str, float]:
    tokens: dict[str, int] = defaultdict(int)
    days: dict[str, set[date]] = defaultdict(set)
    # A later record with the same key overwrites an earlier one, as the write path does.
    stored = {(r.tool, r.org_id, r.date, r.actor, r.raw_model): r for r in records}
    for r in stored.values():
        if r.email and start <= r.date <= end:
            tokens[r.email] += r.total_tokens
            days[r.email].add(r.date)
    return {email: tokens[email] / len(days[email]) for email in tokens if len(days[email]) >= MIN_ACTIVE_DAYS}


@pytest.mark.parametrize(
    ("first", "length"),
    [(0, 1), (0, 2), (0, 63), (0, 64), (1, 63), (62, 2), (0, 90), (30, 365), (0, 400), (0, 2_000)],
)
def test_tokens_per_active_day_counts_each_day_once(engine: Engine, first: int, length: int) -> None:
    records = _records()
    with transaction(engine) as s:
        upsert_usage(s, records)
    start = START + timedelta(days=first)
    end = start + timedelta(days=length - 1)
    with transaction(engine) as s:
        got = tokens_per_active_day(s, start, end)
    expected = _expected(records, start, end)
    assert got.keys() == expected.keys()
    for email, value in expected.items():
        assert got[email] == pytest.approx(value, rel=1e-12), email
