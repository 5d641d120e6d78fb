"""OpenAI organisation Admin API client: completions usage, costs and users.

An Admin key (``sk-admin-...``, made by an organisation Owner) reads the whole organisation; a project or user
key is refused with 401/403. The API documents no numeric rate limit, only a 429 that may carry
``Retry-After``, which :func:`providers.http.send_with_retries` honours (else it backs off, bounded).

Usage and costs are pages of daily buckets (``limit`` counts buckets, not rows); users are a list paged with
``after``. Every page loop is bounded, so a server that keeps saying ``has_more`` cannot keep a sync running.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from datetime import time as clock
from decimal import Decimal
from typing import Any

import httpx

from providers.errors import ProviderError
from providers.http import USER_AGENT, RetryPolicy, Sleep, send_with_retries

USAGE_PATH = "/v1/organization/usage/completions"
COSTS_PATH = "/v1/organization/costs"
USERS_PATH = "/v1/organization/users"
# Daily buckets per page: the documented maximum for 1d usage is 31 (costs allow 180, asked the same way).
BUCKETS_PER_PAGE = 31
USERS_PER_PAGE = 100
# A request for a year of days is 12 pages; 1,000 allows decades and still ends a runaway loop.
MAX_PAGES = 1_000
# 100,000 users at 100 a page.
MAX_USER_PAGES = 1_000
# Usage is asked grouped by person, model and key: the key is what names usage that has no person.
USAGE_GROUPS = ("user_id", "model", "api_key_id")


def unix(day: date) -> int:
    return int(datetime.combine(day, clock(0), tzinfo=UTC).timestamp())


class OpenAIClient:
    """One organisation's Admin API. ``who`` names it in every message (never the key)."""

    def __init__(
        self,
        admin_key: str,
        *,
        who: str,
        base_url: str = "https://api.openai.com",
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.who = who
        self._key = admin_key
        self._retry = retry
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"authorization": f"Bearer {admin_key}", "user-agent": USER_AGENT},
        )
        self.requests = 0

    def __enter__(self) -> OpenAIClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, params: list[tuple[str, str]], what: str) -> dict[str, Any]:
        self.requests += 1
        response = send_with_retries(
            self._http,
            lambda: self._http.build_request("GET", path, params=tuple(params)),
            who=self.who,
            policy=self._retry,
            sleep=self._sleep,
        )
        try:
            # Amounts are dollars as JSON numbers: read them as Decimal so no binary float touches money.
            body = json.loads(response.text, parse_float=Decimal)
        except ValueError:
            raise ProviderError(f"{self.who}: {what} was not JSON (HTTP {response.status_code}).") from None
        if not isinstance(body, dict):
            raise ProviderError(f"{self.who}: {what} was not a JSON object.")
        return body

    def _buckets(self, path: str, params: list[tuple[str, str]], what: str) -> Iterator[dict[str, Any]]:
        page: str | None = None
        for number in range(1, MAX_PAGES + 1):
            body = self._get(path, params + ([("page", page)] if page else []), f"{what} (page {number})")
            data = body.get("data")
            if not isinstance(data, list):
                raise ProviderError(f"{self.who}: {what} (page {number}) has no list of buckets in `data`.")
            yield from data
            following = body.get("next_page")
            if not body.get("has_more") or not following:
                return
            if not isinstance(following, str) or following == page:
                raise ProviderError(f"{self.who}: {what} (page {number}) names no usable next page ({following!r}).")
            page = following
        raise ProviderError(f"{self.who}: {what} did not end after {MAX_PAGES} pages; stopped.")

    def usage(self, start: date, end: date) -> list[dict[str, Any]]:
        """Completions usage buckets of the UTC days ``[start, end)``, grouped by person, model and key."""
        params = [
            ("start_time", str(unix(start))),
            ("end_time", str(unix(end))),
            ("bucket_width", "1d"),
            *(("group_by", group) for group in USAGE_GROUPS),
            ("limit", str(BUCKETS_PER_PAGE)),
        ]
        return list(self._buckets(USAGE_PATH, params, f"the usage of {start}..{end}"))

    def costs(self, start: date, end: date) -> list[dict[str, Any]]:
        """The organisation's cost buckets (dollars) of the UTC days ``[start, end)``, not grouped."""
        params = [
            ("start_time", str(unix(start))),
            ("end_time", str(unix(end))),
            ("bucket_width", "1d"),
            ("limit", str(BUCKETS_PER_PAGE)),
        ]
        return list(self._buckets(COSTS_PATH, params, f"the costs of {start}..{end}"))

    def users(self) -> list[dict[str, Any]]:
        """Every organisation user (id, email, ...), paged with ``after``."""
        users: list[dict[str, Any]] = []
        after: str | None = None
        for number in range(1, MAX_USER_PAGES + 1):
            params = [("limit", str(USERS_PER_PAGE))] + ([("after", after)] if after else [])
            body = self._get(USERS_PATH, params, f"the users list (page {number})")
            data = body.get("data")
            if not isinstance(data, list):
                raise ProviderError(f"{self.who}: the users list (page {number}) has no list in `data`.")
            users.extend(u for u in data if isinstance(u, dict))
            last = body.get("last_id")
            if not body.get("has_more") or not data:
                return users
            if not isinstance(last, str) or not last or last == after:
                raise ProviderError(f"{self.who}: the users list (page {number}) names no usable last_id ({last!r}).")
            after = last
        raise ProviderError(f"{self.who}: the users list did not end after {MAX_USER_PAGES} pages; stopped.")

    def check(self) -> int:
        """One cheap request proving the key is an Admin key: the first page of users (one user)."""
        body = self._get(USERS_PATH, [("limit", "1")], "the users list")
        data = body.get("data")
        return len(data) if isinstance(data, list) else 0
