from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from storage.db import transaction
from storage.models import IdentityMapping
from storage.stats import collect_stats
from storage.writes import upsert_usage
from tests.factories import usage


def test_empty_database_gives_zeros(engine: Engine) -> None:
    with transaction(engine) as s:
        stats = collect_stats(s)
    assert (stats.records, stats.total_tokens, stats.total_cost_usd, stats.people) == (0, 0, Decimal(0), 0)
    assert stats.by_tool == [] and stats.top_users == []
    assert stats.first_date is None and stats.last_date is None
    assert stats.unattributed.records == 0


def test_stats_count_tools_people_span_and_unattributed(engine: Engine) -> None:
    rows = [
        usage(date=date(2026, 11, 1), actor="dana@x.com", email="dana@x.com", output_tokens=20_000),
        usage(date=date(2026, 11, 2), actor="bob@x.com", email="bob@x.com"),
        usage(
            tool="cursor",
            date=date(2026, 11, 3),
            actor="bob@x.com",
            email="bob@x.com",
            event_key="e1",
            cost_usd=Decimal("0.10"),
        ),
        usage(
            tool="cursor",
            date=date(2026, 11, 3),
            actor="bob@x.com",
            email="bob@x.com",
            event_key="e2",
            cost_usd=Decimal("0.20"),
        ),
        usage(date=date(2026, 11, 4), actor="ci-key", actor_type="api_key", email="", cost_usd=Decimal("2.00")),
    ]
    with transaction(engine) as s:
        upsert_usage(s, rows)
        s.add(IdentityMapping(source="claude_code", external_id="old-key", email="bob@x.com", method="cli"))
    with transaction(engine) as s:
        stats = collect_stats(s, top=1)
    per_row = 1_000 + 100 + 5_000 + 200
    assert stats.records == 5
    assert stats.total_tokens == 5 * per_row + 19_800
    assert stats.total_cost_usd == Decimal("1.25") * 2 + Decimal("0.30") + Decimal("2.00")
    assert {(t.tool, t.records) for t in stats.by_tool} == {("claude_code", 3), ("cursor", 2)}
    assert [(u.email, u.total_tokens) for u in stats.top_users] == [("dana@x.com", per_row + 19_800)]
    assert stats.people == 2
    assert (stats.first_date, stats.last_date) == (date(2026, 11, 1), date(2026, 11, 4))
    assert stats.mappings == 1
    assert (stats.unattributed.records, stats.unattributed.keys, stats.unattributed.cost_usd) == (1, 1, Decimal("2.00"))
