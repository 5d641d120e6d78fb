"""A fake Cursor Admin API: a real HTTP server on 127.0.0.1, shaped after the documented contract.

It checks HTTP Basic auth (key as user name, empty password), pages events with
``pagination.hasNextPage``, enforces the per-team rate limit on an injectable clock (so a test's fake
clock drives both the client's pacer and the server's limit), can be told to fail the next requests
(429 with or without ``Retry-After``, 500), and can hide events until they "arrive" late.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

THIRTY_DAYS_MS = 30 * 86_400_000
RATE_LIMIT_BODY = {"error": "Too Many Requests", "message": "Rate limit exceeded. Please try again later."}


def api_event(
    ts_ms: int,
    email: str,
    model: str = "claude-4.5-sonnet",
    tokens: tuple[int, int, int, int] | None = (100, 10, 1000, 50),
    *,
    total_cents: float | None = 1.5,
    charged_cents: float | None = None,
    kind: str = "Usage-based",
    max_mode: bool = False,
) -> dict[str, Any]:
    """One event as the API sends it; ``tokens`` = (input, cache write, cache read, output) or None for a
    request-based call, which has no ``tokenUsage`` at all."""
    event: dict[str, Any] = {
        "timestamp": str(ts_ms),
        "userEmail": email,
        "model": model,
        "kind": kind,
        "maxMode": max_mode,
        "requestsCosts": 1,
        "isTokenBasedCall": tokens is not None,
        "isFreeBugbot": False,
    }
    if tokens is not None:
        usage: dict[str, Any] = {
            "inputTokens": tokens[0],
            "cacheWriteTokens": tokens[1],
            "cacheReadTokens": tokens[2],
            "outputTokens": tokens[3],
        }
        if total_cents is not None:
            usage["totalCents"] = total_cents
        event["tokenUsage"] = usage
    if charged_cents is not None:
        event["chargedCents"] = charged_cents
    return event


@dataclass
class FakeTeam:
    key: str
    events: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    bare_members: bool = False  # the first published shape: a bare array
    hidden: list[dict[str, Any]] = field(default_factory=list)  # not visible yet (late arrival)
    request_times: deque[float] = field(default_factory=deque)
    windows: dict[tuple[int, int, int], list[dict[str, Any]]] = field(default_factory=dict)

    def reveal(self) -> None:
        self.events.extend(self.hidden)
        self.hidden.clear()


@dataclass
class Scripted:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeCursorServer:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, limit_per_minute: int | None = 20) -> None:
        self.clock = clock
        self.limit_per_minute = limit_per_minute
        self.teams: dict[str, FakeTeam] = {}
        self.script: deque[Scripted] = deque()
        self.requests: list[tuple[str, str, Any]] = []  # (path, team key, body)
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_team(self, key: str, **kwargs: Any) -> FakeTeam:
        team = FakeTeam(key=key, **kwargs)
        self.teams[key] = team
        return team

    def fail_next(self, status: int, *, retry_after: str | None = None, body: Any = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        default = RATE_LIMIT_BODY if status == 429 else {"error": "Internal Server Error", "message": "boom"}
        self.script.append(Scripted(status, body if body is not None else default, headers))

    def event_requests(self, key: str | None = None) -> list[Any]:
        return [b for p, k, b in self.requests if p == "/teams/filtered-usage-events" and (key is None or k == key)]

    def start(self) -> FakeCursorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- request handling -------------------------------------------------------------------------

    def handle(self, method: str, path: str, auth: str | None, body: Any) -> tuple[int, Any, dict[str, str]]:
        team = self._authenticate(auth)
        with self.lock:
            self.requests.append((path, team.key if team else "", body))
            if team is None:
                return 401, {"error": "Unauthorized", "message": "Invalid API key"}, {}
            if self.script:
                scripted = self.script.popleft()
                return scripted.status, scripted.body, scripted.headers
            if self.limit_per_minute is not None:
                now = self.clock()
                while team.request_times and team.request_times[0] <= now - 60:
                    team.request_times.popleft()
                if len(team.request_times) >= self.limit_per_minute:
                    return 429, RATE_LIMIT_BODY, {}
                team.request_times.append(now)
            if method == "GET" and path == "/teams/members":
                members = list(team.members)
                return 200, (members if team.bare_members else {"teamMembers": members}), {}
            if method == "POST" and path == "/teams/filtered-usage-events":
                return self._events(team, body or {})
            return 404, {"error": "Not Found", "message": f"no route {method} {path}"}, {}

    def _authenticate(self, header: str | None) -> FakeTeam | None:
        if not header or not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        if password != "":
            return None
        return self.teams.get(user)

    def _events(self, team: FakeTeam, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        start, end = int(body.get("startDate", 0)), int(body.get("endDate", 2**62))
        if end - start > THIRTY_DAYS_MS:
            return 400, {"error": "Bad Request", "message": "Date range cannot exceed 30 days"}, {}
        page, size = int(body.get("page", 1)), int(body.get("pageSize", 10))
        # Inclusive at both ends (the real semantics are undocumented), newest first like the dashboard.
        # Each page of a window re-asks for the same window: filter and sort once per window (events are only
        # ever appended, so their count tells whether a cached window is still whole).
        window = (start, end, len(team.events))
        matching = team.windows.get(window)
        if matching is None:
            matching = [e for e in team.events if start <= int(e["timestamp"]) <= end]
            matching.sort(key=lambda e: -int(e["timestamp"]))
            team.windows = {window: matching}
        pages = max(1, -(-len(matching) // size))
        chunk = matching[(page - 1) * size : page * size]
        return (
            200,
            {
                "totalUsageEventsCount": len(matching),
                "pagination": {
                    "numPages": pages,
                    "currentPage": page,
                    "pageSize": size,
                    "hasNextPage": page < pages,
                    "hasPreviousPage": page > 1,
                },
                "usageEvents": chunk,
                "period": {"startDate": start, "endDate": end},
            },
            {},
        )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                status, payload, headers = server.handle(method, self.path, self.headers.get("Authorization"), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, *_args: Any) -> None:
                return None

        return Handler


class FakeClock:
    """Monotonic seconds that only move when someone sleeps: retries and pacing cost no real time."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)


@contextmanager
def running(server: FakeCursorServer) -> Iterator[FakeCursorServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()
