"""GitHub REST client for Copilot: the per-user daily usage report (download links to NDJSON) and seats.

GitHub's limits differ from the other providers': a secondary rate limit answers **403 or 429**, with
``retry-after`` or only ``x-ratelimit-reset`` (epoch seconds), and without either the documented advice is to
wait at least a minute. So this client has its own bounded retry loop instead of the shared one, which treats
every 403 as a rejected key. Every loop (retries, re-requested download links, seat pages) is bounded in
count, and retries also in total waiting time.

The report endpoint returns short-lived signed download links, not data. They are fetched at once, without
the GitHub token (they are pre-signed storage URLs, and the token must not travel to another host); a link
that has expired (403/404/410) means asking for the report again, a bounded number of times.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from providers.errors import AuthError, ProviderError, RateLimited
from providers.http import USER_AGENT, RetryPolicy, Sleep, retry_after_seconds

log = logging.getLogger(__name__)

API_VERSION = "2026-03-10"
# Seats pages: the documented maximum page size, and a bound far beyond any real organisation (1M seats).
SEATS_PER_PAGE = 100
MAX_SEAT_PAGES = 10_000
# A report is re-requested at most this many times when one of its links expired before it was read.
MAX_LINK_RENEWALS = 3
# More parts than this in one day's report is not a report but a server gone wrong.
MAX_PARTS = 1_000
# Without retry-after or a reset time, GitHub asks clients to wait at least a minute.
DEFAULT_RATE_LIMIT_WAIT = 60.0
# A reset time further away than this is not worth waiting for in one run; the next run retries.
MAX_RATE_LIMIT_WAIT = 900.0
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True, slots=True)
class DayReport:
    """One day's per-user records, or ``available=False`` when GitHub has no report for the day (204)."""

    day: date
    records: list[Any]
    available: bool = True
    parts: int = 0


def next_link(response: httpx.Response) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, or None on the last page."""
    match = _NEXT.search(response.headers.get("link", ""))
    return match.group(1) if match else None


def parse_report_file(content: bytes, *, what: str) -> list[Any]:
    """One downloaded part: NDJSON (one record per line) or, as the example page shows it, a JSON array.

    Numbers that are not whole are read as Decimal, so credits never pass through a binary float.
    """
    text = content.decode("utf-8-sig", errors="strict").strip() if content else ""
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text, parse_float=Decimal)
        except ValueError:
            raise ProviderError(f"{what} is not valid JSON.") from None
        if not isinstance(parsed, list):
            raise ProviderError(f"{what} is not a list of records.")
        return parsed
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line, parse_float=Decimal))
        except ValueError:
            raise ProviderError(f"{what}: line {number} is not JSON.") from None
    return records


class CopilotClient:
    """One organisation's or enterprise's Copilot data. ``who`` names it in messages; the token never does."""

    def __init__(
        self,
        token: str,
        *,
        who: str,
        scope_path: str,
        base_url: str = "https://api.github.com",
        sleep: Sleep = time.sleep,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        clock: Any = time.time,
    ) -> None:
        self.who = who
        self.scope_path = scope_path.rstrip("/")
        self.requests = 0
        self._sleep = sleep
        self._clock = clock
        self._retry = retry or RetryPolicy(max_attempts=6, max_total_wait=1_800.0)
        self._rng = random.Random()  # noqa: S311 - jitter, not cryptography
        self._api = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={
                "authorization": f"Bearer {token}",
                "accept": "application/vnd.github+json",
                "x-github-api-version": API_VERSION,
                "user-agent": USER_AGENT,
            },
        )
        # Download links are signed URLs on a storage host: no token, no GitHub headers.
        self._files = httpx.Client(timeout=timeout, headers={"user-agent": USER_AGENT}, follow_redirects=True)

    def close(self) -> None:
        self._api.close()
        self._files.close()

    def __enter__(self) -> CopilotClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------------------

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait when a 403/429 is a rate limit; None when it is not one (a real refusal)."""
        hinted = retry_after_seconds(response)
        remaining = response.headers.get("x-ratelimit-remaining")
        message = _message(response).lower()
        limited = response.status_code == 429 or hinted is not None or remaining == "0" or "rate limit" in message
        if not limited:
            return None
        if hinted is not None:
            return hinted
        reset = response.headers.get("x-ratelimit-reset")
        if reset and reset.strip().isdigit() and remaining == "0":
            return max(1.0, float(reset) - self._clock())
        return DEFAULT_RATE_LIMIT_WAIT

    def _send(self, url: str, params: dict[str, str] | None = None, *, api: bool = True) -> httpx.Response:
        """GET with bounded retries: rate limits wait as GitHub says, 5xx and network errors back off."""
        client = self._api if api else self._files
        policy = self._retry
        waited = 0.0
        problem = "no attempt made"
        status: int | None = None
        for attempt in range(1, policy.max_attempts + 1):
            self.requests += 1
            try:
                response = client.get(url, params=params)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem, status = f"{type(exc).__name__}: {exc}", None
                delay = self._backoff(attempt)
            else:
                status = response.status_code
                if response.is_success or (not api and status in (403, 404, 410)):
                    return response
                rid = response.headers.get("x-github-request-id")
                limited = self._rate_limit_wait(response) if status in (403, 429) else None
                if limited is None and status in (401, 403):
                    raise AuthError(self._auth_message(response), status=status, request_id=rid)
                if limited is None and status < 500:
                    detail = _message(response)
                    raise ProviderError(
                        f"{self.who}: GET {response.request.url.path} failed with {status}"
                        f"{': ' + detail if detail else ''} (request-id {rid}).",
                        status=status,
                        request_id=rid,
                    )
                problem = "rate limited" if limited is not None else f"HTTP {status}"
                delay = limited if limited is not None else self._backoff(attempt)
                log.warning("%s: GET %s -> %d, %s", self.who, response.request.url.path, status, problem)
                if limited is not None and delay > MAX_RATE_LIMIT_WAIT:
                    raise RateLimited(
                        f"{self.who}: GitHub's rate limit resets in {int(delay)} s; the next run will retry.",
                        status=status,
                        request_id=rid,
                    )
            if attempt == policy.max_attempts or waited + delay > policy.max_total_wait:
                error = RateLimited if problem == "rate limited" else ProviderError
                raise error(
                    f"{self.who}: gave up after {attempt} attempt(s) ({problem}); the next run will retry.",
                    status=status,
                )
            self._sleep(delay)
            waited += delay
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        policy = self._retry
        return self._rng.uniform(0, min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)))

    def _auth_message(self, response: httpx.Response) -> str:
        detail = _message(response)
        if response.status_code == 401:
            return (
                f"{self.who}: GitHub rejected COPILOT_TOKEN (401{': ' + detail if detail else ''}); it is invalid "
                "or expired, so create a new token and configure that one."
            )
        return (
            f"{self.who}: GitHub refused the Copilot usage metrics (403{': ' + detail if detail else ''}). "
            "The token needs read access to Copilot metrics (classic: read:org for an organisation, "
            "manage_billing:copilot or read:enterprise for an enterprise, where fine-grained tokens do not work; "
            "a GitHub App: the Copilot metrics read permission), its owner must be an owner or have the view "
            'Copilot metrics role, and the "Copilot usage metrics" policy must be enabled.'
        )

    def _json(self, response: httpx.Response, what: str) -> Any:
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise ProviderError(f"{self.who}: {what} returned a body that is not JSON.") from None

    # -- endpoints -------------------------------------------------------------------------------------

    def users_day(self, day: date) -> DayReport:
        """Every per-user record of one UTC day, read from the report's download links.

        A link that expired before it was read makes the whole report be asked for again (its other links
        may be as old), at most :data:`MAX_LINK_RENEWALS` times.
        """
        path = f"{self.scope_path}/copilot/metrics/reports/users-1-day"
        for renewal in range(MAX_LINK_RENEWALS + 1):
            response = self._send(path, {"day": day.isoformat()})
            if response.status_code == 204 or not response.content.strip():
                return DayReport(day, [], available=False)
            body = self._json(response, f"the report of {day}")
            links = body.get("download_links") if isinstance(body, dict) else None
            if not isinstance(links, list) or not all(isinstance(link, str) and link for link in links):
                raise ProviderError(f"{self.who}: the report of {day} has no list of download links.")
            if len(links) > MAX_PARTS:
                raise ProviderError(f"{self.who}: the report of {day} has {len(links)} parts, more than {MAX_PARTS}.")
            named = body.get("report_day")
            if named is not None and named != day.isoformat():
                raise ProviderError(f"{self.who}: asked for the report of {day}, got the one of {named}.")
            records: list[Any] = []
            for part, link in enumerate(links, start=1):
                downloaded = self._send(link, api=False)
                if downloaded.status_code in (403, 404, 410):
                    log.info(
                        "%s: download link %d of %d for %s expired (renewal %d)",
                        self.who,
                        part,
                        len(links),
                        day,
                        renewal + 1,
                    )
                    break
                records.extend(parse_report_file(downloaded.content, what=f"{self.who}: part {part} of {day}"))
            else:
                return DayReport(day, records, parts=len(links))
        raise ProviderError(
            f"{self.who}: the download links of the report of {day} kept expiring before they could be read "
            f"({MAX_LINK_RENEWALS + 1} tries); the next run will retry."
        )

    def seats(self) -> Iterator[dict[str, Any]]:
        """Every Copilot seat, following the ``Link`` header's next page."""
        url: str | None = f"{self.scope_path}/copilot/billing/seats"
        params: dict[str, str] | None = {"per_page": str(SEATS_PER_PAGE)}
        seen: set[str] = set()
        for _ in range(MAX_SEAT_PAGES):
            assert url is not None
            response = self._send(url, params)
            body = self._json(response, "the seats list")
            seats = body.get("seats") if isinstance(body, dict) else None
            if not isinstance(seats, list):
                raise ProviderError(f"{self.who}: the seats list has no list of seats.")
            yield from (seat for seat in seats if isinstance(seat, dict))
            url, params = next_link(response), None
            if url is None:
                return
            if url in seen:
                raise ProviderError(f"{self.who}: the seats list repeated page {url}.")
            seen.add(url)
        raise ProviderError(f"{self.who}: the seats list had more than {MAX_SEAT_PAGES} pages.")

    def check(self, day: date) -> bool:
        """One request proving the token reads this scope's usage reports: the report of ``day``, not downloaded.

        Returns whether GitHub has a report for that day (False: 204, no data).
        """
        path = f"{self.scope_path}/copilot/metrics/reports/users-1-day"
        response = self._send(path, {"day": day.isoformat()})
        return response.status_code != 204 and bool(response.content.strip())


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:200]
    return ""
