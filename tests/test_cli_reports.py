"""`abacus report`, `abacus gaps` and `abacus status`, in-process through the real entry point, on SQLite
and PostgreSQL, against the hand-computed numbers of tests/analytics_data.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from bot.cli import main
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.models import SyncState
from tests.analytics_data import DANA, load

WEEK = "2026-11-01..2026-11-07"
NOW = datetime(2026, 11, 25, 14, tzinfo=UTC)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def loaded(db_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = db_url_factory()
    engine = make_engine(url)
    upgrade(engine)
    load(engine)
    with transaction(engine) as s:
        s.add(
            SyncState(
                provider="claude_code",
                org_id="org-1",
                forward_watermark=datetime(2026, 11, 25, tzinfo=UTC),
                last_success_at=datetime(2026, 11, 25, 12, tzinfo=UTC),
                last_attempt_at=datetime(2026, 11, 25, 12, tzinfo=UTC),
            )
        )
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    with time_machine.travel(NOW, tick=False):
        yield url


def test_overview_json_png_and_csv(loaded: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png, csv = tmp_path / "o.png", tmp_path / "o.csv"
    payload = run_json(capsys, "report", "overview", "--period", WEEK, "--png", str(png), "--csv", str(csv))
    assert payload["period"] == {
        "start": "2026-11-01",
        "end": "2026-11-07",
        "label": "2026-11-01 to 2026-11-07",
        "tool": None,
    }
    assert payload["current"]["total_tokens"] == 28_000 and payload["current"]["cost_usd"] == 13.4
    assert payload["current"]["active_users"] == 3 and payload["current"]["billable_tokens"] == 18_000
    assert payload["changes"] == {
        "total_tokens": 40.0,
        "cost_usd": 34.0,
        "active_users": 50.0,
        "avg_tokens_per_day": 40.0,
    }
    assert payload["unattributed"] == {"tokens": 3_000, "cost_usd": 1.5, "keys": 1, "keys_by_tool": {"claude_code": 1}}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "28.0K tokens" not in payload["png"]["alt_text"]
    assert "28K tokens in total" in payload["png"]["alt_text"]
    assert csv.read_text().startswith("date,tool,tokens,cost,users\n2026-11-01,claude_code,5000,2.000000,1\n")
    code, out, _ = run(capsys, "report", "overview", "-p", WEEK)
    assert code == 0 and "28K tokens · $13.40 · 3 active people" in out and "▲ 40.0% tokens" in out


def test_top_by_cost_and_tool_alias(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    top = run_json(capsys, "report", "top", "-p", WEEK, "--by", "cost")
    assert [(u["email"], u["cost_usd"]) for u in top["users"]] == [
        (DANA, 7.5),
        ("erin@example.com", 3.0),
        ("bob@example.com", 1.4),
    ]
    cc = run_json(capsys, "report", "top", "-p", WEEK, "--tool", "anthropic", "-n", "1")
    assert cc["period"]["tool"] == "claude_code"
    assert [(u["email"], u["tokens"]) for u in cc["users"]] == [(DANA, 15_000)]
    # Ranked by cost by default, as in Slack; `--by tokens` still ranks by tokens.
    assert run_json(capsys, "report", "top", "-p", WEEK)["rank_by"] == "cost"
    assert run_json(capsys, "report", "top", "-p", WEEK, "--by", "tokens")["rank_by"] == "tokens"


def test_team_sort_takes_slacks_words_and_the_column_names(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    for word, key in (("cost", "total_cost"), ("tokens", "total_tokens"), ("days", "days_active")):
        by_word = run_json(capsys, "report", "team", "-p", WEEK, "--sort", word)
        by_key = run_json(capsys, "report", "team", "-p", WEEK, "--sort", key)
        assert by_word["rows"] == by_key["rows"]
    by_cost = [r["email"] for r in run_json(capsys, "report", "team", "-p", WEEK, "--sort", "cost")["rows"]]
    assert by_cost == [DANA, "erin@example.com", "bob@example.com"]


def test_user_profile_and_unknown_user(loaded: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "me.png"
    me = run_json(capsys, "report", "user", "dana", "-p", WEEK, "--png", str(png))
    assert (
        me["email"] == DANA
        and me["summary"]["tokens"] == 16_000
        and me["summary"]["avg_tokens_per_active_day"] == 8_000
    )
    assert me["percentile"]["value"] == 100 and me["activity"]["accept_rate"] == 75.0
    assert me["lifetime"]["record_day"] == "2026-09-01" and png.stat().st_size > 1_000
    code, out, err = run(capsys, "report", "user", "ghost@example.com")
    assert code == 1 and out == "" and err.count("\n") == 1 and "ghost@example.com" in err


def test_models_trends_team(loaded: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    models = run_json(capsys, "report", "models", "-p", WEEK)
    assert [(m["model"], m["token_pct"]) for m in models["models"]] == [
        ("sonnet-4.5", 11 / 28 * 100),
        ("opus-4.5", 10 / 28 * 100),
        ("gpt-5", 25.0),
    ]
    trend = run_json(capsys, "report", "trends", "-p", WEEK, "--tool", "cursor")
    assert trend["granularity"] == "day" and trend["tools"] == ["cursor"]
    assert [p["actual"]["cursor"] for p in trend["points"]] == [0, 1_000, 6_000, 0, 2_000, 0, 0]
    csv = tmp_path / "team.csv"
    team = run_json(capsys, "report", "team", "-p", WEEK, "--sort", "email", "--asc", "--csv", str(csv))
    assert [r["email"] for r in team["rows"]] == ["bob@example.com", DANA, "erin@example.com"]
    assert team["rows"][1]["days_since_last_active"] == 23  # 2026-11-02 to 2026-11-25
    assert csv.read_text().splitlines()[0].startswith("email,total_tokens,total_cost,")
    for args in (["models"], ["trends"], ["team"], ["top"], ["user", DANA]):
        code, out, _ = run(capsys, "report", *args, "-p", WEEK)
        assert code == 0 and "2026-11-01 to 2026-11-07" in out


def test_gaps_and_status(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    gaps = run_json(capsys, "gaps", "cursor")
    [cursor] = gaps["providers"]
    assert (cursor["first_date"], cursor["last_date"], cursor["missing_days"]) == ("2026-10-31", "2026-11-05", 2)
    assert cursor["gaps"] == [
        {"first": "2026-11-01", "last": "2026-11-01", "days": 1},
        {"first": "2026-11-04", "last": "2026-11-04", "days": 1},
    ]
    status = run_json(capsys, "status", "anthropic")
    [cc] = status["providers"]
    assert cc["freshness"] == "up_to_date" and cc["newest_complete_day"] == "2026-11-24"
    assert cc["watermark_age_seconds"] == 14 * 3600
    assert status["unmapped_key_count"] == 1 and status["unmapped_keys"][0]["key"] == "ci-key"
    code, out, _ = run(capsys, "status")
    assert code == 0 and "up to date" in out and "never synced" in out  # Cursor has data but no sync state
    # The same freshness words as the Slack answers and footers.
    assert "complete to Nov 24 · latest data Nov 20" in out
    code, out, _ = run(capsys, "report", "trends", "-p", WEEK)
    assert "Data: Claude Code complete to Nov 24, latest data Nov 20 · Cursor latest data Nov 5 (not synced" in out
    code, out, _ = run(capsys, "gaps")
    assert code == 0 and "Total missing days" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["report", "overview", "--period", "fortnight"], "Unknown period 'fortnight'"),
        (["report", "top", "--period", "2026-02-30..2026-03-01"], "not a real calendar date"),
        (["report", "top", "--tool", "windsurf"], "unknown tool 'windsurf'"),
        (["status", "gemini"], "Unknown provider 'gemini'"),
    ],
)
def test_bad_input_is_one_line_with_exit_2(
    loaded: str, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err


def test_periods_resolve_in_the_reporting_timezone(
    loaded: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with time_machine.travel(datetime(2026, 11, 7, 23, 30, tzinfo=UTC), tick=False):
        assert run_json(capsys, "report", "overview", "-p", "7d")["period"]["end"] == "2026-11-07"
        monkeypatch.setenv("ABACUS_TIMEZONE", "Europe/Vienna")
        period = run_json(capsys, "report", "overview", "-p", "7d")["period"]
    assert (period["start"], period["end"], period["label"]) == ("2026-11-02", "2026-11-08", "last 7 days")


def test_unmigrated_database_says_what_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "report", "overview")
    assert code == 1 and "abacus db migrate" in err and err.count("\n") == 1
