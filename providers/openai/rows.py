"""OpenAI usage and cost buckets -> usage rows and daily reported costs (pure functions, no I/O).

Tokens are stored the way every other tool stores them, so totals mean the same thing across tools:
``input_tokens`` is input neither read from nor written to the cache, ``cache_read_tokens`` the cached input,
``cache_write_tokens`` input written to the cache, ``output_tokens`` the output (reasoning included). OpenAI's
own ``input_tokens`` already includes the cached and cache-write tokens; adding it to the cached count would
count them twice.

Results are summed per abacus grain (day, person, raw model): usage is asked grouped by key too (the key is
what names usage without a person), so one person's two keys arrive as two results of the same grain.

A day is checked whole before anything is built from it: a missing or non-numeric count, a negative one, a
bucket that is not one whole UTC day or an unreadable amount fails that day with a message naming the day and
the field, because storing a guess would be worse than storing nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from providers.errors import ProviderError
from providers.openai.pricing import price
from storage.writes import UsageRecord

TOOL = "openai"
# Usage with neither a person nor a key (a grouping the API did not fill in) is kept under this actor.
NO_ACTOR = "(no user or key)"
MAX_BIGINT = 2**63 - 1
MAX_TEXT = 255
MAX_COST = Decimal(10) ** 12  # what NUMERIC(18,6) holds
_MICRO = Decimal("0.000001")
_MISSING = object()


def _shown(value: Any) -> str:
    text = "missing" if value is _MISSING else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def bad(day: date | str, field_name: str, value: Any, expected: str) -> ProviderError:
    found = "missing" if value is _MISSING else f"{_shown(value)}, not {expected}"
    return ProviderError(f"OpenAI data for {day}: {field_name} is {found}; nothing was stored for that day.")


def bucket_day(bucket: Any, what: str = "bucket") -> date:
    """The UTC day a bucket covers; anything but one whole UTC day is refused (it would be stored wrongly)."""
    if not isinstance(bucket, dict):
        raise bad("an unknown day", what, bucket, "an object")
    start, end = bucket.get("start_time", _MISSING), bucket.get("end_time", _MISSING)
    for name, value in (("start_time", start), ("end_time", end)):
        if type(value) is not int or not 0 <= value < 2**40:
            raise bad("an unknown day", f"{what}.{name}", value, "a time in Unix seconds")
    assert isinstance(start, int) and isinstance(end, int)
    begins = datetime.fromtimestamp(start, UTC)
    if begins.hour or begins.minute or begins.second or end - start != 86_400:
        raise bad(begins.date(), f"{what} {start}..{end}", f"{start}..{end}", "one whole UTC day")
    return begins.date()


def _count(result: Mapping[str, Any], name: str, day: date, where: str, *, required: bool) -> int:
    value = result.get(name, _MISSING)
    if value is _MISSING and not required:
        return 0
    if type(value) is int and 0 <= value <= MAX_BIGINT:
        return value
    if isinstance(value, float | Decimal) and not isinstance(value, bool):
        finite = math.isfinite(value) if isinstance(value, float) else value.is_finite()
        if finite and value == int(value) and 0 <= value <= MAX_BIGINT:
            return int(value)
    raise bad(day, f"{where}.{name}", value, f"a whole number from 0 to {MAX_BIGINT:,}")


def _text(result: Mapping[str, Any], name: str, day: date, where: str) -> str | None:
    value = result.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise bad(day, f"{where}.{name}", value, f"a string of at most {MAX_TEXT} characters, or null")
    return value.strip() or None


@dataclass(slots=True)
class DayUsage:
    """One day's rows, and what a reader of its cost needs to know."""

    records: list[UsageRecord] = field(default_factory=list)
    results: int = 0  # results the API returned for the day
    unpriced_models: set[str] = field(default_factory=set)  # models the price table does not know
    unpriced_tokens: int = 0  # their tokens, stored with no cost
    unmapped_keys: set[str] = field(default_factory=set)  # api key ids with usage and no person
    unknown_users: set[str] = field(default_factory=set)  # user ids no email is known for


@dataclass(frozen=True, slots=True)
class _Who:
    actor: str
    actor_type: str  # user | api_key | other
    email: str


def _who(
    result: Mapping[str, Any],
    day: date,
    where: str,
    emails: Mapping[str, str],
    keys: Mapping[str, str],
    out: DayUsage,
) -> _Who:
    user_id = _text(result, "user_id", day, where)
    if user_id:
        email = emails.get(user_id, "")
        if email:
            return _Who(email, "user", email)
        out.unknown_users.add(user_id)
        return _Who(user_id, "user", "")
    key_id = _text(result, "api_key_id", day, where)
    if key_id:
        # Service-account keys (and keys whose owner left) have no user: usage stays with the key until an
        # admin maps it to a person, as with Claude Code's API keys.
        email = keys.get(key_id, "")
        if not email:
            out.unmapped_keys.add(key_id)
        return _Who(key_id, "api_key", email)
    return _Who(NO_ACTOR, "other", "")


def usage_by_day(
    buckets: Iterable[Any],
    *,
    org_id: str,
    emails: Mapping[str, str],
    keys: Mapping[str, str],
) -> dict[date, DayUsage]:
    """Usage rows per UTC day. ``emails``: user id -> email; ``keys``: api key id -> the email it is mapped to.

    Raises :class:`ProviderError` naming the first bad day and field; the caller decides what a bad day costs.
    """
    days: dict[date, DayUsage] = {}
    for bucket in buckets:
        day = bucket_day(bucket)
        out = days.setdefault(day, DayUsage())
        results = bucket.get("results", _MISSING)
        if not isinstance(results, list):
            raise bad(day, "results", results, "a list")
        grain: dict[tuple[str, str], list[Any]] = {}
        for number, result in enumerate(results, start=1):
            where = f"result {number}"
            if not isinstance(result, dict):
                raise bad(day, where, result, "an object")
            who = _who(result, day, where, emails, keys, out)
            model = _text(result, "model", day, where) or ""
            total_input = _count(result, "input_tokens", day, where, required=True)
            cached = _count(result, "input_cached_tokens", day, where, required=False)
            written = _count(result, "input_cache_write_tokens", day, where, required=False)
            output = _count(result, "output_tokens", day, where, required=True)
            if "input_uncached_tokens" in result:
                uncached = _count(result, "input_uncached_tokens", day, where, required=True)
            else:  # the older shape: derive it from the total
                uncached = total_input - cached - written
            if uncached < 0 or uncached + cached + written != total_input:
                raise bad(
                    day,
                    f"{where}.input_tokens",
                    total_input,
                    f"the sum of uncached ({uncached}), cached ({cached}) and cache-write ({written}) input",
                )
            slot = grain.setdefault((who.actor, model), [who, 0, 0, 0, 0])
            slot[1] += uncached
            slot[2] += written
            slot[3] += cached
            slot[4] += output
            out.results += 1
        for (actor, model), (who, uncached, written, cached, output) in grain.items():
            if max(uncached, written, cached, output) > MAX_BIGINT:
                raise bad(day, f"{actor}'s {model or 'unnamed model'} tokens", "summed", "at most 2^63 - 1")
            cost = price(
                model,
                day,
                uncached=uncached,
                cache_read=cached,
                cache_write=written,
                output=output,
            )
            if cost is not None and cost >= MAX_COST:
                raise bad(day, f"{actor}'s {model or 'unnamed model'} cost", cost, "under $1,000,000,000,000")
            if cost is None:
                out.unpriced_models.add(model or "(no model)")
                out.unpriced_tokens += uncached + written + cached + output
            out.records.append(
                UsageRecord(
                    tool=TOOL,
                    date=day,
                    org_id=org_id,
                    actor=actor,
                    actor_type=who.actor_type,
                    email=who.email,
                    raw_model=model,
                    input_tokens=uncached,
                    cache_write_tokens=written,
                    cache_read_tokens=cached,
                    output_tokens=output,
                    cost_usd=cost if cost is not None else Decimal(0),
                )
            )
    return days


def dollars(value: Any, *, day: date, where: str) -> Decimal:
    """``amount.value``: dollars (not cents) as a JSON number, read as Decimal; kept to the micro-dollar."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise bad(day, where, value, "an amount in dollars")
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError):
        raise bad(day, where, value, "an amount in dollars") from None
    # Credits and refunds can make a line negative; only an amount the column cannot hold is refused.
    if not amount.is_finite() or abs(amount) >= MAX_COST:
        raise bad(day, where, value, "an amount in dollars under $1,000,000,000,000")
    return amount.quantize(_MICRO)


def costs_by_day(buckets: Iterable[Any]) -> dict[date, Decimal]:
    """The organisation's reported cost per UTC day (every line item and project summed)."""
    days: dict[date, Decimal] = {}
    for bucket in buckets:
        day = bucket_day(bucket, "cost bucket")
        total = days.setdefault(day, Decimal(0))
        results = bucket.get("results", _MISSING)
        if not isinstance(results, list):
            raise bad(day, "cost results", results, "a list")
        for number, result in enumerate(results, start=1):
            where = f"cost result {number}"
            amount = result.get("amount", _MISSING) if isinstance(result, dict) else _MISSING
            if not isinstance(amount, dict):
                raise bad(day, f"{where}.amount", amount, "an object")
            currency = amount.get("currency", "usd")
            if not isinstance(currency, str) or currency.lower() != "usd":
                raise bad(day, f"{where}.amount.currency", currency, '"usd"')
            total += dollars(amount.get("value", _MISSING), day=day, where=f"{where}.amount.value")
        days[day] = total
    return days


def user_emails(users: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """user id -> lower-cased email, from the organisation's users list (ids are opaque: user- and user_)."""
    pairs: dict[str, str] = {}
    for user in users:
        user_id, email = user.get("id"), user.get("email")
        if isinstance(user_id, str) and user_id.strip() and isinstance(email, str) and "@" in email:
            pairs[user_id.strip()] = email.strip().lower()[:MAX_TEXT]
    return pairs


def days_between(start: date, end: date) -> list[date]:
    """The UTC days ``[start, end)``."""
    return [start + timedelta(days=i) for i in range((end - start).days)]
