"""Claude Enterprise Analytics rows -> usage and activity rows (pure functions, no I/O).

Tokens come from the per-user usage report and money from the per-user cost report, both in daily buckets
grouped by model and product. They are summed per abacus grain (day, person, raw model): that joins a
person's usage and cost rows of the same day and model, and also merges two claude.ai accounts that
resolve to the same email, which would otherwise collide on the grain's unique key.

The data is checked before anything is built from it: a row with a missing or non-numeric token count, a
negative figure or an unreadable amount makes the whole day fail with an error naming the day and the
field, because storing a guess would be worse than storing nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from providers.errors import ProviderError
from storage.writes import ActivityRecord, UsageRecord

# The tool is still Claude Code; only where its figures are read from differs.
TOOL = "claude_code"
PRODUCT = "claude_code"
# Enterprise seats are subscriptions; this also keeps these rows apart from Console rows of the same day.
CUSTOMER_TYPE = "subscription"
DELETED_USER_NAME = "Deleted User"
_CENTS_PER_DOLLAR = Decimal(100)
_TOKEN_FIELDS = (
    ("input", ("uncached_input_tokens",)),
    ("cache_write_5m", ("cache_creation", "ephemeral_5m_input_tokens")),
    ("cache_write_1h", ("cache_creation", "ephemeral_1h_input_tokens")),
    ("cache_read", ("cache_read_input_tokens",)),
    ("output", ("output_tokens",)),
)


_MISSING = object()


def _bad(day: date | str, field: str, value: Any, expected: str) -> ProviderError:
    found = "missing" if value is _MISSING else f"{value!r}, not {expected}"
    return ProviderError(f"Claude Enterprise data for {day}: {field} is {found}; nothing was stored for that day.")


def count(value: Any, *, day: date | str, field: str) -> int:
    """A non-negative whole number, or a :class:`ProviderError` naming the day and the field."""
    if isinstance(value, bool) or value is None:
        raise _bad(day, field, value, "a non-negative whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal):
        # JSON may spell a whole number 12.0; NaN, infinities and fractions are not counts.
        try:
            finite = Decimal(value).is_finite() if isinstance(value, float) else value.is_finite()
        except (ValueError, InvalidOperation):
            finite = False
        if not finite or value != int(value):
            raise _bad(day, field, value, "a non-negative whole number")
        number = int(value)
    else:
        raise _bad(day, field, value, "a non-negative whole number")
    if number < 0:
        raise _bad(day, field, value, "a non-negative whole number")
    return number


def cents_to_usd(value: Any, *, day: date | str, field: str = "amount") -> Decimal:
    """An amount in cents (a decimal string such as ``"41280.000000"``, possibly fractional) as exact dollars.

    Binary floats are refused: a decimal string is what the API documents, and a float could not be
    trusted to carry the cents exactly.
    """
    if isinstance(value, str):
        try:
            cents = Decimal(value.strip())
        except InvalidOperation:
            raise _bad(day, field, value, "a decimal string of cents") from None
    elif isinstance(value, Decimal):
        cents = value
    elif isinstance(value, int) and not isinstance(value, bool):
        cents = Decimal(value)
    else:
        raise _bad(day, field, value, "a decimal string of cents")
    if not cents.is_finite() or cents < 0:
        raise _bad(day, field, value, "a non-negative decimal string of cents")
    return cents / _CENTS_PER_DOLLAR


def bucket_day(row: Mapping[str, Any]) -> date:
    """The UTC day of a report row: its bucket's ``starting_at``, which must start a whole-day bucket."""
    raw_start, raw_end = row.get("starting_at"), row.get("ending_at")
    if isinstance(raw_start, str) and isinstance(raw_end, str):
        return _bucket(raw_start, raw_end)  # every row of a bucket carries the same two strings
    return _bucket_uncached(raw_start, raw_end)


@functools.lru_cache(maxsize=1024)
def _bucket(raw_start: str, raw_end: str) -> date:
    return _bucket_uncached(raw_start, raw_end)


def _bucket_uncached(raw_start: Any, raw_end: Any) -> date:
    start, end = _timestamp(raw_start, "starting_at"), _timestamp(raw_end, "ending_at")
    midnight = datetime.combine(start.date(), datetime.min.time(), tzinfo=UTC)
    if start != midnight or end - start != timedelta(days=1):
        # Rows of another bucket width would be stored under the wrong day; refuse them.
        raise _bad(str(raw_start), "the bucket", f"{raw_start}..{raw_end}", "one whole UTC day")
    return start.date()


def _timestamp(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise _bad("an unknown day", field, value, "an RFC 3339 timestamp")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _bad("an unknown day", field, value, "an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise _bad("an unknown day", field, value, "an RFC 3339 timestamp with a UTC offset")
    return parsed.astimezone(UTC)


def rows_by_day(rows: Iterable[Mapping[str, Any]]) -> dict[date, list[Mapping[str, Any]]]:
    """Report rows grouped by their bucket's UTC day (a row whose day cannot be told is an error)."""
    grouped: dict[date, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(bucket_day(row), []).append(row)
    return grouped


@dataclass(frozen=True, slots=True)
class Person:
    actor: str  # what the grain key stores: the email, or the claude.ai user id while nobody is known
    email: str  # "" while unattributed
    user_id: str


def _person(actor: Any, identities: Mapping[str, str], *, day: date | str, field: str = "actor") -> Person:
    """Who a row belongs to: the email it carries, else (a deleted user) the email last seen for its id."""
    if not isinstance(actor, Mapping):
        raise _bad(day, field, actor, "an object")
    user_id = actor.get("user_id") if "user_id" in actor else actor.get("id")
    if not isinstance(user_id, str) or not user_id.strip():
        raise _bad(day, f"{field}.user_id", user_id, "a user id")
    user_id = user_id.strip()
    raw_email = actor.get("email") if "email" in actor else actor.get("email_address")
    if raw_email is not None and not isinstance(raw_email, str):
        raise _bad(day, f"{field}.email", raw_email, "an email or null")
    email = (raw_email or "").strip().lower()
    if email:
        return Person(email, email, user_id)
    # A deleted user comes back with a null email (named "Deleted User"); their earlier rows were stored
    # under the email seen then, which the identity mappings remember.
    known = (identities.get(user_id) or "").strip().lower()
    if known:
        return Person(known, known, user_id)
    return Person(user_id, "", user_id)


def _model(row: Mapping[str, Any], day: date) -> str:
    model = row.get("model")
    if model is None:
        return ""
    if not isinstance(model, str):
        raise _bad(day, "model", model, "a model name or null")
    return model


def _is_claude_code(row: Mapping[str, Any], day: date) -> bool:
    product = row.get("product")
    if product is not None and not isinstance(product, str):
        raise _bad(day, "product", product, "a product name or null")
    return product == PRODUCT


def _field(row: Mapping[str, Any], path: tuple[str, ...], day: date) -> int:
    value: Any = row
    for i, name in enumerate(path):
        # JSON objects are dicts; checking the concrete type is much cheaper than the Mapping ABC.
        if not isinstance(value, dict) or name not in value:
            raise _bad(day, ".".join(path[: i + 1]), _MISSING, "a non-negative whole number")
        value = value[name]
    if type(value) is int and value >= 0:  # the common case, without building the field's name
        return value
    return count(value, day=day, field=".".join(path))


def usage_records(
    usage_rows: Iterable[Mapping[str, Any]],
    cost_rows: Iterable[Mapping[str, Any]],
    *,
    org_id: str,
    identities: Mapping[str, str],
) -> tuple[dict[date, list[UsageRecord]], dict[str, str]]:
    """Usage records per UTC day from the usage and cost reports, and the user id -> email pairs seen.

    Rows of other products are ignored. A cost row without a usage row still counts (tokens zero), and a
    usage row without a cost row costs nothing.
    """
    grain: dict[tuple[date, str, str], dict[str, Any]] = {}
    seen: dict[str, str] = {}

    def slot(day: date, person: Person, model: str) -> dict[str, Any]:
        key = (day, person.actor, model)
        found = grain.get(key)
        if found is None:
            found = grain[key] = {"person": person, "tokens": dict.fromkeys(("input", "cw", "cr", "out"), 0)}
            found["cost"] = Decimal(0)
        return found

    for row in usage_rows:
        day = bucket_day(row)
        if not _is_claude_code(row, day):
            continue
        person = _person(row.get("actor"), identities, day=day)
        if _row_email(row):
            seen[person.user_id] = person.email
        values = {name: _field(row, path, day) for name, path in _TOKEN_FIELDS}
        tokens = slot(day, person, _model(row, day))["tokens"]
        tokens["input"] += values["input"]
        tokens["cw"] += values["cache_write_5m"] + values["cache_write_1h"]
        tokens["cr"] += values["cache_read"]
        tokens["out"] += values["output"]

    for row in cost_rows:
        day = bucket_day(row)
        if not _is_claude_code(row, day):
            continue
        currency = row.get("currency", "USD")
        if currency not in ("USD", None):
            raise _bad(day, "currency", currency, '"USD"')
        person = _person(row.get("actor"), identities, day=day)
        if _row_email(row):
            seen[person.user_id] = person.email
        if "amount" not in row:
            raise _bad(day, "amount", _MISSING, "a decimal string of cents")
        slot(day, person, _model(row, day))["cost"] += cents_to_usd(row["amount"], day=day)

    by_day: dict[date, list[UsageRecord]] = {}
    for (day, actor, model), value in grain.items():
        person, tokens = value["person"], value["tokens"]
        by_day.setdefault(day, []).append(
            UsageRecord(
                tool=TOOL,
                date=day,
                org_id=org_id,
                actor=actor,
                actor_type="user",
                email=person.email,
                raw_model=model,
                customer_type=CUSTOMER_TYPE,
                input_tokens=tokens["input"],
                cache_write_tokens=tokens["cw"],
                cache_read_tokens=tokens["cr"],
                output_tokens=tokens["out"],
                cost_usd=value["cost"],
                source="api",
            )
        )
    return by_day, seen


def _row_email(row: Mapping[str, Any]) -> bool:
    """Whether the row itself names the person (rather than the identities having filled them in)."""
    actor = row.get("actor")
    return isinstance(actor, Mapping) and isinstance(actor.get("email"), str) and bool(actor["email"].strip())


def user_identities(user_rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """user id -> lower-cased email from activity rows that carry both."""
    pairs: dict[str, str] = {}
    for row in user_rows:
        user = row.get("user")
        if not isinstance(user, Mapping):
            continue
        user_id, email = user.get("id"), user.get("email_address")
        if isinstance(user_id, str) and user_id.strip() and isinstance(email, str) and email.strip():
            pairs[user_id.strip()] = email.strip().lower()
    return pairs


def _optional_count(block: Mapping[str, Any], name: str, *, day: date, path: str) -> int:
    """A counter that may be absent or null (null on aggregated rows), as zero; any other non-count is an error."""
    value = block.get(name)
    if value is None:
        return 0
    if type(value) is int and value >= 0:  # the common case, without building the field's name
        return value
    return count(value, day=day, field=f"{path}.{name}")


def _block(parent: Mapping[str, Any], name: str, *, day: date, path: str) -> Mapping[str, Any]:
    value = parent.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(day, f"{path}.{name}".lstrip("."), value, "an object")
    return value


def activity_records(
    user_rows: Iterable[Mapping[str, Any]],
    *,
    day: date,
    org_id: str,
    identities: Mapping[str, str] | None = None,
) -> list[ActivityRecord]:
    """Claude Code activity per person for ``day`` from the per-user activity rows of that day.

    Rows carry no date (the day is the one asked for). Rows without a user are skipped, and so are rows
    with no Claude Code activity at all: the API lists people who only used other products, with zeros.
    Tool names are an open set; every one is kept.
    """
    known = identities or {}
    merged: dict[str, dict[str, Any]] = {}
    for row in user_rows:
        user = row.get("user")
        if not isinstance(user, Mapping):
            continue
        person = _person(user, known, day=day, field="user")
        code = _block(row, "claude_code_metrics", day=day, path="")
        core = _block(code, "core_metrics", day=day, path="claude_code_metrics")
        lines = _block(core, "lines_of_code", day=day, path="claude_code_metrics.core_metrics")
        core_path = "claude_code_metrics.core_metrics"
        figures = {
            "sessions": _optional_count(core, "distinct_session_count", day=day, path=core_path),
            "lines_added": _optional_count(lines, "added_count", day=day, path=f"{core_path}.lines_of_code"),
            "lines_removed": _optional_count(lines, "removed_count", day=day, path=f"{core_path}.lines_of_code"),
            "commits": _optional_count(core, "commit_count", day=day, path=core_path),
            "pull_requests": _optional_count(core, "pull_request_count", day=day, path=core_path),
        }
        actions: dict[str, dict[str, int]] = {}
        for tool_name, counts in _block(code, "tool_actions", day=day, path="claude_code_metrics").items():
            path = f"claude_code_metrics.tool_actions.{tool_name}"
            if not isinstance(counts, Mapping):
                raise _bad(day, path, counts, "an object")
            # This API names the counters accepted_count/rejected_count (the Console report: accepted/rejected).
            accepted = _optional_count(counts, "accepted_count", day=day, path=path)
            rejected = _optional_count(counts, "rejected_count", day=day, path=path)
            actions[str(tool_name)] = {"accepted": accepted, "rejected": rejected}
        if not any(figures.values()) and not any(a["accepted"] or a["rejected"] for a in actions.values()):
            continue
        entry = merged.get(person.actor)
        if entry is None:
            entry = merged[person.actor] = {"person": person, "tool_actions": {}, **dict.fromkeys(figures, 0)}
        for name, value in figures.items():
            entry[name] += value
        for tool_name, a in actions.items():
            total = entry["tool_actions"].setdefault(tool_name, {"accepted": 0, "rejected": 0})
            total["accepted"] += a["accepted"]
            total["rejected"] += a["rejected"]

    records: list[ActivityRecord] = []
    for actor, entry in merged.items():
        person, actions = entry.pop("person"), entry.pop("tool_actions")
        records.append(
            ActivityRecord(
                date=day,
                org_id=org_id,
                actor=actor,
                actor_type="user",
                email=person.email,
                customer_type=CUSTOMER_TYPE,
                tool_accepted=sum(a["accepted"] for a in actions.values()),
                tool_rejected=sum(a["rejected"] for a in actions.values()),
                tool_actions=actions,
                **entry,
            )
        )
    return records
