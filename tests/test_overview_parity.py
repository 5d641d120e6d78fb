"""`/abacus overview` and `abacus report overview` tell the same numbers for the same period."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.cli import main
from bot.formatting import format_tokens
from bot.slack.answers.common import money
from storage.db import make_engine, transaction
from storage.writes import UsageRecord, upsert_usage


def test_slack_overview_and_cli_report_agree(
    db_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = db_url_factory()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "acme.com")
    assert main(["db", "migrate"]) == 0
    engine = make_engine(url)
    today = datetime.now(UTC).date()
    rows = [
        UsageRecord(
            tool=tool,
            date=today - timedelta(days=back),
            actor=who,
            email=who,
            raw_model="claude-opus-4-6",
            event_key=f"{back}" if tool == "cursor" else "",
            input_tokens=1_000 * (back + 1),
            output_tokens=77,
            cache_read_tokens=5_000,
            cost_usd=Decimal("12.34") * (back + 1),
        )
        for back in range(20)
        for tool, who in (("claude_code", "dana@acme.com"), ("cursor", "bob@acme.com"))
    ]
    with transaction(engine) as s:
        upsert_usage(s, rows)
    engine.dispose()
    capsys.readouterr()
    assert main(["report", "overview", "--period", "7d", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["current"]
    assert main(["ask", "overview 7d", "--as", "dana@acme.com"]) == 0
    slack = capsys.readouterr().out
    assert money(Decimal(str(report["cost_usd"]))) in slack
    assert f"{format_tokens(report['total_tokens'])} tokens" in slack
    assert f"{report['active_users']} active people" in slack
    assert f"{format_tokens(report['avg_tokens_per_day'])} tokens per day" in slack
