"""`abacus sync|backfill|mappings` for Claude Code, end to end against the fake Anthropic server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

from bot.cli import main
from storage.db import make_engine, transaction
from storage.locks import hold_lock
from storage.models import IdentityMappingChange, SyncState, Usage, UsageDaily
from tests.fakes.anthropic_server import FakeAnthropic, api_key, user

ACME_KEY, LABS_KEY = "sk-ant-admin01-acme", "sk-ant-admin01-labs"
DAY = date(2026, 10, 5)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic()
    acme = server.add_org(ACME_KEY, "org-acme", "Acme")
    acme.add_usage(DAY, user("dana@acme.com"), [("claude-opus-4-6", 100, 10, 0, 0, 250)])
    acme.add_usage(DAY, api_key("deploy-bot"), [("claude-opus-4-6", 40, 4, 0, 0, 75)])
    labs = server.add_org(LABS_KEY, "org-labs", "Labs")
    labs.add_usage(DAY, user("erin@acme.com"), [("claude-sonnet-4-5-20250929", 7, 1, 0, 0, 12)])
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
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEYS", f"acme={ACME_KEY},labs={LABS_KEY}")
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "acme.com")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    assert run("db", "migrate")[0] == 0
    run.url = url  # type: ignore[attr-defined]
    return run


def cost_by_email(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with transaction(engine) as s:
        rows = s.execute(select(UsageDaily.email, func.sum(UsageDaily.cost_usd)).group_by(UsageDaily.email)).all()
    engine.dispose()
    return {email: f"{cost:.2f}" for email, cost in rows}


def test_sync_two_orgs_and_a_resync_is_idempotent(cli: Callable[..., tuple[int, str, str]]) -> None:
    for _ in range(2):
        code, out, _ = cli("sync", "anthropic", "--from", "2026-10-05", "--to", "2026-10-05", "--json")
        assert code == 0
        payload = json.loads(out)
        assert payload["ok"] is True
        assert {(r["org"], r["org_id"], r["records"]) for r in payload["results"]} == {
            ("acme", "org-acme", 2),
            ("labs", "org-labs", 1),
        }
    assert cost_by_email(cli.url) == {"dana@acme.com": "2.50", "": "0.75", "erin@acme.com": "0.12"}  # type: ignore[attr-defined]


def test_one_org_failing_does_not_stop_the_other_and_the_exit_code_says_so(
    cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEYS", f"acme={ACME_KEY},labs=sk-ant-admin01-zzz-secret")
    code, out, err = cli("sync", "anthropic", "--from", "2026-10-05", "--to", "2026-10-05")
    assert code == 1
    assert "ok acme" in out and "FAILED labs" in out and "401" in out and "zzz-secret" not in out + err
    assert err.strip().endswith("see the messages above and `abacus status`.")
    assert cost_by_email(cli.url) == {"dana@acme.com": "2.50", "": "0.75"}  # type: ignore[attr-defined]


def test_org_filter_and_unknown_org(cli: Callable[..., tuple[int, str, str]]) -> None:
    code, out, _ = cli("sync", "anthropic", "--from", "2026-10-05", "--org", "labs", "--json")
    assert code == 0 and [r["org"] for r in json.loads(out)["results"]] == ["labs"]
    code, _, err = cli("sync", "anthropic", "--org", "nope")
    assert code == 1 and "No Claude Code organisation named 'nope'" in err and "acme, labs" in err


def test_bad_dates_are_usage_errors(cli: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = cli("sync", "anthropic", "--from", "2026-13-01")
    assert code == 2 and "use YYYY-MM-DD" in err
    code, _, err = cli("sync", "anthropic", "--from", "2026-10-05", "--to", "2026-10-01")
    assert code == 2 and "is after" in err
    code, _, err = cli("sync", "anthropic", "--days", "3", "--from", "2026-10-05")
    assert code == 2 and "either --days or --from/--to" in err


def test_a_running_sync_makes_the_second_one_say_so(cli: Callable[..., tuple[int, str, str]]) -> None:
    engine = make_engine(cli.url)  # type: ignore[attr-defined]
    with hold_lock(engine, "sync:claude_code:org-acme"):
        code, _, err = cli("sync", "anthropic", "--from", "2026-10-05", "--org", "acme")
    engine.dispose()
    assert code == 75 and "Another Claude Code (Admin API) sync is running" in err


def test_mappings_set_moves_history_and_unset_moves_it_back(cli: Callable[..., tuple[int, str, str]]) -> None:
    cli("sync", "anthropic", "--from", "2026-10-05")
    code, out, _ = cli("mappings", "--json")
    unmapped = json.loads(out)["unmapped"]
    assert [(k["key_name"], k["org_id"], k["cost_usd"]) for k in unmapped] == [("deploy-bot", "org-acme", 0.75)]

    code, _, err = cli("mappings", "set", "deploy-bot", "someone@gmail.com")
    assert code == 1 and "not on the company domain" in err
    code, out, _ = cli("mappings", "set", "deploy-bot", "Dana@Acme.com")
    assert code == 0 and "moved 1 row(s)" in out and "$0.75" in out
    assert cost_by_email(cli.url) == {"dana@acme.com": "3.25", "erin@acme.com": "0.12"}  # type: ignore[attr-defined]
    # A re-sync keeps the attribution (the mapping is consulted first).
    cli("sync", "anthropic", "--from", "2026-10-05")
    assert cost_by_email(cli.url)["dana@acme.com"] == "3.25"  # type: ignore[attr-defined]

    code, out, _ = cli("mappings", "unset", "deploy-bot")
    assert code == 0 and "back to unattributed" in out
    assert cost_by_email(cli.url) == {"dana@acme.com": "2.50", "": "0.75", "erin@acme.com": "0.12"}  # type: ignore[attr-defined]
    code, _, err = cli("mappings", "unset", "deploy-bot")
    assert code == 1 and "is not mapped" in err
    engine = make_engine(cli.url)  # type: ignore[attr-defined]
    with transaction(engine) as s:
        history = [(c.old_email, c.new_email, c.method) for c in s.scalars(select(IdentityMappingChange))]
    engine.dispose()
    assert history == [("", "dana@acme.com", "cli"), ("dana@acme.com", "", "cli")]


def test_mappings_sync_maps_keys_to_their_creators_without_overriding_admins(
    cli: Callable[..., tuple[int, str, str]], fake: FakeAnthropic
) -> None:
    acme = fake.orgs[ACME_KEY]
    acme.add_api_key("deploy-bot", acme.add_user("ops@acme.com"), status="archived")
    acme.add_api_key("shared", acme.add_user("a@acme.com"))
    acme.add_api_key("shared", acme.add_user("b@acme.com"), status="inactive")
    cli("sync", "anthropic", "--from", "2026-10-05", "--org", "acme")  # deploy-bot resolves during sync
    cli("mappings", "set", "deploy-bot", "dana@acme.com")  # an admin overrides the directory
    code, out, _ = cli("mappings", "sync", "--org", "acme", "--json")
    assert code == 0
    result = json.loads(out)["results"][0]
    assert (result["created"], result["kept"]) == (0, 1)
    assert result["clashes"] == {"shared": ["a@acme.com", "b@acme.com"]}
    assert cost_by_email(cli.url)["dana@acme.com"] == "3.25"  # type: ignore[attr-defined]


def test_backfill_cli_walks_back_and_complete_reset_flags(cli: Callable[..., tuple[int, str, str]]) -> None:
    code, out, _ = cli("backfill", "anthropic", "--from", "2026-10-01", "--to", "2026-10-06", "--org", "acme", "--json")
    assert code == 0
    result = json.loads(out)["results"][0]
    assert (result["status"], result["windows"], result["records"]) == ("complete", 6, 2)
    engine = make_engine(cli.url)  # type: ignore[attr-defined]
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(Usage)) == 2
    code, out, _ = cli("backfill", "reset", "anthropic", "--org", "acme")
    assert code == 0 and "reset" in out
    with transaction(engine) as s:
        assert s.get(SyncState, ("claude_code", "org-acme")).backfill_complete is False  # type: ignore[union-attr]
    code, out, _ = cli("backfill", "complete", "claude_code", "--org", "acme")
    assert code == 0
    with transaction(engine) as s:
        assert s.get(SyncState, ("claude_code", "org-acme")).backfill_complete is True  # type: ignore[union-attr]
    engine.dispose()
    code, _, err = cli("backfill", "complete", "gemini")
    assert code == 2 and "Unknown provider 'gemini'" in err


def test_mappings_fix_walks_the_unmapped_keys(cli: Callable[..., tuple[int, str, str]], monkeypatch) -> None:
    import io

    cli("sync", "anthropic", "--from", "2026-10-05", "--org", "acme")
    monkeypatch.setattr("sys.stdin", io.StringIO("nobody@gmail.com\ndana@acme.com\n"))
    code, out, _ = cli("mappings", "fix")
    assert code == 0
    assert "deploy-bot" in out and "not an email on acme.com" in out and "mapped; moved 1 row(s)" in out
    assert cost_by_email(cli.url) == {"dana@acme.com": "3.25"}  # type: ignore[attr-defined]
    code, out, _ = cli("mappings", "fix")
    assert "No unmapped API keys" in out


def test_api_key_names_are_matched_exactly(cli: Callable[..., tuple[int, str, str]]) -> None:
    """As /abacus map matches them: only another tool's logins (GitHub's) ignore letter case."""
    cli("sync", "anthropic", "--from", "2026-10-05")
    code, out, _ = cli("mappings", "set", "Deploy-Bot", "dana@acme.com")
    assert code == 0 and "moved 0 row(s)" in out
    unmapped = json.loads(cli("mappings", "--json")[1])["unmapped"]
    assert [k["key_name"] for k in unmapped] == ["deploy-bot"]
