"""A fake Anthropic Admin API with the documented payloads, paging, errors and request ids.

Organisations are keyed by admin key. Faults are queued with :meth:`FakeAnthropic.fail` and consumed
in order by matching requests, so a test can script "429 once, then fine" or "500 on page 2 forever".
"""

from __future__ import annotations

import base64
import itertools
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tests.fakes.http_server import FakeServer, Request, Response

_ids = itertools.count(1)


@dataclass
class FakeOrg:
    id: str
    name: str
    usage: dict[str, Any] = field(default_factory=dict)  # "YYYY-MM-DD" -> records (a list, unless a test breaks it)
    users: list[dict[str, Any]] = field(default_factory=list)
    api_keys: list[dict[str, Any]] = field(default_factory=list)

    def add_user(self, email: str) -> str:
        user_id = f"user_{next(_ids):04d}"
        self.users.append(
            {
                "id": user_id,
                "type": "user",
                "email": email,
                "name": email.split("@")[0],
                "role": "developer",
                "added_at": "2025-01-01T00:00:00Z",
            }
        )
        return user_id

    def add_api_key(self, name: str, creator_id: str | None, status: str = "active") -> None:
        self.api_keys.append(
            {
                "id": f"apikey_{next(_ids):04d}",
                "type": "api_key",
                "name": name,
                "status": status,
                "created_at": "2025-01-01T00:00:00Z",
                "partial_key_hint": "sk-ant-api03-abc...xyz",
                "created_by": {"id": creator_id, "type": "user"} if creator_id else None,
                "workspace_id": None,
            }
        )

    def add_usage(
        self,
        day: date,
        actor: dict[str, Any],
        models: list[tuple[str, int, int, int, int, int]],
        *,
        rfc3339: bool = False,
        customer_type: str = "api",
        terminal: str = "vscode",
        sessions: int = 1,
        lines: tuple[int, int] = (10, 2),
        tool_actions: dict[str, dict[str, int]] | None = None,
    ) -> None:
        """models: (model, input, output, cache_read, cache_creation, cost_cents)."""
        self.usage.setdefault(day.isoformat(), []).append(
            {
                "date": f"{day.isoformat()}T00:00:00Z" if rfc3339 else day.isoformat(),
                "actor": actor,
                "organization_id": self.id,
                "customer_type": customer_type,
                "subscription_type": None,
                "terminal_type": terminal,
                "core_metrics": {
                    "num_sessions": sessions,
                    "lines_of_code": {"added": lines[0], "removed": lines[1]},
                    "commits_by_claude_code": 1,
                    "pull_requests_by_claude_code": 0,
                },
                "tool_actions": tool_actions
                if tool_actions is not None
                else {"edit_tool": {"accepted": 3, "rejected": 1}, "write_tool": {"accepted": 1, "rejected": 0}},
                "model_breakdown": [
                    {
                        "model": m,
                        "tokens": {"input": i, "output": o, "cache_read": cr, "cache_creation": cc},
                        "estimated_cost": {"currency": "USD", "amount": cents},
                    }
                    for m, i, o, cr, cc, cents in models
                ],
                "some_future_field": {"ignored": True},
            }
        )


@dataclass
class Fault:
    path: str
    status: int
    times: int | None  # None: forever
    page: int | None = None  # only on this page number (1-based) of a paged report
    day: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def user(email: str) -> dict[str, Any]:
    return {"type": "user_actor", "email_address": email}


def api_key(name: str) -> dict[str, Any]:
    return {"type": "api_actor", "api_key_name": name}


class FakeAnthropic:
    def __init__(self) -> None:
        self.orgs: dict[str, FakeOrg] = {}
        self.faults: list[Fault] = []
        self._request_ids = itertools.count(1)
        self.server = FakeServer(self._handle)
        self.url = self.server.url

    def add_org(self, key: str, org_id: str, name: str) -> FakeOrg:
        org = FakeOrg(org_id, name)
        self.orgs[key] = org
        return org

    def fail(
        self,
        path: str,
        status: int,
        *,
        times: int | None = 1,
        page: int | None = None,
        day: date | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.faults.append(Fault(path, status, times, page, day.isoformat() if day else None, headers or {}))

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def close(self) -> None:
        self.server.close()

    def _error(self, status: int, kind: str, message: str, rid: str, headers: dict[str, str] | None = None) -> Response:
        body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": rid}
        return Response(status, body, {"request-id": rid, **(headers or {})})

    def _handle(self, request: Request) -> Response:
        rid = f"req_{next(self._request_ids):06d}"
        org = self.orgs.get(request.headers.get("x-api-key", ""))
        if org is None:
            return self._error(401, "authentication_error", "invalid x-api-key", rid)
        if request.headers.get("anthropic-version") != "2023-06-01":
            return self._error(400, "invalid_request_error", "anthropic-version header required", rid)
        page_number = (
            int(_decode(request.query["page"])) // max(1, int(request.query.get("limit", 20))) + 1
            if "page" in request.query
            else 1
        )
        for fault in self.faults:
            if (
                fault.path in request.path
                and (fault.page is None or fault.page == page_number)
                and (fault.day is None or fault.day == request.query.get("starting_at"))
            ):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                kinds = {429: "rate_limit_error", 500: "api_error", 529: "overloaded_error", 403: "permission_error"}
                return self._error(fault.status, kinds.get(fault.status, "api_error"), "injected", rid, fault.headers)
        headers = {"request-id": rid}
        if request.path == "/v1/organizations/me":
            return Response(200, {"id": org.id, "name": org.name, "type": "organization"}, headers)
        if request.path == "/v1/organizations/usage_report/claude_code":
            day = request.query.get("starting_at", "")
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                return self._error(400, "invalid_request_error", "starting_at must be YYYY-MM-DD", rid)
            limit = int(request.query.get("limit", 20))
            if not 1 <= limit <= 1000:
                return self._error(400, "invalid_request_error", "limit must be 1..1000", rid)
            offset = int(_decode(request.query["page"])) if "page" in request.query else 0
            records = org.usage.get(day, [])
            if not isinstance(records, list):  # a test's malformed day: served as it is, in place of the list
                return Response(200, {"data": records, "has_more": False, "next_page": None}, headers)
            chunk = records[offset : offset + limit]
            more = offset + limit < len(records)
            return Response(
                200,
                {"data": chunk, "has_more": more, "next_page": _encode(str(offset + limit)) if more else None},
                headers,
            )
        if request.path in ("/v1/organizations/users", "/v1/organizations/api_keys"):
            items = (
                org.users
                if request.path.endswith("users")
                else [k for k in org.api_keys if k["status"] == request.query.get("status", k["status"])]
            )
            limit = int(request.query.get("limit", 20))
            start = 0
            if "after_id" in request.query:
                start = next(i for i, item in enumerate(items) if item["id"] == request.query["after_id"]) + 1
            chunk = items[start : start + limit]
            return Response(
                200,
                {
                    "data": chunk,
                    "has_more": start + limit < len(items),
                    "first_id": chunk[0]["id"] if chunk else None,
                    "last_id": chunk[-1]["id"] if chunk else None,
                },
                headers,
            )
        return self._error(404, "not_found_error", f"no route {request.path}", rid)


def _encode(text: str) -> str:
    return "page_" + base64.urlsafe_b64encode(text.encode()).decode()


def _decode(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor.removeprefix("page_").encode()).decode()
