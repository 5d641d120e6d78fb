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
from bot.scheduler import AbacusScheduler, JobOutcome, run_job
from bot.settings import Settings
from storage.db import make_engine
from tests.fakes.anthropic_server import FakeAnthropic, user
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


def test_with_both_kinds_of_key_a_person_is_one_person_and_each_use_counts_once(
    run: Run, org: EnterpriseOrg, fake: FakeEnterprise, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One base URL serves both APIs, as api.anthropic.com does: the Admin API answers what is not analytics.
    admin = FakeAnthropic()
    try:
        fake.other_paths = admin._handle
        api_org = admin.add_org("sk-ant-admin01-acme-console", "org-acme", "Acme")
        # Dana also uses an API key of the Console organisation: the same person, a different use.
        api_org.add_usage(D1, user("dana@acme.com"), [(SONNET, 700, 70, 0, 0, 125)])
        monkeypatch.setenv("ANTHROPIC_ADMIN_KEYS", "console=sk-ant-admin01-acme-console")
        code, out, err = run("sync", "--days", "4")
        assert code == 0, err + out
        totals = stats(run)
        assert totals["people"] == 2  # dana and bob, each once
        assert totals["total_tokens"] == 6_702 + 770
        assert Decimal(str(totals["total_cost_usd"])) == Decimal("5.8375") + Decimal("1.25")
        code, out, _ = run("ask", "top 5 7d", "--as", "bob@acme.com")
        assert code == 0 and out.count("dana@acme.com") == 1 and "$5.96" in out  # (450.5 + 20.25 + 125) cents
        code, out, _ = run("status", "claude", "--json")
        sources = {(p["provider"], p["org_id"]) for p in json.loads(out)["providers"]}
        assert sources == {("claude_code", "org-acme"), ("claude-enterprise", "claude-enterprise:acme")}
        code, out, _ = run("doctor", "--json")
        names = {c["name"]: c["state"] for c in json.loads(out)["checks"]}
        assert names["anthropic key console"] == "ok" and names["claude-enterprise key acme"] == "ok"
    finally:
        admin.close()


def test_backfill_walks_history_below_the_restatement_window(run: Run, org: EnterpriseOrg) -> None:
    old = TODAY - timedelta(days=40)  # below the 32 days every forward sync re-reads
    bob = next(uid for uid, seat in org.seats.items() if seat.email == "bob@acme.com")
    org.add_usage(bob, old, OPUS, tokens=(1_000, 0, 0, 0, 100), amount="99.5")
    org.add_activity(bob, old, Activity(sessions=3))
    code, out, err = run("backfill", "claude-enterprise", "--from", (old - timedelta(days=5)).isoformat())
    assert code == 0, err + out
    backfilled = stats(run)
    assert backfilled["total_tokens"] == 1_100 and Decimal(str(backfilled["total_cost_usd"])) == Decimal("0.995")
    code, out, _ = run("status", "claude-enterprise", "--json")
    [status] = json.loads(out)["providers"]
    assert status["backfill"]["state"] == "complete"


def test_the_scheduler_runs_the_enterprise_jobs_with_only_an_analytics_key(run: Run, org: EnterpriseOrg) -> None:
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        scheduler = AbacusScheduler(settings, engine, background=True)
        assert {job.id for job in scheduler.jobs} == {"claude_enterprise_sync", "claude_enterprise_backfill"}
        assert run_job(scheduler.env, "claude_enterprise_sync") == JobOutcome(rows=3)  # usage rows stored
        scheduler.shutdown()
    finally:
        engine.dispose()
    assert stats(run)["total_tokens"] == 6_702
    code, out, _ = run("status", "--json")
    assert code == 0
    [job] = json.loads(out)["jobs"]
    assert (job["job_id"], job["status"]) == ("claude_enterprise_sync", "ok")
