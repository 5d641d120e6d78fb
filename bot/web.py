"""The HTTP face of `abacus serve`: Slack at /slack/events, a health check at /healthz.

Production serves this WSGI app with gunicorn (threads, one command: `abacus serve`); the tests serve
the very same object with wsgiref, so signed requests travel the same path in both.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class AbacusWeb:
    def __init__(self, app: App, engine: Engine) -> None:
        self.slack = SlackRequestHandler(app)
        self.engine = engine

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._health(start_response)
        return self.slack(environ, start_response)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            status, body = "200 OK", {"ok": True}
        except Exception as exc:  # a health check reports, it never raises
            log.warning("health check: database unreachable: %s", type(exc).__name__)
            status, body = "503 Service Unavailable", {"ok": False, "database": "unreachable"}
        payload = json.dumps(body).encode()
        start_response(status, [("content-type", "application/json"), ("content-length", str(len(payload)))])
        return [payload]
