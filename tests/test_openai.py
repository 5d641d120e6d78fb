"""OpenAI: the parser on the documented sample payloads, the price table, the client against a fake that follows
the Admin API's contract (real HTTP on 127.0.0.1), and the sync on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from providers.errors import AuthError, ProviderError
from providers.http import RetryPolicy
from providers.openai.client import OpenAIClient
from providers.openai.pricing import price
from providers.openai.rows import NO_ACTOR, costs_by_day, usage_by_day, user_emails
from providers.openai.status import status_notes
from providers.openai.sync import STATE_KEY, backfill_org, org_id_for_key, sync_org
from storage.db import transaction
from storage.mappings import set_mapping, unmapped_keys
from storage.models import ReportedCost, SyncState, Usage, UsageDaily
from tests.fakes.openai_server import COSTS, USAGE, USERS, FakeOpenAI, OpenAIOrg

FIXTURES = Path(__file__).parent / "fixtures" / "openai"
KEY = "sk-admin-acme-secret-0123456789"
ORG = "openai:acme"
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
D0, D1, D2 = date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 21)
CODEX, MINI, GPT41, UNKNOWN = "gpt-5-codex", "codex-mini-latest", "gpt-4.1", "mystery-model-x"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# -- the parser on the documented sample payloads -----------------------------------------------------------


def test_the_documented_usage_sample_parses_to_one_row_without_double_counting_cached_input() -> None:
    emails = user_emails(fixture("users.json")["data"])
    assert emails == {"user-AbC123": "dev@example.com"}
    days = usage_by_day(fixture("usage_completions.json")["data"], org_id=ORG, emails=emails, keys={})
    day = date(2025, 10, 19)  # the bucket starts at 1760832000
    assert list(days) == [day]
    (row,) = days[day].records
    assert (row.tool, row.org_id, row.actor, row.actor_type, row.email, row.raw_model) == (
        "openai",
        ORG,
        "dev@example.com",
        "user",
        "dev@example.com",
        CODEX,
    )
    # input_tokens (1,250,000) already includes the 900,000 cached: stored as 350,000 uncached + 900,000 read.
    assert (row.input_tokens, row.cache_write_tokens, row.cache_read_tokens, row.output_tokens) == (
        350_000,
        0,
        900_000,
        42_000,
    )
    assert row.total_tokens == 1_250_000 + 42_000
    # gpt-5-codex at $1.25 / $0.125 cached / $10 output per million tokens.
    assert row.cost_usd == Decimal("0.970000")
    assert days[day].results == 1 and not days[day].unpriced_models


def test_the_documented_costs_sample_is_dollars_read_exactly() -> None:
    assert costs_by_day(json.loads((FIXTURES / "costs.json").read_text(), parse_float=Decimal)["data"]) == {
        date(2025, 10, 19): Decimal("4.1725")
    }


def test_cached_input_is_priced_at_the_cached_rate_and_an_unknown_model_has_no_price() -> None:
    uncached = price(CODEX, D1, uncached=1_000_000, cache_read=0, cache_write=0, output=0)
    cached = price(CODEX, D1, uncached=0, cache_read=1_000_000, cache_write=0, output=0)
    # OpenAI charges no premium for writing to its cache: those tokens cost what input costs.
    written = price(CODEX, D1, uncached=0, cache_read=0, cache_write=1_000_000, output=0)
    assert (uncached, cached, written) == (Decimal("1.250000"), Decimal("0.125000"), Decimal("1.250000"))
    assert price(CODEX, D1, uncached=0, cache_read=0, cache_write=0, output=1) == Decimal("0.000010")
    assert price(UNKNOWN, D1, uncached=1, cache_read=0, cache_write=0, output=1) is None
    assert price("", D1, uncached=1, cache_read=0, cache_write=0, output=1) is None


def _bucket(*results: dict[str, Any], start: int = 1760832000, end: int | None = None) -> dict[str, Any]:
    return {"object": "bucket", "start_time": start, "end_time": end or start + 86_400, "results": list(results)}


def _result(**overrides: Any) -> dict[str, Any]:
    result = dict(fixture("usage_completions.json")["data"][0]["results"][0])
    result.update(overrides)
    return result


def test_the_older_shape_without_uncached_and_cache_write_counts_is_derived_from_the_total() -> None:
    old = _result()
    del old["input_cache_write_tokens"], old["input_uncached_tokens"]
    (row,) = usage_by_day([_bucket(old)], org_id=ORG, emails={}, keys={})[date(2025, 10, 19)].records
    assert (row.input_tokens, row.cache_read_tokens) == (350_000, 900_000)


def test_usage_without_a_person_stays_with_its_key_or_a_placeholder_and_unknown_models_are_flagged() -> None:
    results = [
        _result(user_id=None, api_key_id="key_svc", model=UNKNOWN),
        _result(user_id=None, api_key_id="key_mapped"),
        _result(user_id=None, api_key_id=None),
        _result(user_id="user_gone"),
    ]
    day = usage_by_day([_bucket(*results)], org_id=ORG, emails={}, keys={"key_mapped": "kim@acme.com"})[
        date(2025, 10, 19)
    ]
    rows = {(r.actor, r.actor_type, r.email) for r in day.records}
    assert rows == {
        ("key_svc", "api_key", ""),
        ("key_mapped", "api_key", "kim@acme.com"),
        (NO_ACTOR, "other", ""),
        ("user_gone", "user", ""),
    }
    unknown = next(r for r in day.records if r.actor == "key_svc")
    assert unknown.cost_usd == 0 and unknown.total_tokens == 1_292_000
    assert day.unpriced_models == {UNKNOWN} and day.unpriced_tokens == 1_292_000
    assert day.unmapped_keys == {"key_svc"} and day.unknown_users == {"user_gone"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"input_tokens": None}, "result 1.input_tokens"),
        ({"output_tokens": -1}, "result 1.output_tokens"),
        ({"output_tokens": "42"}, "result 1.output_tokens"),
        ({"input_cached_tokens": 1.5}, "result 1.input_cached_tokens"),
        ({"input_uncached_tokens": 1}, "result 1.input_tokens"),  # the parts do not add up to the total
        ({"model": ["gpt"]}, "result 1.model"),
        ({"user_id": "x" * 3000}, "result 1.user_id"),
        ({"input_tokens": 2**62, "input_uncached_tokens": 2**62 - 900_000}, "user-AbC123's gpt-5-codex cost"),
    ],
)
def test_structurally_wrong_results_are_refused_naming_the_day_and_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ProviderError, match=rf"OpenAI data for 2025-10-19: {field} .*nothing was stored"):
        usage_by_day([_bucket(_result(**change))], org_id=ORG, emails={}, keys={})


def test_a_bucket_that_is_not_one_whole_utc_day_is_refused() -> None:
    with pytest.raises(ProviderError, match="one whole UTC day"):
        usage_by_day([_bucket(_result(), start=1760832000 + 3600)], org_id=ORG, emails={}, keys={})
    with pytest.raises(ProviderError, match="start_time"):
        usage_by_day([{"start_time": "yesterday", "end_time": 1, "results": []}], org_id=ORG, emails={}, keys={})


@pytest.mark.parametrize("amount", [{"value": "abc", "currency": "usd"}, {"value": 1, "currency": "eur"}, None])
def test_unreadable_costs_are_refused(amount: Any) -> None:
    with pytest.raises(ProviderError, match=r"2025-10-19: cost result 1\.amount"):
        costs_by_day([_bucket({"amount": amount})])


def test_org_ids_come_from_the_label_or_a_hash_of_the_key_never_a_position() -> None:
    assert org_id_for_key(KEY, "acme") == ORG
    hashed = org_id_for_key(KEY, None)
    assert hashed.startswith("openai:") and len(hashed.split(":")[1]) == 12 and "sk-admin" not in hashed


# -- the client and the sync against the fake --------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(fake: FakeOpenAI, key: str = KEY, sleeps: Sleeps | None = None) -> OpenAIClient:
    return OpenAIClient(
        key,
        who="OpenAI org 'acme'",
        base_url=fake.url,
        sleep=sleeps if sleeps is not None else Sleeps(),
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
    )


def acme(fake: FakeOpenAI) -> OpenAIOrg:
    org = fake.add_org(KEY)
    dana = org.add_user("Dana@Acme.com")
    bob = org.add_user("bob@acme.com", underscore=True)  # ids come as user- and user_
    # Dana's two keys on one day and model: one grain, summed.
    org.add_usage(D1, CODEX, user=dana, key="key_a", tokens=(1_250_000, 900_000, 0, 42_000))
    org.add_usage(D1, CODEX, user=dana, key="key_b", tokens=(1_000, 0, 0, 100))
    org.add_usage(D2, MINI, user=bob, key="key_c", tokens=(200_000, 100_000, 0, 10_000))
    org.add_usage(D2, GPT41, key="key_svc", tokens=(10_000, 0, 0, 1_000))  # a service account: no person
    org.add_usage(D2, UNKNOWN, user=dana, key="key_a", tokens=(5_000, 0, 0, 500))
    org.add_cost(D1, "gpt-5-codex, input", 0.56)
    org.add_cost(D1, "gpt-5-codex, output", 0.42)
    org.add_cost(D2, "codex-mini-latest, input", 0.30)
    return org


DAYS = [D0, D1, D2]
EXPECTED_TOKENS = (1_251_000 + 42_100) + 210_000 + 11_000 + 5_500
# Dana D1: 351,000 x $1.25 + 900,000 x $0.125 + 42,100 x $10 per million = $0.97225; Bob D2 (codex-mini,
# $1.50 / $0.375 / $6): $0.2475; the service key D2 (gpt-4.1, $2 / $8): $0.028; the unknown model: no price.
EXPECTED_COST = Decimal("1.24775")


def totals(engine: Engine) -> tuple[int, int, Decimal]:
    tokens = Usage.input_tokens + Usage.cache_write_tokens + Usage.cache_read_tokens + Usage.output_tokens
    with transaction(engine) as s:
        n, t, c = s.execute(
            select(func.count(), func.coalesce(func.sum(tokens), 0), func.coalesce(func.sum(Usage.cost_usd), 0))
        ).one()
    return int(n), int(t), Decimal(str(c))


def snapshot(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with transaction(engine) as s:
        usage = sorted(
            (
                *(u.date, u.org_id, u.actor, u.actor_type, u.email, u.raw_model, u.input_tokens, u.cache_read_tokens),
                *(u.output_tokens, Decimal(str(u.cost_usd))),
            )
            for u in s.scalars(select(Usage))
        )
        daily = sorted(
            (d.date, d.tool, d.org_id, d.email, d.actor, d.model, d.input_tokens, Decimal(str(d.cost_usd)))
            for d in s.scalars(select(UsageDaily))
        )
        costs = sorted(
            (c.date, c.org_id, Decimal(str(c.reported_cost_usd)), c.unpriced_tokens, c.unpriced_models)
            for c in s.scalars(select(ReportedCost))
        )
    return usage, daily, costs


def state(engine: Engine) -> SyncState:
    with transaction(engine) as s:
        found = s.get(SyncState, (STATE_KEY, ORG))
        assert found is not None
        s.expunge(found)
        return found


def test_sync_stores_the_fakes_totals_exactly_and_a_resync_changes_nothing(engine: Engine, fake: FakeOpenAI) -> None:
    acme(fake)
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert result.error is None and result.days_done == DAYS
    assert result.rows == 4 and result.results == 5
    assert result.cost_usd == EXPECTED_COST and result.reported_usd == Decimal("1.28")
    assert result.unpriced_models == {UNKNOWN} and result.unpriced_tokens == 5_500
    assert result.unmapped_keys == {"key_svc"}
    assert totals(engine) == (4, EXPECTED_TOKENS, EXPECTED_COST)
    usage, _daily, costs = snapshot(engine)
    assert {(u[2], u[4]) for u in usage} == {
        ("dana@acme.com", "dana@acme.com"),
        ("bob@acme.com", "bob@acme.com"),
        ("key_svc", ""),
    }
    assert costs == [
        (D0, ORG, Decimal(0), 0, ""),
        (D1, ORG, Decimal("0.98"), 0, ""),
        (D2, ORG, Decimal("0.30"), 5_500, UNKNOWN),
    ]
    # Grouped by person, model and key, in one request per report for the whole span.
    paths = [r.path for r in fake.requests]
    assert (paths.count(USERS), paths.count(USAGE), paths.count(COSTS)) == (1, 1, 1)
    usage_request = next(r for r in fake.requests if r.path == USAGE)
    assert [v for k, v in usage_request.params if k == "group_by"] == ["user_id", "model", "api_key_id"]
    assert state(engine).forward_watermark == datetime(2026, 11, 22, tzinfo=UTC)

    before = snapshot(engine)
    with client_for(fake) as client:
        again = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert again.error is None and snapshot(engine) == before


def test_a_day_that_grew_is_replaced_not_added_to(engine: Engine, fake: FakeOpenAI) -> None:
    org = acme(fake)
    with client_for(fake) as client:
        sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    org.usage = [u for u in org.usage if u.day != D2]
    org.add_usage(D2, GPT41, key="key_svc", tokens=(20_000, 0, 0, 2_000))
    with client_for(fake) as client:
        sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert totals(engine) == (2, 1_293_100 + 22_000, Decimal("0.97225") + Decimal("0.056"))


def test_the_today_in_progress_is_stored_but_not_claimed_complete(engine: Engine, fake: FakeOpenAI) -> None:
    acme(fake)
    with client_for(fake) as client:
        sync_org(engine, client, ORG, [D1, D2], now=lambda: datetime(2026, 11, 21, 15, tzinfo=UTC))
    assert state(engine).forward_watermark == datetime(2026, 11, 21, tzinfo=UTC)


def test_pages_of_buckets_and_of_users_are_followed_to_the_end(engine: Engine, fake: FakeOpenAI) -> None:
    org = acme(fake)
    for n in range(150):
        org.add_user(f"person{n}@acme.com")
    late = org.add_user("late@acme.com")  # on the users' second page
    first = date(2026, 10, 1)
    days = [first + timedelta(days=i) for i in range(45)]  # two pages of 31 daily buckets
    org.add_usage(days[-5], CODEX, user=late, key="key_l", tokens=(1_000, 0, 0, 0))
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, days, now=lambda: NOW)
    assert result.error is None and len(result.days_done) == 45
    paths = [r.path for r in fake.requests]
    assert (paths.count(USERS), paths.count(USAGE), paths.count(COSTS)) == (2, 2, 2)
    second = [r for r in fake.requests if r.path == USAGE][1]
    assert dict(second.params)["page"].startswith("page_")
    with transaction(engine) as s:
        assert s.scalar(select(Usage.email).where(Usage.date == days[-5])) == "late@acme.com"


def test_a_429_with_retry_after_is_honoured_and_without_it_backs_off(engine: Engine, fake: FakeOpenAI) -> None:
    acme(fake)
    fake.fail(USAGE, 429, retry_after="2")
    fake.fail(COSTS, 429)
    sleeps = Sleeps()
    with client_for(fake, sleeps=sleeps) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert result.error is None and totals(engine)[2] == EXPECTED_COST
    assert sleeps[0] == 2.0 and len(sleeps) == 2 and 0 <= sleeps[1] <= 0.01


def test_429s_that_outlast_the_retries_store_nothing_and_say_so(engine: Engine, fake: FakeOpenAI) -> None:
    acme(fake)
    for _ in range(4):
        fake.fail(COSTS, 429, retry_after="0")
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert result.error is not None and "gave up" in str(result.error) and KEY not in str(result.error)
    assert totals(engine) == (0, 0, Decimal(0))
    assert state(engine).last_error and state(engine).forward_watermark is None


def test_a_project_key_is_refused_with_a_message_that_never_shows_the_key(engine: Engine, fake: FakeOpenAI) -> None:
    acme(fake)
    with client_for(fake, key="sk-proj-not-an-admin-key") as client, pytest.raises(AuthError) as refused:
        client.users()
    assert "api.usage.read" in str(refused.value) and "sk-proj" not in str(refused.value)


def test_a_garbage_day_fails_loudly_and_keeps_what_was_stored_for_it(engine: Engine, fake: FakeOpenAI) -> None:
    org = acme(fake)
    with client_for(fake) as client:
        sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    before = snapshot(engine)
    org.usage.append(org.usage[0].__class__(D0, None, "key_new", CODEX, 10, 0, 0, 1))  # new data on a good day
    org.garbage[D2] = {
        "object": "organization.usage.completions.result",
        "user_id": None,
        "model": CODEX,
        "input_tokens": "NaN",
        "output_tokens": 1,
    }
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert result.error is not None and "OpenAI data for 2026-11-21: result 4.input_tokens" in str(result.error)
    assert result.days_done == [D0, D1]
    after = snapshot(engine)
    assert [u for u in after[0] if u[0] == D2] == [u for u in before[0] if u[0] == D2]  # D2 as it was
    assert any(u[2] == "key_new" for u in after[0])  # the good day was stored
    assert "2026-11-21" in (state(engine).last_error or "")


def test_an_unmapped_key_is_listed_and_mapping_it_moves_its_history_and_later_syncs(
    engine: Engine, fake: FakeOpenAI
) -> None:
    acme(fake)
    with client_for(fake) as client:
        sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    with transaction(engine) as s:
        (key,) = unmapped_keys(s)
        assert (key.tool, key.org_id, key.key_name, key.cost_usd) == ("openai", ORG, "key_svc", Decimal("0.028"))
        # The CLI and Slack pass the default source; the key's org says it is an OpenAI key.
        moved = set_mapping(
            s,
            source="claude_code",
            org_id=ORG,
            external_id="key_svc",
            email="ops@acme.com",
            method="cli",
            by="cli",
            now=NOW,
        )
        assert moved is not None and moved.rows == 1 and moved.total_tokens == 11_000
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert result.unmapped_keys == set()
    with transaction(engine) as s:
        assert unmapped_keys(s) == []
        assert s.scalar(select(Usage.email).where(Usage.actor == "key_svc")) == "ops@acme.com"


def test_a_user_who_left_keeps_the_email_seen_before(engine: Engine, fake: FakeOpenAI) -> None:
    org = acme(fake)
    with client_for(fake) as client:
        sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    org.users = [u for u in org.users if u["email"] != "bob@acme.com"]
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert result.unknown_users == set()
    with transaction(engine) as s:
        assert s.scalar(select(Usage.email).where(Usage.raw_model == MINI)) == "bob@acme.com"


def test_status_compares_computed_with_reported_cost_and_names_unpriced_models(
    engine: Engine, fake: FakeOpenAI
) -> None:
    acme(fake)
    with client_for(fake) as client:
        sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    with transaction(engine) as s:
        notes = status_notes(s, ORG, NOW)
    assert notes[0].startswith("Cost 2026-11-19 to 2026-11-21 (3 days): computed $1.25 from list prices, OpenAI")
    assert "reports $1.28" in notes[0] and "difference -$0.03 (-2.5%)" in notes[0]
    assert notes[1].startswith(f"No price known for {UNKNOWN}: 5,500 tokens")


def test_backfill_walks_months_back_and_resumes_without_holes(engine: Engine, fake: FakeOpenAI) -> None:
    org = acme(fake)
    org.add_usage(date(2026, 9, 5), CODEX, key="key_old", tokens=(1_000, 0, 0, 0))
    with client_for(fake) as client:
        first, _ = backfill_org(
            engine,
            client,
            ORG,
            target=date(2026, 8, 1),
            start_before=D0,
            max_windows=1,
            complete_after_empty=3,
            now=lambda: NOW,
        )
    assert first.status == "in_progress" and first.cursor == datetime(2026, 10, 19, tzinfo=UTC)
    with client_for(fake) as client:
        second, totals_second = backfill_org(
            engine,
            client,
            ORG,
            target=date(2026, 8, 1),
            start_before=D0,
            max_windows=10,
            complete_after_empty=3,
            now=lambda: NOW,
        )
    assert second.status == "complete" and totals_second.rows == 1
    with transaction(engine) as s:
        days = set(s.scalars(select(ReportedCost.date)))
    assert min(days) == date(2026, 8, 1) and len(days) == (D0 - date(2026, 8, 1)).days


def test_openai_keys_are_redacted_from_every_log_line_by_their_shape() -> None:
    from bot.observability import redact

    line = "auth failed for sk-admin-AbCdEf0123456789 and sk-proj-xyz_0123456789-abc, then sk-svcacct-0123456789"
    assert redact(line) == "auth failed for [redacted] and [redacted], then [redacted]"
