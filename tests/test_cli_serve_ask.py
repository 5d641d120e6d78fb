"""`abacus serve` refuses to start half-configured; `abacus ask` answers like Slack, as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.cli import main
from storage.db import make_engine, transaction
from storage.writes import UsageRecord, upsert_usage


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_serve_without_slack_credentials_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "serve")
    assert code == 78 and err.count("\n") == 1
    assert "SLACK_BOT_TOKEN" in err and "SLACK_SIGNING_SECRET" in err


def test_ask_answers_as_slack_would_and_saves_charts(
    db_url_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    url = db_url_factory()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "acme.com")
    assert run(capsys, "db", "migrate")[0] == 0
    engine = make_engine(url)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    with transaction(engine) as s:
        upsert_usage(
            s,
            [
                UsageRecord(
                    tool="claude_code",
                    date=yesterday,
                    actor="dana@acme.com",
                    email="dana@acme.com",
                    raw_model="claude-opus-4-6",
                    input_tokens=2_000,
                    cost_usd=Decimal("3.50"),
                )
            ],
        )
    engine.dispose()
    code, out, _ = run(capsys, "ask", "top 5 7d", "--as", "dana@acme.com", "--png-dir", str(tmp_path / "png"))
    assert code == 0
    assert "TOP 1 BY COST · LAST 7 DAYS" in out and "1. dana@acme.com  $3.50" in out
    assert (tmp_path / "png" / "top.png").read_bytes().startswith(b"\x89PNG")
    code, _, err = run(capsys, "ask", "me", "--as", "mallory@evil.example")
    assert code == 1 and "Slack would refuse mallory@evil.example" in err
