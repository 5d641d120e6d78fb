"""Bounded retries for provider HTTP calls.

Every provider call goes through :func:`send_with_retries`: 429 honours ``Retry-After``; 5xx, 529,
timeouts and connection errors back off exponentially with full jitter; 401/403 fail at once. Both
the number of attempts and the total time spent waiting are capped, so a sync never hangs.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from providers.errors import AuthError, ProviderError, RateLimited

log = logging.getLogger(__name__)

USER_AGENT = "Abacus/0.1 (AI coding usage reports for Slack)"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    # Total seconds of waiting across all retries of one call; past it the call fails.
    max_total_wait: float = 300.0


# One attempt, no waiting: for checks (`abacus doctor`) that report what they see now.
ONE_TRY = RetryPolicy(max_attempts=1, base_delay=0.0, max_delay=0.0, max_total_wait=0.0)

Sleep = Callable[[float], None]


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (it may be a number or an HTTP date), or None when absent/garbled."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _backoff(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    # Full jitter: spreads retries of several workers instead of having them hit the API in step.
    return rng.uniform(0, min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)))


def request_id(response: httpx.Response) -> str | None:
    return response.headers.get("request-id") or response.headers.get("x-request-id")


def send_with_retries(
    client: httpx.Client,
    build: Callable[[], httpx.Request],
    *,
    who: str,
    policy: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
    rng: random.Random | None = None,
) -> httpx.Response:
    """Send the request ``build()`` makes until it succeeds or retrying is pointless.

    ``who`` names the organisation or team in messages and logs (never the key).
    Returns a 2xx response; raises :class:`AuthError`, :class:`RateLimited` or :class:`ProviderError`.
    """
    policy = policy or RetryPolicy()
    rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    waited = 0.0
    last_problem = "no attempt made"
    for attempt in range(1, policy.max_attempts + 1):
        request = build()
        try:
            response = client.send(request)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            last_problem = f"{type(exc).__name__}: {exc}"
            delay, status, rid = _backoff(policy, attempt, rng), None, None
            log.warning(
                "%s: %s %s failed (%s), attempt %d", who, request.method, request.url.path, last_problem, attempt
            )
        else:
            status, rid = response.status_code, request_id(response)
            if response.is_success:
                return response
            detail = _error_detail(response)
            if status in (401, 403):
                log.error("%s: %s %s -> %d (request-id %s)", who, request.method, request.url.path, status, rid)
                raise AuthError(
                    f"{who}: the API rejected the admin key ({status}{': ' + detail if detail else ''}). "
                    "Check that the key is valid, not revoked, and belongs to an admin.",
                    status=status,
                    request_id=rid,
                )
            retryable = status == 429 or status >= 500
            log.warning(
                "%s: %s %s -> %d (request-id %s)%s",
                who,
                request.method,
                request.url.path,
                status,
                rid,
                ", will retry" if retryable and attempt < policy.max_attempts else "",
            )
            if not retryable:
                raise ProviderError(
                    f"{who}: {request.method} {request.url.path} failed with {status}"
                    f"{': ' + detail if detail else ''} (request-id {rid}).",
                    status=status,
                    request_id=rid,
                )
            last_problem = f"HTTP {status}{': ' + detail if detail else ''}"
            hinted = retry_after_seconds(response) if status == 429 else None
            delay = hinted if hinted is not None else _backoff(policy, attempt, rng)
        if attempt == policy.max_attempts or waited + delay > policy.max_total_wait:
            error = RateLimited if status == 429 else ProviderError
            raise error(
                f"{who}: gave up on {request.method} {request.url.path} after {attempt} attempt(s) "
                f"({last_problem}); the next run will retry.",
                status=status,
                request_id=rid,
            )
        sleep(delay)
        waited += delay
    raise AssertionError("unreachable")  # pragma: no cover


def _error_detail(response: httpx.Response) -> str:
    """The provider's own error message, short, from the documented JSON error shapes."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error.get("type") or "")[:200]
        if isinstance(error, str):
            return error[:200]
        if "message" in body:
            return str(body["message"])[:200]
    return ""
