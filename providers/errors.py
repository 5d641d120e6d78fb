"""Provider failures, worded for the operator. Messages name the organisation, never the key."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider call failed for good (after any retries). ``str()`` is one actionable sentence."""

    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.request_id = request_id


class AuthError(ProviderError):
    """401/403: the key is wrong, revoked or lacks the admin role. Retrying cannot help."""


class RateLimited(ProviderError):
    """429s outlasted the retry budget; the next scheduled run will pick up where this one stopped."""
