"""`abacus serve` as a subprocess (gunicorn, the real entry point) when Slack is unreachable, rejects the
token, or comes back later; /healthz when the SQLite file goes; the cron route while the in-process
scheduler leads."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from storage.db import make_engine
from storage.migrate import upgrade
from tests.fakes.slack_server import FakeSlack
from tests.slack_harness import SIGNING_SECRET, SlackHarness, people

ROOT = Path(__file__).resolve().parent.parent
CRON = "serve-cron-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(tmp_path: Path, url: str, api_url: str, *args: str, token: str = "xoxb-serve") -> Iterator[tuple[str, Path]]:
    """`abacus serve` from this checkout until the block ends; yields (base URL, log file)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ABACUS_", "SLACK_", "ANTHROPIC_", "CURSOR_", "DATABASE_URL", "CRON_"))
        and k.lower() not in ("http_proxy", "https_proxy")
    }
    env |= {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "SLACK_API_URL": api_url,
        "SLACK_BOT_TOKEN": token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ABACUS_EMAIL_DOMAINS": "acme.com",
        "CRON_SECRET": CRON,
        "ABACUS_TIMEZONE": "UTC",
    }
    port = _free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"abacus serve exited with {process.returncode}:\n{log.read_text()}"
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, f"abacus serve did not answer:\n{log.read_text()}"
                time.sleep(0.2)
        yield base, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for_log(log: Path, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text()
        if text in content:
            return content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged:\n{log.read_text()}")


def slack_lines(content: str) -> list[str]:
    """Log lines about Slack (ours, the SDK's, Bolt's), without Bolt's constant note about its token."""
    loggers = (" bot.slack", " slack_sdk", " slack_bolt")
    return [
        line
        for line in content.splitlines()
        if any(name in line for name in loggers) and "`token` will be unused" not in line
    ]


@pytest.fixture
def migrated_url(db_url_factory: Callable[[], str]) -> str:
    url = db_url_factory()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_serve_starts_when_slack_is_unreachable(tmp_path: Path, migrated_url: str) -> None:
    closed = f"http://127.0.0.1:{_free_port()}/api/"  # nothing listens there
    with serve(tmp_path, migrated_url, closed, "--without-scheduler") as (base, log):
        health = httpx.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 200 and health.json() == {"ok": True}
        job = httpx.post(f"{base}/jobs/budgets", headers={"authorization": f"Bearer {CRON}"}, timeout=60)
        assert job.status_code == 200 and job.json()["job"] == "budgets"
        content = wait_for_log(log, "retrying auth.test in the background")
        time.sleep(0.5)
        content = log.read_text()
    assert "Traceback" not in content
    [line] = slack_lines(content)  # one line says it, no more
    assert "Slack is unreachable" in line


def test_serve_starts_when_slack_rejects_the_token_and_the_cron_answer_names_the_scheduler(
    tmp_path: Path, migrated_url: str
) -> None:
    slack = FakeSlack()  # refuses tokens that are not xoxb-… with not_authed
    try:
        # The default: with SQLite the scheduler runs in this process (and holds the leader lock).
        args = () if migrated_url.startswith("sqlite") else ("--with-scheduler",)
        with serve(tmp_path, migrated_url, slack.api_url, *args, token="xoxp-not-a-bot-token") as (base, log):
            content = wait_for_log(log, "retrying auth.test in the background")
            assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
            wait_for_log(log, "scheduler starting")
            busy = httpx.post(f"{base}/jobs/digests", headers={"authorization": f"bearer {CRON}"}, timeout=60)
            assert busy.status_code == 409
            body = busy.json()
            assert body["holder"] == "in-process scheduler"
            assert "in-process scheduler of this server leads" in body["error"] and "own schedule" in body["error"]
            content = log.read_text()
    finally:
        slack.close()
    assert "Traceback" not in content
    lines = slack_lines(content)
    assert len(lines) == 1, "\n".join(lines)
    [line] = lines
    assert "Slack rejected SLACK_BOT_TOKEN (not_authed)" in line


def test_slack_coming_back_later_is_noticed_and_commands_work(tmp_path: Path, migrated_url: str) -> None:
    slack = FakeSlack()
    people(slack)
    slack.fail("auth.test", status=503, times=1)  # down at boot, up at the first retry (5 s later)
    try:
        with serve(tmp_path, migrated_url, slack.api_url, "--without-scheduler") as (base, log):
            wait_for_log(log, "retrying auth.test in the background")
            content = wait_for_log(log, "Slack answers auth.test again")
            harness = SlackHarness(base, slack, make_engine(migrated_url), None)  # type: ignore[arg-type]
            auth_calls = len(slack.called("auth.test"))
            response = harness.command("help")
            assert response.status_code == 200
            assert "/abacus me" in str(slack.wait_for_responses(1)[0])
            assert len(slack.called("auth.test")) == auth_calls  # Bolt got the result; no auth.test before acks
            harness.engine.dispose()
    finally:
        slack.close()
    assert "Traceback" not in content


def test_healthz_notices_the_sqlite_file_going_or_turning_unreadable(tmp_path: Path) -> None:
    database = tmp_path / "abacus.db"
    url = f"sqlite:///{database}"
    upgrade(make_engine(url))
    closed = f"http://127.0.0.1:{_free_port()}/api/"
    with serve(tmp_path, url, closed, "--without-scheduler") as (base, _log):
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        saved = database.read_bytes()
        database.write_bytes(b"this is not a database at all" * 200)
        broken = httpx.get(f"{base}/healthz", timeout=10)
        assert broken.status_code == 503
        assert broken.json()["reason"].startswith("the SQLite database file abacus.db is unreadable")
        database.unlink()
        gone = httpx.get(f"{base}/healthz", timeout=10)
        assert gone.status_code == 503
        assert gone.json() == {
            "ok": False,
            "database": "unreachable",
            "reason": "the SQLite database file abacus.db is gone",
        }
        assert not database.exists()  # the check did not create an empty file in its place
        database.write_bytes(saved)
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
