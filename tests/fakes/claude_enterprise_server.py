"""A fake Claude Enterprise Analytics API: the documented payloads, rules, errors and rate limit.

What it reproduces, because a client that only agrees with a lenient fake proves nothing:

- keys: a claude.ai Admin API key (``sk-ant-api01-``) is accepted; a Console admin key (``sk-ant-admin01-``)
  gets 403 ``permission_error`` "Missing required scopes"; an unknown key 401. Every error uses the
  Anthropic envelope and carries a ``request-id`` header;
- ``/users``: ``date`` required, 400 before 2026-01-01 and after the organisation's latest available day
  (the message names that day), ``limit`` 1-1000, rows sorted by email with every product block present,
  ``next_page`` only (no ``has_more``), no date in the rows;
- ``user_usage_report`` / ``user_cost_report``: bracketed repeated parameters (``group_by[]``), ``bucket_width``
  requiring ``ending_at``, the 31-day cap, ``has_more`` + ``next_page`` + ``data_refreshed_at`` +
  ``organization_id``, nested ``cache_creation``, ``amount`` as a fractional-cents string, deleted users
  (``email`` null, "Deleted User"), ``product: "other"`` rows and rows with a null product (code execution),
  dimensions that are not grouped come back null;
- page cursors bound to their query: a cursor sent with any other parameter changed is a 400;
- 429 ``rate_limit_error`` (with ``retry-after``) past 60 requests in a minute, counted per organisation across
  all of its keys, on an injectable clock so tests never really wait;
- revisions: :meth:`EnterpriseOrg.revise` changes a day's figures between two syncs, as the API does for up
  to 30 days.

Faults (:meth:`FakeEnterprise.fail`) are consumed in order by matching requests.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.http_server import FakeServer, Handler, Request, Response

EARLIEST = date(2026, 1, 1)
RATE_LIMIT = 60
USERS = "/v1/organizations/analytics/users"
USAGE = "/v1/organizations/analytics/user_usage_report"
COST = "/v1/organizations/analytics/user_cost_report"
USAGE_GROUPS = {"product", "model", "context_window", "inference_geo", "rbac_group_id", "speed"}
COST_GROUPS = USAGE_GROUPS | {
    "cost_type",
    "token_type",
    "claude_tag_category",
    "claude_tag_user_id",
    "slack_channel_id",
}
PRODUCTS = {"chat", "claude_code", "cowork", "office_agent", "claude_in_chrome", "claude_design", "claude-in-slack"}
TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")

_ids = itertools.count(1)


class FakeClock:
    """Seconds that only move when someone sleeps: share it between the fake and the client under test."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@dataclass
class Seat:
    user_id: str
    email: str | None
    name: str
    deleted: bool = False


@dataclass
class UsageEntry:
    """One user's use of one model in one product on one day: tokens and cost (cents, a decimal string)."""

    user_id: str
    day: date
    model: str
    # None: a span the API cannot place in a product (code execution); it comes back with a null product
    # even when grouped by product, and (a guess at the unstated behaviour) a product filter cannot drop it.
    product: str | None = "claude_code"
    uncached_input: int = 0
    cache_5m: int = 0
    cache_1h: int = 0
    cache_read: int = 0
    output: int = 0
    requests: int = 1
    amount: str = "0"
    has_usage: bool = True  # False: a cost without a usage row (it happens, e.g. web search only)


@dataclass
class Activity:
    sessions: int = 0
    added: int = 0
    removed: int = 0
    commits: int = 0
    pull_requests: int = 0
    tool_actions: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class EnterpriseOrg:
    id: str
    latest_available_day: date
    data_refreshed_at: datetime
    seats: dict[str, Seat] = field(default_factory=dict)
    entries: list[UsageEntry] = field(default_factory=list)
    activity: dict[tuple[str, date], Activity] = field(default_factory=dict)

    def add_user(self, email: str, name: str | None = None) -> str:
        user_id = f"user_01{next(_ids):06d}"
        self.seats[user_id] = Seat(user_id, email, name or email.split("@")[0].title())
        return user_id

    def delete_user(self, user_id: str) -> None:
        """As the API reports a deleted account: no email, the name "Deleted User", deleted true."""
        seat = self.seats[user_id]
        seat.email, seat.name, seat.deleted = None, "Deleted User", True

    def add_usage(
        self,
        user_id: str,
        day: date,
        model: str,
        *,
        product: str | None = "claude_code",
        tokens: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0),
        amount: str = "0",
        requests: int = 1,
        has_usage: bool = True,
    ) -> UsageEntry:
        """tokens: (uncached input, cache write 5m, cache write 1h, cache read, output); amount in cents."""
        entry = UsageEntry(user_id, day, model, product, *tokens, requests=requests, amount=amount, has_usage=has_usage)
        self.entries.append(entry)
        return entry

    def revise(
        self, user_id: str, day: date, model: str, *, product: str | None = "claude_code", **changes: Any
    ) -> None:
        """Restate a day's figures, as the API does for up to 30 days after the fact."""
        for entry in self.entries:
            if (entry.user_id, entry.day, entry.model, entry.product) == (user_id, day, model, product):
                for name, value in changes.items():
                    if not hasattr(entry, name):
                        raise AttributeError(name)
                    setattr(entry, name, value)
                return
        raise KeyError((user_id, day, model, product))

    def add_activity(self, user_id: str, day: date, activity: Activity) -> None:
        self.activity[(user_id, day)] = activity


@dataclass
class Fault:
    path: str
    status: int
    times: int | None  # None: forever
    page: int | None = None  # only on this page (1-based) of a query
    body: dict[str, Any] | None = None  # replace the answer's JSON (to serve malformed data)
    headers: dict[str, str] = field(default_factory=dict)


def _encode_cursor(signature: str, offset: int) -> str:
    raw = json.dumps({"q": signature, "o": offset}).encode()
    return "page_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int] | None:
    if not cursor.startswith("page_"):
        return None
    text = cursor[5:]
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return str(value["q"]), int(value["o"])
    except (ValueError, KeyError, TypeError):
        return None


def _rfc3339(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


class _BadRequest(Exception):
    pass


class FakeEnterprise:
    def __init__(self, clock: FakeClock | None = None, *, other_paths: Handler | None = None) -> None:
        """``other_paths`` serves whatever is not an analytics path (the Admin API at the same base URL)."""
        self.clock = clock or FakeClock()
        self.other_paths = other_paths
        self.orgs: dict[str, EnterpriseOrg] = {}  # by key
        self.faults: list[Fault] = []
        self.page_cap: int | None = None  # serve at most this many rows a page whatever the limit (servers may)
        self.rate_limited = 0  # 429s served
        # Every request as (path, parameters in order, repeated ones included).
        self.raw_requests: list[tuple[str, list[tuple[str, str]]]] = []
        # Applied to every report row before it is served, to serve malformed data: (path, row) -> None.
        self.mangle: Callable[[str, dict[str, Any]], None] | None = None
        self._calls: dict[str, list[float]] = {}  # org id -> times of accepted requests
        self._request_ids = itertools.count(1)
        self._raw_query = threading.local()
        self.server = FakeServer(self._handle)
        self._capture_raw_queries()
        self.url = self.server.url

    def _capture_raw_queries(self) -> None:
        # FakeServer hands handlers the last value of each parameter; bracketed list parameters repeat, so
        # the fake also keeps the raw query string of the request being served.
        raw, seen = self._raw_query, self.raw_requests
        server = self.server._server
        base = server.RequestHandlerClass

        class Capturing(base):  # type: ignore[misc,valid-type]
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                raw.value = parts.query
                seen.append((parts.path, parse_qsl(parts.query, keep_blank_values=True)))
                super()._serve()

            do_GET = do_POST = _serve

        server.RequestHandlerClass = Capturing

    def add_org(
        self,
        key: str,
        *,
        org_id: str = "5a1e0000-0000-4000-8000-00000000acme",
        latest_available_day: date,
        data_refreshed_at: datetime,
    ) -> EnterpriseOrg:
        org = EnterpriseOrg(org_id, latest_available_day, data_refreshed_at)
        self.orgs[key] = org
        return org

    def add_key(self, key: str, org: EnterpriseOrg) -> None:
        """Another key of the same organisation (the rate limit is the organisation's, not the key's)."""
        self.orgs[key] = org

    def fail(
        self,
        path: str,
        status: int,
        *,
        times: int | None = 1,
        page: int | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.faults.append(Fault(path, status, times, page, body, headers or {}))

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def close(self) -> None:
        self.server.close()

    # -- plumbing --------------------------------------------------------------------------------------

    def _error(self, status: int, kind: str, message: str, rid: str, headers: dict[str, str] | None = None) -> Response:
        body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": rid}
        return Response(status, body, {"request-id": rid, **(headers or {})})

    def _rate_limited(self, org: EnterpriseOrg) -> float | None:
        """Seconds until the organisation may call again, or None when this call is within the limit."""
        now = self.clock()
        calls = [t for t in self._calls.get(org.id, []) if t > now - 60.0]
        self._calls[org.id] = calls
        if len(calls) >= RATE_LIMIT:
            return calls[0] + 60.0 - now
        calls.append(now)
        return None

    def _handle(self, request: Request) -> Response:
        if self.other_paths is not None and not request.path.startswith("/v1/organizations/analytics/"):
            return self.other_paths(request)
        rid = f"req_{next(self._request_ids):06d}"
        key = request.headers.get("x-api-key", "")
        if key.startswith("sk-ant-admin01-"):
            return self._error(
                403,
                "permission_error",
                "Missing required scopes. Got: ['api:admin'] Needed: ['read:analytics']",
                rid,
            )
        org = self.orgs.get(key)
        if org is None:
            return self._error(401, "authentication_error", "invalid x-api-key", rid)
        if request.headers.get("anthropic-version") != "2023-06-01":
            return self._error(400, "invalid_request_error", "anthropic-version: header is required", rid)
        wait = self._rate_limited(org)
        if wait is not None:
            self.rate_limited += 1
            message = "Number of requests has exceeded your per-minute rate limit for this organization"
            return self._error(429, "rate_limit_error", message, rid, {"retry-after": str(math.ceil(wait))})
        params = parse_qsl(getattr(self._raw_query, "value", ""), keep_blank_values=True)
        page_number = self._page_number(params)
        for fault in list(self.faults):
            if fault.path in request.path and (fault.page is None or fault.page == page_number):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                if fault.body is not None:
                    return Response(fault.status, fault.body, {"request-id": rid, **fault.headers})
                kinds = {429: "rate_limit_error", 500: "api_error", 529: "overloaded_error", 403: "permission_error"}
                kind = kinds.get(fault.status, "api_error")
                return self._error(fault.status, kind, "injected", rid, fault.headers)
        try:
            if request.path == USERS:
                body = self._users(org, params)
            elif request.path in (USAGE, COST):
                body = self._report(org, params, cost=request.path == COST)
            else:
                return self._error(404, "not_found_error", f"no route {request.path}", rid)
        except _BadRequest as exc:
            return self._error(400, "invalid_request_error", str(exc), rid)
        return Response(200, body, {"request-id": rid})

    def _page_number(self, params: list[tuple[str, str]]) -> int:
        values = dict(params)
        decoded = _decode_cursor(values["page"]) if "page" in values else None
        if decoded is None:
            return 1
        try:
            limit = int(values.get("limit") or 20)
        except ValueError:
            return 1
        return decoded[1] // max(1, min(limit, self.page_cap or limit)) + 1

    def _page(self, params: list[tuple[str, str]], rows: list[dict[str, Any]], default_limit: int) -> tuple[int, int]:
        """(offset, size) of the page asked for, checking the limit and that the cursor fits this query."""
        values = dict(params)
        try:
            limit = int(values.get("limit") or default_limit)
        except ValueError:
            raise _BadRequest("limit: must be an integer") from None
        if not 1 <= limit <= 1000:
            raise _BadRequest("limit: must be between 1 and 1000")
        offset = 0
        if "page" in values:
            decoded = _decode_cursor(values["page"])
            if decoded is None:
                raise _BadRequest("page: invalid page cursor")
            signature, offset = decoded
            if signature != self._signature(params):
                raise _BadRequest("page: the page cursor does not match the query parameters it was issued for")
        return offset, min(limit, self.page_cap or limit)

    @staticmethod
    def _signature(params: list[tuple[str, str]]) -> str:
        kept = sorted((k, v) for k, v in params if k != "page")
        return hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:16]

    # -- /users ----------------------------------------------------------------------------------------

    def _users(self, org: EnterpriseOrg, params: list[tuple[str, str]]) -> dict[str, Any]:
        values = dict(params)
        if "date" not in values:
            raise _BadRequest("date: field required")
        try:
            day = date.fromisoformat(values["date"])
        except ValueError:
            raise _BadRequest("date: must be a date in YYYY-MM-DD format") from None
        if day < EARLIEST:
            raise _BadRequest(f"date: data is not available before {EARLIEST.isoformat()}")
        if day > org.latest_available_day:
            raise _BadRequest(
                f"date: data for {day.isoformat()} is not yet available. "
                f"The latest available date is {org.latest_available_day.isoformat()}."
            )
        people = sorted((s for s in org.seats.values() if not s.deleted and s.email), key=lambda s: s.email or "")
        rows = [self._user_row(seat, org.activity.get((seat.user_id, day))) for seat in people]
        offset, size = self._page(params, rows, default_limit=100)
        chunk = rows[offset : offset + size]
        more = offset + size < len(rows)
        # This endpoint has no has_more: next_page alone says whether another page follows.
        return {"data": chunk, "next_page": _encode_cursor(self._signature(params), offset + size) if more else None}

    @staticmethod
    def _user_row(seat: Seat, activity: Activity | None) -> dict[str, Any]:
        a = activity or Activity()
        actions = {name: a.tool_actions.get(name, (0, 0)) for name in TOOLS} | a.tool_actions
        zero_office = {"distinct_session_count": 0, "message_count": 0}
        return {
            "user": {"id": seat.user_id, "email_address": seat.email},
            "chat_metrics": {
                "message_count": 3 if activity else 0,
                "distinct_conversation_count": 1 if activity else 0,
                "thinking_message_count": 0,
                "distinct_projects_created_count": 0,
                "distinct_projects_used_count": 0,
                "distinct_files_uploaded_count": 0,
                "distinct_artifacts_created_count": 0,
                "distinct_shared_artifacts_viewed_count": 0,
                "shared_conversations_viewed_count": 0,
                "distinct_skills_used_count": 0,
                "connectors_used_count": 0,
            },
            "claude_code_metrics": {
                "core_metrics": {
                    "distinct_session_count": a.sessions,
                    "lines_of_code": {"added_count": a.added, "removed_count": a.removed},
                    "commit_count": a.commits,
                    "pull_request_count": a.pull_requests,
                },
                "tool_actions": {
                    name: {"accepted_count": accepted, "rejected_count": rejected}
                    for name, (accepted, rejected) in actions.items()
                },
            },
            "cowork_metrics": {"distinct_session_count": 0, "message_count": 0, "action_count": 0},
            "design_metrics": {"distinct_session_count": 0, "message_count": 0},
            "office_metrics": {name: dict(zero_office) for name in ("excel", "outlook", "powerpoint", "word")},
            "web_search_count": 0,
        }

    # -- usage and cost reports -------------------------------------------------------------------------

    def _report(self, org: EnterpriseOrg, params: list[tuple[str, str]], *, cost: bool) -> dict[str, Any]:
        values = dict(params)
        for name, _ in params:
            if name in ("group_by", "products", "models", "user_ids"):
                # Unbracketed list parameters are not the documented form.
                raise _BadRequest(f"{name}: unknown parameter; list parameters are written {name}[]")
        start = self._timestamp(values.get("starting_at"), "starting_at")
        if start.date() < EARLIEST:
            raise _BadRequest(f"starting_at: data is not available before {EARLIEST.isoformat()}T00:00:00Z")
        width = values.get("bucket_width")
        if width is not None and "ending_at" not in values:
            raise _BadRequest("ending_at: required when bucket_width is set")
        if width not in (None, "1d"):
            raise _BadRequest("bucket_width: this fake serves 1d buckets only")
        end = self._timestamp(values.get("ending_at"), "ending_at") if "ending_at" in values else None
        if end is None:
            end = start + timedelta(days=31)
        if end <= start:
            raise _BadRequest("ending_at: must be after starting_at")
        if end - start > timedelta(days=31):
            raise _BadRequest("ending_at: must be at most 31 days after starting_at")
        groups = [v for k, v in params if k == "group_by[]"]
        allowed = COST_GROUPS if cost else USAGE_GROUPS
        for group in groups:
            if group not in allowed:
                raise _BadRequest(f"group_by[]: unknown value {group!r}")
        products = {v for k, v in params if k == "products[]"}
        for product in products:
            if product not in PRODUCTS:
                raise _BadRequest(f"products[]: unknown value {product!r}")

        rows = self._report_rows(org, start, end, set(groups), products, cost=cost)
        if self.mangle is not None:
            for row in rows:
                self.mangle(COST if cost else USAGE, row)
        offset, size = self._page(params, rows, default_limit=20)
        chunk = rows[offset : offset + size]
        more = offset + size < len(rows)
        return {
            "data": chunk,
            "has_more": more,
            "next_page": _encode_cursor(self._signature(params), offset + size) if more else None,
            "data_refreshed_at": org.data_refreshed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "organization_id": org.id,
        }

    @staticmethod
    def _timestamp(value: str | None, name: str) -> datetime:
        if value is None:
            raise _BadRequest(f"{name}: field required")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _BadRequest(f"{name}: must be an RFC 3339 timestamp") from None
        if parsed.tzinfo is None:
            raise _BadRequest(f"{name}: must include a time zone offset")
        return parsed.astimezone(UTC)

    def _report_rows(
        self,
        org: EnterpriseOrg,
        start: datetime,
        end: datetime,
        groups: set[str],
        products: set[str],
        *,
        cost: bool,
    ) -> list[dict[str, Any]]:
        # One row per actor x day x grouped dimensions; dimensions that are not grouped are summed over.
        buckets: dict[tuple[str, date, str | None, str | None], dict[str, Any]] = {}
        for entry in org.entries:
            moment = datetime.combine(entry.day, datetime.min.time(), tzinfo=UTC)
            filtered_out = products and entry.product is not None and entry.product not in products
            if not start <= moment < end or filtered_out:
                continue
            if not cost and not entry.has_usage:
                continue
            key = (
                entry.user_id,
                entry.day,
                entry.model if "model" in groups else None,
                entry.product if "product" in groups else None,
            )
            total = buckets.setdefault(
                key, {"tokens": [0, 0, 0, 0, 0], "requests": 0, "amount": Decimal(0), "list": Decimal(0)}
            )
            for i, value in enumerate(
                (entry.uncached_input, entry.cache_5m, entry.cache_1h, entry.cache_read, entry.output)
            ):
                total["tokens"][i] += value
            total["requests"] += entry.requests
            total["amount"] += Decimal(entry.amount)
            total["list"] += Decimal(entry.amount) * Decimal("1.25")
        rows = []
        for (user_id, day, model, product), total in buckets.items():
            seat = org.seats[user_id]
            row: dict[str, Any] = {
                "actor": {
                    "type": "user_actor",
                    "user_id": user_id,
                    "email": seat.email,
                    "name": seat.name,
                    "deleted": seat.deleted,
                },
                "starting_at": _rfc3339(day),
                "ending_at": _rfc3339(day + timedelta(days=1)),
                "product": product,
                "model": model,
            }
            if cost:
                row |= {
                    "amount": f"{total['amount']:.6f}",
                    "list_amount": f"{total['list']:.6f}",
                    "currency": "USD",
                    "cost_type": None,
                    "token_type": None,
                    "requests": total["requests"],
                }
            else:
                uncached, c5, c1, read, output = total["tokens"]
                row |= {
                    "context_window": None,
                    "inference_geo": None,
                    "speed": None,
                    "rbac_group_id": None,
                    "uncached_input_tokens": uncached,
                    "cache_creation": {"ephemeral_5m_input_tokens": c5, "ephemeral_1h_input_tokens": c1},
                    "cache_read_input_tokens": read,
                    "output_tokens": output,
                    "total_tokens": uncached + c5 + c1 + read + output,
                    "requests": total["requests"],
                    "server_tool_use": {"web_search_requests": 0},
                }
            rows.append(row)
        # The documented default order: largest first (total tokens, or amount), ties in a stable order.
        if cost:
            rows.sort(key=lambda r: (-Decimal(r["amount"]), r["starting_at"], r["actor"]["user_id"], r["model"] or ""))
        else:
            rows.sort(key=lambda r: (-r["total_tokens"], r["starting_at"], r["actor"]["user_id"], r["model"] or ""))
        return rows
