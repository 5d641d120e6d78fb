"""Anthropic Admin API client: organisation, Claude Code usage report, users and API keys.

Every call goes through :func:`providers.http.send_with_retries`; loops over pages are bounded so a
misbehaving server cannot keep a sync running forever.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from providers.errors import ProviderError
from providers.http import USER_AGENT, RetryPolicy, Sleep, send_with_retries

API_VERSION = "2023-06-01"
MAX_PAGES = 10_000  # 10 million records a day at 1,000 a page: far beyond any real organisation


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str


class AnthropicClient:
    """One organisation's Admin API. ``who`` names the org in messages; the key never appears."""

    def __init__(
        self,
        api_key: str,
        *,
        who: str,
        base_url: str = "https://api.anthropic.com",
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.who = who
        self._policy = policy
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"x-api-key": api_key, "anthropic-version": API_VERSION, "user-agent": USER_AGENT},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AnthropicClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"who": self.who, "policy": self._policy}
        if self._sleep is not None:
            kwargs["sleep"] = self._sleep
        response = send_with_retries(self._http, lambda: self._http.build_request("GET", path, params=params), **kwargs)
        try:
            body = response.json()
        except ValueError:
            message = f"{self.who}: {path} returned a body that is not JSON."
            raise ProviderError(message, status=response.status_code) from None
        if not isinstance(body, dict):
            raise ProviderError(f"{self.who}: {path} returned JSON that is not an object.")
        return body

    def organization(self) -> Organization:
        body = self._get("/v1/organizations/me", {})
        org_id = str(body.get("id") or "")
        if not org_id:
            raise ProviderError(f"{self.who}: /v1/organizations/me returned no organisation id.")
        return Organization(id=org_id, name=str(body.get("name") or org_id))

    def claude_code_day(self, day: date, *, limit: int = 1000) -> list[dict[str, Any]]:
        """Every Claude Code usage record of one UTC day, across all pages (all or nothing)."""
        records: list[dict[str, Any]] = []
        params: dict[str, Any] = {"starting_at": day.isoformat(), "limit": limit}
        seen_cursors: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self._get("/v1/organizations/usage_report/claude_code", params)
            data = body.get("data")
            if not isinstance(data, list):
                # Read as "no records", it would replace the stored day with nothing.
                raise ProviderError(
                    f"{self.who}: the usage report for {day} has {str(data)[:40]!r} where its list of records "
                    "belongs; nothing was stored for that day."
                )
            records.extend(data)  # each one is checked by rows.records_to_rows
            cursor = body.get("next_page")
            if not body.get("has_more") or not cursor:
                return records
            if cursor in seen_cursors:
                raise ProviderError(f"{self.who}: the usage report repeated page cursor {cursor!r} for {day}.")
            seen_cursors.add(cursor)
            params = {"starting_at": day.isoformat(), "limit": limit, "page": cursor}
        raise ProviderError(f"{self.who}: the usage report for {day} had more than {MAX_PAGES} pages.")

    def _list(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Id-cursor paging (``after_id`` / ``last_id`` / ``has_more``) of the list endpoints."""
        params = {"limit": 1000, **params}
        for _ in range(MAX_PAGES):
            body = self._get(path, params)
            items = [item for item in body.get("data") or [] if isinstance(item, dict)]
            yield from items
            last_id = body.get("last_id") or (items[-1].get("id") if items else None)
            if not body.get("has_more") or not last_id or last_id == params.get("after_id"):
                return
            params = {**params, "after_id": last_id}
        raise ProviderError(f"{self.who}: {path} had more than {MAX_PAGES} pages.")

    def users(self) -> list[dict[str, Any]]:
        return list(self._list("/v1/organizations/users", {}))

    def api_keys(self, status: str) -> list[dict[str, Any]]:
        return list(self._list("/v1/organizations/api_keys", {"status": status}))
