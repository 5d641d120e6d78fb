"""Who is asking: Slack user ids resolved to people (email, flags, timezone), cached with a TTL.

``users.info`` is called at most once per user per TTL; a failed lookup is not cached, so a Slack hiccup
does not lock anyone out for long. Lookups never sleep on a rate limit: a 429 raises
:class:`UserLookupRateLimited` at once (with Slack's ``Retry-After``), and until that time has passed no
further ``users.info`` call is made, so a rate-limited Slack is not hammered and no caller waits. The ack
path uses :meth:`UserDirectory.get_within`, which waits at most a small budget for Slack.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot.access import SlackUser, UserLookupFailed

LOOKUP_TIMEOUT_SECONDS = 10  # one users.info call, when nobody waits on it for an ack


class UserLookupRateLimited(UserLookupFailed):
    """Slack answered 429: ``users.info`` may be called again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited by Slack; retry in {retry_after} s")
        self.retry_after = retry_after


class UserLookupSlow(UserLookupFailed):
    """Slack did not answer within the caller's budget (the lookup goes on and fills the cache)."""


class UserDirectory:
    def __init__(self, client: WebClient, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        # Its own client: the same token and URL, but no rate-limit retry handler, which would sleep
        # Retry-After seconds in the calling thread (before an ack, Slack would time the command out).
        self._client = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=LOOKUP_TIMEOUT_SECONDS,
            headers=dict(client.headers),
            retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
        )
        self._client.proxy = client.proxy
        self._full_client = client  # with retries: for lookups after the ack
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, SlackUser]] = {}
        self._limited_until = 0.0  # clock time before which users.info is not called (after a 429)
        self._pending: dict[str, Future[SlackUser]] = {}
        self._lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="abacus-users")
        self._lock = threading.RLock()  # RLock: a done callback may run inside get_within's lock

    def cached(self, user_id: str) -> SlackUser | None:
        """The person if a fresh lookup is cached, without calling Slack."""
        with self._lock:
            hit = self._cache.get(user_id)
        if hit is not None and self._clock() - hit[0] < self._ttl:
            return hit[1]
        return None

    def get(self, user_id: str) -> SlackUser:
        hit = self.cached(user_id)
        if hit is not None:
            return hit
        now = self._clock()
        with self._lock:
            wait = self._limited_until - now
        if wait > 0:
            raise UserLookupRateLimited(max(1, math.ceil(wait)))
        try:
            response = self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                retry_after = _retry_after(exc.response.headers)
                with self._lock:
                    self._limited_until = max(self._limited_until, self._clock() + retry_after)
                raise UserLookupRateLimited(retry_after) from None
            raise UserLookupFailed(str(exc.response.get("error") or exc)) from None
        except OSError as exc:  # unreachable, refused, timed out (urllib's errors are OSErrors)
            raise UserLookupFailed(f"Slack unreachable ({type(exc).__name__})") from None
        user = SlackUser.from_api(response.get("user") or {})
        with self._lock:
            self._cache[user_id] = (now, user)
        return user

    def get_within(self, user_id: str, budget_seconds: float) -> SlackUser:
        """:meth:`get`, but waiting at most ``budget_seconds`` for Slack: for code that must answer soon
        (an ack). A slow lookup raises :class:`UserLookupSlow` and keeps going, so the next request finds
        the person cached. One lookup per person is in flight at a time."""
        hit = self.cached(user_id)
        if hit is not None:
            return hit
        with self._lock:
            future = self._pending.get(user_id)
            if future is None:
                future = self._lookups.submit(self.get, user_id)
                self._pending[user_id] = future
                future.add_done_callback(lambda _f: self._forget(user_id))
        try:
            return future.result(timeout=budget_seconds)
        except FutureTimeout:
            raise UserLookupSlow(f"Slack did not answer users.info within {budget_seconds:g} s") from None

    def _forget(self, user_id: str) -> None:
        with self._lock:
            self._pending.pop(user_id, None)

    def by_email(self, email: str) -> SlackUser | None:
        """The Slack user with this email, or None (for DMs and mentions of people known by email)."""
        try:
            response = self._full_client.users_lookupByEmail(email=email)
        except SlackApiError:
            return None
        return SlackUser.from_api(response.get("user") or {})


def _retry_after(headers: Any) -> int:
    """Slack's Retry-After (seconds), read defensively; 1 when missing or odd."""
    values = {str(k).lower(): v for k, v in dict(headers or {}).items()}
    raw = values.get("retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        return max(1, min(3600, int(str(raw).strip())))
    except (TypeError, ValueError):
        return 1
