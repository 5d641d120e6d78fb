"""Each analytics query against hand-computed answers on the fixed dataset of tests/analytics_data.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from storage.analytics.common import percent_change, previous_period
from storage.analytics.exports import team_csv, to_csv, usage_csv
from storage.analytics.models_breakdown import model_breakdown
from storage.analytics.overview import overview
from storage.analytics.profile import find_person, user_profile
from storage.analytics.team import team_table
from storage.analytics.top_users import top_users
from storage.db import transaction
from tests.analytics_data import BOB, DANA, END, ERIN, START, load


@pytest.fixture
def data(engine: Engine) -> Engine:
    load(engine)
    return engine


def test_previous_period_has_equal_length() -> None:
    assert previous_period(date(2026, 11, 1), date(2026, 11, 7)) == (date(2026, 10, 25), date(2026, 10, 31))
    assert previous_period(date(2026, 3, 1), date(2026, 3, 31)) == (date(2026, 1, 29), date(2026, 2, 28))


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (140, 100, 40.0),
        (102.9, 100, None),  # under 3%: hidden
        (97.1, 100, None),
        (97, 100, -3.0),
        (103, 100, 3.0),
        (5, 0, None),  # nothing to compare against
        (1, 3, -66.7),
    ],
)
def test_percent_change_hides_small_changes_and_rounds_to_one_decimal(
    current: float, previous: float, expected: float | None
) -> None:
    assert percent_change(current, previous) == expected


def test_overview(data: Engine) -> None:
    with transaction(data) as s:
        o = overview(s, START, END)
    c = o.current
    assert (c.input_tokens, c.cache_write_tokens, c.cache_read_tokens, c.output_tokens) == (13_500, 1_000, 9_000, 4_500)
    assert c.total_tokens == 28_000 and c.cost_usd == Decimal("13.40")
    assert c.active_users == 3
    assert c.attributed_tokens == 25_000 and c.attributed_cost_usd == Decimal("11.90")
    assert c.avg_tokens_per_user == 8_333
    assert c.avg_cost_per_user == Decimal("11.90") / 3
    assert c.avg_tokens_per_day == 4_000  # 28,000 over 7 calendar days
    assert c.billable_tokens == 18_000
    assert c.cache_hit_ratio == pytest.approx(9_000 / 23_500)
    assert isinstance(c.cost_usd, Decimal)
    p = o.previous
    assert (p.start, p.end, p.total_tokens, p.cost_usd, p.active_users) == (
        date(2026, 10, 25),
        date(2026, 10, 31),
        20_000,
        Decimal("10.00"),
        2,
    )
    assert o.changes.total_tokens == 40.0
    assert o.changes.cost_usd == 34.0
    assert o.changes.active_users == 50.0
    assert o.changes.avg_tokens_per_day == 40.0  # 4,000 against round(20,000 / 7) = 2,857
    assert [(t.tool, t.tokens, t.cost_usd, t.users, t.token_pct, t.user_pct) for t in o.tools] == [
        ("claude_code", 19_000, Decimal("11.50"), 2, 19 / 28 * 100, 2 / 3 * 100),
        ("cursor", 9_000, Decimal("1.90"), 2, 9 / 28 * 100, 2 / 3 * 100),
    ]
    assert (o.unattributed.tokens, o.unattributed.cost_usd, o.unattributed.keys) == (3_000, Decimal("1.50"), 1)


def test_overview_filtered_by_tool_and_on_an_empty_period(data: Engine) -> None:
    with transaction(data) as s:
        cursor = overview(s, START, END, tool="cursor")
        empty = overview(s, date(2020, 1, 1), date(2020, 1, 31))
    assert (cursor.current.total_tokens, cursor.current.active_users) == (9_000, 2)
    assert [t.tool for t in cursor.tools] == ["cursor"] and cursor.unattributed.tokens == 0
    assert empty.current.total_tokens == 0 and empty.current.avg_tokens_per_user == 0
    assert empty.current.cache_hit_ratio == 0.0 and empty.changes.total_tokens is None
    assert empty.tools == []


def test_top_users_by_tokens(data: Engine) -> None:
    with transaction(data) as s:
        top = top_users(s, START, END)
    assert [(u.rank, u.email, u.tokens, u.cost_usd, u.share_pct) for u in top.users] == [
        (1, DANA, 16_000, Decimal("7.50"), 64.0),
        (2, BOB, 8_000, Decimal("1.40"), 32.0),
        (3, ERIN, 1_000, Decimal("3.00"), 4.0),
    ]
    dana = top.users[0]
    assert dana.tokens_by_tool == {"claude_code": 15_000, "cursor": 1_000}
    assert dana.cost_by_tool == {"claude_code": Decimal("7.00"), "cursor": Decimal("0.50")}
    assert dana.favourite_model == "opus-4.5"  # 10,000 tokens, against 5,000 sonnet and 1,000 gpt-5
    assert dana.last_active == date(2026, 11, 2)  # within the period, not her all-time last day (11-20)
    assert top.users[1].favourite_model == "gpt-5" and top.users[1].last_active == date(2026, 11, 5)
    assert (top.people, top.total_tokens, top.total_cost_usd) == (3, 25_000, Decimal("11.90"))
    assert top.unattributed.tokens == 3_000  # reported beside, never ranked


def test_top_users_by_cost_limit_and_tool_filter(data: Engine) -> None:
    with transaction(data) as s:
        by_cost = top_users(s, START, END, rank_by="cost", limit=2)
        cursor = top_users(s, START, END, tool="cursor")
    assert [(u.email, u.cost_usd, u.share_pct) for u in by_cost.users] == [
        (DANA, Decimal("7.50"), 7.5 / 11.9 * 100),
        (ERIN, Decimal("3.00"), 3 / 11.9 * 100),
    ]
    assert by_cost.people == 3
    assert [(u.email, u.tokens, u.favourite_model) for u in cursor.users] == [
        (BOB, 8_000, "gpt-5"),
        (DANA, 1_000, "gpt-5"),
    ]
    assert cursor.users[1].tokens_by_tool == {"cursor": 1_000}


def test_models_merged_across_tools_with_shares_of_the_true_total(data: Engine) -> None:
    with transaction(data) as s:
        all_models = model_breakdown(s, START, END)
        top_two = model_breakdown(s, START, END, limit=2)
    assert [(m.model, m.tokens, m.cost_usd, m.token_pct) for m in all_models.models] == [
        ("sonnet-4.5", 11_000, Decimal("6.90"), 11 / 28 * 100),
        ("opus-4.5", 10_000, Decimal("5.00"), 10 / 28 * 100),
        ("gpt-5", 7_000, Decimal("1.50"), 7 / 28 * 100),
    ]
    assert all_models.models[0].tokens_by_tool == {"claude_code": 9_000, "cursor": 2_000}
    assert all_models.total_tokens == 28_000 and all_models.total_cost_usd == Decimal("13.40")
    assert all_models.top_model is not None and all_models.top_model.model == "sonnet-4.5"
    # Limiting the list does not inflate the shares (the original divided by the top-20 sum).
    assert [m.token_pct for m in top_two.models] == [11 / 28 * 100, 10 / 28 * 100] and top_two.other_models == 1


def test_user_profile(data: Engine) -> None:
    with transaction(data) as s:
        p = user_profile(s, DANA, START, END)
    s_ = p.summary
    assert (s_.tokens, s_.input_tokens, s_.cache_read_tokens, s_.output_tokens) == (16_000, 3_500, 9_000, 3_500)
    assert s_.cost_usd == Decimal("7.50") and s_.tokens_by_tool == {"claude_code": 15_000, "cursor": 1_000}
    assert (s_.active_days, s_.first_active, s_.last_active) == (2, date(2026, 11, 1), date(2026, 11, 2))
    assert s_.avg_tokens_per_active_day == 8_000
    assert (p.previous_tokens, p.previous_cost_usd, p.tokens_change, p.cost_change) == (
        10_000,
        Decimal("4.00"),
        60.0,
        87.5,
    )
    assert [d.date for d in p.daily] == [date(2026, 11, day) for day in range(1, 8)]
    assert p.daily[1].tokens == {"claude_code": 10_000, "cursor": 1_000} and p.daily[2].tokens == {}
    expected_models = [("opus-4.5", 10_000), ("sonnet-4.5", 5_000), ("gpt-5", 1_000)]
    assert [(m.model, m.tokens) for m in p.models.models] == expected_models
    lt = p.lifetime
    assert (lt.first_day, lt.tokens, lt.cost_usd, lt.favourite_tool) == (
        date(2026, 9, 1),
        76_100,
        Decimal("31.51"),
        "claude_code",
    )
    assert (lt.record_day, lt.record_day_tokens) == (date(2026, 9, 1), 50_000)
    # dana 8,000/active day and bob 4,000 are ranked; erin (one active day) is not.
    assert (p.percentile.value, p.percentile.population, p.percentile.tokens_per_active_day) == (100, 2, 8_000)
    a = p.activity
    assert (a.sessions, a.lines_added, a.lines_removed, a.commits, a.pull_requests) == (5, 150, 25, 3, 1)
    assert (a.tool_accepted, a.tool_rejected, a.accept_rate) == (12, 4, 75.0)


def test_user_profile_for_one_tool(data: Engine) -> None:
    with transaction(data) as s:
        p = user_profile(s, DANA, START, END, tool="cursor")
    assert (p.summary.tokens, p.summary.cost_usd, p.summary.active_days) == (1_000, Decimal("0.50"), 1)
    assert p.previous_tokens == 0 and p.tokens_change is None
    assert [m.model for m in p.models.models] == ["gpt-5"]
    assert sum(sum(d.tokens.values()) for d in p.daily) == 1_000
    assert p.lifetime.tokens == 76_100  # the lifetime is always the whole picture


def test_user_profile_standing_and_a_quiet_period(data: Engine) -> None:
    with transaction(data) as s:
        bob = user_profile(s, BOB, START, END)
        erin = user_profile(s, ERIN, START, END)
        quiet = user_profile(s, ERIN, date(2026, 10, 1), date(2026, 10, 7))
    assert bob.percentile.value == 0 and bob.activity.accept_rate is None
    assert erin.percentile.value is None and erin.percentile.population == 2
    # No usage in the period is an answer (zeros), not an error; the lifetime still shows.
    assert quiet.summary.tokens == 0 and quiet.summary.active_days == 0 and quiet.summary.first_active is None
    assert quiet.lifetime.first_day == date(2026, 11, 7) and len(quiet.daily) == 7


def test_find_person(data: Engine) -> None:
    with transaction(data) as s:
        assert find_person(s, "DANA@Example.com") == DANA
        assert find_person(s, "dana") == DANA
        assert find_person(s, "d_na") is None  # "_" is not a wildcard
        assert find_person(s, "nobody@example.com") is None
        assert find_person(s, "ci-key") is None  # API keys are not people
        assert find_person(s, "  ") is None


def test_team_table(data: Engine) -> None:
    with transaction(data) as s:
        table = team_table(s, START, END, today=date(2026, 11, 10), tools=("claude_code", "cursor"))
        by_email = team_table(s, START, END, today=date(2026, 11, 10), sort_by="email", descending=False)
        by_avg = team_table(s, START, END, today=date(2026, 11, 10), sort_by="avg_tokens_per_day")
        searched = team_table(s, START, END, today=date(2026, 11, 10), search="DAN")
        paged = team_table(s, START, END, today=date(2026, 11, 10), limit=1, offset=1)
        bogus = team_table(s, START, END, today=date(2026, 11, 10), sort_by="drop table")
    assert table.total_count == 3 and [r.email for r in table.rows] == [DANA, BOB, ERIN]
    dana = table.rows[0]
    assert (dana.total_tokens, dana.total_cost, dana.tokens_by_tool["claude_code"], dana.tokens_by_tool["cursor"]) == (
        16_000,
        Decimal("7.50"),
        15_000,
        1_000,
    )
    assert (dana.input_tokens, dana.output_tokens, dana.cache_read_tokens) == (3_500, 3_500, 9_000)
    assert (dana.first_active, dana.last_active, dana.days_active) == (date(2026, 11, 1), date(2026, 11, 2), 2)
    assert (dana.avg_tokens_per_day, dana.tool_count, dana.days_since_last_active) == (8_000, 2, 8)
    assert [r.email for r in by_email.rows] == [BOB, DANA, ERIN]
    assert [r.avg_tokens_per_day for r in by_avg.rows] == [8_000, 4_000, 1_000]
    assert [r.email for r in searched.rows] == [DANA] and searched.total_count == 1
    assert [r.email for r in paged.rows] == [BOB] and paged.total_count == 3
    assert [r.email for r in bogus.rows] == [DANA, BOB, ERIN]


def test_csv_exports(data: Engine) -> None:
    with transaction(data) as s:
        tools = usage_csv(s, START, date(2026, 11, 2))
        models = usage_csv(s, date(2026, 11, 2), date(2026, 11, 2), view="models")
        team = team_csv(team_table(s, START, END, today=date(2026, 11, 10), tools=("claude_code", "cursor"), limit=1))
    assert tools == (
        "date,tool,tokens,cost,users\n"
        "2026-11-01,claude_code,5000,2.000000,1\n"
        "2026-11-02,claude_code,10000,5.000000,1\n"
        "2026-11-02,cursor,1000,0.500000,1\n"
    )
    assert models == (
        "date,model,tokens,input_tokens,output_tokens,cost,tool\n"
        "2026-11-02,gpt-5,1000,500,500,0.500000,cursor\n"
        "2026-11-02,opus-4.5,10000,2000,2000,5.000000,claude_code\n"
    )
    assert team.splitlines() == [
        "email,total_tokens,total_cost,claude_code_tokens,cursor_tokens,input_tokens,output_tokens,"
        "cache_read_tokens,first_active,last_active,days_active,avg_tokens_per_day,tool_count",
        f"{DANA},16000,7.500000,15000,1000,3500,3500,9000,2026-11-01,2026-11-02,2,8000,2",
    ]


def test_csv_quotes_awkward_values() -> None:
    assert to_csv(["a", "b"], [['x,y "z"', None]]) == 'a,b\n"x,y ""z""",\n'
