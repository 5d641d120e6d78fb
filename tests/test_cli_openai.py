"""`abacus` with only an OpenAI Admin key: sync, re-sync, status with the cost check, gaps, backfill, mappings,
doctor, config, stats, answers and the scheduler, against the fake OpenAI Admin API over HTTP, on SQLite and
PostgreSQL."""

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
from tests.fakes.openai_server import USAGE, FakeOpenAI, OpenAIOrg

KEY = "sk-admin-acme-secret-0123456789"
CODEX, MINI, UNKNOWN = "gpt-5-codex", "codex-mini-latest", "mystery-model-x"
TODAY = datetime.now(UTC).date()
D1, D2 = TODAY - timedelta(days=2), TODAY - timedelta(days=1)

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def org(fake: FakeOpenAI) -> OpenAIOrg:
    acme = fake.add_org(KEY)
    dana, bob = acme.add_user("Dana@Acme.com"), acme.add_user("bob@acme.com", underscore=True)
    acme.add_usage(D1, CODEX, user=dana, key="key_a", tokens=(1_250_000, 900_000, 0, 42_000))  # $0.97
    acme.add_usage(D2, MINI, user=bob, key="key_b", tokens=(200_000, 100_000, 0, 10_000))  # $0.2475
    acme.add_usage(D2, CODEX, key="key_svc", tokens=(8_000, 0, 0, 200))  # a service account: $0.012
    acme.add_usage(D2, UNKNOWN, user=dana, key="key_a", tokens=(1_000, 0, 0, 100))  # no price known
    acme.add_cost(D1, "gpt-5-codex, input", 0.55)
    acme.add_cost(D1, "gpt-5-codex, output", 0.42)
    acme.add_cost(D2, "codex-mini-latest, input", 0.30)
    return acme


@pytest.fixture
def run(
    db_url_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake: FakeOpenAI,
) -> Run:
    monkeypatch.setenv("DATABASE_URL", db_url_factory())
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "acme.com")
    monkeypatch.setenv("OPENAI_ADMIN_KEYS", f"acme={KEY}")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)

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


TOKENS = 1_292_000 + 210_000 + 8_200 + 1_100
COST = Decimal("0.97") + Decimal("0.2475") + Decimal("0.012")


def test_sync_counts_openai_under_its_own_tool_and_every_surface_shows_it(run: Run, org: OpenAIOrg) -> None:
    code, out, err = run("sync", "openai", "--days", "3")
    assert code == 0, err + out
    assert "acme (openai:acme)" in out and f"no price known for {UNKNOWN}" in out
    first = stats(run)
    assert first["total_tokens"] == TOKENS and Decimal(str(first["total_cost_usd"])) == COST
    assert set(first["by_tool"]) == {"openai"}
    assert run("sync", "--days", "3")[0] == 0
    assert stats(run) == first  # a re-sync changes nothing

    code, out, _ = run("status", "openai", "--json")
    [status] = json.loads(out)["providers"]
    assert (status["provider"], status["org_id"], status["freshness"]) == ("openai", "openai:acme", "up_to_date")
    assert any("OpenAI reports $1.27" in note for note in status["notes"])
    code, out, _ = run("status")
    assert "OpenAI API (Codex and other API use) · org openai:acme: up to date" in out
    assert "computed $1.23 from list prices, OpenAI reports $1.27" in out
    assert f"No price known for {UNKNOWN}: 1,100 tokens" in out
    assert "openai:acme key_svc: 8K tokens" in out  # the service account's key is listed as unmapped
    code, out, _ = run("gaps", "openai", "--json")
    [gaps] = json.loads(out)["providers"]
    assert gaps["provider"] == "openai" and gaps["missing_days"] == 0

    code, out, _ = run("ask", "status", "--as", "dana@acme.com")  # Slack's /abacus status says the same
    assert code == 0 and "computed $1.23 from list prices, OpenAI reports $1.27" in out
    code, out, _ = run("ask", "me 7d", "--as", "dana@acme.com")
    assert code == 0 and "OpenAI API (Codex) 100%" in out
    code, out, _ = run("ask", "overview 7d", "--as", "dana@acme.com")
    assert code == 0 and "est." in out, out  # computed from list prices, so marked an estimate
    code, out, _ = run("report", "overview", "--period", "7d", "--json")
    assert code == 0 and "openai" in json.dumps(json.loads(out))


def test_an_unmapped_key_is_listed_and_mapped_from_the_cli(run: Run, org: OpenAIOrg) -> None:
    assert run("sync", "openai", "--days", "3")[0] == 0
    code, out, _ = run("mappings", "--json")
    [key] = json.loads(out)["unmapped"]
    assert (key["key_name"], key["org_id"], key["tool"]) == ("key_svc", "openai:acme", "openai")
    code, out, err = run("mappings", "set", "key_svc", "ops@acme.com")
    assert code == 0, err
    assert "moved 1 row(s)" in out
    code, out, _ = run("mappings", "--json")
    payload = json.loads(out)
    assert payload["unmapped"] == []
    assert {(m["source"], m["external_id"], m["email"]) for m in payload["mappings"]} >= {
        ("openai", "key_svc", "ops@acme.com")
    }
    assert run("sync", "openai", "--days", "3")[0] == 0  # the mapping holds on the next sync
    assert json.loads(run("mappings", "--json")[1])["unmapped"] == []


def test_an_admin_maps_an_openai_key_from_slack(run: Run, org: OpenAIOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABACUS_ADMINS", "dana@acme.com")
    assert run("sync", "openai", "--days", "3")[0] == 0
    code, out, _ = run("ask", "map key_svc ops@acme.com", "--as", "dana@acme.com")
    assert code == 0 and "Mapped key_svc → ops@acme.com: moved 1 row(s)" in out, out
    assert json.loads(run("mappings", "--json")[1])["unmapped"] == []
    code, out, _ = run("ask", "unmap key_svc", "--as", "dana@acme.com")
    assert code == 0 and "back to unattributed" in out
    [key] = json.loads(run("mappings", "--json")[1])["unmapped"]
    assert key["tool"] == "openai"


def test_a_429_is_waited_out_and_a_garbage_day_fails_loudly(run: Run, org: OpenAIOrg, fake: FakeOpenAI) -> None:
    fake.fail(USAGE, 429, retry_after="0")
    fake.fail(USAGE, 429, retry_after="0")
    code, out, err = run("sync", "openai", "--days", "3")
    assert code == 0, err + out
    before = stats(run)
    org.garbage[D2] = {"user_id": None, "model": CODEX, "input_tokens": -5, "output_tokens": 0}
    code, out, err = run("sync", "openai", "--days", "3")
    assert code == 1 and "result 4.input_tokens is -5" in out + err and "Traceback" not in out + err
    assert stats(run) == before  # the refused day kept what was stored
    code, out, _ = run("status", "openai", "--json")
    [status] = json.loads(out)["providers"]
    assert status["failing"] and "nothing was stored for that day" in status["last_error"]


def test_a_project_key_fails_with_the_fix_and_never_shows_the_key(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEYS", "acme=sk-proj-not-an-admin-key-123")
    code, out, err = run("sync", "openai", "--days", "2")
    assert code == 1 and "api.usage.read" in out + err and "sk-proj-not-an" not in out + err
    code, out, _ = run("doctor", "--json")
    check = next(c for c in json.loads(out)["checks"] if c["name"] == "openai key acme")
    assert check["state"] == "fail" and "OPENAI_ADMIN_KEYS" in check["fix"]


def test_doctor_and_config_name_the_key_and_what_this_api_does_not_cover(run: Run, org: OpenAIOrg) -> None:
    assert run("sync", "openai", "--days", "3")[0] == 0
    code, out, _ = run("doctor", "--json")
    checks = json.loads(out)["checks"]
    key = next(c for c in checks if c["name"] == "openai key acme")
    assert key["state"] == "ok" and KEY not in out
    assert "ChatGPT plan" in out
    code, out, _ = run("config", "--json")
    assert code == 0 and "OPENAI_ADMIN_KEYS" in out and KEY not in out


def test_backfill_walks_history_below_the_lookback_window(run: Run, org: OpenAIOrg) -> None:
    old = TODAY - timedelta(days=40)
    org.add_usage(old, CODEX, key="key_old", tokens=(1_000_000, 0, 0, 0))  # $1.25
    code, out, err = run("backfill", "openai", "--from", (old - timedelta(days=5)).isoformat())
    assert code == 0, err + out
    backfilled = stats(run)
    assert backfilled["total_tokens"] == 1_000_000 and Decimal(str(backfilled["total_cost_usd"])) == Decimal("1.25")
    code, out, _ = run("status", "openai", "--json")
    [status] = json.loads(out)["providers"]
    assert status["backfill"]["state"] == "complete"


def test_the_scheduler_runs_the_openai_jobs_with_only_an_openai_key(run: Run, org: OpenAIOrg) -> None:
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        scheduler = AbacusScheduler(settings, engine, background=True)
        assert {job.id for job in scheduler.jobs} == {"openai_sync", "openai_backfill"}
        assert run_job(scheduler.env, "openai_sync") == JobOutcome(rows=4)
        scheduler.shutdown()
    finally:
        engine.dispose()
    assert stats(run)["total_tokens"] == TOKENS
