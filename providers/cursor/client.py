"""Cursor Admin API: a paced, retrying client and the mapping of usage events to usage rows.

Cursor returns one record per usage event, so one event becomes one ``usage`` row. The row's
``event_key`` is computed from what both the API and the dashboard CSV export say about an event
(timestamp in ms, user, model, the four token counts) plus an occurrence index among identical events,
so an API sync and a CSV import of the same event land on the same row, and two genuine events in the
same millisecond both survive (the original abacus keyed on the millisecond and lost one of them).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple

import httpx

from providers.errors import ProviderError
from providers.http import USER_AGENT, RetryPolicy, Sleep, send_with_retries
from providers.pacing import RatePacer
from storage.model_names import normalize_model_name

log = logging.getLogger(__name__)

TOOL = "cursor"
DEFAULT_BASE_URL = "https://api.cursor.com"
# The documented team limit for the Admin API's usage endpoints.
REQUESTS_PER_MINUTE = 20
# No maximum range is documented for filtered-usage-events; daily-usage-data allows 30 days, and
# third-party notes claim the same here, so no request ever spans more.
MAX_WINDOW = timedelta(days=30)
DEFAULT_PAGE_SIZE = 1000
# A runaway server (hasNextPage forever) must not keep a sync alive: 10M events per window at most.
MAX_PAGES_PER_WINDOW = 10_000
MICRO_DOLLARS = Decimal("0.000001")


def org_id_for_key(key: str, label: str | None) -> str:
    """A stable org id for one team: its label, else a short hash of its key; never its position.

    The original derived ids from the key's position, so reordering or adding keys re-keyed the data.
    """
    if label:
        return f"cursor:{label}"
    return "cursor:" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class CursorMember:
    email: str
    name: str = ""
    role: str = ""
    user_id: int | None = None
    removed: bool = False


class CursorClient:
    """One team's view of the Admin API. ``who`` names the team in messages; the key is never shown."""

    def __init__(
        self,
        key: str,
        *,
        who: str,
        base_url: str = DEFAULT_BASE_URL,
        page_size: int = DEFAULT_PAGE_SIZE,
        pacer: RatePacer | None = None,
        sleep: Sleep = time.sleep,
        policy: RetryPolicy | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        token = base64.b64encode(f"{key}:".encode()).decode()
        self.who = who
        self.page_size = page_size
        self.pacer = pacer or RatePacer(REQUESTS_PER_MINUTE, sleep=sleep)
        self._sleep = sleep
        # Cursor documents exponential backoff of 1, 2, 4, 8, 16 s on 429 when no Retry-After is sent.
        self._policy = policy or RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=60.0, max_total_wait=300.0)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Basic {token}", "User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> CursorClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        def build() -> httpx.Request:
            # Every attempt, retries included, counts against the team's limit, so each one is paced.
            self.pacer.wait()
            return self._http.build_request(method, path, json=body)

        response = send_with_retries(self._http, build, who=self.who, policy=self._policy, sleep=self._sleep)
        try:
            return response.json()
        except ValueError:
            raise ProviderError(f"{self.who}: {method} {path} returned something that is not JSON.") from None

    def members(self) -> list[CursorMember]:
        """The team's members; accepts both the current ``{teamMembers: [...]}`` and the old bare array."""
        payload = self._send("GET", "/teams/members")
        items = payload.get("teamMembers") if isinstance(payload, dict) else payload
        if not isinstance(items, list):
            raise ProviderError(f"{self.who}: GET /teams/members returned an unexpected shape.")
        members = []
        for item in items:
            if not isinstance(item, dict) or not item.get("email"):
                continue
            user_id = item.get("id")
            members.append(
                CursorMember(
                    email=str(item["email"]).strip().lower(),
                    name=str(item.get("name") or ""),
                    role=str(item.get("role") or ""),
                    user_id=int(user_id) if isinstance(user_id, int | str) and str(user_id).isdigit() else None,
                    removed=bool(item.get("isRemoved", False)),
                )
            )
        return members

    def usage_events(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Every event with ``start <= timestamp < end``, page by page, never asking for more than 30 days."""
        for window_start, window_end in split_window(start, end, MAX_WINDOW):
            yield from self._events_in(window_start, window_end)

    def _events_in(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        start_ms, end_ms = to_ms(start), to_ms(end)
        for page in range(1, MAX_PAGES_PER_WINDOW + 1):
            body = {"startDate": start_ms, "endDate": end_ms, "page": page, "pageSize": self.page_size}
            payload = self._send("POST", "/teams/filtered-usage-events", body)
            if not isinstance(payload, dict):
                raise ProviderError(f"{self.who}: filtered-usage-events returned an unexpected shape.")
            events = payload.get("usageEvents") or []
            for event in events:
                # Whether endDate is inclusive is undocumented; the half-open window is enforced here.
                ts = event_timestamp_ms(event) if isinstance(event, dict) else None
                if ts is None or start_ms <= ts < end_ms:
                    yield event
            pagination = payload.get("pagination") or {}
            if not pagination.get("hasNextPage") or not events:
                return
        raise ProviderError(
            f"{self.who}: filtered-usage-events kept reporting more pages after {MAX_PAGES_PER_WINDOW}; stopped."
        )


def split_window(start: datetime, end: datetime, size: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """``[start, end)`` cut into consecutive pieces no longer than ``size``."""
    cursor = start
    while cursor < end:
        nxt = min(cursor + size, end)
        yield cursor, nxt
        cursor = nxt


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: Abacus uses aware UTC datetimes only")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MS_PER_DAY = 86_400_000


def ms_to_date(ms: int) -> date:
    """The UTC day of an epoch-ms timestamp."""
    return _day(ms // _MS_PER_DAY)


@lru_cache(maxsize=4096)  # called for every event; a sync or an import spans a few hundred days at most
def _day(days_since_epoch: int) -> date:
    return date.fromordinal(_EPOCH_ORDINAL + days_since_epoch)


def event_timestamp_ms(event: dict[str, Any]) -> int | None:
    """The documented epoch-ms string (numbers accepted too), or None when it is missing or garbled."""
    value = event.get("timestamp")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def cents_to_usd(cents: Any) -> Decimal | None:
    """Cents (a float in the API) as exact USD, rounded to the micro-dollar the database stores."""
    if cents is None or isinstance(cents, bool):
        return None
    try:
        value = Decimal(str(cents))
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return (value / 100).quantize(MICRO_DOLLARS, rounding=ROUND_HALF_EVEN)


def canonical_model(raw: str) -> str:
    """The API says ``default`` where the CSV export says ``auto``; store ``auto`` so both agree."""
    model = (raw or "").strip()
    return "auto" if model.lower() == "default" else model


def event_key(identity: str, occurrence: int) -> str:
    return hashlib.sha256(f"{identity}#{occurrence}".encode()).hexdigest()[:40]


@dataclass(slots=True)
class OccurrenceCounter:
    """Numbers identical events 0, 1, 2... so each keeps its own row and a re-fetch numbers them the same.

    With ``per_timestamp`` set, only the current millisecond's events are remembered (memory stays flat
    on a time-sorted stream, such as a CSV export); otherwise every identity seen is remembered.
    """

    per_timestamp: bool = False
    _seen: dict[str, int] = field(default_factory=dict)
    _current_ts: int | None = None

    def next(self, ts_ms: int, identity: str) -> int:
        if self.per_timestamp and ts_ms != self._current_ts:
            self._seen.clear()
            self._current_ts = ts_ms
        occurrence = self._seen.get(identity, 0)
        self._seen[identity] = occurrence + 1
        return occurrence


class CursorEvent(NamedTuple):
    """One usage event in the shape both sources share, before it becomes a storage row.

    A named tuple rather than a dataclass: imports build one per CSV row, and a tuple is the cheapest.
    """

    ts_ms: int
    email: str
    raw_model: str
    input_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    output_tokens: int
    cost_usd: Decimal
    kind: str | None
    max_mode: bool | None

    @property
    def tokens(self) -> tuple[int, int, int, int]:
        return (self.input_tokens, self.cache_write_tokens, self.cache_read_tokens, self.output_tokens)

    @property
    def is_empty(self) -> bool:
        tokens = self.input_tokens or self.cache_write_tokens or self.cache_read_tokens or self.output_tokens
        return not tokens and not self.cost_usd

    @property
    def identity(self) -> str:
        """What the event is, as both the API and the CSV export state it (cost is left out: they disagree)."""
        return (
            f"{self.ts_ms}|{self.email}|{self.raw_model}|{self.input_tokens}|{self.cache_write_tokens}|"
            f"{self.cache_read_tokens}|{self.output_tokens}"
        )


def parse_api_event(event: dict[str, Any], email_by_user_id: Callable[[int], str | None]) -> CursorEvent | str:
    """A :class:`CursorEvent`, or the reason the event cannot be stored."""
    ts = event_timestamp_ms(event)
    if ts is None:
        return "no readable timestamp"
    email = str(event.get("userEmail") or "").strip().lower()
    if not email and isinstance(event.get("userId"), int):
        email = email_by_user_id(event["userId"]) or ""
    if not email:
        return "no user email"
    raw_usage = event.get("tokenUsage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    charged = cents_to_usd(event.get("chargedCents"))
    cost = charged if charged is not None else cents_to_usd(usage.get("totalCents"))
    max_mode = event.get("maxMode")
    kind = event.get("kind")
    return CursorEvent(
        ts_ms=ts,
        email=email,
        raw_model=canonical_model(str(event.get("model") or "")),
        input_tokens=_count(usage.get("inputTokens")),
        cache_write_tokens=_count(usage.get("cacheWriteTokens")),
        cache_read_tokens=_count(usage.get("cacheReadTokens")),
        output_tokens=_count(usage.get("outputTokens")),
        cost_usd=cost if cost is not None else Decimal(0),
        kind=str(kind)[:64] if kind is not None else None,
        max_mode=max_mode if isinstance(max_mode, bool) else None,
    )


def _count(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and math.isfinite(value):
        return max(int(value), 0)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


def event_row(event: CursorEvent, *, org_id: str, occurrences: OccurrenceCounter, source: str) -> tuple[Any, ...]:
    """The event's ``usage`` row, in ``storage.writes.USAGE_COLUMNS`` order (the hot path takes tuples).

    ``occurrences`` numbers identical events, so each keeps its own row under a stable ``event_key``.
    """
    identity = event.identity
    ts_ms = event.ts_ms
    return (
        TOOL,
        ms_to_date(ts_ms),
        org_id,
        event.email,
        "user",
        event.email,
        event.raw_model,
        normalize_model_name(event.raw_model),
        "",
        event_key(identity, occurrences.next(ts_ms, identity)),
        ts_ms,
        event.kind,
        event.max_mode,
        event.input_tokens,
        event.cache_write_tokens,
        event.cache_read_tokens,
        event.output_tokens,
        event.cost_usd,
        source,
    )
