"""Claude Code sync against a fake Anthropic Admin API (real HTTP on 127.0.0.1), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from providers.anthropic.client import AnthropicClient
from providers.anthropic.sync import backfill_org, sync_org
from providers.errors import AuthError
from providers.http import RetryPolicy
from storage.db import transaction
from storage.locks import LockHeld, hold_lock
from storage.models import ClaudeCodeActivity, IdentityMapping, SyncState, Usage, UsageDaily
from tests.fakes.anthropic_server import FakeAnthropic, FakeOrg, api_key, user

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAY = date(2026, 11, 20)
KEY = "sk-ant-admin01-test-key-acme"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic()
    yield server
    server.close()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(fake: FakeAnthropic, key: str = KEY, sleeps: Sleeps | None = None, **policy: float) -> AnthropicClient:
    retry = RetryPolicy(**{"max_attempts": 4, "base_delay": 0.01, "max_delay": 0.05, **policy})  # type: ignore[arg-type]
    sleep = sleeps if sleeps is not None else Sleeps()
    return AnthropicClient(key, who="Claude Code org 'acme'", base_url=fake.url, policy=retry, sleep=sleep)


def totals(engine: Engine) -> tuple[int, int, Decimal]:
    tokens = Usage.input_tokens + Usage.cache_write_tokens + Usage.cache_read_tokens + Usage.output_tokens
    with transaction(engine) as s:
        n, t, c = s.execute(
            select(func.count(), func.coalesce(func.sum(tokens), 0), func.coalesce(func.sum(Usage.cost_usd), 0))
        ).one()
    return int(n), int(t), Decimal(c)


def acme(fake: FakeAnthropic) -> FakeOrg:
    org = fake.add_org(KEY, "org-acme-uuid", "Acme")
    dana = org.add_user("dana@acme.com")
    org.add_api_key("ci-pipeline", dana)  # resolvable through users + api_keys
    # dana twice on one day (two terminals): one grain, summed. Mixed date forms.
    org.add_usage(DAY, user("Dana@Acme.com"), [("claude-sonnet-4-5-20250929[1m]", 1000, 200, 5000, 100, 450)])
    org.add_usage(
        DAY,
        user("dana@acme.com"),
        [("claude-sonnet-4-5-20250929[1m]", 10, 2, 50, 1, 5)],
        rfc3339=True,
        terminal="iTerm.app",
    )
    org.add_usage(
        DAY,
        user("bob@acme.com"),
        [("claude-opus-4-6", 300, 30, 0, 0, 113), ("claude-haiku-4-5-20251001", 7, 3, 0, 0, 1)],
    )
    org.add_usage(DAY, api_key("ci-pipeline"), [("claude-sonnet-4-5-20250929", 50, 5, 0, 0, 9)])
    org.add_usage(DAY, api_key("mystery-key"), [("claude-sonnet-4-5-20250929", 20, 2, 0, 0, 3)])
    org.add_usage(DAY, {"type": "service_account_actor", "id": "svc_1"}, [("claude-opus-4-6", 1, 1, 0, 0, 1)])
    return org


EXPECTED_TOKENS = (1000 + 200 + 5000 + 100) + (10 + 2 + 50 + 1) + (330) + (10) + (55) + (22) + 2
EXPECTED_COST = Decimal("5.82")  # 450+5+113+1+9+3+1 cents


def test_sync_stores_exactly_the_fakes_totals_and_a_resync_changes_nothing(engine: Engine, fake: FakeAnthropic) -> None:
    acme(fake)
    for _ in range(2):
        with client_for(fake) as client:
            result = sync_org(engine, client, [DAY], now=lambda: NOW)
        assert result.error is None
        assert totals(engine) == (6, EXPECTED_TOKENS, EXPECTED_COST)
    with transaction(engine) as s:
        rows = {(u.actor, u.raw_model): u for u in s.scalars(select(Usage))}
        dana = rows[("dana@acme.com", "claude-sonnet-4-5-20250929[1m]")]
        assert (dana.input_tokens, dana.output_tokens, dana.cache_read_tokens, dana.cache_write_tokens) == (
            1010,
            202,
            5050,
            101,
        )
        assert dana.model == "sonnet-4.5" and dana.cost_usd == Decimal("4.55") and dana.customer_type == "api"
        assert rows[("ci-pipeline", "claude-sonnet-4-5-20250929")].email == "dana@acme.com"
        mystery = rows[("mystery-key", "claude-sonnet-4-5-20250929")]
        assert (mystery.email, mystery.actor_type) == ("", "api_key")
        assert rows[("svc_1", "claude-opus-4-6")].actor_type == "other"
        assert {u.org_id for u in rows.values()} == {"org-acme-uuid"}
        # The rollup agrees with the facts to the cent.
        assert s.scalar(select(func.sum(UsageDaily.cost_usd))) == EXPECTED_COST
        activity = {a.actor: a for a in s.scalars(select(ClaudeCodeActivity))}
        assert activity["dana@acme.com"].sessions == 2
        assert activity["dana@acme.com"].terminal_types == "iTerm.app,vscode"
        assert activity["dana@acme.com"].tool_actions == {
            "edit_tool": {"accepted": 6, "rejected": 2},
            "write_tool": {"accepted": 2, "rejected": 0},
        }
        assert (activity["dana@acme.com"].tool_accepted, activity["dana@acme.com"].tool_rejected) == (8, 2)
        # The directory's answer is remembered as a mapping, so history stays stable.
        mapping = s.scalars(select(IdentityMapping)).one()
        assert (mapping.external_id, mapping.email, mapping.method) == ("ci-pipeline", "dana@acme.com", "provider_api")
        state = s.get(SyncState, ("claude_code", "org-acme-uuid"))
        assert state is not None and state.last_success_at == NOW and state.last_error is None
        assert state.forward_watermark == datetime(2026, 11, 21, tzinfo=UTC)
    assert result.unresolved_keys == {"mystery-key"}


def test_pagination_fetches_every_page(engine: Engine, fake: FakeAnthropic) -> None:
    org = fake.add_org(KEY, "org-acme-uuid", "Acme")
    for i in range(2_345):
        org.add_usage(DAY, user(f"p{i}@acme.com"), [("claude-opus-4-6", 1, 1, 1, 1, 1)])
    with client_for(fake) as client:
        sync_org(engine, client, [DAY], now=lambda: NOW)
    assert totals(engine) == (2_345, 4 * 2_345, Decimal("23.45"))
    pages = [r for r in fake.requests if r.path.endswith("claude_code")]
    assert len(pages) == 3 and all(r.query["limit"] == "1000" for r in pages)
    assert pages[0].headers["user-agent"].startswith("Abacus/")


def test_429_with_retry_after_then_success(engine: Engine, fake: FakeAnthropic) -> None:
    acme(fake)
    fake.fail("claude_code", 429, times=2, headers={"retry-after": "0.02"})
    sleeps = Sleeps()
    with client_for(fake, sleeps=sleeps) as client:
        result = sync_org(engine, client, [DAY], now=lambda: NOW)
    assert result.error is None and sleeps == [0.02, 0.02]
    assert totals(engine)[1:] == (EXPECTED_TOKENS, EXPECTED_COST)


def test_a_500_on_page_two_that_never_recovers_leaves_the_day_as_it_was(engine: Engine, fake: FakeAnthropic) -> None:
    org = acme(fake)
    with client_for(fake) as client:
        sync_org(engine, client, [DAY], now=lambda: NOW)
    before = totals(engine)
    for i in range(1_500):  # the day grows past one page, but page 2 keeps failing
        org.add_usage(DAY, user(f"late{i}@acme.com"), [("claude-opus-4-6", 1, 1, 1, 1, 1)])
    fake.fail("claude_code", 500, times=None, page=2)
    later = NOW + timedelta(hours=6)
    with client_for(fake) as client:
        result = sync_org(engine, client, [DAY], now=lambda: later)
    assert result.error is not None and "500" in str(result.error)
    assert totals(engine) == before
    with transaction(engine) as s:
        state = s.get(SyncState, ("claude_code", "org-acme-uuid"))
        assert state is not None
        assert state.last_attempt_at == later and state.last_success_at == NOW
        assert state.last_error is not None and "gave up" in state.last_error


def test_401_names_the_org_and_never_the_key(engine: Engine, fake: FakeAnthropic) -> None:
    acme(fake)
    with pytest.raises(AuthError) as caught, client_for(fake, key="sk-ant-admin01-wrong-secret") as client:
        sync_org(engine, client, [DAY], now=lambda: NOW)
    message = str(caught.value)
    assert "acme" in message and "401" in message
    assert "wrong-secret" not in message and "sk-ant" not in message
    assert totals(engine) == (0, 0, Decimal(0))


def test_a_second_sync_of_the_same_org_is_refused_while_one_runs(engine: Engine, fake: FakeAnthropic) -> None:
    acme(fake)
    with hold_lock(engine, "sync:claude_code:org-acme-uuid"), pytest.raises(LockHeld), client_for(fake) as client:
        sync_org(engine, client, [DAY], now=lambda: NOW)
    with client_for(fake) as client:  # released: the next one runs
        assert sync_org(engine, client, [DAY], now=lambda: NOW).error is None


def test_backfill_interrupted_and_resumed_leaves_no_hole(engine: Engine, fake: FakeAnthropic) -> None:
    org = fake.add_org(KEY, "org-acme-uuid", "Acme")
    start_before = date(2026, 11, 1)
    days = [start_before - timedelta(days=i) for i in range(1, 11)]  # Oct 31 back to Oct 22
    for d in days:
        org.add_usage(d, user("dana@acme.com"), [("claude-opus-4-6", 1, 0, 0, 0, 1)])
    fake.fail("claude_code", 500, times=None, day=days[4])  # the 5th day back keeps failing
    kwargs = {"target": days[-1], "start_before": start_before, "complete_after_empty": 30, "now": lambda: NOW}
    with client_for(fake) as client:
        _, outcome, _ = backfill_org(engine, client, max_days=3, **kwargs)  # type: ignore[arg-type]
    assert (outcome.status, outcome.windows) == ("in_progress", 3)
    with client_for(fake) as client:
        _, outcome, _ = backfill_org(engine, client, max_days=10, **kwargs)  # type: ignore[arg-type]
    assert outcome.status == "failed" and outcome.cursor == datetime(2026, 10, 28, tzinfo=UTC)
    fake.faults.clear()
    with client_for(fake) as client:
        _, outcome, _ = backfill_org(engine, client, max_days=10, **kwargs)  # type: ignore[arg-type]
    assert outcome.status == "complete"
    with transaction(engine) as s:
        stored = sorted(s.scalars(select(Usage.date)))
        state = s.get(SyncState, ("claude_code", "org-acme-uuid"))
    assert stored == sorted(days)
    assert state is not None and state.backfill_complete and state.backfill_cursor == datetime(2026, 10, 22, tzinfo=UTC)


def test_backfill_completes_after_a_run_of_empty_days(engine: Engine, fake: FakeAnthropic) -> None:
    fake.add_org(KEY, "org-acme-uuid", "Acme")
    with client_for(fake) as client:
        _, outcome, _ = backfill_org(
            engine,
            client,
            target=date(2020, 1, 1),
            start_before=date(2026, 11, 1),
            max_days=100,
            complete_after_empty=5,
            now=lambda: NOW,
        )
    assert (outcome.status, outcome.windows) == ("complete", 5)
