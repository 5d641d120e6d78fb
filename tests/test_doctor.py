"""`abacus doctor`: each check passing and failing, against the fake Slack, Anthropic and Cursor servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine

from bot.cli import main
from bot.doctor import REQUIRED_SCOPES, DoctorReport
from bot.scheduler import Leadership, SchedulerEnv, run_job
from bot.settings import Settings
from bot.slack.doctor import run_doctor
from storage.digests import subscribe
from storage.job_runs import finish_run, start_run
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.cursor_server import FakeCursorServer, running
from tests.fakes.slack_server import FakeSlack
from tests.slack_harness import SlackHarness

ANTHROPIC_KEY = "sk-ant-admin01-doctor"
CURSOR_KEY = "key_" + "d" * 64

CURSOR_SYNC = "cursor_sync"


def real_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def anthropic() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic()
    server.add_org(ANTHROPIC_KEY, "org-doc", "Doctor Org")
    yield server
    server.close()


@pytest.fixture
def cursor() -> Iterator[FakeCursorServer]:
    with running(FakeCursorServer(limit_per_minute=None)) as server:
        server.add_team(CURSOR_KEY)
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


def settings_for(anthropic: FakeAnthropic, cursor: FakeCursorServer, slack: FakeSlack, **extra: object) -> Settings:
    values: dict[str, object] = {
        "ANTHROPIC_ADMIN_KEY": ANTHROPIC_KEY,
        "ANTHROPIC_BASE_URL": anthropic.url,
        "CURSOR_ADMIN_KEY": CURSOR_KEY,
        "CURSOR_BASE_URL": cursor.base_url,
        "SLACK_BOT_TOKEN": "xoxb-doctor",
        "SLACK_SIGNING_SECRET": "doctor-signing-secret",
        "SLACK_API_URL": slack.api_url,
        **extra,
    }
    return Settings(**{k: v for k, v in values.items() if v is not None})


def states(report: DoctorReport) -> dict[str, str]:
    return {c.name: c.state for c in report.checks}


def check(report: DoctorReport, name: str) -> tuple[str, str, str | None]:
    found = next(c for c in report.checks if c.name == name)
    return found.state, found.detail, found.fix


def test_required_scopes_are_the_manifests_bot_scopes() -> None:
    manifest = yaml.safe_load((Path(__file__).parent.parent / "manifest.yml").read_text())
    assert sorted(REQUIRED_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])


def test_everything_passes_after_a_sync(
    engine: Engine, anthropic: FakeAnthropic, cursor: FakeCursorServer, slack: FakeSlack
) -> None:
    settings = settings_for(anthropic, cursor, slack)
    slack.channel_members["C0DIGEST"] = {"UBOT"}
    subscribe(
        engine,
        channel_id="C0DIGEST",
        cadence="daily",
        local_time="09:00",
        weekday=None,
        timezone="UTC",
        created_by="UADMIN",
        now=real_now(),
    )
    env = SchedulerEnv(settings, engine, Leadership(engine), now=real_now)
    try:
        assert run_job(env, CURSOR_SYNC) is not None
    finally:
        env.leadership.release()
    report = run_doctor(settings, engine=engine)
    assert report.ok, report.checks
    assert states(report) == {
        "database": "ok",
        "slack signing secret": "ok",
        "slack token": "ok",
        "slack scopes": "ok",
        "clock": "ok",
        "digest channel C0DIGEST": "ok",
        "anthropic key default": "warn",  # valid, but never synced
        "cursor key default": "ok",
        "scheduler": "ok",
    }
    assert "Doctor Org" in check(report, "anthropic key default")[1]
    assert "never synced" in check(report, "anthropic key default")[1]
    assert "up to date" in check(report, "cursor key default")[1]


def test_bad_keys_token_and_missing_secret_fail(
    engine: Engine, anthropic: FakeAnthropic, cursor: FakeCursorServer, slack: FakeSlack
) -> None:
    settings = settings_for(
        anthropic,
        cursor,
        slack,
        ANTHROPIC_ADMIN_KEY="sk-ant-admin01-wrong",
        CURSOR_ADMIN_KEY="key_" + "w" * 64,
        SLACK_SIGNING_SECRET=None,
    )
    slack.fail("auth.test", error="invalid_auth")
    report = run_doctor(settings, engine=engine)
    assert not report.ok
    got = states(report)
    assert got["slack signing secret"] == "fail"
    assert got["slack token"] == "fail"
    assert "slack scopes" not in got  # nothing to compare without a valid token
    state, detail, fix = check(report, "anthropic key default")
    assert state == "fail" and fix is not None and "ANTHROPIC_ADMIN_KEYS" in fix
    assert "sk-ant-admin01-wrong" not in detail
    state, _detail, fix = check(report, "cursor key default")
    assert state == "fail" and fix is not None and "CURSOR_ADMIN_KEYS" in fix
    assert got["scheduler"] == "warn"  # nothing has run yet


def test_missing_scopes_channel_membership_clock_and_failed_jobs(
    engine: Engine, anthropic: FakeAnthropic, cursor: FakeCursorServer, slack: FakeSlack
) -> None:
    settings = settings_for(anthropic, cursor, slack)
    slack.scopes = "commands,chat:write,channels:read"  # channels:read: conversations.info works for C0ALONE
    subscribe(
        engine,
        channel_id="C0ALONE",
        cadence="daily",
        local_time="09:00",
        weekday=None,
        timezone="UTC",
        created_by="UADMIN",
        now=real_now(),
    )
    run_id = start_run(engine, CURSOR_SYNC, real_now())
    finish_run(engine, run_id, real_now(), ok=False, rows=0, error="cursor: boom")
    report = run_doctor(settings, engine=engine, now=lambda: real_now() + timedelta(minutes=5))
    assert not report.ok
    state, detail, _ = check(report, "slack scopes")
    assert state == "fail" and "users:read.email" in detail and "commands" not in detail
    state, detail, fix = check(report, "digest channel C0ALONE")
    assert state == "fail" and "not a member" in detail and fix is not None and "/invite" in fix
    state, detail, _ = check(report, "clock")
    assert state == "warn" and "ahead" in detail
    state, detail, _ = check(report, "scheduler")
    assert state == "warn" and "cursor: boom" in detail


def test_unmigrated_database_fails_and_skips_what_needs_it(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    report = run_doctor(settings)
    state, detail, fix = check(report, "database")
    assert state == "fail" and "abacus db migrate" in (fix or "") + detail
    assert states(report) == {"database": "fail", "slack token": "skip"}


def test_cli_json_and_exit_codes(
    db_url_factory: object,
    anthropic: FakeAnthropic,
    cursor: FakeCursorServer,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = db_url_factory()  # type: ignore[operator]
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "migrate"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-doctor")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "doctor-signing-secret")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic.url)
    assert main(["doctor", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is True
    assert {c["name"] for c in payload["checks"]} >= {"database", "slack token", "anthropic key default"}
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-wrong")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL anthropic key default" in out and "sk-ant-admin01-wrong" not in out


def test_admin_status_in_slack_shows_the_checks(slack_harness: SlackHarness) -> None:
    slack_harness.slack.scopes = "commands"
    slack_harness.command("status", user="UADMIN")
    admin = json.dumps(slack_harness.slack.wait_for_responses(1)[0], ensure_ascii=False)
    assert "abacus doctor" in admin and "slack scopes: The token lacks" in admin and "database: Reachable" in admin
    slack_harness.command("status", user="UDANA")
    member = json.dumps(slack_harness.slack.wait_for_responses(2)[1], ensure_ascii=False)
    assert "Abacus status" in member and "abacus doctor" not in member


def test_unreachable_database_fails_without_showing_the_password() -> None:
    settings = Settings(DATABASE_URL="postgresql://abacus:hunter2@127.0.0.1:1/abacus")
    report = run_doctor(settings)
    state, detail, fix = check(report, "database")
    assert state == "fail" and "Cannot reach the database" in detail and "hunter2" not in detail
    assert fix is not None and "DATABASE_URL" in fix


def test_socket_mode_needs_no_signing_secret(engine: Engine, slack: FakeSlack) -> None:
    settings = Settings(
        **{
            "SLACK_BOT_TOKEN": "xoxb-doctor",
            "SLACK_APP_TOKEN": "xapp-1-doctor",
            "SLACK_API_URL": slack.api_url,
        }
    )
    report = run_doctor(settings, engine=engine)
    assert (
        check(report, "slack signing secret")[0] == "ok" and "Socket Mode" in check(report, "slack signing secret")[1]
    )
    assert report.ok
