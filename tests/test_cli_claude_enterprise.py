"""`abacus` with only a Claude Enterprise analytics key: sync, re-sync, a restated day, status, gaps, doctor,
stats and answers, against the fake Enterprise Analytics API over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.cli import main
from tests.fakes.claude_enterprise_server import Activity, EnterpriseOrg, FakeEnterprise

KEY = "sk-ant-api01-acme-analytics-secret"
SONNET, OPUS = "claude-sonnet-4-5-20250929", "claude-opus-4-6"
NOW = datetime.now(UTC)
TODAY = NOW.date()
D1, D2 = TODAY - timedelta(days=3), TODAY - timedelta(days=2)

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def fake() -> Iterator[FakeEnterprise]:
    server = FakeEnterprise()
    yield server
    server.close()


@pytest.fixture
def org(fake: FakeEnterprise) -> EnterpriseOrg:
    # Activity is published up to two days ago; tokens and cost were refreshed an hour ago.
    acme = fake.add_org(KEY, latest_available_day=D2, data_refreshed_at=NOW - timedelta(hours=1))
    dana, bob = acme.add_user("Dana@Acme.com"), acme.add_user("bob@acme.com")
    acme.add_usage(dana, D1, SONNET, tokens=(1_000, 100, 50, 5_000, 200), amount="450.500000")
    acme.add_usage(bob, D1, OPUS, tokens=(300, 0, 0, 0, 30), amount="113")
    acme.add_usage(dana, D2, OPUS, tokens=(20, 0, 0, 0, 2), amount="20.25")
    acme.add_activity(dana, D1, Activity(sessions=6, added=1_543, removed=892, commits=12, pull_requests=2))
    acme.add_activity(bob, D2, Activity(sessions=1, added=10))
    return acme


@pytest.fixture
def run(
    db_url_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake: FakeEnterprise,
) -> Run:
    monkeypatch.setenv("DATABASE_URL", db_url_factory())
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "acme.com")
    monkeypatch.setenv("ANTHROPIC_ANALYTICS_KEYS", f"acme={KEY}")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    assert invoke("db", "migrate")[0] == 0
    return invoke


def stats(run: Run) -> dict[str, Any]:
    code, out, _ = run("stats", "--json")
    assert code == 0
    return dict(json.loads(out))


def test_only_an_enterprise_key_syncs_and_every_surface_counts_it_as_claude_code(run: Run, org: EnterpriseOrg) -> None:
    code, out, err = run("sync", "claude-enterprise", "--days", "4")
    assert code == 0, err
    assert "acme (claude-enterprise:acme)" in out and "not published yet" in out
    first = stats(run)
    # (1,000 + 100 + 50 + 5,000 + 200) + 330 + 22 tokens; (450.5 + 113 + 20.25) cents, exact.
    assert first["total_tokens"] == 6_702 and Decimal(str(first["total_cost_usd"])) == Decimal("5.8375")
    assert set(first["by_tool"]) == {"claude_code"}

    # A re-sync changes nothing; a restated day replaces the old figures.
    assert run("sync", "--days", "4")[0] == 0
    assert stats(run) == first
    dana = next(uid for uid, seat in org.seats.items() if seat.email == "Dana@Acme.com")
    org.revise(dana, D1, SONNET, amount="500", output=300)
    assert run("sync", "claude-enterprise", "--days", "4")[0] == 0
    restated = stats(run)
    assert restated["total_tokens"] == 6_802 and Decimal(str(restated["total_cost_usd"])) == Decimal("6.3325")

    code, out, _ = run("status", "claude-enterprise", "--json")
    [status] = json.loads(out)["providers"]
    assert (status["provider"], status["org_id"]) == ("claude-enterprise", "claude-enterprise:acme")
    assert status["freshness"] == "up_to_date" and not status["failing"]
    code, out, _ = run("status")
    assert "Claude Code (Enterprise) · org claude-enterprise:acme: up to date" in out
    code, out, _ = run("gaps", "claude", "--json")
    [gaps] = json.loads(out)["providers"]
    assert gaps["provider"] == "claude-enterprise" and gaps["missing_days"] == 0

    code, out, _ = run("doctor", "--json")
    check = next(c for c in json.loads(out)["checks"] if c["name"] == "claude-enterprise key acme")
    assert check["state"] == "ok", check
    assert check["detail"].startswith("Claude Code (Enterprise): Valid (read:analytics)")
    assert KEY not in out

    code, out, _ = run("ask", "me 7d", "--as", "dana@acme.com")
    assert code == 0 and "Claude Code 100%" in out and "6 sessions" in out


def test_a_console_admin_key_in_the_analytics_setting_fails_with_the_fix(
    run: Run, fake: FakeEnterprise, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_ANALYTICS_KEYS", "acme=sk-ant-admin01-console-key-secret")
    code, out, err = run("sync", "claude-enterprise", "--days", "2")
    assert code == 1 and "read:analytics" in out and "sk-ant-admin01-console" not in out + err
    code, out, _ = run("doctor", "--json")
    check = next(c for c in json.loads(out)["checks"] if c["name"] == "claude-enterprise key acme")
    assert check["state"] == "fail" and "ANTHROPIC_ANALYTICS_KEYS" in check["fix"]


def test_without_any_key_sync_says_what_to_set(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_ANALYTICS_KEYS")
    code, _, err = run("sync")
    assert code == 1 and err.count("\n") == 1
    assert "ANTHROPIC_ADMIN_KEY" in err and "ANTHROPIC_ANALYTICS_KEY" in err and "CURSOR_ADMIN_KEY" in err
    code, _, err = run("sync", "claude-enterprise")
    assert code == 1 and "set ANTHROPIC_ANALYTICS_KEY or ANTHROPIC_ANALYTICS_KEYS" in err
