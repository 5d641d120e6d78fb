"""A fake OpenAI organisation Admin API: completions usage, costs and users, from the documented contract.

What it reproduces, because a client that only agrees with a lenient fake proves nothing:

- keys: an Admin key (``sk-admin-``) of a known organisation is accepted; a project key (``sk-proj-``) gets
  403 with the ``api.usage.read`` scope message; anything else 401. Errors use OpenAI's envelope
  ``{"error": {"message", "type", "param", "code"}}`` and carry an ``x-request-id`` header;
- usage: ``start_time`` required (Unix seconds), ``end_time`` exclusive, ``bucket_width`` ``1m``/``1h``/``1d``
  with each width's ``limit`` cap (1d: default 7, max 31), ``group_by`` repeated and checked against the
  documented dimensions, dimensions that are not grouped come back null, every day of the range present as a
  bucket (empty ones with ``results: []``), ``page`` / ``next_page`` / ``has_more`` paging by buckets, and
  results in the older shape (no ``input_cache_write_tokens`` / ``input_uncached_tokens``) when asked;
- costs: ``1d`` only, ``limit`` 1-180, ``group_by`` only ``project_id``/``line_item``/``api_key_id`` (400 for
  ``user_id``), ``amount.value`` in dollars as a JSON number;
- users: ``limit`` 1-100, ``after`` paging with ``first_id`` / ``last_id`` / ``has_more``; ids in both the
  ``user-`` and ``user_`` forms;
- page cursors bound to their query: a cursor sent with any other parameter changed is a 400;
- faults (:meth:`FakeOpenAI.fail`), consumed in order by matching requests: 429 with or without
  ``Retry-After``, 5xx, or a garbage body for one day.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from tests.fakes.http_server import FakeServer, Request, Response

USAGE = "/v1/organization/usage/completions"
COSTS = "/v1/organization/costs"
USERS = "/v1/organization/users"
USAGE_GROUPS = {"project_id", "user_id", "api_key_id", "model", "batch", "service_tier"}
COST_GROUPS = {"project_id", "line_item", "api_key_id"}
LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}
WIDTH_SECONDS = {"1d": 86_400, "1h": 3_600, "1m": 60}
DIMENSIONS = ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier")

_request_ids = itertools.count(1)


def unix(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())


@dataclass
class UsageEntry:
    day: date
    user_id: str | None
    api_key_id: str | None
    model: str
    input_tokens: int
    cached: int = 0
    cache_write: int = 0
    output: int = 0
    requests: int = 1
    project_id: str | None = "proj_default"


@dataclass
class Fault:
    path: str
    status: int
    retry_after: str | None = None
    body: Any = None


@dataclass
class OpenAIOrg:
    admin_key: str
    users: list[dict[str, Any]] = field(default_factory=list)
    usage: list[UsageEntry] = field(default_factory=list)
    costs: dict[date, list[tuple[str, float]]] = field(default_factory=dict)  # day -> (line item, dollars)
    old_shape: bool = False  # results without input_cache_write_tokens / input_uncached_tokens
    garbage: dict[date, dict[str, Any]] = field(default_factory=dict)  # day -> a result served as it is
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_user(self, email: str, *, underscore: bool = False, listed: bool = True) -> str:
        number = next(self._ids)
        user_id = f"user_{number:04d}AbC" if underscore else f"user-{number:04d}AbC"
        if listed:
            self.users.append(
                {
                    "object": "organization.user",
                    "id": user_id,
                    "name": email.split("@")[0],
                    "email": email,
                    "role": "reader",
                    "added_at": 1711471533,
                }
            )
        return user_id

    def add_usage(
        self,
        day: date,
        model: str,
        *,
        user: str | None = None,
        key: str | None = None,
        tokens: tuple[int, int, int, int] = (0, 0, 0, 0),
        requests: int = 1,
    ) -> None:
        """``tokens``: (all input including cached and cache-write, cached, cache write, output)."""
        total, cached, written, output = tokens
        self.usage.append(UsageEntry(day, user, key, model, total, cached, written, output, requests))

    def add_cost(self, day: date, line_item: str, dollars: float) -> None:
        self.costs.setdefault(day, []).append((line_item, dollars))


def _error(status: int, message: str, kind: str = "invalid_request_error") -> Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return Response(status, body, {"x-request-id": f"req_{next(_request_ids)}"})


def _signature(path: str, params: list[tuple[str, str]]) -> str:
    kept = sorted((k, v) for k, v in params if k != "page")
    return hashlib.sha256(json.dumps([path, kept]).encode()).hexdigest()[:16]


def _cursor(signature: str, offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(f"{signature}:{offset}".encode()).decode()


def _offset(cursor: str, signature: str) -> int | None:
    try:
        sig, _, offset = base64.urlsafe_b64decode(cursor.removeprefix("page_").encode()).decode().partition(":")
        return int(offset) if sig == signature else None
    except (ValueError, UnicodeDecodeError):
        return None


class FakeOpenAI:
    def __init__(self) -> None:
        self.orgs: dict[str, OpenAIOrg] = {}
        self.faults: list[Fault] = []
        self._old_shape = False
        self.server = FakeServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def close(self) -> None:
        self.server.close()

    def add_org(self, admin_key: str, *, old_shape: bool = False) -> OpenAIOrg:
        org = self.orgs[admin_key] = OpenAIOrg(admin_key, old_shape=old_shape)
        return org

    def fail(self, path: str, status: int, *, retry_after: str | None = None, body: Any = None) -> None:
        self.faults.append(Fault(path, status, retry_after, body))

    def _handle(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        key = auth.removeprefix("Bearer ").strip()
        if key.startswith("sk-proj-"):
            return _error(
                403,
                "You have insufficient permissions for this operation. Missing scopes: api.usage.read.",
                "invalid_request_error",
            )
        org = self.orgs.get(key) if key.startswith("sk-admin-") else None
        if org is None:
            return _error(401, "Incorrect API key provided.", "invalid_request_error")
        for fault in self.faults:
            if fault.path == request.path:
                self.faults.remove(fault)
                headers = {"retry-after": fault.retry_after} if fault.retry_after is not None else {}
                body = fault.body or {"error": {"message": "Rate limit reached", "type": "rate_limit_error"}}
                return Response(fault.status, body, {**headers, "x-request-id": f"req_{next(_request_ids)}"})
        if request.path == USAGE:
            return self._usage(org, request)
        if request.path == COSTS:
            return self._costs(org, request)
        if request.path == USERS:
            return self._users(org, request)
        return _error(404, f"Invalid URL (GET {request.path})")

    def _range(self, request: Request, widths: dict[str, tuple[int, int]], default_width: str) -> Any:
        params = request.params
        one = dict(params)
        if "start_time" not in one:
            return _error(400, "Missing required parameter: 'start_time'.")
        try:
            start = int(one["start_time"])
            end = int(one["end_time"]) if "end_time" in one else None
        except ValueError:
            return _error(400, "start_time and end_time must be integers (Unix seconds).")
        width = one.get("bucket_width", default_width)
        if width not in widths:
            return _error(400, f"Invalid bucket_width {width!r}.")
        default, cap = widths[width]
        try:
            limit = int(one.get("limit", default))
        except ValueError:
            return _error(400, "limit must be an integer.")
        if not 1 <= limit <= cap:
            return _error(400, f"limit must be between 1 and {cap} for bucket_width {width}.")
        return start, end, width, limit

    def _page(self, request: Request, buckets: list[dict[str, Any]], limit: int) -> Response:
        signature = _signature(request.path, request.params)
        cursor = dict(request.params).get("page")
        offset = 0
        if cursor:
            found = _offset(cursor, signature)
            if found is None:
                return _error(400, "Invalid page cursor for this query.")
            offset = found
        chunk = buckets[offset : offset + limit]
        more = offset + limit < len(buckets)
        body = {
            "object": "page",
            "data": chunk,
            "has_more": more,
            "next_page": _cursor(signature, offset + limit) if more else None,
        }
        return Response(200, body)

    def _usage(self, org: OpenAIOrg, request: Request) -> Response:
        parsed = self._range(request, LIMITS, "1d")
        if isinstance(parsed, Response):
            return parsed
        start, end, width, limit = parsed
        if width != "1d":
            return _error(400, "This fake serves daily buckets only.")
        groups = [v for k, v in request.params if k == "group_by"]
        if any(g not in USAGE_GROUPS for g in groups):
            return _error(400, f"Invalid group_by value(s): {sorted(set(groups) - USAGE_GROUPS)}.")
        end = end if end is not None else start + 7 * 86_400
        by_day: dict[date, list[UsageEntry]] = defaultdict(list)
        for entry in org.usage:
            by_day[entry.day].append(entry)
        buckets = []
        for bucket_start in range(start, end, WIDTH_SECONDS[width]):
            day = datetime.fromtimestamp(bucket_start, UTC).date()
            self._old_shape = org.old_shape
            results = self._results(by_day[day], groups)
            if day in org.garbage:
                results.append(org.garbage[day])
            buckets.append(
                {"object": "bucket", "start_time": bucket_start, "end_time": bucket_start + 86_400, "results": results}
            )
        return self._page(request, buckets, limit)

    def _results(self, entries: list[UsageEntry], groups: list[str]) -> list[dict[str, Any]]:
        sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        old_shape = self._old_shape
        for entry in entries:
            key = tuple(getattr(entry, g) if g in groups and hasattr(entry, g) else None for g in DIMENSIONS)
            s = sums[key]
            s[0] += entry.input_tokens
            s[1] += entry.cached
            s[2] += entry.cache_write
            s[3] += entry.output
            s[4] += entry.requests
        results = []
        for key, (total, cached, written, output, requests) in sums.items():
            result: dict[str, Any] = {"object": "organization.usage.completions.result"}
            result.update(dict(zip(DIMENSIONS, key, strict=True)))
            result.update(
                input_tokens=total,
                input_cached_tokens=cached,
                output_tokens=output,
                input_audio_tokens=0,
                output_audio_tokens=0,
                num_model_requests=requests,
            )
            if not old_shape:
                result.update(input_cache_write_tokens=written, input_uncached_tokens=total - cached - written)
            results.append(result)
        return results

    def _costs(self, org: OpenAIOrg, request: Request) -> Response:
        parsed = self._range(request, {"1d": (7, 180)}, "1d")
        if isinstance(parsed, Response):
            return parsed
        start, end, _width, limit = parsed
        groups = [v for k, v in request.params if k == "group_by"]
        if any(g not in COST_GROUPS for g in groups):
            return _error(400, f"Invalid group_by value(s) for costs: {sorted(set(groups) - COST_GROUPS)}.")
        end = end if end is not None else start + 7 * 86_400
        buckets = []
        for bucket_start in range(start, end, 86_400):
            day = datetime.fromtimestamp(bucket_start, UTC).date()
            lines = org.costs.get(day, [])
            if "line_item" in groups:
                results = [self._cost(value, item) for item, value in lines]
            else:
                results = [self._cost(sum(v for _i, v in lines), None)] if lines else []
            buckets.append(
                {"object": "bucket", "start_time": bucket_start, "end_time": bucket_start + 86_400, "results": results}
            )
        return self._page(request, buckets, limit)

    @staticmethod
    def _cost(value: float, line_item: str | None) -> dict[str, Any]:
        return {
            "object": "organization.costs.result",
            "amount": {"value": value, "currency": "usd"},
            "line_item": line_item,
            "project_id": None,
            "api_key_id": None,
        }

    def _users(self, org: OpenAIOrg, request: Request) -> Response:
        one = dict(request.params)
        try:
            limit = int(one.get("limit", 20))
        except ValueError:
            return _error(400, "limit must be an integer.")
        if not 1 <= limit <= 100:
            return _error(400, "limit must be between 1 and 100.")
        users = org.users
        after = one.get("after")
        if after:
            ids = [u["id"] for u in users]
            if after not in ids:
                return _error(400, f"No user {after!r} to list after.")
            users = users[ids.index(after) + 1 :]
        chunk = users[:limit]
        return Response(
            200,
            {
                "object": "list",
                "data": chunk,
                "first_id": chunk[0]["id"] if chunk else None,
                "last_id": chunk[-1]["id"] if chunk else None,
                "has_more": len(users) > limit,
            },
        )
