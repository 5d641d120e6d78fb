"""A Claude Code (Admin API) day whose records are structurally wrong fails loudly and leaves the stored day
as it was: through `abacus sync anthropic` and the backfill, against the fake Anthropic server, on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select

from bot.cli import main
from providers.anthropic.client import AnthropicClient
from providers.anthropic.sync import backfill_org
from providers.http import RetryPolicy
from storage.db import make_engine, transaction
from storage.models import ClaudeCodeActivity, SyncState, Usage, UsageDaily
from tests.fakes.anthropic_server import FakeAnthropic, FakeOrg, user

KEY = "sk-ant-admin01-acme"
DAY = date(2026, 10, 5)
BIG = 2**63


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic()
    org = server.add_org(KEY, "org-acme", "Acme")
    org.add_usage(DAY, user("dana@acme.com"), [("claude-opus-4-6", 100, 10, 0, 0, 250)])
    org.add_usage(DAY, user("erin@acme.com"), [("claude-sonnet-4-5-20250929", 7, 1, 0, 0, 12)])
    yield server
    server.close()


@pytest.fixture
def cli(
    db_url_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake: FakeAnthropic,
) -> Callable[..., tuple[int, str, str]]:
    url = db_url_factory()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEYS", f"acme={KEY}")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    assert run("db", "migrate")[0] == 0
    run.url = url  # type: ignore[attr-defined]
    return run


def stored(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    engine = make_engine(url)
    try:
        with transaction(engine) as s:
            usage = sorted(tuple(r) for r in s.execute(select(Usage.actor, Usage.input_tokens, Usage.cost_usd)))
            daily = sorted(tuple(r) for r in s.execute(select(UsageDaily.email, UsageDaily.cost_usd)))
            activity = sorted(
                tuple(r) for r in s.execute(select(ClaudeCodeActivity.actor, ClaudeCodeActivity.sessions))
            )
    finally:
        engine.dispose()
    return usage, daily, activity


def _record(org: FakeOrg, index: int = 0) -> dict[str, Any]:
    return org.usage[DAY.isoformat()][index]


def _set(path: str, value: Any) -> Callable[[FakeOrg], None]:
    """Replace the value at a dotted path of the second record (the first stays good)."""

    def change(org: FakeOrg) -> None:
        target: Any = _record(org, 1)
        *parents, last = path.split(".")
        for name in parents:
            target = target[int(name)] if isinstance(target, list) else target[name]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _add_record(record: Any) -> Callable[[FakeOrg], None]:
    return lambda org: org.usage[DAY.isoformat()].append(record)


def _replace_day(records: Any) -> Callable[[FakeOrg], None]:
    def change(org: FakeOrg) -> None:
        org.usage[DAY.isoformat()] = records

    return change


def _twice_over_int(org: FakeOrg) -> None:
    # Each record's sessions fit an INTEGER; summed for one person they do not.
    for _ in range(2):
        org.add_usage(DAY, user("max@acme.com"), [("claude-opus-4-6", 1, 1, 0, 0, 1)], sessions=2**31 - 10)


BREAKAGES: dict[str, tuple[Callable[[FakeOrg], None], str]] = {
    "null-tokens": (_set("model_breakdown.0.tokens.input", None), "model_breakdown[0].tokens.input is None"),
    "string-tokens": (_set("model_breakdown.0.tokens.output", "12"), "tokens.output is '12'"),
    "nan-tokens": (_set("model_breakdown.0.tokens.cache_read", float("nan")), "tokens.cache_read is nan"),
    "infinite-tokens": (_set("model_breakdown.0.tokens.input", float("inf")), "tokens.input is inf"),
    "negative-tokens": (_set("model_breakdown.0.tokens.input", -5), "tokens.input is -5"),
    "fractional-tokens": (_set("model_breakdown.0.tokens.input", 1.5), "tokens.input is 1.5"),
    "tokens-past-64-bits": (_set("model_breakdown.0.tokens.cache_creation", BIG), f"is {BIG}"),
    "null-tokens-object": (_set("model_breakdown.0.tokens", None), "model_breakdown[0].tokens is None"),
    "nan-cost": (_set("model_breakdown.0.estimated_cost.amount", float("nan")), "estimated_cost.amount is nan"),
    "null-cost": (_set("model_breakdown.0.estimated_cost.amount", None), "estimated_cost.amount is None"),
    "negative-cost": (_set("model_breakdown.0.estimated_cost.amount", -1), "estimated_cost.amount is -1"),
    "cost-past-numeric": (_set("model_breakdown.0.estimated_cost.amount", 10**14), "under $1,000,000,000,000"),
    "null-model": (_set("model_breakdown.0.model", None), "model_breakdown[0].model is None"),
    "null-breakdown": (_set("model_breakdown", None), "model_breakdown is None"),
    "breakdown-item-not-an-object": (_set("model_breakdown.0", "opus"), "model_breakdown[0] is 'opus'"),
    "null-actor": (_set("actor", None), "actor is None"),
    "anonymous-actor": (_set("actor", {"type": "user_actor"}), "an actor with an email_address"),
    "actor-too-long": (_set("actor.email_address", "a" * 300 + "@acme.com"), "at most 255 characters"),
    "null-date": (_set("date", None), "date is None"),
    "another-day": (_set("date", "2026-10-04"), "the day asked for (2026-10-05)"),
    "negative-sessions": (_set("core_metrics.num_sessions", -1), "core_metrics.num_sessions is -1"),
    "sessions-past-integer": (_set("core_metrics.num_sessions", 2**31), "core_metrics.num_sessions is 2147483648"),
    "summed-sessions-past-integer": (_twice_over_int, "max@acme.com's summed sessions"),
    "null-tool-actions": (_set("tool_actions.edit_tool", None), "tool_actions.edit_tool is None"),
    "record-not-an-object": (_add_record("garbage"), "the 3rd record is 'garbage', not an object"),
    "null-record": (_add_record(None), "the 3rd record is None, not an object"),
    "null-data": (_replace_day(None), "where its list of records belongs"),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_a_structurally_wrong_day_fails_loudly_and_leaves_the_stored_day_untouched(
    cli: Callable[..., tuple[int, str, str]], fake: FakeAnthropic, breakage: str
) -> None:
    code, out, err = cli("sync", "anthropic", "--from", "2026-10-05", "--to", "2026-10-05", "--json")
    assert code == 0, out + err
    before = stored(cli.url)  # type: ignore[attr-defined]
    assert len(before[0]) == 2 and len(before[2]) == 2

    change, problem = BREAKAGES[breakage]
    change(fake.orgs[KEY])
    code, out, err = cli("sync", "anthropic", "--from", "2026-10-05", "--to", "2026-10-05", "--json")
    assert code == 1, out + err
    [result] = json.loads(out)["results"]
    assert result["ok"] is False
    assert "2026-10-05" in result["message"] and problem in result["message"], result["message"]
    assert "nothing was stored for that day" in result["message"]
    assert stored(cli.url) == before  # type: ignore[attr-defined]
    engine = make_engine(cli.url)  # type: ignore[attr-defined]
    with transaction(engine) as s:
        state = s.get(SyncState, ("claude_code", "org-acme"))
        assert state is not None and state.last_error is not None and problem in state.last_error
    engine.dispose()


def test_whole_numbers_spelled_as_floats_are_still_counts(
    cli: Callable[..., tuple[int, str, str]], fake: FakeAnthropic
) -> None:
    _set("model_breakdown.0.tokens.input", 7.0)(fake.orgs[KEY])
    _set("model_breakdown.0.estimated_cost.amount", 12.5)(fake.orgs[KEY])
    code, out, err = cli("sync", "anthropic", "--from", "2026-10-05", "--to", "2026-10-05")
    assert code == 0, out + err
    usage, _daily, _activity = stored(cli.url)  # type: ignore[attr-defined]
    assert ("erin@acme.com", 7, Decimal("0.125")) in usage


def test_a_backfill_stops_at_a_wrong_day_and_keeps_it(engine: Engine, fake: FakeAnthropic) -> None:
    org = fake.orgs[KEY]
    older = date(2026, 10, 4)
    org.add_usage(older, user("dana@acme.com"), [("claude-opus-4-6", 5, 5, 0, 0, 5)])
    policy = RetryPolicy(max_attempts=1, base_delay=0.01, max_delay=0.01)
    kwargs: dict[str, Any] = {
        "target": older,
        "start_before": date(2026, 10, 6),
        "max_days": 5,
        "complete_after_empty": 30,
        "now": lambda: datetime(2026, 10, 20, tzinfo=UTC),
    }
    with AnthropicClient(KEY, who="acme", base_url=fake.url, policy=policy) as client:
        _, outcome, _ = backfill_org(engine, client, **kwargs)
    assert outcome.status == "complete"
    with transaction(engine) as s:
        before = sorted(tuple(r) for r in s.execute(select(Usage.date, Usage.actor, Usage.input_tokens)))
    with transaction(engine) as s:
        s.execute(delete(SyncState))
    _set("model_breakdown.0.tokens.input", float("inf"))(org)
    with AnthropicClient(KEY, who="acme", base_url=fake.url, policy=policy) as client:
        _, outcome, _ = backfill_org(engine, client, **kwargs)
    assert outcome.status == "failed" and outcome.error is not None and "tokens.input is inf" in outcome.error
    with transaction(engine) as s:
        after = sorted(tuple(r) for r in s.execute(select(Usage.date, Usage.actor, Usage.input_tokens)))
    assert after == before
