"""A fake GitHub REST API for Copilot: the usage metrics reports, their expiring download links, and seats.

What it reproduces, because a client that only agrees with a lenient fake proves nothing:

- auth: ``Authorization: Bearer <token>`` of the configured token, else 401 ``Bad credentials``; a scope whose
  "Copilot usage metrics" policy is disabled answers 403 with GitHub's error body;
- ``.../copilot/metrics/reports/users-1-day?day=``: ``day`` required (422 without), ``{download_links,
  report_day}`` with two links per report pointing back at this server, **204** for a day without data;
- download links are signed-looking URLs that expire (403 with a storage-style body once past their lifetime,
  or at once for reports issued after :meth:`expire_next_reports`), serve NDJSON, or a JSON array for days
  set with ``as_array``, and refuse a request that carries the GitHub token (it must not leave GitHub);
- ``.../copilot/billing/seats``: ``per_page`` (max 100) / ``page`` with a ``Link`` header (``next``, ``last``)
  and ``total_seats``;
- rate limits: every answer has ``x-ratelimit-*`` headers; :meth:`limit` queues 429 or 403 secondary-limit
  answers with or without ``retry-after`` (then with ``x-ratelimit-remaining: 0`` and a reset time);
- settling: :meth:`set_day` replaces a day's records between two syncs, as GitHub does for three days.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from tests.fakes.http_server import FakeServer, Request, Response

REPORT = "/copilot/metrics/reports/users-1-day"
SEATS = "/copilot/billing/seats"
PARTS = 2
_ids = itertools.count(1)


def record(
    day: date,
    login: str,
    user_id: int,
    *,
    credits: Any = None,
    interactions: int = 0,
    generations: int = 0,
    acceptances: int = 0,
    added: int = 0,
    deleted: int = 0,
    cli: tuple[int, int] | None = None,
    models: dict[str, int] | None = None,
) -> dict[str, Any]:
    """One user's day in the documented record shape (breakdowns empty unless asked for)."""
    row: dict[str, Any] = {
        "day": day.isoformat(),
        "enterprise_id": "1234",
        "organization_id": "5678",
        "user_id": user_id,
        "user_login": login,
        "user_initiated_interaction_count": interactions,
        "code_generation_activity_count": generations,
        "code_acceptance_activity_count": acceptances,
        "loc_suggested_to_add_sum": 0,
        "loc_suggested_to_delete_sum": 0,
        "loc_added_sum": added,
        "loc_deleted_sum": deleted,
        "used_chat": interactions > 0,
        "used_agent": False,
        "used_cli": cli is not None,
        "totals_by_ide": [],
        "totals_by_feature": [],
        "totals_by_language_feature": [],
        "totals_by_language_model": [],
        "totals_by_model_feature": [
            {"model": name, "feature": "chat_panel_agent_mode", "user_initiated_interaction_count": n}
            for name, n in (models or {}).items()
        ],
        "etl_id": "green",
        "day_partition": day.isoformat(),
    }
    if credits is not None:
        row["ai_credits_used"] = credits
    if cli is not None:
        row["totals_by_cli"] = {
            "session_count": 1,
            "request_count": 3,
            "prompt_count": 2,
            "token_usage": {"prompt_tokens_sum": cli[0], "output_tokens_sum": cli[1], "avg_tokens_per_request": 1.5},
        }
    return row


@dataclass
class Scope:
    """One organisation or enterprise: its days of records, its seats and its policy."""

    days: dict[date, list[dict[str, Any]]] = field(default_factory=dict)
    as_array: set[date] = field(default_factory=set)
    seats: list[dict[str, Any]] = field(default_factory=list)
    policy_enabled: bool = True
    seats_readable: bool = True

    def add(self, row: dict[str, Any]) -> None:
        self.days.setdefault(date.fromisoformat(row["day"]), []).append(row)

    def set_day(self, day: date, rows: list[dict[str, Any]]) -> None:
        self.days[day] = list(rows)

    def add_seat(self, login: str, user_id: int, email: str | None = None) -> None:
        self.seats.append(
            {
                "created_at": "2026-01-05T10:00:00Z",
                "pending_cancellation_date": None,
                "last_activity_at": None,
                "plan_type": "business",
                "assignee": {"login": login, "id": user_id, "type": "User", "email": email},
                "assigning_team": None,
            }
        )


class FakeGitHub:
    def __init__(self, token: str, *, link_lifetime: float = 300.0) -> None:
        self.token = token
        self.link_lifetime = link_lifetime
        self.scopes: dict[str, Scope] = {}  # "/orgs/acme" or "/enterprises/acme-corp" -> Scope
        self.limits: list[Response] = []  # queued rate-limit answers, served before the next API request
        self.expire_reports = 0  # reports issued from now on whose links are already expired
        self.downloads_with_token = 0
        self._links: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()
        self.server = FakeServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def close(self) -> None:
        self.server.close()

    def org(self, name: str) -> Scope:
        return self.scopes.setdefault(f"/orgs/{name}", Scope())

    def enterprise(self, slug: str) -> Scope:
        return self.scopes.setdefault(f"/enterprises/{slug}", Scope())

    def limit(self, status: int = 429, *, retry_after: int | None = None, reset_in: int = 2) -> None:
        """Queue one rate-limit answer: with ``retry-after``, or with only the reset time (remaining 0)."""
        headers = {"x-ratelimit-limit": "5000", "x-ratelimit-used": "5000", "x-ratelimit-resource": "core"}
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        else:
            headers |= {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + reset_in)}
        body = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
            "status": str(status),
        }
        self.limits.append(Response(status, body, headers))

    def expire_next_reports(self, count: int) -> None:
        self.expire_reports = count

    def report_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith(REPORT)]

    def downloads(self) -> list[Request]:
        return [r for r in self.requests if r.path.startswith("/downloads/")]

    # -- serving -------------------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        if request.path.startswith("/downloads/"):
            return self._download(request)
        headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999", "x-github-request-id": "F00D:1"}
        with self._lock:
            if self.limits:
                return self.limits.pop(0)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(401, _error("Bad credentials", 401), headers)
        for prefix, scope in self.scopes.items():
            if request.path == prefix + REPORT:
                return self._report(request, prefix, scope, headers)
            if request.path == prefix + SEATS:
                return self._seats(request, prefix, scope, headers)
        return Response(404, _error("Not Found", 404), headers)

    def _report(self, request: Request, prefix: str, scope: Scope, headers: dict[str, str]) -> Response:
        if not scope.policy_enabled:
            return Response(403, _error("Copilot Usage Metrics API access is disabled for this organization.", 403))
        raw_day = request.query.get("day")
        try:
            day = date.fromisoformat(raw_day or "")
        except ValueError:
            return Response(422, _error("Invalid request. day is required (YYYY-MM-DD).", 422), headers)
        rows = scope.days.get(day)
        if not rows:
            return Response(204, None, headers)
        parts = [rows[i::PARTS] for i in range(PARTS)]
        with self._lock:
            expired = self.expire_reports > 0
            self.expire_reports = max(0, self.expire_reports - 1)
        deadline = time.monotonic() + (-1.0 if expired else self.link_lifetime)
        links = []
        for number, part in enumerate(parts, start=1):
            if day in scope.as_array:
                content = json.dumps(part, indent=1, default=_number).encode()
            else:
                content = b"".join(json.dumps(row, default=_number).encode() + b"\n" for row in part)
            link_id = f"{next(_ids)}"
            self._links[link_id] = (deadline, content)
            links.append(f"{self.url}/downloads/{link_id}/users-{day}-part{number}.ndjson?sv=2025-01-05&se=x&sig=abc")
        return Response(200, {"download_links": links, "report_day": day.isoformat()}, headers)

    def _download(self, request: Request) -> Response:
        if "authorization" in request.headers:
            self.downloads_with_token += 1
            return Response(
                400, b"<Error><Code>InvalidAuthenticationInfo</Code></Error>", {"content-type": "application/xml"}
            )
        link_id = request.path.split("/")[2]
        deadline, content = self._links.get(link_id, (0.0, b""))
        if time.monotonic() > deadline:
            body = b"<Error><Code>AuthenticationFailed</Code><Message>Signed expiry time has passed</Message></Error>"
            return Response(403, body, {"content-type": "application/xml"})
        return Response(200, content, {"content-type": "application/x-ndjson"})

    def _seats(self, request: Request, prefix: str, scope: Scope, headers: dict[str, str]) -> Response:
        if not scope.seats_readable:
            return Response(403, _error("Resource not accessible by personal access token", 403), headers)
        per_page = min(100, int(request.query.get("per_page", "50")))
        page = int(request.query.get("page", "1"))
        seats = scope.seats[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(scope.seats) // per_page))
        links = []
        if page < last:
            links.append(f'<{self.url}{prefix}{SEATS}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{self.url}{prefix}{SEATS}?per_page={per_page}&page={last}>; rel="last"')
        extra = {"link": ", ".join(links)} if links else {}
        return Response(200, {"total_seats": len(scope.seats), "seats": seats}, headers | extra)


def _number(value: Any) -> float:
    # Decimal credits as the JSON numbers GitHub writes (the tests use values a float holds exactly).
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _error(message: str, status: int) -> dict[str, str]:
    return {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status)}
