"""The HTTP face of `abacus serve`: Slack at /slack/events, a health check at /healthz, and (when
``CRON_SECRET`` is set) ``POST /jobs/<job>`` for platforms that prefer their own scheduler.

Production serves this WSGI app with gunicorn (threads, one command: `abacus serve`); the tests serve
the very same object with wsgiref, so signed requests travel the same path in both.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text

from bot.observability import bound, new_id
from bot.scheduler import JobRunResult, Leadership, SchedulerEnv, run_job_once, scheduled_jobs
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.scheduler import AbacusScheduler

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
JOBS_PREFIX = "/jobs/"
# Slack sends seconds since the epoch. Anything else is a bad signature (401), checked here because the SDK's
# verifier would raise on int() of it (a 500).
SQLITE_HEADER = b"SQLite format 3\x00"
_SLACK_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class AbacusWeb:
    def __init__(
        self,
        app: App,
        engine: Engine,
        settings: Settings | None = None,
        *,
        jobs_env: SchedulerEnv | None = None,
        scheduler: AbacusScheduler | None = None,
    ) -> None:
        self.slack = SlackRequestHandler(app)
        self.engine = engine
        self.settings = settings
        self.scheduler = scheduler  # the in-process scheduler of this server, if it runs one
        if jobs_env is None and settings is not None:
            jobs_env = SchedulerEnv(settings, engine, Leadership(engine))
        self.jobs_env = jobs_env

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # Every log line of this request carries its id (the Slack middleware's refusals included).
        with bound(request_id=new_id()):
            return self._route(environ, start_response)

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._health(start_response)
        if path.startswith(JOBS_PREFIX):
            return self._job(environ, start_response, path.removeprefix(JOBS_PREFIX))
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if stamp is not None and not _SLACK_TIMESTAMP.fullmatch(stamp):
            return _json(start_response, "401 Unauthorized", {"error": "invalid request"})  # Bolt's own 401 body
        return self.slack(environ, start_response)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        body: dict[str, Any]
        problem = _sqlite_file_problem(self.engine)
        if problem is None:
            try:
                with self.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except Exception as exc:  # a health check reports, it never raises
                problem = f"the database is unreachable ({type(exc).__name__})"
        if problem is None:
            status, body = "200 OK", {"ok": True}
        else:
            log.warning("health check: %s", problem)
            status, body = "503 Service Unavailable", {"ok": False, "database": "unreachable", "reason": problem}
        return _json(start_response, status, body)

    def _job(self, environ: dict[str, Any], start_response: StartResponse, job_id: str) -> Iterable[bytes]:
        """Run a scheduled job now, on behalf of an external cron. Without CRON_SECRET the route does not
        exist (404), so an install that never opted in exposes nothing."""
        env = self.jobs_env
        secret = env.settings.cron_secret.get_secret_value() if env and env.settings.cron_secret else ""
        if env is None or not secret:
            return _json(start_response, "404 Not Found", {"ok": False, "error": "not found"})
        if environ.get("REQUEST_METHOD") != "POST":
            return _json(start_response, "405 Method Not Allowed", {"ok": False, "error": "use POST"})
        scheme, _, given = str(environ.get("HTTP_AUTHORIZATION") or "").strip().partition(" ")
        # The scheme is case-insensitive (RFC 9110); the secret is compared in constant time, so response
        # timing reveals nothing about it.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), secret.encode()):
            return _json(
                start_response,
                "401 Unauthorized",
                {"ok": False, "error": "send Authorization: Bearer $CRON_SECRET"},
                extra=[("www-authenticate", "Bearer")],
            )
        known = {job.id for job in scheduled_jobs(env.settings)}
        if job_id not in known:
            body = {"ok": False, "error": f"unknown job {job_id!r}", "jobs": sorted(known)}
            return _json(start_response, "404 Not Found", body)
        log.info("external trigger: running %s", job_id)
        result = run_job_once(env, job_id)
        if result is None:
            return _json(start_response, "409 Conflict", self._lock_holder(job_id))
        return _json(start_response, "200 OK", _outcome(result))

    def _lock_holder(self, job_id: str) -> dict[str, Any]:
        """The 409: the job did not run because the ``scheduler-leader`` lock is held, and by what."""
        scheduler = self.scheduler
        if scheduler is not None and scheduler.env.leadership.is_leader:
            job = scheduler.scheduler.get_job(job_id)
            next_run = getattr(job, "next_run_time", None) if job is not None else None
            when = f"; next run {next_run.isoformat()}" if next_run is not None else ""
            return {
                "ok": False,
                "job": job_id,
                "holder": "in-process scheduler",
                "error": (
                    "already running: the in-process scheduler of this server leads and runs this job on its own "
                    f"schedule{when}. To drive jobs from an external cron instead, run `abacus serve "
                    "--without-scheduler`."
                ),
            }
        return {
            "ok": False,
            "job": job_id,
            "holder": "another process",
            "error": (
                "already running: another process holds the scheduler lock (an `abacus scheduler`, the "
                "in-process scheduler of another `abacus serve` worker, which runs this job on its own "
                "schedule, or another trigger running a job now)"
            ),
        }


def _sqlite_file_problem(engine: Engine) -> str | None:
    """Why a file-backed SQLite database cannot serve, or None. A pooled connection keeps working on a file
    that was deleted (and a new one would create an empty file), so look at the file itself, read-only."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    if not path.exists():
        return f"the SQLite database file {path.name} is gone"
    if not os.access(path, os.R_OK | os.W_OK):
        return f"the SQLite database file {path.name} is not readable and writable by this process"
    try:
        with path.open("rb") as file:
            header = file.read(16)
    except OSError as exc:
        return f"the SQLite database file {path.name} is unreadable ({exc.strerror or type(exc).__name__})"
    if header and header != SQLITE_HEADER:  # empty: a brand-new database, which SQLite accepts
        return f"the SQLite database file {path.name} is unreadable (not an SQLite database any more)"
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2)) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        return f"the SQLite database file {path.name} is unreadable ({exc})"
    return None


def _outcome(result: JobRunResult) -> dict[str, Any]:
    return {
        "ok": result.outcome.error is None,
        "job": result.job_id,
        "status": result.status,
        "rows": result.outcome.rows,
        "error": result.outcome.error,
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat(),
    }


def _json(
    start_response: StartResponse, status: str, body: dict[str, Any], extra: list[tuple[str, str]] | None = None
) -> Iterable[bytes]:
    payload = json.dumps(body).encode()
    headers = [("content-type", "application/json"), ("content-length", str(len(payload))), *(extra or [])]
    start_response(status, headers)
    return [payload]
