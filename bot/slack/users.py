"""Who is asking: Slack user ids resolved to people (email, flags, timezone), cached with a TTL.

The access middleware runs before every ack, inside Slack's 3-second budget, so ``users.info`` is called
at most once per user per TTL; a failed lookup is not cached, so a Slack hiccup does not lock anyone out
for long.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


@dataclass(frozen=True, slots=True)
class SlackUser:
    id: str
    email: str  # lowercased; "" when Slack did not give one
    name: str
    team_id: str
    tz: str
    deleted: bool = False
    is_bot: bool = False
    is_guest: bool = False

    @classmethod
    def from_api(cls, user: dict[str, Any]) -> SlackUser:
        profile = user.get("profile") or {}
        return cls(
            id=str(user.get("id") or ""),
            email=str(profile.get("email") or "").strip().lower(),
            name=str(profile.get("display_name") or profile.get("real_name") or user.get("name") or ""),
            team_id=str(user.get("team_id") or ""),
            tz=str(user.get("tz") or ""),
            deleted=bool(user.get("deleted")),
            is_bot=bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        )


class UserLookupFailed(Exception):
    """Slack would not tell us who this is; access is refused (fail closed)."""


class UserDirectory:
    def __init__(self, client: WebClient, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, SlackUser]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> SlackUser:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(user_id)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        try:
            response = self._client.users_info(user=user_id)
        except SlackApiError as exc:
            raise UserLookupFailed(str(exc.response.get("error") or exc)) from None
        user = SlackUser.from_api(response.get("user") or {})
        with self._lock:
            self._cache[user_id] = (now, user)
        return user

    def by_email(self, email: str) -> SlackUser | None:
        """The Slack user with this email, or None (for DMs and mentions of people known by email)."""
        try:
            response = self._client.users_lookupByEmail(email=email)
        except SlackApiError:
            return None
        return SlackUser.from_api(response.get("user") or {})
