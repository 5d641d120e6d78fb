"""The real Abacus Slack app served over HTTP (as production serves it), a fake Slack Web API behind
it, and a client that sends requests signed exactly as Slack signs them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine

from bot.settings import Settings
from bot.slack.app import create_app
from bot.web import AbacusWeb
from tests.fakes.slack_server import TEAM, FakeSlack

SIGNING_SECRET = "test-signing-secret"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


@dataclass
class SlackHarness:
    url: str
    slack: FakeSlack
    engine: Engine
    settings: Settings

    def _post(self, body: str, content_type: str, *, secret: str = SIGNING_SECRET, age: int = 0) -> httpx.Response:
        timestamp = str(int(time.time()) - age)
        signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
        headers = {
            "content-type": content_type,
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature or "",
        }
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=10)

    def command(self, text: str, *, user: str = "UDANA", channel: str = "C0GENERAL", **sign: Any) -> httpx.Response:
        body = urlencode(
            {
                "token": "legacy",
                "team_id": TEAM,
                "team_domain": "acme",
                "channel_id": channel,
                "channel_name": "general",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/abacus",
                "text": text,
                "api_app_id": "A0ABACUS",
                "response_url": self.slack.response_url(),
                "trigger_id": "1337.42.abcd",
            }
        )
        return self._post(body, "application/x-www-form-urlencoded", **sign)

    def interaction(self, payload: dict[str, Any], *, user: str = "UADMIN", **sign: Any) -> httpx.Response:
        """A block_suggestion, view_submission or block_actions request, form-encoded as Slack sends them."""
        payload = {
            "team": {"id": TEAM},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A0ABACUS",
            "token": "legacy",
            **payload,
        }
        return self._post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **sign)

    def event(self, event: dict[str, Any], **sign: Any) -> httpx.Response:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": TEAM,
                "api_app_id": "A0ABACUS",
                "type": "event_callback",
                "event_id": f"Ev{time.monotonic_ns()}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return self._post(body, "application/json", **sign)


def people(slack: FakeSlack) -> None:
    slack.add_user("UDANA", "dana@acme.com")
    slack.add_user("UBOB", "Bob@ACME.com")
    slack.add_user("UADMIN", "admin@acme.com", tz="Europe/Vienna")  # digests default to the admin's zone
    slack.add_user("UOUT", "someone@gmail.com")
    slack.add_user("UGUEST", "guest@acme.com", is_restricted=True)
    slack.add_user("UNOMAIL", None)
    slack.add_user("UROBOT", "robot@acme.com", is_bot=True)
    slack.add_user("UGONE", "gone@acme.com", deleted=True)
    slack.add_user("UEXT", "partner@acme.com", team_id="T0OTHER")


@pytest.fixture
def slack_harness(engine: Engine) -> Iterator[SlackHarness]:
    slack = FakeSlack()
    people(slack)
    settings = Settings(
        **{
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "ABACUS_EMAIL_DOMAINS": "acme.com",
            "ABACUS_ADMINS": "admin@acme.com",
            "ABACUS_TIMEZONE": "UTC",
        }
    )
    web = AbacusWeb(create_app(settings, engine), engine)
    server = make_server("127.0.0.1", 0, web, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield SlackHarness(f"http://127.0.0.1:{server.server_port}", slack, engine, settings)
    finally:
        server.shutdown()
        server.server_close()
        slack.close()
