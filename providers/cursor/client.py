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
# What the `usage` columns hold: BIGINT counts and timestamps, NUMERIC(18,6) money (twelve digits before the
# point), VARCHAR(255) emails and models.
MAX_BIGINT = 2**63 - 1
MAX_COST_DIGITS = 12
MAX_TEXT = 255
# Timestamps Abacus can turn into a date (up to the year 9999).
MAX_TIMESTAMP_MS = 253_402_300_799_999


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

    def _bad_page(self, start: datetime, page: int, field_name: str, value: Any, expected: str) -> ProviderError:
        found = "missing" if value is _ABSENT else f"{_shown(value)}, not {expected}"
        return ProviderError(
            f"{self.who}: filtered-usage-events from {start:%Y-%m-%d %H:%M} UTC, page {page}: {field_name} is "
            f"{found}; nothing was stored for that day."
        )

    def usage_events(self, start: datetime, end: datetime) -> Iterator[Any]:
        """Every event with ``start <= timestamp < end``, page by page, never asking for more than 30 days."""
        for window_start, window_end in split_window(start, end, MAX_WINDOW):
            yield from self._events_in(window_start, window_end)

    def _events_in(self, start: datetime, end: datetime) -> Iterator[Any]:
        start_ms, end_ms = to_ms(start), to_ms(end)
        for page in range(1, MAX_PAGES_PER_WINDOW + 1):
            body = {"startDate": start_ms, "endDate": end_ms, "page": page, "pageSize": self.page_size}
            payload = self._send("POST", "/teams/filtered-usage-events", body)
            if not isinstance(payload, dict):
                raise self._bad_page(start, page, "the response", payload, "an object")
            events = payload.get("usageEvents", _ABSENT)
            if not isinstance(events, list):
                # Read as "no events", it would replace the stored window with nothing.
                raise self._bad_page(start, page, "usageEvents", events, "a list of events")
            for event in events:
                # Whether endDate is inclusive is undocumented; the half-open window is enforced here. Events
                # whose timestamp cannot be read are passed on, for parse_api_event to refuse.
                ts = event_timestamp_ms(event) if isinstance(event, dict) else None
                if ts is None or start_ms <= ts < end_ms:
                    yield event
            pagination = payload.get("pagination", {})
            more = pagination.get("hasNextPage", False) if isinstance(pagination, dict) else None
            if not isinstance(more, bool):
                raise self._bad_page(start, page, "pagination.hasNextPage", more, "true or false")
            if not more or not events:
                return
        raise ProviderError(
            f"{self.who}: filtered-usage-events kept reporting more pages after {MAX_PAGES_PER_WINDOW}; stopped."
        )


_ABSENT = object()


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
    """Cents (a float in the API) as exact USD, rounded to the micro-dollar the database stores; None when
    the value is not a finite, non-negative amount the database can hold."""
    if cents is None or isinstance(cents, bool) or not isinstance(cents, int | float | str | Decimal):
        return None
    try:
        # repr: a float's shortest decimal spelling (20.18232), not its binary expansion.
        value = Decimal(cents.strip() if isinstance(cents, str) else repr(cents) if isinstance(cents, float) else cents)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:
        return None
    dollars = value / 100
    if dollars.adjusted() >= MAX_COST_DIGITS:
        return None
    return dollars.quantize(MICRO_DOLLARS, rounding=ROUND_HALF_EVEN)


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
        return event_identity(*self[:7])


def event_identity(
    ts_ms: int,
    email: str,
    raw_model: str,
    input_tokens: int,
    cache_write_tokens: int,
    cache_read_tokens: int,
    output_tokens: int,
) -> str:
    """What an event is, as both the API and the CSV export state it (cost is left out: they disagree)."""
    return f"{ts_ms}|{email}|{raw_model}|{input_tokens}|{cache_write_tokens}|{cache_read_tokens}|{output_tokens}"


class BadEvent(ValueError):
    """An event that is structurally wrong: ``field`` ("" for the event itself) holds ``value`` where
    ``expected`` belongs."""

    def __init__(self, field_name: str, value: Any, expected: str) -> None:
        self.field = field_name
        self.detail = "is missing" if value is _ABSENT else f"is {_shown(value)}, not {expected}"
        super().__init__(f"{field_name or 'the event'} {self.detail}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_api_event(event: Any, email_by_user_id: Callable[[int], str | None]) -> CursorEvent:
    """A :class:`CursorEvent`; raises :class:`BadEvent` for an event that is structurally wrong (a null, a
    wrong type, NaN or Infinity, a negative or fractional count, a number past what its column holds).

    Absent optional fields are what the documented older shapes omit: ``tokenUsage`` (request-based calls),
    ``chargedCents``, ``kind``, ``maxMode``, single token counts (zero). A null in their place is not absent.
    """
    if not isinstance(event, dict):
        raise BadEvent("", event, "an object")
    ts = event_timestamp_ms(event)
    if ts is None or not 0 <= ts <= MAX_TIMESTAMP_MS:
        raise BadEvent("timestamp", event.get("timestamp", _ABSENT), "epoch milliseconds")
    raw_email = event.get("userEmail")
    if raw_email is not None and not isinstance(raw_email, str):
        raise BadEvent("userEmail", raw_email, "an email")
    email = (raw_email or "").strip().lower()
    user_id = event.get("userId")
    if not email and isinstance(user_id, int) and not isinstance(user_id, bool):
        email = email_by_user_id(user_id) or ""
    if not email:
        raise BadEvent("userEmail", raw_email if "userEmail" in event else _ABSENT, "an email (nor a known userId)")
    if len(email) > MAX_TEXT:
        raise BadEvent("userEmail", raw_email, f"an email of at most {MAX_TEXT} characters")
    model = event.get("model", _ABSENT)
    if not isinstance(model, str) or len(model) > MAX_TEXT:
        raise BadEvent("model", model, f"a model name of at most {MAX_TEXT} characters")
    usage = event.get("tokenUsage", {})
    if not isinstance(usage, dict):
        raise BadEvent("tokenUsage", usage, "an object")
    cost = _cents(event, "chargedCents", "chargedCents")
    if cost is None:
        cost = _cents(usage, "totalCents", "tokenUsage.totalCents")
    kind = event.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise BadEvent("kind", kind, "a string")
    max_mode = event.get("maxMode")
    if max_mode is not None and not isinstance(max_mode, bool):
        raise BadEvent("maxMode", max_mode, "true or false")
    return CursorEvent(
        ts_ms=ts,
        email=email,
        raw_model=canonical_model(model),
        input_tokens=_count(usage, "inputTokens"),
        cache_write_tokens=_count(usage, "cacheWriteTokens"),
        cache_read_tokens=_count(usage, "cacheReadTokens"),
        output_tokens=_count(usage, "outputTokens"),
        cost_usd=cost if cost is not None else Decimal(0),
        kind=kind[:64] if kind is not None else None,
        max_mode=max_mode,
    )


def _cents(container: dict[str, Any], key: str, field_name: str) -> Decimal | None:
    """An amount of cents as dollars; None when absent. Present, it must be one the database can hold."""
    if key not in container:
        return None
    value = container[key]
    dollars = cents_to_usd(value)
    if dollars is None:
        raise BadEvent(field_name, value, "a non-negative number of cents under $1,000,000,000,000")
    return dollars


def _count(usage: dict[str, Any], key: str) -> int:
    """A token count: a whole number from 0 to what BIGINT holds (12.0 is 12); an absent count is 0."""
    value = usage.get(key, 0)
    if type(value) is int and 0 <= value <= MAX_BIGINT:
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and 0 <= value <= MAX_BIGINT:
        return int(value)
    raise BadEvent(f"tokenUsage.{key}", value, f"a whole number from 0 to {MAX_BIGINT:,}")


def event_row(event: CursorEvent, *, org_id: str, occurrences: OccurrenceCounter, source: str) -> tuple[Any, ...]:
    """The event's ``usage`` row, in ``storage.writes.USAGE_COLUMNS`` order (the hot path takes tuples).

    ``occurrences`` numbers identical events, so each keeps its own row under a stable ``event_key``.
    """
    return usage_row_of(*event, org_id=org_id, occurrences=occurrences, source=source)


def usage_row_of(
    ts_ms: int,
    email: str,
    raw_model: str,
    input_tokens: int,
    cache_write_tokens: int,
    cache_read_tokens: int,
    output_tokens: int,
    cost_usd: Decimal,
    kind: str | None,
    max_mode: bool | None,
    *,
    org_id: str,
    occurrences: OccurrenceCounter,
    source: str,
) -> tuple[Any, ...]:
    """:func:`event_row` from the event's fields, in :class:`CursorEvent` order, for a caller that has them
    apart (the CSV import, per row of files of millions of rows, builds no event)."""
    identity = event_identity(
        ts_ms, email, raw_model, input_tokens, cache_write_tokens, cache_read_tokens, output_tokens
    )
    return (
        TOOL,
        ms_to_date(ts_ms),
        org_id,
        email,
        "user",
        email,
        raw_model,
        normalize_model_name(raw_model),
        "",
        event_key(identity, occurrences.next(ts_ms, identity)),
        ts_ms,
        kind,
        max_mode,
        input_tokens,
        cache_write_tokens,
        cache_read_tokens,
        output_tokens,
        cost_usd,
        source,
    )
