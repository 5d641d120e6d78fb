"""Logs and error tracking: one line per event with its request or job id, and never a secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import click
import pytest
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from bot import observability
from bot.cli import main, run
from bot.observability import bound, formatter, init_sentry, redact, scrub_event, shutdown_sentry
from bot.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.cursor_server import FakeCursorServer, running
from tests.slack_harness import SIGNING_SECRET, SlackHarness

ANTHROPIC_KEY = "sk-ant-admin01-" + "s" * 40
CURSOR_KEY = "key_" + "9" * 64
SLACK_TOKEN = "xoxb-test-token"  # the harness's token


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, observability._StderrHandler):
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    shutdown_sentry()


def record(message: str, *args: Any, level: int = logging.INFO, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("inner " + ANTHROPIC_KEY)
        except RuntimeError as error:
            exc_info = (type(error), error, error.__traceback__)
    return logging.LogRecord("bot.test", level, __file__, 1, message, args, exc_info)


def test_plain_and_json_are_one_line_with_the_context() -> None:
    with bound(job="cursor_sync", request_id="abc123"):
        plain = formatter(False).format(record("synced %d rows", 5))
        as_json = json.loads(formatter(True).format(record("failed", level=logging.ERROR, exc=True)))
    assert "\n" not in plain and "INFO bot.test job=cursor_sync request_id=abc123: synced 5 rows" in plain
    assert as_json["level"] == "error" and as_json["job"] == "cursor_sync" and as_json["request_id"] == "abc123"
    assert "RuntimeError" in as_json["error"] and ANTHROPIC_KEY not in json.dumps(as_json)
    outside = formatter(False).format(record("no context"))
    assert "job=" not in outside


@pytest.mark.parametrize(
    "token",
    ["xoxb-1234-5678-abcdef", "xapp-1-A0-123-abc", "sk-ant-admin01-abc_DEF-123", "key_" + "a" * 64, "xoxp-9-9-9"],
)
def test_token_shapes_are_redacted_even_when_not_configured(token: str) -> None:
    assert redact(f"Authorization: Bearer {token} and more") == "Authorization: Bearer [redacted] and more"


def test_a_failing_sync_and_a_slack_request_log_no_secret(
    slack_harness: SlackHarness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'logs.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    anthropic = FakeAnthropic()  # knows no key: every call is a 401
    with running(FakeCursorServer(limit_per_minute=None)) as cursor:
        for name, value in {
            "DATABASE_URL": url,
            "ABACUS_LOG_FORMAT": "json",
            "ABACUS_LOG_LEVEL": "debug",
            "ANTHROPIC_ADMIN_KEY": ANTHROPIC_KEY,
            "ANTHROPIC_BASE_URL": anthropic.url,
            "CURSOR_ADMIN_KEY": CURSOR_KEY,
            "CURSOR_BASE_URL": cursor.base_url,
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        }.items():
            monkeypatch.setenv(name, value)
        try:
            assert main(["sync", "--days", "1"]) == 1
        finally:
            anthropic.close()
    slack_harness.command("status", user="UADMIN")
    slack_harness.slack.wait_for_responses(1)
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines, err
    assert any(line.get("command") == "sync" for line in lines)
    assert any(line.get("command") == "/abacus status" and line.get("request_id") for line in lines)
    for secret in (ANTHROPIC_KEY, CURSOR_KEY, SLACK_TOKEN, SIGNING_SECRET, "sk-ant-", "xoxb-"):
        assert secret not in err and secret not in out, secret


# --- Sentry ----------------------------------------------------------------------------------------


class MemoryTransport(Transport):
    """Keeps events in memory: no network in tests."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.events: list[Any] = []  # sentry_sdk's Event, a TypedDict

    def capture_envelope(self, envelope: Envelope) -> None:
        event = envelope.get_event()
        if event is not None:
            self.events.append(event)


def sentry_settings() -> Settings:
    return Settings(
        **{
            "SENTRY_DSN": "https://public@o0.ingest.sentry.invalid/1",
            "SLACK_BOT_TOKEN": "xoxb-configured-1-2",
            "SLACK_SIGNING_SECRET": "configured-signing-secret",
            "ANTHROPIC_ADMIN_KEYS": f"acme={ANTHROPIC_KEY}",
            "CRON_SECRET": "configured-cron-secret",
        }
    )


def test_sentry_events_carry_the_job_and_no_secret() -> None:
    transport = MemoryTransport()
    assert init_sentry(sentry_settings(), transport=transport)
    log = logging.getLogger("bot.scheduler")
    with bound(job="cursor_sync"):
        try:
            raise RuntimeError(
                "boom with configured-signing-secret, configured-cron-secret and xoxb-configured-1-2 "
                f"and {ANTHROPIC_KEY} and an unconfigured xapp-1-A-2-b"
            )
        except RuntimeError:
            log.exception("job cursor_sync failed using %s", CURSOR_KEY)
    observability.shutdown_sentry()
    assert transport.events, "the error log record became no event"
    event = transport.events[-1]
    assert event["tags"]["job"] == "cursor_sync"
    text = json.dumps(event)
    for secret in (
        "configured-signing-secret",
        "configured-cron-secret",
        "xoxb-configured",
        ANTHROPIC_KEY,
        CURSOR_KEY,
        "xapp-1-A",
        "public@o0",
    ):
        assert secret not in text, secret
    assert "[redacted]" in text


def test_unexpected_cli_errors_are_reported_with_the_command_name() -> None:
    transport = MemoryTransport()
    assert init_sentry(sentry_settings(), transport=transport)

    @click.group()
    def group() -> None:
        pass

    @group.command("explode")
    def explode() -> None:
        raise ValueError(f"unexpected with {ANTHROPIC_KEY}")

    with pytest.raises(ValueError, match="unexpected"):
        run(group, ["explode"])
    observability.shutdown_sentry()
    event = transport.events[-1]
    assert event["tags"]["command"] == "explode"
    assert ANTHROPIC_KEY not in json.dumps(event)


def test_scrub_event_walks_nested_values() -> None:
    event = {"extra": {"headers": [("Authorization", "Bearer xoxb-1-2-3")], "n": 3}, "message": "key_" + "b" * 20}
    assert scrub_event(event) == {
        "extra": {"headers": [("Authorization", "Bearer [redacted]")], "n": 3},
        "message": "[redacted]",
    }


def test_a_failing_slack_command_is_reported_with_its_command_and_reference(
    slack_harness: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.slack.services import Services

    transport = MemoryTransport()
    assert init_sentry(sentry_settings(), transport=transport)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"query failed near {SLACK_TOKEN}")

    monkeypatch.setattr(Services, "answer", broken)
    slack_harness.command("top 7d", user="UDANA")
    text = slack_harness.slack.wait_for_responses(1)[0]["text"]
    reference = text.split("ref `")[1].split("`")[0]
    observability.shutdown_sentry()
    event = next(e for e in transport.events if e.get("tags", {}).get("command") == "/abacus top")
    assert event["tags"]["request_id"] == reference
    assert SLACK_TOKEN not in json.dumps(event)
