"""The HTTP face of `abacus serve`: Slack at /slack/events, a health check at /healthz, and (when
``CRON_SECRET`` is set) ``POST /jobs/<job>`` for platforms that prefer their own scheduler.

Production serves this WSGI app with gunicorn (threads, one command: `abacus serve`); the tests serve
the very same object with wsgiref, so signed requests travel the same path in both.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text

from bot.observability import bound, new_id
from bot.scheduler import JobRunResult, Leadership, SchedulerEnv, run_job_once, scheduled_jobs
from bot.settings import Settings

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
JOBS_PREFIX = "/jobs/"


class AbacusWeb:
    def __init__(
        self, app: App, engine: Engine, settings: Settings | None = None, *, jobs_env: SchedulerEnv | None = None
    ) -> None:
        self.slack = SlackRequestHandler(app)
        self.engine = engine
        self.settings = settings
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
        return self.slack(environ, start_response)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        body: dict[str, Any]
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            status, body = "200 OK", {"ok": True}
        except Exception as exc:  # a health check reports, it never raises
            log.warning("health check: database unreachable: %s", type(exc).__name__)
            status, body = "503 Service Unavailable", {"ok": False, "database": "unreachable"}
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
        given = str(environ.get("HTTP_AUTHORIZATION") or "")
        # Constant-time comparison, so response timing reveals nothing about the secret.
        if not hmac.compare_digest(given.encode(), f"Bearer {secret}".encode()):
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
            body = {"ok": False, "job": job_id, "error": "already running (the scheduler lock is held)"}
            return _json(start_response, "409 Conflict", body)
        return _json(start_response, "200 OK", _outcome(result))


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
