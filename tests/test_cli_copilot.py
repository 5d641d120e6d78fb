"""`abacus` with only GitHub Copilot configured: sync, re-sync, backfill, status, gaps, doctor, config, stats,
mappings and answers, against the fake GitHub API over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.fakes.github_copilot_server import FakeGitHub, Scope, record

TOKEN = "ghp_acmeCopilotMetricsToken0123456789"
TODAY = datetime.now(UTC).date()
D1, D2, D3 = (TODAY - timedelta(days=n) for n in (6, 5, 2))
OLD = TODAY - timedelta(days=9)

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub(TOKEN)
    yield server
    server.close()


@pytest.fixture
def org(fake: FakeGitHub) -> Scope:
    acme = fake.org("acme")
    acme.add(record(D1, "dana", 1, credits=Decimal("120.5"), interactions=10, cli=(38_000, 5_000), models={"gpt-5": 4}))
    acme.add(record(D1, "octocat", 3, credits=40, interactions=5, acceptances=7))
    acme.add(record(D2, "dana", 1, credits=10))
    acme.add(record(D3, "dana", 1, credits=2))
    acme.add(record(OLD, "dana", 1, credits=1000))
    acme.add_seat("dana", 1, "dana@acme.com")
    acme.add_seat("octocat", 3, None)
    return acme


@pytest.fixture
def run(
    db_url_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake: FakeGitHub,
) -> Run:
    monkeypatch.setenv("DATABASE_URL", db_url_factory())
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "acme.com")
    monkeypatch.setenv("COPILOT_TOKEN", TOKEN)
    monkeypatch.setenv("COPILOT_ORGS", "acme")
    monkeypatch.setenv("GITHUB_API_URL", fake.url)

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


def test_copilot_syncs_and_every_surface_shows_it_as_its_own_tool(run: Run, org: Scope, fake: FakeGitHub) -> None:
    code, out, err = run("sync", "copilot", "--days", "7")
    assert code == 0, out + err
    assert "acme (copilot:acme)" in out and "1 GitHub login(s) not mapped" in out
    first = stats(run)
    # Credits: 120.5 + 40 + 10 + 2 = 172.5 -> $1.725; tokens: only Copilot CLI's 38,000 + 5,000.
    assert Decimal(str(first["total_cost_usd"])) == Decimal("1.725") and first["total_tokens"] == 43_000
    assert set(first["by_tool"]) == {"copilot"}
    assert run("sync", "copilot", "--days", "7")[0] == 0
    assert stats(run) == first  # a re-sync changes nothing

    # The forward sync (no --days) re-reads the settling window and leaves the rest alone.
    org.set_day(D3, [record(D3, "dana", 1, credits=4)])
    assert run("sync", "copilot")[0] == 0
    assert Decimal(str(stats(run)["total_cost_usd"])) == Decimal("1.745")

    code, out, _ = run("backfill", "copilot", "--from", OLD.isoformat(), "--json")
    assert code == 0, out
    assert Decimal(str(stats(run)["total_cost_usd"])) == Decimal("11.745")

    code, out, _ = run("status", "copilot", "--json")
    [status] = json.loads(out)["providers"]
    assert (status["provider"], status["org_id"]) == ("copilot", "copilot:acme") and not status["failing"]
    code, out, _ = run("status")
    assert "GitHub Copilot · org copilot:acme" in out
    code, out, _ = run("gaps", "copilot", "--json")
    [gaps] = json.loads(out)["providers"]
    assert gaps["provider"] == "copilot" and gaps["first_date"] == OLD.isoformat()

    code, out, _ = run("doctor", "--json")
    check = next(c for c in json.loads(out)["checks"] if c["name"] == "copilot key acme")
    assert check["state"] == "ok", check
    code, out, _ = run("config", "--json")
    config = json.loads(out)
    assert config["settings"]["COPILOT_ORGS"] == "acme" and TOKEN not in out
    assert all(TOKEN not in r.query.get("sig", "") for r in fake.downloads())


def test_unmapped_logins_are_listed_and_mapped_from_the_cli(run: Run, org: Scope) -> None:
    assert run("sync", "copilot", "--days", "7")[0] == 0
    code, out, _ = run("mappings", "--json")
    [unmapped] = json.loads(out)["unmapped"]
    assert (unmapped["key_name"], unmapped["tool"], unmapped["org_id"]) == ("octocat", "copilot", "copilot:acme")
    code, out, _ = run("mappings")
    assert "octocat" in out and "Copilot" in out and "--provider copilot" in out

    code, out, err = run("mappings", "set", "OctoCat", "octo@acme.com", "--provider", "copilot")
    assert code == 0, err
    assert "Mapped octocat -> octo@acme.com; moved 1 row(s)" in out and "$0.40" in out
    assert json.loads(run("mappings", "--json")[1])["unmapped"] == []
    code, out, _ = run("ask", "me 30d", "--as", "octo@acme.com")
    assert code == 0 and "$0.40" in out
    # An unknown provider is a usage error, not a traceback.
    code, _out, err = run("mappings", "set", "octocat", "octo@acme.com", "--provider", "nope")
    assert code == 2 and "Unknown provider" in err


def test_answers_that_compare_tools_do_not_add_credits_to_tokens(run: Run, org: Scope, tmp_path: Any) -> None:
    assert run("sync", "copilot", "--days", "7")[0] == 0
    code, out, _ = run("ask", "overview 30d", "--as", "dana@acme.com", "--png-dir", str(tmp_path))
    # Copilot's part is its cost and what it is counted in, never a share of the tokens.
    # $1.725 in all; octocat is not mapped, so one active person.
    assert code == 0 and "GitHub Copilot $1.73 (AI credits, 1 people)" in out, out
    assert "GitHub Copilot: cost is AI credits at list value" in out
    code, out, _ = run("ask", "top 5 30d", "--as", "dana@acme.com")
    assert code == 0 and "dana@acme.com" in out
    assert "GitHub Copilot $1.32" in out and "GitHub Copilot 100%" not in out and "GitHub Copilot 0%" not in out
    code, out, _ = run("ask", "models 30d", "--as", "dana@acme.com")
    assert code == 0 and "copilot" in out
    # The model Copilot reports shows its cost only: its CLI tokens are in no token total or share.
    line = next(row for row in out.splitlines() if row.startswith("copilot"))
    assert "of cost" in line and "tokens" not in line, line
    code, out, _ = run("report", "models", "--period", "30d", "--json")
    payload = json.loads(out)
    assert payload["total_tokens"] == 0 and payload["total_cost_usd"] > 0
    # A profile: the credits as cost, Copilot's activity beside it; a person with cost and no tokens has usage.
    code, out, _ = run("ask", "me 30d", "--as", "dana@acme.com")
    assert code == 0 and "GitHub Copilot: 10 prompts" in out and "GitHub Copilot $1.32" in out
    code, out, _ = run("report", "user", "dana", "--period", "30d", "--json")
    assert code == 0 and json.loads(out)["tool_activity"][0].startswith("GitHub Copilot: 10 prompts")
    code, out, _ = run("report", "overview", "--period", "30d")
    assert code == 0 and "AI credits" in out


def test_the_slack_map_flow_offers_logins_and_maps_one(run: Run, org: Scope, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABACUS_ADMINS", "dana@acme.com")
    assert run("sync", "copilot", "--days", "7")[0] == 0
    code, out, _ = run("ask", "map", "--as", "dana@acme.com")
    assert code == 0 and "GitHub Copilot login" in out and "octocat" in out and "$0.40" in out, out
    code, out, _ = run("ask", "map OctoCat octo@acme.com", "--as", "dana@acme.com")
    assert code == 0 and "octo@acme.com" in out and "moved 1 row(s)" in out, out
    assert json.loads(run("mappings", "--json")[1])["unmapped"] == []
    code, out, _ = run("ask", "unmap octocat", "--as", "dana@acme.com")
    assert code == 0 and "back to unattributed" in out
    [unmapped] = json.loads(run("mappings", "--json")[1])["unmapped"]
    assert unmapped["key_name"] == "octocat"


def test_the_installed_command_syncs_copilot_in_its_own_process(org: Scope, fake: FakeGitHub, tmp_path: Any) -> None:
    """`abacus` as operators run it: environment in, one JSON object out, no traceback, the token never shown."""
    exe = Path(sys.executable).with_name("abacus")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'abacus.db'}",
        "COPILOT_TOKEN": TOKEN,
        "COPILOT_ORGS": "acme",
        "GITHUB_API_URL": fake.url,
    }

    def abacus(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)

    assert abacus("db", "migrate").returncode == 0
    done = abacus("sync", "copilot", "--days", "7", "--json")
    assert done.returncode == 0 and "Traceback" not in done.stderr and TOKEN not in done.stdout + done.stderr
    stats = json.loads(abacus("stats", "--json").stdout)
    assert Decimal(str(stats["by_tool"]["copilot"]["cost_usd"])) == Decimal("1.725")
    env["COPILOT_TOKEN"] = "ghp_revokedTokenRevokedToken0000"
    refused = abacus("sync", "copilot", "--days", "2")
    assert refused.returncode == 1 and "401" in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr and "ghp_revoked" not in refused.stdout + refused.stderr
