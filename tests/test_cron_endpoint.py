"""`POST /jobs/<job>` on the served web app: its bearer auth, unknown and disabled jobs, and the leader lock."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
from sqlalchemy import Engine

from bot import scheduler as scheduler_module
from bot.scheduler import JobOutcome, Leadership, SchedulerEnv
from bot.settings import Settings
from bot.slack.app import create_app
from bot.web import AbacusWeb
from providers.cursor.client import to_ms
from storage.db import transaction
from storage.job_runs import runs_of
from tests.fakes.cursor_server import FakeCursorServer, api_event, running
from tests.fakes.slack_server import FakeSlack

SECRET = "cron-secret-for-tests"
CURSOR_KEY = "key_" + "e" * 64
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

CURSOR_SYNC = "cursor_sync"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture
def cursor() -> Iterator[FakeCursorServer]:
    with running(FakeCursorServer(limit_per_minute=None)) as server:
        team = server.add_team(CURSOR_KEY)
        team.events.append(api_event(to_ms(NOW - timedelta(hours=3)), "bob@acme.com"))
        yield server


def serve(engine: Engine, settings: Settings) -> tuple[str, _Server]:
    env = SchedulerEnv(settings, engine, Leadership(engine), now=lambda: NOW)
    web = AbacusWeb(create_app(settings, engine), engine, settings, jobs_env=env)
    server = make_server("127.0.0.1", 0, web, server_class=_Server, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def make_settings(cursor: FakeCursorServer, slack: FakeSlack, **extra: str) -> Settings:
    return Settings(
        **{
            "SLACK_BOT_TOKEN": "xoxb-cron",
            "SLACK_SIGNING_SECRET": "cron-signing-secret",
            "SLACK_API_URL": slack.api_url,
            "CURSOR_ADMIN_KEY": CURSOR_KEY,
            "CURSOR_BASE_URL": cursor.base_url,
            "ABACUS_CURSOR_REQUESTS_PER_MINUTE": "1000",
            **extra,
        }
    )


@pytest.fixture
def web(engine: Engine, cursor: FakeCursorServer, slack: FakeSlack) -> Iterator[str]:
    url, server = serve(engine, make_settings(cursor, slack, CRON_SECRET=SECRET))
    yield url
    server.shutdown()
    server.server_close()


def post(url: str, path: str, auth: str | None = None) -> httpx.Response:
    headers = {"authorization": auth} if auth is not None else {}
    return httpx.post(url + path, headers=headers, timeout=30)


def test_bearer_auth_missing_wrong_and_right(web: str, engine: Engine) -> None:
    assert post(web, "/jobs/cursor_sync").status_code == 401
    assert post(web, "/jobs/cursor_sync", f"Bearer {SECRET}x").status_code == 401
    assert post(web, "/jobs/cursor_sync", SECRET).status_code == 401
    with transaction(engine) as s:
        assert runs_of(s, CURSOR_SYNC) == []  # nothing ran for the refused calls
    response = post(web, "/jobs/cursor_sync", f"Bearer {SECRET}")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["status"] == "ok" and body["job"] == CURSOR_SYNC
    assert body["rows"] == 1 and body["error"] is None
    assert body["started_at"] == body["finished_at"] == NOW.isoformat()
    with transaction(engine) as s:
        runs = runs_of(s, CURSOR_SYNC)
    assert [(r.status, r.rows) for r in runs] == [("ok", 1)]  # recorded exactly like a scheduled run


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr", "Bearer"])
def test_the_bearer_scheme_is_case_insensitive(web: str, scheme: str) -> None:
    response = post(web, "/jobs/cursor_sync", f"{scheme} {SECRET}")
    assert response.status_code == 200 and response.json()["ok"] is True


@pytest.mark.parametrize("auth", [f"Basic {SECRET}", f"bearer{SECRET}", f"Token {SECRET}", "bearer"])
def test_other_schemes_and_malformed_headers_are_401(web: str, auth: str) -> None:
    assert post(web, "/jobs/cursor_sync", auth).status_code == 401


def test_unknown_and_unconfigured_jobs_are_404(web: str) -> None:
    assert post(web, "/jobs/make_coffee", f"Bearer {SECRET}").status_code == 404
    response = post(web, "/jobs/claude_code_sync", f"Bearer {SECRET}")  # no Anthropic key here
    assert response.status_code == 404 and "cursor_sync" in response.json()["jobs"]
    assert httpx.get(web + "/jobs/cursor_sync", headers={"authorization": f"Bearer {SECRET}"}).status_code == 405


def test_disabled_without_cron_secret(engine: Engine, cursor: FakeCursorServer, slack: FakeSlack) -> None:
    url, server = serve(engine, make_settings(cursor, slack))
    try:
        assert post(url, "/jobs/cursor_sync").status_code == 404
        assert post(url, "/jobs/cursor_sync", f"Bearer {SECRET}").status_code == 404
        assert httpx.get(url + "/healthz", timeout=10).json() == {"ok": True}
    finally:
        server.shutdown()
        server.server_close()


def test_a_second_concurrent_call_gets_409(web: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(_env: SchedulerEnv) -> JobOutcome:
        started.set()
        release.wait(20)
        return JobOutcome(7)

    real_work = scheduler_module.job_work
    monkeypatch.setattr(scheduler_module, "job_work", lambda: real_work() | {CURSOR_SYNC: slow})
    first: list[httpx.Response] = []
    caller = threading.Thread(target=lambda: first.append(post(web, "/jobs/cursor_sync", f"Bearer {SECRET}")))
    caller.start()
    try:
        assert started.wait(20)
        second = post(web, "/jobs/cursor_sync", f"Bearer {SECRET}")
        assert second.status_code == 409 and "already running" in second.json()["error"]
    finally:
        release.set()
        caller.join(30)
    assert first[0].status_code == 200 and first[0].json()["rows"] == 7
    # The lock is free again afterwards.
    assert post(web, "/jobs/cursor_sync", f"Bearer {SECRET}").status_code == 200


def test_the_scheduler_holding_the_lock_means_409(web: str, engine: Engine, cursor: FakeCursorServer) -> None:
    leader = Leadership(engine)
    assert leader.ensure()
    try:
        busy = post(web, "/jobs/cursor_sync", f"Bearer {SECRET}")
        assert busy.status_code == 409
        assert busy.json()["holder"] == "another process" and "scheduler lock" in busy.json()["error"]
    finally:
        leader.release()


def test_the_readme_names_every_job_the_route_accepts() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### External triggers") : readme.index("## Digests")]
    named = set(re.findall(r"`([a-z_]+)`", section))
    assert set(scheduler_module.job_work()) <= named, set(scheduler_module.job_work()) - named
