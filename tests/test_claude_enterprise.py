"""Claude Enterprise Analytics: the parser on the documented sample payloads, the client against a fake that
follows the API's rules (real HTTP on 127.0.0.1, a fake clock), and the sync on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from providers.claude_enterprise.client import EnterpriseClient
from providers.claude_enterprise.rows import TOOL, activity_records, usage_records
from providers.claude_enterprise.sync import STATE_KEY, backfill_org, org_id_for_key, sync_org
from providers.errors import AuthError, ProviderError
from providers.http import RetryPolicy
from providers.pacing import RatePacer
from storage.db import transaction
from storage.locks import LockHeld, hold_lock
from storage.models import ClaudeCodeActivity, IdentityMapping, SyncState, Usage, UsageDaily
from tests.fakes.claude_enterprise_server import COST, USAGE, USERS, Activity, EnterpriseOrg, FakeEnterprise

FIXTURES = Path(__file__).parent / "fixtures" / "claude_enterprise"
KEY = "sk-ant-api01-acme-analytics-secret"
ORG = "claude-enterprise:acme"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATEST = date(2026, 11, 23)  # activity lands a day or two late
REFRESHED = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
D1, D2 = date(2026, 11, 20), date(2026, 11, 21)
SONNET, OPUS, HAIKU = "claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-haiku-4-5-20251001"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# -- the parser on the documented sample payloads -----------------------------------------------------------


def test_the_documented_usage_and_cost_samples_parse_to_one_exact_row() -> None:
    usage = fixture("user_usage_report.json")
    cost_row = fixture("user_cost_report_row.json")
    by_day, seen = usage_records(usage["data"], [cost_row], org_id=ORG, identities={})
    assert list(by_day) == [date(2026, 10, 19)]
    (record,) = by_day[date(2026, 10, 19)]
    assert (record.tool, record.org_id, record.actor, record.email, record.actor_type) == (
        "claude_code",
        ORG,
        "dev@example.com",
        "dev@example.com",
        "user",
    )
    assert (record.raw_model, record.customer_type, record.source) == (SONNET, "subscription", "api")
    assert (record.input_tokens, record.cache_write_tokens, record.cache_read_tokens, record.output_tokens) == (
        1_284_500,
        210_000,
        3_200_000,
        891_000,
    )
    # The recomputed total agrees with the one the API reports (which is never stored).
    assert record.total_tokens == usage["data"][0]["total_tokens"]
    assert record.cost_usd == Decimal("412.80")  # "41280.000000" cents
    assert seen == {"user_01AbCdEf": "dev@example.com"}


def test_the_documented_activity_sample_parses_with_its_counter_names() -> None:
    users = fixture("users.json")
    (record,) = activity_records(users["data"], day=date(2026, 10, 20), org_id=ORG)
    assert (record.actor, record.email, record.date, record.customer_type) == (
        "dev@example.com",
        "dev@example.com",
        date(2026, 10, 20),
        "subscription",
    )
    assert (record.sessions, record.lines_added, record.lines_removed) == (6, 1543, 892)
    assert (record.commits, record.pull_requests) == (12, 2)
    assert record.tool_actions == {
        "edit_tool": {"accepted": 45, "rejected": 5},
        "multi_edit_tool": {"accepted": 12, "rejected": 2},
        "write_tool": {"accepted": 8, "rejected": 1},
        "notebook_edit_tool": {"accepted": 0, "rejected": 0},
    }
    assert (record.tool_accepted, record.tool_rejected) == (65, 8)


def _usage_row(**overrides: Any) -> dict[str, Any]:
    row = fixture("user_usage_report.json")["data"][0]
    row.update(overrides)
    return row


def _cost_row(**overrides: Any) -> dict[str, Any]:
    row = fixture("user_cost_report_row.json")
    row.update(overrides)
    return row


def test_rows_join_usage_and_cost_and_ignore_other_products() -> None:
    actor = {"type": "user_actor", "user_id": "user_2", "email": "Bob@Example.com", "name": "Bob", "deleted": False}
    by_day, _ = usage_records(
        [_usage_row(product="other"), _usage_row(model=None)],
        [
            _cost_row(product="other", amount="99999"),
            _cost_row(amount="0.333333"),  # fractional cents, kept exactly
            _cost_row(actor=actor, model=OPUS, amount="7"),  # a cost without usage still counts
        ],
        org_id=ORG,
        identities={},
    )
    rows = {(r.actor, r.raw_model): r for r in by_day[date(2026, 10, 19)]}
    assert set(rows) == {("dev@example.com", ""), ("dev@example.com", SONNET), ("bob@example.com", OPUS)}
    assert rows[("dev@example.com", "")].total_tokens == 5_585_500  # null model stored as ""
    assert rows[("dev@example.com", "")].cost_usd == 0
    assert rows[("dev@example.com", SONNET)].cost_usd == Decimal("0.00333333")
    assert rows[("dev@example.com", SONNET)].total_tokens == 0
    assert rows[("bob@example.com", OPUS)].cost_usd == Decimal("0.07")


def test_deleted_users_use_a_known_identity_or_stay_unattributed_under_their_id() -> None:
    deleted = {"type": "user_actor", "user_id": "user_01AbCdEf", "email": None, "name": "Deleted User", "deleted": True}
    row = _usage_row(actor=deleted)
    (unknown,) = usage_records([row], [], org_id=ORG, identities={})[0][date(2026, 10, 19)]
    assert (unknown.actor, unknown.email, unknown.actor_type) == ("user_01AbCdEf", "", "user")
    by_day, seen = usage_records([row], [], org_id=ORG, identities={"user_01AbCdEf": "dev@example.com"})
    (known,) = by_day[date(2026, 10, 19)]
    assert (known.actor, known.email) == ("dev@example.com", "dev@example.com")
    assert seen == {}  # a filled-in identity is not news


def test_activity_skips_rows_without_a_user_or_without_any_claude_code_activity() -> None:
    sample = fixture("users.json")["data"][0]
    idle = json.loads(json.dumps(sample))
    idle["user"] = {"id": "user_9", "email_address": "idle@example.com"}
    core = idle["claude_code_metrics"]["core_metrics"]
    core.update(distinct_session_count=None, commit_count=0, pull_request_count=0)
    core["lines_of_code"] = {"added_count": 0, "removed_count": 0}
    idle["claude_code_metrics"]["tool_actions"] = {"edit_tool": {"accepted_count": 0, "rejected_count": 0}}
    odd_tool = json.loads(json.dumps(sample))
    odd_tool["user"] = {"id": "user_8", "email_address": "Tools@Example.com"}
    odd_tool["claude_code_metrics"]["tool_actions"] = {"future_tool": {"accepted_count": 2, "rejected_count": 1}}
    records = activity_records(
        [sample, idle, odd_tool, {"chat_metrics": {}}, {"user": None}], day=date(2026, 10, 20), org_id=ORG
    )
    by_actor = {r.actor: r for r in records}
    assert set(by_actor) == {"dev@example.com", "tools@example.com"}
    assert by_actor["tools@example.com"].tool_actions == {"future_tool": {"accepted": 2, "rejected": 1}}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.pop("output_tokens"), "output_tokens"),
        (lambda r: r["cache_creation"].pop("ephemeral_1h_input_tokens"), "cache_creation.ephemeral_1h_input_tokens"),
        (lambda r: r.update(uncached_input_tokens="12"), "uncached_input_tokens"),
        (lambda r: r.update(cache_read_input_tokens=float("nan")), "cache_read_input_tokens"),
        (lambda r: r.update(output_tokens=-1), "output_tokens"),
        (lambda r: r.update(output_tokens=1.5), "output_tokens"),
    ],
)
def test_structurally_wrong_usage_rows_are_refused_naming_day_and_field(change: Any, field: str) -> None:
    row = _usage_row()
    change(row)
    with pytest.raises(ProviderError) as caught:
        usage_records([row], [], org_id=ORG, identities={})
    assert "2026-10-19" in str(caught.value) and field in str(caught.value)


@pytest.mark.parametrize("amount", ["-5", "NaN", "abc", 12.5, None])
def test_unreadable_amounts_are_refused(amount: Any) -> None:
    with pytest.raises(ProviderError, match=r"2026-10-19.*amount"):
        usage_records([], [_cost_row(amount=amount)], org_id=ORG, identities={})


def test_org_ids_come_from_the_label_or_a_hash_of_the_key_never_a_position() -> None:
    assert org_id_for_key("sk-ant-api01-x", "acme") == "claude-enterprise:acme"
    hashed = org_id_for_key("sk-ant-api01-x", None)
    assert hashed == org_id_for_key("sk-ant-api01-x", "") and hashed.startswith("claude-enterprise:")
    assert len(hashed.split(":")[1]) == 12 and "sk-ant" not in hashed
    assert hashed != org_id_for_key("sk-ant-api01-y", None)


# -- the client and the sync against the fake --------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeEnterprise]:
    server = FakeEnterprise()
    yield server
    server.close()


def client_for(fake: FakeEnterprise, key: str = KEY, *, pacer: RatePacer | None = None) -> EnterpriseClient:
    clock = fake.clock
    return EnterpriseClient(
        key,
        who="Claude Enterprise org 'acme'",
        base_url=fake.url,
        pacer=pacer or RatePacer(60, 60.0, clock=clock, sleep=clock.sleep),
        sleep=clock.sleep,  # the fake clock: waiting is instant, and the fake's rate limit sees it pass
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
    )


class People:
    dana: str
    bob: str
    carol: str
    eve: str


def acme(fake: FakeEnterprise) -> tuple[EnterpriseOrg, People]:
    org = fake.add_org(KEY, latest_available_day=LATEST, data_refreshed_at=REFRESHED)
    p = People()
    p.dana, p.bob = org.add_user("Dana@Acme.com"), org.add_user("bob@acme.com")
    p.carol, p.eve = org.add_user("carol@acme.com"), org.add_user("eve@acme.com")  # eve only chats
    org.add_usage(p.dana, D1, SONNET, tokens=(1000, 100, 50, 5000, 200), amount="450.500000")
    org.add_usage(p.dana, D1, OPUS, tokens=(10, 0, 0, 0, 5), amount="12.250000")
    org.add_usage(p.dana, D1, SONNET, product="chat", tokens=(9, 9, 9, 9, 9), amount="999")  # not Claude Code
    org.add_usage(p.dana, D1, SONNET, product="other", tokens=(8, 8, 8, 8, 8), amount="888")
    org.add_usage(p.bob, D1, OPUS, product=None, tokens=(7, 7, 7, 7, 7), amount="777")  # served: null product
    org.add_usage(p.bob, D1, OPUS, tokens=(300, 0, 0, 0, 30), amount="113")
    org.add_usage(p.bob, D1, HAIKU, amount="0.75", has_usage=False)  # a cost with no usage row
    org.add_usage(p.carol, D2, SONNET, tokens=(20, 0, 0, 0, 2), amount="20")
    org.add_usage(p.dana, date(2026, 11, 24), SONNET, tokens=(5, 0, 0, 0, 5), amount="1")  # activity not ready yet
    org.add_activity(
        p.dana, D1, Activity(6, 1543, 892, 12, 2, {"edit_tool": (45, 5), "write_tool": (8, 1), "new_tool": (1, 0)})
    )
    org.add_activity(p.bob, D1, Activity(sessions=1, added=10))
    org.add_activity(p.carol, D2, Activity(sessions=2, commits=1))
    return org, p


DAYS = [date(2026, 11, 19) + timedelta(days=i) for i in range(6)]  # Nov 19..24
EXPECTED_TOKENS = (1000 + 100 + 50 + 5000 + 200) + 15 + 330 + 22
EXPECTED_COST = Decimal("5.965")  # (450.5 + 12.25 + 113 + 0.75 + 20) cents


def totals(engine: Engine) -> tuple[int, int, Decimal]:
    tokens = Usage.input_tokens + Usage.cache_write_tokens + Usage.cache_read_tokens + Usage.output_tokens
    with transaction(engine) as s:
        n, t, c = s.execute(
            select(func.count(), func.coalesce(func.sum(tokens), 0), func.coalesce(func.sum(Usage.cost_usd), 0))
        ).one()
    return int(n), int(t), Decimal(c)


def snapshot(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Stored content, without surrogate ids and timestamps."""
    with transaction(engine) as s:
        usage = sorted(
            (
                *(u.tool, u.date, u.org_id, u.actor, u.actor_type, u.email, u.raw_model, u.model, u.customer_type),
                *(u.input_tokens, u.cache_write_tokens, u.cache_read_tokens, u.output_tokens, u.cost_usd, u.source),
            )
            for u in s.scalars(select(Usage))
        )
        activity = sorted(
            (
                *(a.date, a.org_id, a.actor, a.email, a.sessions, a.lines_added, a.lines_removed, a.commits),
                *(a.pull_requests, a.tool_accepted, a.tool_rejected, json.dumps(a.tool_actions, sort_keys=True)),
            )
            for a in s.scalars(select(ClaudeCodeActivity))
        )
        daily = sorted(
            (d.date, d.tool, d.org_id, d.email, d.actor, d.model, d.input_tokens, d.output_tokens, d.cost_usd)
            for d in s.scalars(select(UsageDaily))
        )
    return usage, activity, daily


def state(engine: Engine) -> SyncState:
    with transaction(engine) as s:
        found = s.get(SyncState, (STATE_KEY, ORG))
        assert found is not None
        s.expunge(found)
        return found


def test_sync_stores_the_fakes_totals_exactly_and_a_resync_changes_nothing(
    engine: Engine, fake: FakeEnterprise
) -> None:
    _org, p = acme(fake)
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert result.error is None
    assert result.days_done == DAYS[:5] and result.days_not_ready == [date(2026, 11, 24)]
    assert result.latest_available_day == LATEST and result.refreshed_at == REFRESHED
    assert result.unattributed == set() and result.rows == 5 and result.activity_rows == 3
    assert totals(engine) == (5, EXPECTED_TOKENS, EXPECTED_COST)
    # One request per report for the whole window, one /users request per day (none after the first not ready).
    paths = [path for path, _ in fake.raw_requests]
    assert paths.count(USAGE) == 1 and paths.count(COST) == 1 and paths.count(USERS) == 6
    # The API did serve a row that is not Claude Code's (a null product); it was left out.
    assert result.records == 4 * 5 + 5 + 6

    with transaction(engine) as s:
        rows = {(u.actor, u.raw_model, u.date): u for u in s.scalars(select(Usage))}
        dana = rows[("dana@acme.com", SONNET, D1)]
        assert (dana.input_tokens, dana.cache_write_tokens, dana.cache_read_tokens, dana.output_tokens) == (
            1000,
            150,
            5000,
            200,
        )
        assert dana.cost_usd == Decimal("4.505") and dana.model == "sonnet-4.5"
        assert (dana.customer_type, dana.org_id, dana.tool, dana.email) == ("subscription", ORG, TOOL, "dana@acme.com")
        haiku = rows[("bob@acme.com", HAIKU, D1)]
        assert (haiku.input_tokens + haiku.output_tokens, haiku.cost_usd) == (0, Decimal("0.0075"))
        assert s.scalar(select(func.sum(UsageDaily.cost_usd))) == EXPECTED_COST
        activity = {(a.actor, a.date): a for a in s.scalars(select(ClaudeCodeActivity))}
        assert set(activity) == {("dana@acme.com", D1), ("bob@acme.com", D1), ("carol@acme.com", D2)}
        dana_activity = activity[("dana@acme.com", D1)]
        assert (dana_activity.sessions, dana_activity.lines_added, dana_activity.commits) == (6, 1543, 12)
        assert dana_activity.tool_actions["new_tool"] == {"accepted": 1, "rejected": 0}
        assert (dana_activity.tool_accepted, dana_activity.tool_rejected) == (54, 6)
        mappings = {m.external_id: (m.email, m.source, m.org_id) for m in s.scalars(select(IdentityMapping))}
        assert mappings[p.dana] == ("dana@acme.com", "claude-enterprise", ORG) and len(mappings) == 4
    saved = state(engine)
    assert saved.last_success_at == NOW and saved.last_error is None
    assert saved.forward_watermark == datetime(2026, 11, 24, tzinfo=UTC)  # after the newest day stored

    before = snapshot(engine)
    with client_for(fake) as client:
        again = sync_org(engine, client, ORG, DAYS, now=lambda: NOW + timedelta(hours=6))
    assert again.error is None and snapshot(engine) == before


def test_a_restated_day_replaces_the_old_figures_exactly(engine: Engine, fake: FakeEnterprise) -> None:
    org, p = acme(fake)
    with client_for(fake) as client:
        sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    org.revise(p.dana, D1, SONNET, output=250, amount="460.000000")
    org.entries = [e for e in org.entries if not (e.user_id == p.bob and e.model == OPUS)]  # withdrawn entirely
    org.data_refreshed_at = REFRESHED + timedelta(hours=4)
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW + timedelta(days=1))
    assert result.error is None
    with transaction(engine) as s:
        rows = {(u.actor, u.raw_model, u.date): u for u in s.scalars(select(Usage))}
        assert ("bob@acme.com", OPUS, D1) not in rows
        assert rows[("dana@acme.com", SONNET, D1)].output_tokens == 250
        assert rows[("dana@acme.com", SONNET, D1)].cost_usd == Decimal("4.60")
        assert s.scalar(select(func.sum(UsageDaily.cost_usd))) == Decimal("4.93")  # (460 + 12.25 + 0.75 + 20) cents
    assert totals(engine) == (4, EXPECTED_TOKENS + 50 - 330, Decimal("4.93"))


def test_days_whose_activity_is_not_available_yet_are_skipped_not_failed(engine: Engine, fake: FakeEnterprise) -> None:
    acme(fake)
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, [date(2026, 11, 24), date(2026, 11, 25)], now=lambda: NOW)
    assert result.error is None and result.days_done == []
    assert result.days_not_ready == [date(2026, 11, 24), date(2026, 11, 25)]
    assert result.latest_available_day == LATEST
    # The second day was not asked for (days become available in order), nor were the reports.
    assert [path for path, _ in fake.raw_requests] == [USERS]
    assert totals(engine) == (0, 0, Decimal(0))
    saved = state(engine)
    assert saved.last_success_at == NOW and saved.forward_watermark is None


def test_days_the_usage_data_does_not_cover_yet_are_stored_but_not_claimed_complete(
    engine: Engine, fake: FakeEnterprise
) -> None:
    org, _ = acme(fake)
    org.data_refreshed_at = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)  # usage of Nov 21 may still be arriving
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert result.error is None and result.days_done == DAYS[:5]
    assert state(engine).forward_watermark == datetime(2026, 11, 21, tzinfo=UTC)


def test_days_before_the_apis_first_day_are_never_asked_for(engine: Engine, fake: FakeEnterprise) -> None:
    acme(fake)
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, [date(2025, 12, 30), date(2025, 12, 31)], now=lambda: NOW)
        assert client.usage_report(date(2025, 11, 1), date(2026, 1, 1)).rows == []
        assert client.users_day(date(2025, 12, 31)) == []
    assert result.error is None and result.days_done == [] and fake.raw_requests == []


def test_long_ranges_are_split_into_31_day_requests_with_bracketed_parameters(fake: FakeEnterprise) -> None:
    org, p = acme(fake)
    org.add_usage(p.bob, date(2026, 1, 1), OPUS, tokens=(1, 0, 0, 0, 0), amount="1")
    org.add_usage(p.bob, date(2026, 2, 28), OPUS, tokens=(2, 0, 0, 0, 0), amount="2")
    with client_for(fake) as client:
        report = client.usage_report(date(2025, 12, 1), date(2026, 3, 1))
    assert sorted(r["uncached_input_tokens"] for r in report.rows) == [1, 2]
    assert report.organization_id == org.id and report.refreshed_at == REFRESHED
    queries = [params for path, params in fake.raw_requests if path == USAGE]
    assert [(dict(q)["starting_at"], dict(q)["ending_at"]) for q in queries] == [
        ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),  # clamped to the first day with data
        ("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
    ]
    for query in queries:
        assert [v for k, v in query if k == "group_by[]"] == ["model", "product"]
        assert ("products[]", "claude_code") in query and ("bucket_width", "1d") in query
        assert ("limit", "1000") in query


def test_every_page_resends_the_same_query_and_a_changed_query_is_refused(engine: Engine, fake: FakeEnterprise) -> None:
    acme(fake)
    fake.page_cap = 2  # servers may return fewer rows than the limit asked for
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert result.error is None
    assert totals(engine) == (5, EXPECTED_TOKENS, EXPECTED_COST)
    for path, pages in ((USAGE, 3), (COST, 3), (USERS, None)):  # 5 usage and 6 cost rows, 2 a page
        queries = [params for p, params in fake.raw_requests if p == path]
        if pages is not None:
            assert len(queries) == pages
        first = [kv for kv in queries[0] if kv[0] != "page"]
        for query in queries[1:]:
            if path != USERS:
                assert [kv for kv in query if kv[0] != "page"] == first
            assert sum(1 for k, _ in query if k == "page") <= 1
    # The fake enforces what the API documents: a cursor only works with the query it was issued for.
    cursor = next(dict(q)["page"] for p, q in fake.raw_requests if p == USAGE and "page" in dict(q))
    response = httpx.get(
        fake.url + USAGE,
        params={"starting_at": "2026-11-19T00:00:00Z", "ending_at": "2026-11-23T00:00:00Z", "page": cursor},
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 400 and "query" in response.json()["error"]["message"]
    assert response.headers["request-id"]


def test_a_page_failing_midway_stores_nothing_for_the_window(engine: Engine, fake: FakeEnterprise) -> None:
    org, p = acme(fake)
    with client_for(fake) as client:
        sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    before = snapshot(engine)
    org.revise(p.dana, D1, SONNET, output=9_999, amount="1")
    fake.page_cap = 2
    fake.fail("user_cost_report", 500, times=None, page=2)
    later = NOW + timedelta(hours=6)
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: later)
    assert result.error is not None and "500" in str(result.error) and result.days_done == []
    assert snapshot(engine) == before
    saved = state(engine)
    assert saved.last_attempt_at == later and saved.last_success_at == NOW
    assert saved.last_error is not None and "gave up" in saved.last_error


def test_a_deleted_user_is_attributed_to_the_email_seen_before_else_kept_by_id(
    engine: Engine, fake: FakeEnterprise
) -> None:
    org, p = acme(fake)
    ghost = org.add_user("ghost@acme.com")
    org.delete_user(ghost)  # deleted before abacus ever saw them
    org.add_usage(ghost, D2, OPUS, tokens=(7, 0, 0, 0, 3), amount="5")
    with client_for(fake) as client:
        first = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert first.unattributed == {ghost}
    org.delete_user(p.carol)  # deleted after her usage was synced under her email
    with client_for(fake) as client:
        second = sync_org(engine, client, ORG, DAYS, now=lambda: NOW + timedelta(hours=6))
    assert second.error is None and second.unattributed == {ghost}
    with transaction(engine) as s:
        rows = {(u.actor, u.raw_model): u for u in s.scalars(select(Usage).where(Usage.date == D2))}
        assert (rows[(ghost, OPUS)].email, rows[(ghost, OPUS)].actor_type) == ("", "user")
        assert rows[("carol@acme.com", SONNET)].email == "carol@acme.com"
        mapping = s.scalars(select(IdentityMapping).where(IdentityMapping.external_id == p.carol)).one()
        assert (mapping.email, mapping.source) == ("carol@acme.com", "claude-enterprise")
        assert mapping.method == "provider_api"
        # Carol no longer appears in the activity list, so her day keeps only what the API still reports.
        assert s.scalar(select(func.count()).select_from(ClaudeCodeActivity).where(ClaudeCodeActivity.date == D2)) == 0
    assert totals(engine)[2] == EXPECTED_COST + Decimal("0.05")


@pytest.mark.parametrize(
    ("mangle", "field"),
    [
        (lambda r: r.pop("output_tokens"), "output_tokens"),
        (lambda r: r["cache_creation"].update(ephemeral_5m_input_tokens="lots"), "ephemeral_5m_input_tokens"),
        (lambda r: r.update(cache_read_input_tokens=float("nan")), "cache_read_input_tokens"),
        (lambda r: r.update(uncached_input_tokens=-3), "uncached_input_tokens"),
    ],
)
def test_a_garbage_day_is_refused_and_nothing_is_stored_for_it(
    engine: Engine, fake: FakeEnterprise, mangle: Any, field: str
) -> None:
    acme(fake)

    def spoil(path: str, row: dict[str, Any]) -> None:
        if path == USAGE and row["starting_at"].startswith(D2.isoformat()):
            mangle(row)

    fake.mangle = spoil
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert isinstance(result.error, ProviderError)
    message = str(result.error)
    assert D2.isoformat() in message and field in message and "acme" in message
    assert D2 not in result.days_done and D1 in result.days_done
    with transaction(engine) as s:
        for table in (Usage, ClaudeCodeActivity, UsageDaily):
            assert s.scalar(select(func.count()).select_from(table).where(table.date == D2)) == 0
    saved = state(engine)
    assert saved.last_error is not None and D2.isoformat() in saved.last_error and saved.forward_watermark is None


def test_a_console_admin_key_is_refused_with_an_actionable_message_and_no_key(
    engine: Engine, fake: FakeEnterprise
) -> None:
    acme(fake)
    console_key = "sk-ant-admin01-console-secret-value"
    with client_for(fake, console_key) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert isinstance(result.error, AuthError) and result.error.status == 403
    message = str(result.error)
    assert "acme" in message and "read:analytics" in message and "claude.ai Admin API key" in message
    assert console_key not in message and "console-secret" not in message and KEY not in message
    assert result.error.request_id and totals(engine) == (0, 0, Decimal(0))
    assert state(engine).last_error == message
    with client_for(fake, "sk-ant-api01-revoked-secret") as client, pytest.raises(AuthError) as caught:
        client.users_day(D1)
    assert caught.value.status == 401 and "revoked-secret" not in str(caught.value) and "acme" in str(caught.value)


def test_a_429_is_honoured_and_the_limit_is_the_organisations(engine: Engine, fake: FakeEnterprise) -> None:
    org, _ = acme(fake)
    fake.add_key("sk-ant-api01-bi-connector", org)
    headers = {"x-api-key": "sk-ant-api01-bi-connector", "anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=fake.url, headers=headers) as other_tool:
        for _ in range(60):  # another tool spends the organisation's minute with its own key
            other_tool.get(USERS, params={"date": "2026-11-20"}).raise_for_status()
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    assert result.error is None and fake.rate_limited == 1
    assert fake.clock.sleeps == [60.0]  # the retry-after the fake named, on the fake clock
    assert totals(engine) == (5, EXPECTED_TOKENS, EXPECTED_COST)


def test_the_client_paces_itself_under_the_limit_over_a_long_window(engine: Engine, fake: FakeEnterprise) -> None:
    acme(fake)
    days = [LATEST - timedelta(days=i) for i in range(69, -1, -1)]  # 70 days: 70 + 3 + 3 requests
    with client_for(fake) as client:
        result = sync_org(engine, client, ORG, days, now=lambda: NOW)
    assert result.error is None and len(result.days_done) == 70
    assert fake.rate_limited == 0 and sum(fake.clock.sleeps) > 0
    assert [path for path, _ in fake.raw_requests].count(USAGE) == 3  # 31 + 31 + 8 days
    assert totals(engine) == (5, EXPECTED_TOKENS, EXPECTED_COST)


def test_another_400_is_a_failure_not_a_day_that_is_not_ready(fake: FakeEnterprise) -> None:
    acme(fake)
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": "limit: must be <= 1000"}}
    fake.fail("analytics/users", 400, body=body)
    with client_for(fake) as client, pytest.raises(ProviderError) as caught:
        client.users_day(D1)
    assert caught.value.status == 400 and "limit" in str(caught.value)
    with client_for(fake) as client:
        assert client.users_day(date(2026, 11, 24)) is None and client.latest_available_day == LATEST


def test_a_second_sync_of_the_same_org_is_refused_while_one_runs(engine: Engine, fake: FakeEnterprise) -> None:
    acme(fake)
    with hold_lock(engine, f"sync:claude-enterprise:{ORG}"), pytest.raises(LockHeld), client_for(fake) as client:
        sync_org(engine, client, ORG, DAYS, now=lambda: NOW)
    with client_for(fake) as client:
        assert sync_org(engine, client, ORG, DAYS, now=lambda: NOW).error is None


def test_backfill_walks_weeks_back_to_the_apis_first_day_and_resumes_without_holes(
    engine: Engine, fake: FakeEnterprise
) -> None:
    org, p = acme(fake)
    history = [date(2026, 1, 1) + timedelta(days=i) for i in range(20)]  # Jan 1..20
    for day in history:
        org.add_usage(p.bob, day, OPUS, tokens=(1, 0, 0, 0, 1), amount="0.5")
    kwargs: dict[str, Any] = {
        "target": date(2025, 6, 1),  # before the API's first day: clamped to it
        "start_before": date(2026, 1, 21),
        "complete_after_empty": 30,
        "now": lambda: NOW,
    }
    fake.fail("user_cost_report", 500, times=None, page=None)
    with client_for(fake) as client:
        outcome, partial = backfill_org(engine, client, ORG, max_windows=5, **kwargs)
    assert outcome.status == "failed" and partial.error is not None and totals(engine)[0] == 0
    fake.faults.clear()
    with client_for(fake) as client:
        outcome, first = backfill_org(engine, client, ORG, max_windows=2, **kwargs)
    assert (outcome.status, outcome.windows) == ("in_progress", 2)
    assert outcome.cursor == datetime(2026, 1, 7, tzinfo=UTC)  # two weeks below Jan 21
    with client_for(fake) as client:
        outcome, rest = backfill_org(engine, client, ORG, max_windows=10, **kwargs)
    assert outcome.status == "complete" and outcome.cursor == datetime(2026, 1, 1, tzinfo=UTC)
    assert sorted(first.days_done + rest.days_done) == history
    assert totals(engine) == (20, 40, Decimal("0.10"))
    # Two report requests per week-long window, not per day.
    assert [path for path, _ in fake.raw_requests].count(USAGE) == 1 + 3
