"""Claude Code usage-report records -> usage and activity rows (pure functions, no I/O).

One record is one actor on one UTC day with a per-model token breakdown. Rows are summed per
(org, day, actor, raw model, customer type): several records can share that grain (one person with two
terminals, say), and an overwrite per record would keep only the last one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from providers.errors import ProviderError
from storage.writes import ActivityRecord, UsageRecord

TOOL = "claude_code"
_CENT = Decimal("0.01")
_MICRO = Decimal("0.000001")
# What the columns hold: BIGINT tokens and lines, INTEGER activity counters, NUMERIC(18,6) money (twelve
# digits before the point), VARCHAR(255) actors and models, VARCHAR(32) customer types.
MAX_BIGINT = 2**63 - 1
MAX_INT = 2**31 - 1
MAX_COST_DIGITS = 12
MAX_TEXT = 255
MAX_CUSTOMER_TYPE = 32
_MISSING = object()


@dataclass(slots=True)
class DayRows:
    usage: list[UsageRecord] = field(default_factory=list)
    activity: list[ActivityRecord] = field(default_factory=list)
    unresolved_keys: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Actor:
    id: str  # what the grain key stores: the email, or the API key name
    type: str  # user | api_key | other
    email: str  # the attributed person, or "" while unknown


class _Day:
    """Where in a day's report a value was found, to word a refusal that names the day and the field."""

    def __init__(self, day: date | None) -> None:
        self.day = day
        self.record = 0

    def bad(self, field_name: str, value: Any, expected: str) -> ProviderError:
        """``field_name`` "" means the record itself."""
        found = "missing" if value is _MISSING else f"{_shown(value)}, not {expected}"
        record = f"the {_ordinal(self.record)} record" if self.record else ""
        what = f"{record}'s {field_name}" if record and field_name else record or field_name
        return ProviderError(
            f"Claude Code data for {self.day or 'an unknown day'}: {what} is {found}; nothing was stored for that day."
        )

    def count(self, container: dict[str, Any], key: str, field_name: str, *, limit: int = MAX_BIGINT) -> int:
        """A non-negative whole number no larger than ``limit``; an absent key is 0 (null is not)."""
        value = container.get(key, 0)
        if type(value) is int and 0 <= value <= limit:  # the common case, checked at C speed
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer() and 0 <= value <= limit:
            return int(value)  # JSON may spell a whole number 12.0
        raise self.bad(field_name, value, f"a whole number from 0 to {limit:,}")

    def text(self, container: dict[str, Any], key: str, field_name: str, *, limit: int = MAX_TEXT) -> str | None:
        """A string of at most ``limit`` characters, or None when absent or null."""
        value = container.get(key)
        if value is None or (isinstance(value, str) and len(value) <= limit):
            return value
        raise self.bad(field_name, value, f"a string of at most {limit} characters")

    def mapping(self, container: dict[str, Any], key: str, field_name: str) -> dict[str, Any]:
        """An object; an absent key is an empty one (null is not)."""
        value = container.get(key, _EMPTY)
        if isinstance(value, dict):
            return value
        raise self.bad(field_name, value, "an object")


_EMPTY: dict[str, Any] = {}


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@lru_cache(maxsize=1024)  # every record of a day carries the same date
def _parse_report_date(text: str) -> date:
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def parse_report_date(value: Any) -> date:
    """The report's ``date``: ``2025-09-08`` or ``2025-09-08T00:00:00Z`` (both are documented)."""
    return _parse_report_date(str(value or "").strip())


def _record_day(record: dict[str, Any], where: _Day) -> date:
    value = record.get("date", _MISSING)
    try:
        day = parse_report_date(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        raise where.bad("date", value, "a date such as 2025-09-08")
    if where.day is not None and day != where.day:
        # Stored under its own day, it would escape the day being replaced.
        raise where.bad("date", value, f"the day asked for ({where.day})")
    return day


def cents_to_usd(amount: Any, where: _Day | None = None, field_name: str = "estimated_cost.amount") -> Decimal:
    """``estimated_cost.amount`` is in cents (113 means $1.13), a number; kept exact to the micro-dollar."""
    where = where or _Day(None)
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        raise where.bad(field_name, amount, "a non-negative number of cents")
    try:
        # repr: a float's shortest decimal spelling (113.5), not its binary expansion.
        cents = Decimal(amount.strip() if isinstance(amount, str) else repr(amount))
    except ArithmeticError:
        raise where.bad(field_name, amount, "a non-negative number of cents") from None
    if not cents.is_finite() or cents < 0:
        raise where.bad(field_name, amount, "a non-negative number of cents")
    dollars = cents * _CENT
    if dollars.adjusted() >= MAX_COST_DIGITS:
        raise where.bad(field_name, amount, "an amount the database can store (under $1,000,000,000,000)")
    return dollars.quantize(_MICRO)


def identify_actor(raw: Any, resolve_key: Callable[[str], str], where: _Day | None = None) -> Actor:
    """Who a record belongs to. API keys are resolved through ``resolve_key`` (name -> email or "")."""
    where = where or _Day(None)
    if not isinstance(raw, dict):
        raise where.bad("actor", raw, "an object")
    email = (where.text(raw, "email_address", "actor.email_address") or "").strip().lower()
    if email:
        return Actor(email, "user", email)
    key_name = (where.text(raw, "api_key_name", "actor.api_key_name") or "").strip()
    if key_name:
        return Actor(key_name, "api_key", resolve_key(key_name))
    # An actor type this code does not know yet: keep its usage under whatever id it carries.
    for field_name in ("id", "user_id", "service_account_id", "name"):
        value = raw.get(field_name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = (where.text({field_name: value}, field_name, f"actor.{field_name}") or "").strip()
        if text:
            return Actor(text, "other", "")
    raise where.bad("actor", raw, "an actor with an email_address, api_key_name or id")


def records_to_rows(
    records: Iterable[dict[str, Any]],
    *,
    org_id: str,
    resolve_key: Callable[[str], str],
    day: date | None = None,
) -> DayRows:
    """The rows of one day's report. A record that is structurally wrong (a null, a wrong type, NaN, a
    negative count, a number past what its column holds, a record of another day) raises a
    :class:`ProviderError` naming the day and the field: a day is replaced only by a day that parsed whole."""
    out = DayRows()
    usage: dict[tuple[Any, ...], dict[str, Any]] = {}
    activity: dict[tuple[Any, ...], dict[str, Any]] = {}
    where = _Day(day)
    for number, record in enumerate(records, start=1):
        where.record = number
        if not isinstance(record, dict):
            raise where.bad("", record, "an object")
        actor = identify_actor(record.get("actor"), resolve_key, where)
        if actor.type == "api_key" and not actor.email:
            out.unresolved_keys.add(actor.id)
        record_day = _record_day(record, where)
        # The org id comes from /organizations/me, so every row of a run shares the slice it replaces.
        org = org_id
        customer_type = where.text(record, "customer_type", "customer_type", limit=MAX_CUSTOMER_TYPE) or ""
        breakdown = record.get("model_breakdown", [])
        if not isinstance(breakdown, list):
            raise where.bad("model_breakdown", breakdown, "a list")
        for i, item in enumerate(breakdown):
            at = f"model_breakdown[{i}]"
            if not isinstance(item, dict):
                raise where.bad(at, item, "an object")
            model = item.get("model", _MISSING)
            if not isinstance(model, str) or len(model) > MAX_TEXT:
                raise where.bad(f"{at}.model", model, f"a model name of at most {MAX_TEXT} characters")
            tokens = where.mapping(item, "tokens", f"{at}.tokens")
            key = (record_day, org, actor.id, model, customer_type)
            row = usage.get(key)
            if row is None:  # get first: building the empty row for every item showed in syncs of 5,000 people
                row = usage[key] = {
                    "input": 0,
                    "output": 0,
                    "cache_read": 0,
                    "cache_write": 0,
                    "cost": Decimal(0),
                    "actor": actor,
                }
            row["input"] += where.count(tokens, "input", f"{at}.tokens.input")
            row["output"] += where.count(tokens, "output", f"{at}.tokens.output")
            row["cache_read"] += where.count(tokens, "cache_read", f"{at}.tokens.cache_read")
            row["cache_write"] += where.count(tokens, "cache_creation", f"{at}.tokens.cache_creation")
            if "estimated_cost" in item:
                cost = where.mapping(item, "estimated_cost", f"{at}.estimated_cost")
                row["cost"] += cents_to_usd(cost.get("amount", _MISSING), where, f"{at}.estimated_cost.amount")
        _add_activity(activity, record, record_day, org, actor, customer_type, where)
    where.record = 0
    for (record_day, org, _actor_id, raw_model, customer_type), row in usage.items():
        actor = row["actor"]
        usage_record = UsageRecord(
            tool=TOOL,
            date=record_day,
            org_id=org,
            actor=actor.id,
            actor_type=actor.type,
            email=actor.email,
            raw_model=raw_model,
            customer_type=customer_type,
            input_tokens=row["input"],
            cache_write_tokens=row["cache_write"],
            cache_read_tokens=row["cache_read"],
            output_tokens=row["output"],
            cost_usd=row["cost"],
        )
        summed = (row["input"], row["output"], row["cache_read"], row["cache_write"])
        _check_sums(where, f"{actor.id}'s {raw_model or 'unnamed model'} tokens", summed, row["cost"])
        out.usage.append(usage_record)
    for (record_day, org, _actor_id), a in activity.items():
        actor = a.pop("actor")
        terminals = a.pop("terminals")
        for name in ("sessions", "commits", "pull_requests", "tool_accepted", "tool_rejected"):
            if a[name] > MAX_INT:
                raise where.bad(f"{actor.id}'s summed {name}", a[name], f"at most {MAX_INT:,} (the column's limit)")
        for name in ("lines_added", "lines_removed"):
            if a[name] > MAX_BIGINT:
                raise where.bad(f"{actor.id}'s summed {name}", a[name], f"at most {MAX_BIGINT:,}")
        out.activity.append(
            ActivityRecord(
                date=record_day,
                org_id=org,
                actor=actor.id,
                actor_type=actor.type,
                email=actor.email,
                terminal_types=",".join(sorted(terminals))[:255],
                **a,
            )
        )
    return out


def _check_sums(where: _Day, what: str, tokens: tuple[int, ...], cost: Decimal) -> None:
    """Several records of one grain are summed; the sums must still fit their columns."""
    if max(tokens) > MAX_BIGINT:
        raise where.bad(what, max(tokens), f"at most {MAX_BIGINT:,} once summed")
    if cost.adjusted() >= MAX_COST_DIGITS:
        raise where.bad(f"{what[: -len(' tokens')]} cost", cost, "under $1,000,000,000,000 once summed")


def _add_activity(
    activity: dict[tuple[Any, ...], dict[str, Any]],
    record: dict[str, Any],
    day: date,
    org: str,
    actor: Actor,
    customer_type: str,
    where: _Day,
) -> None:
    key = (day, org, actor.id)
    a = activity.get(key)
    if a is None:
        a = activity[key] = {
            "actor": actor,
            "terminals": set(),
            "customer_type": customer_type,
            "sessions": 0,
            "lines_added": 0,
            "lines_removed": 0,
            "commits": 0,
            "pull_requests": 0,
            "tool_accepted": 0,
            "tool_rejected": 0,
            "tool_actions": {},
        }
    core = where.mapping(record, "core_metrics", "core_metrics")
    lines = where.mapping(core, "lines_of_code", "core_metrics.lines_of_code")
    a["sessions"] += where.count(core, "num_sessions", "core_metrics.num_sessions", limit=MAX_INT)
    a["lines_added"] += where.count(lines, "added", "core_metrics.lines_of_code.added")
    a["lines_removed"] += where.count(lines, "removed", "core_metrics.lines_of_code.removed")
    a["commits"] += where.count(core, "commits_by_claude_code", "core_metrics.commits_by_claude_code", limit=MAX_INT)
    a["pull_requests"] += where.count(
        core, "pull_requests_by_claude_code", "core_metrics.pull_requests_by_claude_code", limit=MAX_INT
    )
    terminal = where.text(record, "terminal_type", "terminal_type")
    if terminal:
        a["terminals"].add(terminal)
    actions = where.mapping(record, "tool_actions", "tool_actions")
    for tool_name, counts in actions.items():
        if not isinstance(counts, dict):
            raise where.bad(f"tool_actions.{tool_name}", counts, "an object")
        accepted = where.count(counts, "accepted", f"tool_actions.{tool_name}.accepted", limit=MAX_INT)
        rejected = where.count(counts, "rejected", f"tool_actions.{tool_name}.rejected", limit=MAX_INT)
        slot = a["tool_actions"].setdefault(str(tool_name), {"accepted": 0, "rejected": 0})
        slot["accepted"] += accepted
        slot["rejected"] += rejected
        a["tool_accepted"] += accepted
        a["tool_rejected"] += rejected
