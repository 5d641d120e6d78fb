"""A team's day far above its usual is flagged in the daily digest (never a team under the privacy floor),
and the digest shows where the channel-visible budgets stand. Every date is fixed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from bot.digests import compose_digest, period_for_day
from bot.settings import Settings
from storage.analytics.team_usage import team_spikes
from storage.budgets import set_budget
from storage.db import transaction
from storage.teams import replace_members
from storage.writes import upsert_usage
from tests.factories import usage

DAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
WEB = ["a@x.com", "b@x.com", "c@x.com"]


def spend(engine: Engine, email: str, costs: dict[date, str]) -> None:
    with transaction(engine) as s:
        upsert_usage(s, [usage(email=email, actor=email, date=d, cost_usd=Decimal(c)) for d, c in costs.items()])


def seed(engine: Engine) -> None:
    # Each of web's three people spends $5 on weekdays (zero days in between) and $40 on DAY.
    for email in WEB:
        before = {DAY - timedelta(days=back): "5" for back in range(1, 21) if back % 7 not in (0, 1)}
        spend(engine, email, {**before, DAY: "40"})
    replace_members(engine, "web", WEB, source="admin", by="t", now=NOW)
    replace_members(engine, "pair", WEB[:2], source="admin", by="t", now=NOW)  # under the floor
    replace_members(engine, "calm", ["d@x.com", "e@x.com", "f@x.com"], source="admin", by="t", now=NOW)
    for email in ("d@x.com", "e@x.com", "f@x.com"):
        spend(engine, email, {DAY - timedelta(days=back): "10" for back in range(0, 10)})


def test_team_spikes_respect_the_floor_and_the_usual_day(engine: Engine) -> None:
    seed(engine)
    teams = {"web": WEB, "pair": WEB[:2], "calm": ["d@x.com", "e@x.com", "f@x.com"], "empty": []}
    with transaction(engine) as s:
        found = team_spikes(s, teams, DAY, factor=3.0, floor_usd=Decimal(10), min_people=3)
        assert [(t.name, t.cost_usd, t.usual_usd, t.ratio) for t in found] == [("web", Decimal(120), Decimal(15), 8.0)]
        # No history before the first day: nothing to compare with.
        assert team_spikes(s, teams, DAY - timedelta(days=20), factor=3.0, floor_usd=Decimal(0), min_people=1) == []


def test_the_daily_digest_flags_the_team_and_shows_budgets(engine: Engine) -> None:
    seed(engine)
    set_budget(
        engine,
        scope="org",
        target="",
        cadence="monthly",
        tool="",
        amount_usd=Decimal(1000),
        channel_id="C1",
        created_by="admin",
        now=NOW,
    )
    set_budget(
        engine,
        scope="person",
        target="a@x.com",
        cadence="monthly",
        tool="",
        amount_usd=Decimal(100),
        channel_id="C1",
        created_by="admin",
        now=NOW,
    )
    message = compose_digest(Settings(), engine, "daily", period_for_day("daily", DAY), now=NOW)
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "Teams above their usual day: web $120.00 (8.0× usual $15.00)" in text
    assert "pair" not in text
    assert "Budgets: Company · monthly: $" in text and "a@x.com · monthly" not in text
