"""Claude Enterprise Analytics API client: per-user activity, per-user token usage and per-user cost.

This is the API of claude.ai Enterprise organisations (Claude Code used through Enterprise seats), not the
Console Admin API: its keys are claude.ai Admin API keys with the ``read:analytics`` scope, and a Console
admin key is refused with 403.

Every call is paced (the API allows 60 requests a minute per organisation, shared by every key and every
tool that reads it) and goes through :func:`providers.http.send_with_retries`. Every loop over pages is
bounded, so a misbehaving server cannot keep a sync running forever.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from providers.errors import AuthError, ProviderError
from providers.http import USER_AGENT, RetryPolicy, Sleep, send_with_retries
from providers.pacing import RatePacer

API_VERSION = "2023-06-01"
# The API holds no data before this day and answers 400 for earlier dates.
EARLIEST_DAY = date(2026, 1, 1)
# One usage or cost request may span at most 31 days.
MAX_RANGE_DAYS = 31
PAGE_LIMIT = 1000
# 10 million rows a request at 1,000 a page: far beyond any real organisation.
MAX_PAGES = 10_000
REQUESTS_PER_MINUTE = 60

USERS_PATH = "/v1/organizations/analytics/users"
USAGE_PATH = "/v1/organizations/analytics/user_usage_report"
COST_PATH = "/v1/organizations/analytics/user_cost_report"

# Words of the 400 the API gives for a day whose activity data has not landed yet. Its wording has varied
# ("not yet available, the latest available date is ...", "must be at least 3 days in the past"), so any of
# these, or a date in the message earlier than the one asked for, counts as "not ready".
_NOT_READY_WORDS = ("not yet available", "not available yet", "too recent", "latest available", "in the past")
_ISO_DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


@dataclass(frozen=True, slots=True)
class Report:
    """All rows of a usage or cost report over a range of days, with the envelope's facts.

    ``refreshed_at`` is the earliest ``data_refreshed_at`` seen across every request and page: only data
    before it is as fresh as the API can make it, so the earliest one is the safe claim.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    refreshed_at: datetime | None = None
    organization_id: str | None = None


def rfc3339(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def parse_timestamp(value: Any, *, what: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime; anything else is a provider error."""
    if not isinstance(value, str):
        raise ProviderError(f"{what} is {value!r}, not an RFC 3339 timestamp.")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ProviderError(f"{what} is {value!r}, not an RFC 3339 timestamp.") from None
    if parsed.tzinfo is None:
        raise ProviderError(f"{what} is {value!r}, a timestamp without a UTC offset.")
    return parsed.astimezone(UTC)


def split_range(start: date, end: date) -> Iterator[tuple[date, date]]:
    """``[start, end)`` clamped to the API's first day, in pieces of at most :data:`MAX_RANGE_DAYS` days."""
    start = max(start, EARLIEST_DAY)
    while start < end:
        stop = min(end, start + timedelta(days=MAX_RANGE_DAYS))
        yield start, stop
        start = stop


def _says_not_ready(message: str, day: date) -> tuple[bool, date | None]:
    """Whether a 400 for ``day`` means "not available yet", and the latest available day it names."""
    named: list[date] = []
    for text in _ISO_DAY.findall(message):
        try:
            named.append(date.fromisoformat(text))
        except ValueError:
            continue
    earlier = [d for d in named if EARLIEST_DAY <= d < day]
    latest = max(earlier) if earlier else None
    lowered = message.lower()
    return (latest is not None or any(word in lowered for word in _NOT_READY_WORDS)), latest


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(error or "")


class EnterpriseClient:
    """One claude.ai Enterprise organisation's analytics. ``who`` names it in messages; the key never does.

    ``latest_available_day`` is the newest day of activity data the API said it has, once a request for a
    too recent day told us (None until then).
    """

    def __init__(
        self,
        api_key: str,
        *,
        who: str,
        base_url: str = "https://api.anthropic.com",
        pacer: RatePacer | None = None,
        sleep: Sleep = time.sleep,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.who = who
        self.latest_available_day: date | None = None
        self._sleep = sleep
        self._retry = retry
        self._pacer = pacer if pacer is not None else RatePacer(REQUESTS_PER_MINUTE, 60.0, sleep=sleep)
        self._last_400 = ""
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"x-api-key": api_key, "anthropic-version": API_VERSION, "user-agent": USER_AGENT},
            event_hooks={"response": [self._remember_400]},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EnterpriseClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------------------

    def _remember_400(self, response: httpx.Response) -> None:
        # The retry layer turns a 400 into an exception without its body; keep the API's own message, which
        # is the only place that says whether a day is merely not available yet.
        if response.status_code == 400:
            response.read()
            self._last_400 = _error_message(response)

    def _auth_message(self, status: int | None) -> str:
        if status == 403:
            return (
                f"{self.who}: the Claude Enterprise Analytics API refused the key (403 permission_error); it needs "
                "a claude.ai Admin API key with the read:analytics scope, created by the primary owner in claude.ai "
                "(a Console sk-ant-admin01- key does not work here)."
            )
        return (
            f"{self.who}: the Claude Enterprise Analytics API rejected the key ({status}); it is invalid or "
            "revoked, so create a claude.ai Admin API key with the read:analytics scope and configure that one."
        )

    def _get(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        def build() -> httpx.Request:
            # Paced per attempt, retries included: a retry costs the organisation's budget like any request.
            self._pacer.wait()
            return self._http.build_request("GET", path, params=tuple(params))

        self._last_400 = ""
        try:
            response = send_with_retries(self._http, build, who=self.who, policy=self._retry, sleep=self._sleep)
        except AuthError as exc:
            raise AuthError(self._auth_message(exc.status), status=exc.status, request_id=exc.request_id) from None
        try:
            # Decimal for every non-integer number, so no amount ever passes through a binary float.
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise ProviderError(f"{self.who}: {path} returned a body that is not JSON.", status=200) from None
        if not isinstance(body, dict):
            raise ProviderError(f"{self.who}: {path} returned JSON that is not an object.")
        data = body.get("data")
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ProviderError(f"{self.who}: {path} returned a page whose data is not a list of objects.")
        return body

    def _pages(self, path: str, params: list[tuple[str, str]], what: str) -> Iterator[dict[str, Any]]:
        """Every page of one query. Cursors are bound to their query, so each page re-sends it unchanged."""
        page: list[tuple[str, str]] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self._get(path, params + page)
            yield body
            cursor = body.get("next_page")
            if not cursor or body.get("has_more") is False:
                return
            cursor = str(cursor)
            if cursor in seen:
                raise ProviderError(f"{self.who}: {what} repeated page cursor {cursor!r}.")
            seen.add(cursor)
            page = [("page", cursor)]
        raise ProviderError(f"{self.who}: {what} had more than {MAX_PAGES} pages.")

    # -- endpoints -------------------------------------------------------------------------------------

    def users_day(self, day: date) -> list[dict[str, Any]] | None:
        """Every per-user activity row of one UTC day, or None when the API does not have that day yet.

        Activity data lands a day or more after the day ends; the API answers a too recent day with a 400
        naming the latest day it has, which is kept in :attr:`latest_available_day`. Days before the API's
        first day hold nothing, so they are answered without a request.
        """
        if day < EARLIEST_DAY:
            return []
        rows: list[dict[str, Any]] = []
        params = [("date", day.isoformat()), ("limit", str(PAGE_LIMIT))]
        try:
            for body in self._pages(USERS_PATH, params, f"the activity of {day}"):
                rows.extend(body["data"])
        except ProviderError as exc:
            if exc.status != 400 or isinstance(exc, AuthError):
                raise
            not_ready, latest = _says_not_ready(self._last_400, day)
            if not not_ready:
                raise
            if latest is not None:
                self.latest_available_day = latest
            return None
        return rows

    def check(self, today: date) -> str | None:
        """One request proving the key reads analytics: a one-row usage report of the week before ``today``.

        Returns the organisation id the API names (None when it names none).
        """
        start = max(EARLIEST_DAY, today - timedelta(days=7))
        params = [
            ("starting_at", rfc3339(start)),
            ("ending_at", rfc3339(max(start + timedelta(days=1), today))),
            ("products[]", "claude_code"),
            ("limit", "1"),
        ]
        organization = self._get(USAGE_PATH, params).get("organization_id")
        return str(organization) if organization else None

    def usage_report(self, start: date, end: date) -> Report:
        """Per-user, per-model Claude Code token usage for the UTC days ``[start, end)``, daily buckets."""
        return self._report(USAGE_PATH, start, end, "the usage report")

    def cost_report(self, start: date, end: date) -> Report:
        """Per-user, per-model Claude Code cost (cents, as decimal strings) for the UTC days ``[start, end)``."""
        return self._report(COST_PATH, start, end, "the cost report")

    def _report(self, path: str, start: date, end: date, what: str) -> Report:
        rows: list[dict[str, Any]] = []
        refreshed: datetime | None = None
        org_id: str | None = None
        for chunk_start, chunk_end in split_range(start, end):
            params = [
                ("starting_at", rfc3339(chunk_start)),
                ("ending_at", rfc3339(chunk_end)),
                ("bucket_width", "1d"),
                ("group_by[]", "model"),
                ("group_by[]", "product"),
                ("products[]", "claude_code"),
                ("limit", str(PAGE_LIMIT)),
            ]
            label = f"{what} for {chunk_start}..{chunk_end - timedelta(days=1)}"
            for body in self._pages(path, params, label):
                rows.extend(body["data"])
                if body.get("data_refreshed_at") is not None:
                    stamp = parse_timestamp(body["data_refreshed_at"], what=f"{self.who}: data_refreshed_at of {label}")
                    refreshed = stamp if refreshed is None else min(refreshed, stamp)
                page_org = body.get("organization_id")
                if page_org:
                    if org_id is not None and str(page_org) != org_id:
                        raise ProviderError(
                            f"{self.who}: {label} answered for organisation {page_org}, after {org_id} earlier."
                        )
                    org_id = str(page_org)
        return Report(rows, refreshed, org_id)
