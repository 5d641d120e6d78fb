from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.analytics.profile import find_person
from storage.db import transaction
from storage.models import ClaudeCodeActivity, Usage, UsageDaily
from storage.writes import ActivityRecord, upsert_activity, upsert_usage
from tests.factories import usage


def totals(engine: Engine, model: type[Usage] | type[UsageDaily] = Usage) -> tuple[int, int, Decimal]:
    tokens = model.input_tokens + model.cache_write_tokens + model.cache_read_tokens + model.output_tokens
    with transaction(engine) as s:
        count = s.scalar(select(func.count()).select_from(model))
        total, cost = s.execute(
            select(func.coalesce(func.sum(tokens), 0), func.coalesce(func.sum(model.cost_usd), 0))
        ).one()
    return int(count or 0), int(total), Decimal(cost)


def a_month_of_usage() -> list:
    people = ["dana@example.com", "bob@example.com", "carol@example.com"]
    return [
        usage(
            date=date(2026, 10, 1) + timedelta(days=d),
            actor=p,
            email=p,
            raw_model=m,
            cost_usd=Decimal("0.000001") * (d + 1),
        )
        for d in range(30)
        for p in people
        for m in ("claude-sonnet-4-5-20250929", "claude-opus-4-6")
    ]


def test_upserting_the_same_batch_twice_leaves_identical_totals(engine: Engine) -> None:
    batch = a_month_of_usage()
    with transaction(engine) as s:
        assert upsert_usage(s, batch).rows == 180
    first = totals(engine)
    with transaction(engine) as s:
        upsert_usage(s, batch)
    assert totals(engine) == first
    # Costs are summed exactly: 3 people x 2 models x (1+2+...+30) micro-dollars.
    assert first == (180, 180 * 6_300, Decimal("0.002790"))


def test_a_later_write_of_the_same_grain_overwrites(engine: Engine) -> None:
    with transaction(engine) as s:
        upsert_usage(s, [usage(output_tokens=200)])
    with transaction(engine) as s:
        upsert_usage(s, [usage(output_tokens=900, cost_usd=Decimal("3.50"))])
    with transaction(engine) as s:
        row = s.scalars(select(Usage)).one()
    assert (row.output_tokens, row.cost_usd) == (900, Decimal("3.50"))
    assert row.model == "sonnet-4.5" and row.raw_model == "claude-sonnet-4-5-20250929"


def test_duplicate_keys_in_one_batch_keep_the_last(engine: Engine) -> None:
    with transaction(engine) as s:
        result = upsert_usage(s, [usage(output_tokens=1), usage(output_tokens=2), usage(output_tokens=3)])
    assert result.rows == 1
    with transaction(engine) as s:
        assert s.scalar(select(Usage.output_tokens)) == 3


def test_each_key_part_separates_rows(engine: Engine) -> None:
    base = usage()
    variants = [
        base,
        usage(org_id="org-2"),
        usage(date=base.date + timedelta(days=1)),
        usage(raw_model="claude-opus-4-6"),
        usage(customer_type="subscription"),
        usage(tool="cursor", event_key="e1", event_ts_ms=1),
        usage(tool="cursor", event_key="e2", event_ts_ms=1),
        usage(actor="ci-key", actor_type="api_key", email=""),
    ]
    with transaction(engine) as s:
        upsert_usage(s, variants)
    assert totals(engine)[0] == len(variants)


def test_a_batch_that_fails_halfway_leaves_nothing_behind(engine: Engine) -> None:
    good = [usage(date=date(2025, 1, 1) + timedelta(days=i % 400), actor=f"p{i}@example.com") for i in range(2_500)]
    broken = usage(date=date(2024, 1, 1), input_tokens=None)
    with pytest.raises(IntegrityError), transaction(engine) as s:
        upsert_usage(s, [*good, broken])
    assert totals(engine) == (0, 0, Decimal(0))
    assert totals(engine, UsageDaily) == (0, 0, Decimal(0))


def test_rollup_stays_in_step_with_the_facts(engine: Engine) -> None:
    with transaction(engine) as s:
        upsert_usage(s, a_month_of_usage())
        upsert_usage(s, [usage(actor="ci-key", actor_type="api_key", email="", output_tokens=10_000)])
    with transaction(engine) as s:
        upsert_usage(s, [usage(output_tokens=50)])  # overwrite one grain
    facts = totals(engine)
    rolled = totals(engine, UsageDaily)
    assert rolled[1:] == facts[1:]
    with transaction(engine) as s:
        assert s.scalar(select(func.sum(UsageDaily.records))) == facts[0]
        unattributed = s.execute(select(UsageDaily.actor, UsageDaily.email).where(UsageDaily.email == "")).all()
        attributed_actors = set(s.scalars(select(UsageDaily.actor).where(UsageDaily.email != "")))
    assert unattributed == [("ci-key", "")]
    assert attributed_actors == {""}


def test_an_empty_email_never_erases_an_attribution(engine: Engine) -> None:
    key_row = usage(actor="ci-key", actor_type="api_key", email="")
    with transaction(engine) as s:
        upsert_usage(s, [key_row])
        s.execute(update(Usage).values(email="dana@example.com"))
    with transaction(engine) as s:
        upsert_usage(s, [key_row])
        assert s.scalar(select(Usage.email)) == "dana@example.com"
        assert s.scalar(select(UsageDaily.email)) == "dana@example.com"


def test_activity_upsert_is_idempotent(engine: Engine) -> None:
    record = ActivityRecord(
        date=date(2026, 11, 20),
        actor="dana@example.com",
        email="dana@example.com",
        org_id="org-1",
        sessions=5,
        lines_added=100,
        tool_accepted=10,
        tool_rejected=2,
        tool_actions={"edit_tool": {"accepted": 10, "rejected": 2}},
        terminal_types="vscode",
    )
    with transaction(engine) as s:
        upsert_activity(s, [record])
        upsert_activity(s, [record])
    with transaction(engine) as s:
        rows = s.scalars(select(ClaudeCodeActivity)).all()
    assert len(rows) == 1
    assert rows[0].tool_actions == {"edit_tool": {"accepted": 10, "rejected": 2}}
    assert (rows[0].sessions, rows[0].lines_added) == (5, 100)


def test_a_value_the_database_refuses_in_the_bulk_load_is_a_sqlalchemy_error(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores what it is given; only PostgreSQL's COPY checks types")
    from sqlalchemy.exc import DataError

    with pytest.raises(DataError, match="COPY"), transaction(engine) as s:
        upsert_usage(s, [usage(), usage(actor="x@example.com", input_tokens="many")])
    assert totals(engine) == (0, 0, Decimal(0))


def test_money_keeps_every_digit_the_column_holds(engine: Engine) -> None:
    # PostgreSQL's numeric(18, 6) keeps all 18 digits; SQLite stores money as REAL, exact to ~15 digits.
    cost = Decimal("123456789012.123456") if engine.dialect.name == "postgresql" else Decimal("123456.123456")
    with transaction(engine) as s:
        upsert_usage(s, [usage(cost_usd=cost)])
    with transaction(engine) as s:
        assert s.scalar(select(Usage.cost_usd)) == cost
        assert s.scalar(select(UsageDaily.cost_usd)) == cost


def test_emails_are_stored_lower_case_so_people_are_found_by_index(engine: Engine) -> None:
    with transaction(engine) as s:
        upsert_usage(s, [usage(email="Dana.Lovelace@Example.COM", actor="Dana.Lovelace@Example.COM")])
    with transaction(engine) as s:
        assert s.scalar(select(UsageDaily.email)) == "dana.lovelace@example.com"
        assert find_person(s, "DANA.LOVELACE@example.com") == "dana.lovelace@example.com"
        assert find_person(s, "Dana.Lovelace") == "dana.lovelace@example.com"
        assert find_person(s, "dana") is None and find_person(s, "dana_lovelace") is None


def test_the_rollup_refresh_leaves_the_transactions_settings_as_it_found_them(engine: Engine) -> None:
    # PostgreSQL groups the refresh by hashing with more work memory; what the transaction had set before,
    # and the connection's own settings after it, are untouched.
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no such settings")
    settings = text("SELECT current_setting('work_mem'), current_setting('enable_sort')")
    with engine.connect() as conn:
        connection_before = conn.execute(settings).one()
    with transaction(engine) as s:
        s.execute(text("SET LOCAL work_mem = '7MB'"))
        upsert_usage(s, [usage(), usage(actor="zoe@example.com", email="zoe@example.com")])
        assert s.execute(settings).one() == ("7MB", "on")
    with engine.connect() as conn:
        assert conn.execute(settings).one() == connection_before
