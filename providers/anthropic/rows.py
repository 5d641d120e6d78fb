"""Claude Code usage-report records -> usage and activity rows (pure functions, no I/O).

One record is one actor on one UTC day with a per-model token breakdown. Rows are summed per
(org, day, actor, raw model, customer type): several records can share that grain (one person with two
terminals, say), and an overwrite per record would keep only the last one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from storage.writes import ActivityRecord, UsageRecord

TOOL = "claude_code"
_CENT = Decimal("0.01")


@dataclass(slots=True)
class DayRows:
    usage: list[UsageRecord] = field(default_factory=list)
    activity: list[ActivityRecord] = field(default_factory=list)
    unresolved_keys: set[str] = field(default_factory=set)
    skipped: int = 0  # records with no identifiable actor


@dataclass(frozen=True, slots=True)
class Actor:
    id: str  # what the grain key stores: the email, or the API key name
    type: str  # user | api_key | other
    email: str  # the attributed person, or "" while unknown


@lru_cache(maxsize=1024)  # every record of a day carries the same date
def _parse_report_date(text: str) -> date:
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def parse_report_date(value: Any) -> date:
    """The report's ``date``: ``2025-09-08`` or ``2025-09-08T00:00:00Z`` (both are documented)."""
    return _parse_report_date(str(value or "").strip())


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def cents_to_usd(amount: Any) -> Decimal:
    """``estimated_cost.amount`` is in cents (113 means $1.13); keep it exact."""
    try:
        return (Decimal(str(amount or 0)) * _CENT).quantize(Decimal("0.000001"))
    except ArithmeticError:
        return Decimal(0)


def identify_actor(raw: Any, resolve_key: Callable[[str], str]) -> Actor | None:
    """Who a record belongs to. API keys are resolved through ``resolve_key`` (name -> email or "")."""
    if not isinstance(raw, dict):
        return None
    email = str(raw.get("email_address") or "").strip().lower()
    if email:
        return Actor(email, "user", email)
    key_name = str(raw.get("api_key_name") or "").strip()
    if key_name:
        return Actor(key_name, "api_key", resolve_key(key_name))
    # An actor type this code does not know yet: keep its usage under whatever id it carries.
    for field_name in ("id", "user_id", "service_account_id", "name"):
        value = str(raw.get(field_name) or "").strip()
        if value:
            return Actor(value, "other", "")
    return None


def records_to_rows(records: Iterable[dict[str, Any]], *, org_id: str, resolve_key: Callable[[str], str]) -> DayRows:
    out = DayRows()
    usage: dict[tuple[Any, ...], dict[str, Any]] = {}
    activity: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        actor = identify_actor(record.get("actor"), resolve_key)
        if actor is None:
            out.skipped += 1
            continue
        if actor.type == "api_key" and not actor.email:
            out.unresolved_keys.add(actor.id)
        day = parse_report_date(record.get("date"))
        # The org id comes from /organizations/me, so every row of a run shares the slice it replaces.
        org = org_id
        customer_type = str(record.get("customer_type") or "")
        for item in record.get("model_breakdown") or []:
            if not isinstance(item, dict):
                continue
            tokens = item.get("tokens") or {}
            key = (day, org, actor.id, str(item.get("model") or ""), customer_type)
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
            row["input"] += _int(tokens.get("input"))
            row["output"] += _int(tokens.get("output"))
            row["cache_read"] += _int(tokens.get("cache_read"))
            row["cache_write"] += _int(tokens.get("cache_creation"))
            row["cost"] += cents_to_usd((item.get("estimated_cost") or {}).get("amount"))
        _add_activity(activity, record, day, org, actor, customer_type)
    for (day, org, _actor_id, raw_model, customer_type), row in usage.items():
        actor = row["actor"]
        out.usage.append(
            UsageRecord(
                tool=TOOL,
                date=day,
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
        )
    for (day, org, _actor_id), a in activity.items():
        actor = a.pop("actor")
        terminals = a.pop("terminals")
        out.activity.append(
            ActivityRecord(
                date=day,
                org_id=org,
                actor=actor.id,
                actor_type=actor.type,
                email=actor.email,
                terminal_types=",".join(sorted(terminals))[:255],
                **a,
            )
        )
    return out


def _add_activity(
    activity: dict[tuple[Any, ...], dict[str, Any]],
    record: dict[str, Any],
    day: date,
    org: str,
    actor: Actor,
    customer_type: str,
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
    core = record.get("core_metrics") or {}
    lines = core.get("lines_of_code") or {}
    a["sessions"] += _int(core.get("num_sessions"))
    a["lines_added"] += _int(lines.get("added"))
    a["lines_removed"] += _int(lines.get("removed"))
    a["commits"] += _int(core.get("commits_by_claude_code"))
    a["pull_requests"] += _int(core.get("pull_requests_by_claude_code"))
    if record.get("terminal_type"):
        a["terminals"].add(str(record["terminal_type"]))
    actions = record.get("tool_actions") or {}
    if isinstance(actions, dict):
        for tool_name, counts in actions.items():
            if not isinstance(counts, dict):
                continue
            accepted, rejected = _int(counts.get("accepted")), _int(counts.get("rejected"))
            slot = a["tool_actions"].setdefault(str(tool_name), {"accepted": 0, "rejected": 0})
            slot["accepted"] += accepted
            slot["rejected"] += rejected
            a["tool_accepted"] += accepted
            a["tool_rejected"] += rejected
