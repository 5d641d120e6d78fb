"""Periods at the edge of the calendar, typed in Slack and on the command line: the usual one-line period
error, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from storage.db import make_engine
from storage.migrate import upgrade
from tests.slack_harness import SlackHarness

ROOT = Path(__file__).resolve().parent.parent
EDGES = {
    "9999-12-31..9999-12-31": "outside the dates Abacus answers for",
    "9999-01-01..9999-12-31": "outside the dates Abacus answers for",
    "0001-01-01..0001-01-31": "outside the dates Abacus answers for",
    "0001-01-01..0001-01-01": "outside the dates Abacus answers for",
    "99999d": "out of range",
    "99999999999999999999d": "out of range",
}


@pytest.mark.parametrize("words", ["overview", "me", "top", "top teams", "models"])
@pytest.mark.parametrize("period", list(EDGES))
def test_slack_answers_a_period_error(slack_harness: SlackHarness, words: str, period: str) -> None:
    response = slack_harness.command(f"{words} {period}")
    assert response.status_code == 200
    [reply] = slack_harness.slack.wait_for_responses(1)
    assert EDGES[period] in reply["text"], reply
    assert "went wrong" not in reply["text"]


# The reports that overflowed (each edge is also checked in Slack and in test_periods).
CLI_CASES = {
    "overview": ["9999-12-31..9999-12-31", "0001-01-01..0001-01-31", "99999999999999999999d"],
    "trends": ["9999-01-01..9999-12-31"],
}


@pytest.mark.parametrize("command", list(CLI_CASES))
def test_the_cli_answers_a_period_error(db_url_factory: Callable[[], str], tmp_path: Path, command: str) -> None:
    url = db_url_factory()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ABACUS_", "DATABASE_URL", "SLACK_"))}
    env |= {"PYTHONPATH": str(ROOT), "DATABASE_URL": url, "ABACUS_EMAIL_DOMAINS": "acme.com"}
    for period in CLI_CASES[command]:
        message = EDGES[period]
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "report", command, "--period", period],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
        assert done.returncode == 2, (period, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and message in done.stderr, (period, done.stderr)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, done.stderr
    ask = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--as", "a@acme.com", f"{command} 9999-12-31..9999-12-31"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert "Traceback" not in ask.stderr and "OverflowError" not in ask.stdout + ask.stderr
