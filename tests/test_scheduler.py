"""The scheduler: its wiring (inspected without starting it), the leader lock, job runs and their records."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, func, select

from bot import scheduler as scheduler_module
from bot.scheduler import (
    BUDGETS,
    DIGESTS,
    SPIKES,
    TEAM_SYNC,
    AbacusScheduler,
    JobOutcome,
    SchedulerEnv,
    run_job,
)
from bot.settings import Settings
from providers.cursor.client import to_ms
from storage.db import transaction
from storage.job_runs import last_runs, runs_of
from storage.models import JobRun, UsageDaily
from tests.fakes.anthropic_server import FakeAnthropic, api_key, user
from tests.fakes.cursor_server import FakeCursorServer, api_event, running
from tests.fakes.slack_server import FakeSlack

# Provider job ids: named by each provider's spec, stable because job_runs records them.
CLAUDE_CODE_SYNC = "claude_code_sync"
CURSOR_SYNC = "cursor_sync"
CLAUDE_CODE_BACKFILL = "claude_code_backfill"
CURSOR_BACKFILL = "cursor_backfill"
MAPPINGS_SYNC = "mappings_sync"
NOW = datetime(2026, 11, 20, 12, 34, tzinfo=UTC)
ANTHROPIC_KEY = "sk-ant-admin01-acme"
CURSOR_KEY = "key_" + "c" * 64
ALL_JOBS = {
    CLAUDE_CODE_SYNC,
    CURSOR_SYNC,
    CLAUDE_CODE_BACKFILL,
    CURSOR_BACKFILL,
    MAPPINGS_SYNC,
    DIGESTS,
    TEAM_SYNC,
    BUDGETS,
    SPIKES,
}


def frozen() -> datetime:
    return NOW


@pytest.fixture
def anthropic() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic()
    org = server.add_org(ANTHROPIC_KEY, "org-acme", "Acme")
    dana = org.add_user("dana@acme.com")
    org.add_api_key("deploy-bot", dana)
    org.add_usage(date(2026, 11, 18), user("dana@acme.com"), [("claude-opus-4-6", 100, 10, 0, 0, 250)])
    org.add_usage(date(2026, 11, 19), api_key("deploy-bot"), [("claude-opus-4-6", 40, 4, 0, 0, 75)])
    yield server
    server.close()


@pytest.fixture
def cursor() -> Iterator[FakeCursorServer]:
    with running(FakeCursorServer(limit_per_minute=None)) as server:
        team = server.add_team(CURSOR_KEY)
        team.events.append(api_event(to_ms(NOW - timedelta(hours=3)), "bob@acme.com"))
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


def full_settings(anthropic: FakeAnthropic, cursor: FakeCursorServer, slack: FakeSlack, **extra: object) -> Settings:
    return Settings(
        **{
            "ANTHROPIC_ADMIN_KEY": ANTHROPIC_KEY,
            "ANTHROPIC_BASE_URL": anthropic.url,
            "CURSOR_ADMIN_KEY": CURSOR_KEY,
            "CURSOR_BASE_URL": cursor.base_url,
            "ABACUS_CURSOR_REQUESTS_PER_MINUTE": 1000,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": slack.api_url,
            "ABACUS_BACKFILL_TARGET": "2026-10-01",
            **extra,
        }
    )


def job_run_counts(engine: Engine) -> dict[str, int]:
    with transaction(engine) as s:
        return dict(s.execute(select(JobRun.job_id, func.count()).group_by(JobRun.job_id)).all())


# --- wiring ---------------------------------------------------------------------------------------------


def test_wiring_ids_triggers_and_policies(tmp_path: Path) -> None:
    settings = Settings(
        **{
            "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
            "ANTHROPIC_ADMIN_KEY": ANTHROPIC_KEY,
            "CURSOR_ADMIN_KEY": CURSOR_KEY,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "ABACUS_SCHEDULE_CURSOR_SYNC_MINUTES": "30",
            "ABACUS_SCHEDULE_MAPPINGS_SYNC_AT": "4:05",
        }
    )
    from storage.db import make_engine

    engine = make_engine(settings.database_url)
    sched = AbacusScheduler(settings, engine, background=True, now=frozen)
    jobs = {job.id: job for job in sched.scheduler.get_jobs()}
    assert set(jobs) == ALL_JOBS
    assert not sched.running
    assert str(sched.scheduler.timezone) == "UTC"
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time >= 300
        assert str(job.trigger.timezone) == "UTC"
        assert job.args[1] == job.id
    hours = {jid: jobs[jid].trigger.interval for jid in ALL_JOBS - {MAPPINGS_SYNC, TEAM_SYNC}}
    assert hours == {
        CLAUDE_CODE_SYNC: timedelta(hours=6),
        CURSOR_SYNC: timedelta(minutes=30),
        CLAUDE_CODE_BACKFILL: timedelta(hours=6),
        CURSOR_BACKFILL: timedelta(hours=6),
        DIGESTS: timedelta(minutes=5),
        BUDGETS: timedelta(minutes=60),
        SPIKES: timedelta(minutes=60),
    }
    assert all(isinstance(jobs[j].trigger, IntervalTrigger) for j in hours)
    # Interval jobs start soon after the process starts, not a whole interval later.
    assert jobs[CLAUDE_CODE_SYNC].trigger.start_date == NOW + timedelta(minutes=1)
    mappings = jobs[MAPPINGS_SYNC].trigger
    assert isinstance(mappings, CronTrigger)
    assert str(mappings) == "cron[hour='4', minute='5']"
    assert jobs[MAPPINGS_SYNC].misfire_grace_time == 6 * 3600
    assert str(jobs[TEAM_SYNC].trigger) == "cron[hour='4', minute='0']"
    engine.dispose()


def test_unconfigured_providers_have_no_jobs(tmp_path: Path) -> None:
    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    assert AbacusScheduler(Settings(), engine, background=True).scheduler.get_jobs() == []
    only_cursor = Settings(CURSOR_ADMIN_KEY=CURSOR_KEY)
    ids = {j.id for j in AbacusScheduler(only_cursor, engine, background=False).scheduler.get_jobs()}
    assert ids == {CURSOR_SYNC, CURSOR_BACKFILL}
    engine.dispose()


# --- running jobs ---------------------------------------------------------------------------------------


def test_two_schedulers_one_database_each_job_runs_once(
    engine: Engine, anthropic: FakeAnthropic, cursor: FakeCursorServer, slack: FakeSlack
) -> None:
    settings = full_settings(anthropic, cursor, slack)
    first = AbacusScheduler(settings, engine, background=True, now=frozen)
    second = AbacusScheduler(settings, engine, background=True, now=frozen)
    try:
        for sched in (first, second):
            for job in sched.scheduler.get_jobs():
                job.func(*job.args, **job.kwargs)  # exactly what APScheduler calls at each fire
        assert job_run_counts(engine) == dict.fromkeys(ALL_JOBS, 1)
        assert first.env.leadership.is_leader and not second.env.leadership.is_leader
        with transaction(engine) as s:
            runs = {r.job_id: r for r in last_runs(s)}
            stored = s.scalar(select(func.count()).select_from(UsageDaily))
        assert {r.status for r in runs.values()} == {"ok"}, {r.job_id: r.error for r in runs.values()}
        assert runs[CLAUDE_CODE_SYNC].rows >= 2 and runs[CURSOR_SYNC].rows == 1
        assert stored
        assert all(r.finished_at is not None and r.finished_at >= r.started_at for r in runs.values())

        # The leader goes away (a deploy): the other scheduler takes over at its next run.
        first.shutdown()
        assert run_job(second.env, CURSOR_SYNC) is not None
        assert second.env.leadership.is_leader
        assert job_run_counts(engine)[CURSOR_SYNC] == 2
    finally:
        first.shutdown()
        second.shutdown()


def test_two_started_schedulers_run_a_due_job_once(engine: Engine, slack: FakeSlack) -> None:
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.api_url)
    schedulers = [AbacusScheduler(settings, engine, background=True) for _ in range(2)]
    fired: list[str] = []
    done = threading.Event()

    def listener(event: JobExecutionEvent) -> None:
        fired.append(event.job_id)
        if len(fired) == 2:
            done.set()

    try:
        for sched in schedulers:
            sched.scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
            sched.start()
        assert schedulers[0].running and schedulers[1].running
        for sched in schedulers:
            sched.scheduler.modify_job(DIGESTS, next_run_time=datetime.now(UTC))
        assert done.wait(10), fired
        assert fired == [DIGESTS, DIGESTS]
        assert job_run_counts(engine) == {DIGESTS: 1}
    finally:
        for sched in schedulers:
            sched.shutdown()


def test_a_failing_job_is_recorded_and_never_raises(
    engine: Engine,
    anthropic: FakeAnthropic,
    cursor: FakeCursorServer,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = full_settings(anthropic, cursor, slack, ANTHROPIC_ADMIN_KEY="sk-ant-admin01-wrong")
    sched = AbacusScheduler(settings, engine, background=True, now=frozen)
    try:
        outcome = run_job(sched.env, CLAUDE_CODE_SYNC)
        assert outcome is not None and outcome.error
        assert "default" in outcome.error

        def explode(_env: SchedulerEnv) -> JobOutcome:
            raise RuntimeError("disk on fire")

        real_work = scheduler_module.job_work
        monkeypatch.setattr(scheduler_module, "job_work", lambda: real_work() | {CURSOR_SYNC: explode})
        outcome = run_job(sched.env, CURSOR_SYNC)
        assert outcome == JobOutcome(0, "RuntimeError: disk on fire")
        with transaction(engine) as s:
            cc = runs_of(s, CLAUDE_CODE_SYNC)
            cu = runs_of(s, CURSOR_SYNC)
        assert [r.status for r in cc] == ["failed"] and cc[0].error
        assert "sk-ant-admin01-wrong" not in (cc[0].error or "")
        assert [(r.status, r.error) for r in cu] == [("failed", "RuntimeError: disk on fire")]
    finally:
        sched.shutdown()


def test_the_scheduler_keeps_running_after_a_job_fails(
    engine: Engine, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.api_url)
    calls: list[int] = []

    def explode(_env: SchedulerEnv) -> JobOutcome:
        calls.append(1)
        raise RuntimeError("boom")

    real_work = scheduler_module.job_work
    monkeypatch.setattr(scheduler_module, "job_work", lambda: real_work() | {DIGESTS: explode})
    sched = AbacusScheduler(settings, engine, background=True)
    finished: list[str] = []
    sched.scheduler.add_listener(lambda e: finished.append(e.job_id), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    sched.start()
    try:
        for expected in (1, 2):
            sched.scheduler.modify_job(DIGESTS, next_run_time=datetime.now(UTC))
            deadline = time.monotonic() + 10
            while len(finished) < expected and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(calls) == expected == len(finished)
        assert sched.running
    finally:
        sched.shutdown()
    with transaction(engine) as s:
        assert [r.status for r in runs_of(s, DIGESTS)] == ["failed", "failed"]


def test_serve_with_scheduler_starts_it_in_the_worker(tmp_path: Path, slack: FakeSlack) -> None:
    from bot.commands.serve import _Gunicorn
    from storage.db import make_engine
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade(make_engine(url))
    settings = Settings(
        DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s", SLACK_API_URL=slack.api_url
    )
    server = _Gunicorn(settings, "127.0.0.1:0", with_scheduler=True)
    try:
        server.wsgi()
        assert server.scheduler is not None and server.scheduler.running
        assert sorted(j.id for j in server.scheduler.scheduler.get_jobs()) == [BUDGETS, DIGESTS, SPIKES, TEAM_SYNC]
        assert server.scheduler.env.leadership.is_leader
    finally:
        if server.scheduler is not None:
            server.scheduler.shutdown()
    without = _Gunicorn(settings, "127.0.0.1:0")
    without.wsgi()
    assert without.scheduler is None
    # The router in front closes idle connections, not gunicorn (it would race a request sent on them).
    assert without._application.cfg.keepalive > 90


def test_scheduler_timezone_is_explicit_utc() -> None:
    assert ZoneInfo("UTC") == scheduler_module.UTC_ZONE


def test_status_shows_the_last_run_of_each_job(
    engine: Engine, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from bot.answers.data_health import status_blocks
    from bot.answers.plain_text import blocks_to_text
    from bot.cli import main
    from storage.analytics.status import sync_status
    from storage.job_runs import finish_run, start_run

    ok = start_run(engine, CURSOR_SYNC, NOW - timedelta(hours=2))
    finish_run(engine, ok, NOW - timedelta(hours=2), ok=True, rows=1234)
    bad = start_run(engine, CLAUDE_CODE_SYNC, NOW - timedelta(minutes=5))
    finish_run(engine, bad, NOW - timedelta(minutes=4), ok=False, rows=0, error="acme: HTTP 401 from Anthropic")

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    from bot.cli_support import console

    monkeypatch.setattr(console, "width", 240)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Cursor forward sync" in out and "1,234" in out and "HTTP 401" in out
    assert main(["status", "--json"]) == 0
    jobs = {j["job_id"]: j for j in json.loads(capsys.readouterr().out)["jobs"]}
    assert jobs[CURSOR_SYNC]["rows"] == 1234 and jobs[CLAUDE_CODE_SYNC]["status"] == "failed"

    with transaction(engine) as s:
        status, runs = sync_status(s, now=NOW), last_runs(s)
    admin = blocks_to_text(status_blocks(status, configured=[], is_admin=True, jobs=runs))
    member = blocks_to_text(status_blocks(status, configured=[], is_admin=False, jobs=runs))
    assert "Cursor forward sync: 2 h ago · 1,234 rows" in admin
    assert "Claude Code (Admin API) forward sync: 5 min ago · failed: acme: HTTP 401" in admin
    assert "HTTP 401" not in member and "admins can see why" in member


def _scheduler_env(url: str, slack: FakeSlack, **extra: str) -> dict[str, str]:
    """A migrated SQLite database at ``url`` and the environment of an `abacus scheduler` process using it
    and the fake Slack, without the settings of the environment the tests run in."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    prefixes = ("ABACUS_", "SLACK_", "ANTHROPIC_", "CURSOR_")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return inherited | {"DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.api_url} | extra


def test_two_scheduler_processes_one_leads_and_both_stop_cleanly(tmp_path: Path, slack: FakeSlack) -> None:
    """`abacus scheduler` as the Procfile runs it: two processes on one SQLite database, SIGTERM ends both."""
    import signal
    import subprocess

    from storage.db import make_engine

    url = f"sqlite:///{tmp_path / 'procs.db'}"
    env = _scheduler_env(
        url, slack, ANTHROPIC_ADMIN_KEY="sk-ant-admin01-unused", ANTHROPIC_BASE_URL="http://127.0.0.1:9"
    )
    exe = Path(sys.executable).with_name("abacus")
    procs = []
    logs = []
    try:
        for n in range(2):
            log = (tmp_path / f"scheduler-{n}.log").open("w+")
            logs.append(log)
            procs.append(subprocess.Popen([str(exe), "scheduler"], cwd=tmp_path, env=env, stdout=log, stderr=log))
            deadline = time.monotonic() + 30
            while "scheduler starting" not in (tmp_path / f"scheduler-{n}.log").read_text():
                assert time.monotonic() < deadline and procs[-1].poll() is None, (
                    tmp_path / f"scheduler-{n}.log"
                ).read_text()
                time.sleep(0.05)
        outputs = [(tmp_path / f"scheduler-{n}.log").read_text() for n in range(2)]
        assert "digests: interval[0:05:00]" in outputs[0]
        assert "mappings_sync: cron[hour='3', minute='30']" in outputs[0]
        assert "; leader" in outputs[0] and "standing by" in outputs[1]
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        assert [proc.wait(timeout=30) for proc in procs] == [0, 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for log in logs:
            log.close()
    # The leader lock was released on the way out: a new process could lead.
    from bot.scheduler import Leadership

    engine = make_engine(url)
    leadership = Leadership(engine)
    assert leadership.ensure()
    leadership.release()
    engine.dispose()


def test_serve_runs_the_scheduler_by_default_only_with_sqlite(
    engine: Engine, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main
    from bot.commands import serve

    chosen: list[bool] = []
    # gunicorn itself is not started here: only which way serve decided.
    monkeypatch.setattr(serve._Gunicorn, "run", lambda self: chosen.append(self._with_scheduler))
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    assert main(["serve", "--port", "3999"]) == 0
    assert main(["serve", "--port", "3999", "--with-scheduler"]) == 0
    assert main(["serve", "--port", "3999", "--without-scheduler"]) == 0
    assert chosen == [engine.dialect.name == "sqlite", True, False]


def test_a_scheduler_stopped_while_it_starts_exits_at_once(tmp_path: Path, slack: FakeSlack) -> None:
    """SIGTERM as soon as the schedule is printed, before the scheduler runs: the process leaves, cleanly,
    rather than ignore it and block until a process manager kills it."""
    import select
    import signal
    import subprocess

    env = _scheduler_env(f"sqlite:///{tmp_path / 'early.db'}", slack)
    exe = Path(sys.executable).with_name("abacus")
    proc = subprocess.Popen(
        [str(exe), "scheduler"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0
    )
    try:
        assert proc.stdout is not None
        # Up to the schedule's first line (APScheduler logs before it): the handler is installed by then.
        deadline, seen = time.monotonic() + 20, b""
        while b"misfire grace" not in seen:
            assert time.monotonic() < deadline, f"no schedule printed in 20 s: {seen!r}"
            if select.select([proc.stdout], [], [], 0.5)[0]:
                chunk = os.read(proc.stdout.fileno(), 65536)
                assert chunk, f"the scheduler ended before printing its schedule: {seen!r}"
                seen += chunk
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
