"""The bounded retry policy every provider call goes through, against real HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from providers.errors import AuthError, ProviderError, RateLimited
from providers.http import RetryPolicy, retry_after_seconds, send_with_retries
from tests.fakes.http_server import FakeServer, Request, Response


class Script:
    """Answers with the queued responses in order, then 200."""

    def __init__(self, *responses: Response) -> None:
        self.queue = list(responses)

    def __call__(self, _request: Request) -> Response:
        return self.queue.pop(0) if self.queue else Response(200, {"ok": True})


@pytest.fixture
def serve() -> Iterator:
    servers: list[FakeServer] = []

    def start(*responses: Response) -> FakeServer:
        server = FakeServer(Script(*responses))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def call(url: str, sleeps: list[float], **policy: float) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=2) as client:
        return send_with_retries(
            client,
            lambda: client.build_request("GET", "/thing"),
            who="org 'acme'",
            policy=RetryPolicy(**{"max_attempts": 4, "base_delay": 0.01, "max_delay": 0.02, **policy}),  # type: ignore[arg-type]
            sleep=sleeps.append,
        )


def test_5xx_and_529_are_retried_with_bounded_backoff(serve) -> None:
    server = serve(Response(500), Response(529), Response(503))
    sleeps: list[float] = []
    assert call(server.url, sleeps).status_code == 200
    assert len(sleeps) == 3 and all(0 <= s <= 0.02 for s in sleeps)


def test_gives_up_after_max_attempts_with_the_request_id(serve) -> None:
    server = serve(*[Response(500, {"error": {"message": "boom"}}, {"request-id": "req_42"})] * 10)
    with pytest.raises(ProviderError) as caught:
        call(server.url, [])
    assert "gave up" in str(caught.value) and "after 4 attempt(s)" in str(caught.value)
    assert caught.value.request_id == "req_42" and len(server.requests) == 4


def test_429_beyond_the_wait_budget_is_rate_limited(serve) -> None:
    server = serve(*[Response(429, None, {"retry-after": "30"})] * 3)
    sleeps: list[float] = []
    with pytest.raises(RateLimited):
        call(server.url, sleeps, max_total_wait=45)
    assert sleeps == [30.0]  # a second 30 s wait would pass the 45 s budget


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_stop_at_once(serve, status: int) -> None:
    server = serve(Response(status, {"error": {"type": "authentication_error", "message": "invalid x-api-key"}}))
    with pytest.raises(AuthError, match="org 'acme'"):
        call(server.url, [])
    assert len(server.requests) == 1


def test_other_4xx_are_not_retried(serve) -> None:
    server = serve(Response(400, {"error": {"message": "starting_at must be YYYY-MM-DD"}}))
    with pytest.raises(ProviderError, match="starting_at must be"):
        call(server.url, [])
    assert len(server.requests) == 1


def test_connection_errors_are_retried_then_reported() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps: list[float] = []
    with pytest.raises(ProviderError, match="ConnectError"):
        call(f"http://127.0.0.1:{port}", sleeps)
    assert len(sleeps) == 3


def test_retry_after_as_an_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    response = httpx.Response(429, headers={"retry-after": format_datetime(when, usegmt=True)})
    seconds = retry_after_seconds(response)
    assert seconds is not None and 100 < seconds <= 120
    assert retry_after_seconds(httpx.Response(429, headers={"retry-after": "soon"})) is None
    assert retry_after_seconds(httpx.Response(429)) is None
