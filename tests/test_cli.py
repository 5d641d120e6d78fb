"""The `abacus` command line, run in-process through its real entry point."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from bot.cli import main
from storage.db import make_engine, transaction
from storage.writes import upsert_usage
from tests.factories import usage


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_migrate_twice_then_stats_json_is_zeros(
    db_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url_factory())
    code, out, _ = run(capsys, "db", "migrate")
    assert code == 0 and "migrated from empty" in out
    code, out, _ = run(capsys, "db", "migrate")
    assert code == 0 and "nothing to do" in out
    code, out, _ = run(capsys, "stats", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["records"] == 0 and payload["total_tokens"] == 0 and payload["total_cost_usd"] == 0
    assert payload["by_tool"] == {} and payload["first_date"] is None and payload["last_date"] is None


def test_stats_json_reports_what_is_stored(
    db_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = db_url_factory()
    monkeypatch.setenv("DATABASE_URL", url)
    assert run(capsys, "db", "migrate")[0] == 0
    engine = make_engine(url)
    with transaction(engine) as s:
        upsert_usage(s, [usage(), usage(tool="cursor", event_key="e1")])
    engine.dispose()
    code, out, _ = run(capsys, "stats", "--json")
    payload = json.loads(out)
    assert code == 0
    assert payload["records"] == 2
    assert payload["total_tokens"] == 2 * 6_300
    assert payload["total_cost_usd"] == 2.5
    assert payload["by_tool"]["cursor"]["records"] == 1
    assert payload["first_date"] == payload["last_date"] == "2026-11-20"
    assert payload["by_tool"]["claude_code"]["cost_is_estimate"] is True
    assert payload["by_tool"]["cursor"]["cost_is_estimate"] is False
    code, out, _ = run(capsys, "stats")
    assert code == 0 and "dana@example.com" in out and "2 records" in out
    # Claude Code's cost is the provider's list-price estimate, said as everywhere else.
    assert "$1.25 est." in out and "Claude Code cost is an estimate at list prices" in out


def test_stats_on_a_brand_new_sqlite_file_is_zeros_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", "--json")
    assert code == 0 and json.loads(out)["records"] == 0
    code, out, _ = run(capsys, "stats")
    assert code == 0 and "abacus db migrate" in out


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://abacus:hunter2@127.0.0.1:1/abacus")
    code, out, err = run(capsys, "stats", "--json")
    assert code == 69 and out == ""
    assert err.count("\n") == 1 and err.startswith("abacus: Cannot reach the database")
    assert "hunter2" not in err and "DATABASE_URL" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["stats", "--top", "many"], "Invalid value for '--top'"),
        (["stats", "--nope"], "No such option"),
        (["db", "explode"], "No such command 'explode'"),
    ],
)
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], args: list[str], expected: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and expected in err and "--help" in err


def test_invalid_setting_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ABACUS_TIMEZONE", "Nowhere/Special")
    code, _, err = run(capsys, "config")
    assert code == 78 and err.count("\n") == 1 and "ABACUS_TIMEZONE" in err


def test_config_masks_secrets_and_reports_features(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-1111-secret",
        "SLACK_SIGNING_SECRET": "signing-secret-2222",
        "ANTHROPIC_ADMIN_KEYS": "sk-ant-admin01-aaaa,sk-ant-admin01-bbbb",
        "DATABASE_URL": "postgresql://abacus:pg-password-3333@db.internal/abacus",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "example.com")
    for args in (["config"], ["config", "--json"]):
        code, out, _ = run(capsys, *args)
        assert code == 0
        for secret in ("xoxb-1111-secret", "signing-secret-2222", "aaaa", "bbbb", "pg-password-3333"):
            assert secret not in out
    report = json.loads(run(capsys, "config", "--json")[1])
    assert report["settings"]["ANTHROPIC_ADMIN_KEYS"] == "KEY_1 (hidden), KEY_2 (hidden)"
    assert report["features"]["slack"]["ready"] is True
    assert report["features"]["claude_code"]["ready"] is True
    assert report["features"]["cursor"] == {
        "ready": False,
        "missing": ["CURSOR_ADMIN_KEY or CURSOR_ADMIN_KEYS"],
        "providers": {"cursor": False},
    }


def test_db_status_reports_pending_migration(capsys: pytest.CaptureFixture[str]) -> None:
    status = json.loads(run(capsys, "db", "status", "--json")[1])
    assert status["current_revision"] is None and status["up_to_date"] is False
    run(capsys, "db", "migrate")
    status = json.loads(run(capsys, "db", "status", "--json")[1])
    assert status["up_to_date"] is True


def test_console_script_is_installed(tmp_path: Path) -> None:
    """The `abacus` executable itself (not just the function) works and never prints a traceback."""
    exe = Path(sys.executable).with_name("abacus")
    done = subprocess.run([str(exe), "nope"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "No such command" in done.stderr
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and "stats" in done.stdout and "config" in done.stdout


def test_the_command_list_names_every_command_with_its_own_help() -> None:
    from bot.cli import COMMANDS, cli

    ctx = click.Context(cli)
    for name, (_module, _attribute, short) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert short == command.get_short_help_str(limit=10_000), name
