"""Copilot usage report records -> usage rows and activity rows (pure functions, no I/O).

One record is one user's day. Copilot bills in **AI credits** (1 credit = $0.01 at list price) and reports
**no tokens**, except for Copilot CLI (prompt and output token sums, without a model or cache split). So a
user's day becomes one usage row whose cost is ``ai_credits_used`` x $0.01 and whose tokens are only the CLI's
real counts: nothing is invented from request or suggestion counts. What Copilot does report richly is
activity (prompts, generated and accepted suggestions, lines, per-model counts), which becomes one activity
row per user and day.

Every record is checked before anything is built from it: a record that is not an object, of another day,
without a login, or with a count that is negative, fractional, not a number or past what its column holds
fails the whole day with a message naming the day and the field, because storing a guess would be worse
than storing nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from providers.errors import ProviderError
from storage.copilot_activity import CopilotActivityRecord
from storage.writes import UsageRecord

TOOL = "copilot"
# Credits carry no model (the per-model breakdowns are activity counts), so every row has this one.
RAW_MODEL = "copilot"
# A GitHub login: an identity that is not an email, mappable to a person like an API key name.
ACTOR_TYPE = "login"
USD_PER_CREDIT = Decimal("0.01")
_MICRO = Decimal("0.000001")
_MAX_BIGINT = 2**63 - 1
_MAX_COST = Decimal(10) ** 12
_MAX_TEXT = 255
_MISSING = object()
# Top-level activity counters: record field -> activity column.
_COUNTERS = (
    ("user_initiated_interaction_count", "interactions"),
    ("code_generation_activity_count", "code_generations"),
    ("code_acceptance_activity_count", "code_acceptances"),
    ("loc_suggested_to_add_sum", "lines_suggested_added"),
    ("loc_suggested_to_delete_sum", "lines_suggested_deleted"),
    ("loc_added_sum", "lines_added"),
    ("loc_deleted_sum", "lines_deleted"),
)
_FLAGS = ("used_chat", "used_agent", "used_cli", "used_copilot_code_review_active", "used_copilot_code_review_passive")
_MODEL_COUNTERS = (
    ("user_initiated_interaction_count", "interactions"),
    ("code_generation_activity_count", "code_generations"),
    ("code_acceptance_activity_count", "code_acceptances"),
)


def _bad(day: date, field: str, value: Any, expected: str) -> ProviderError:
    found = "missing" if value is _MISSING else f"{_short(value)}, not {expected}"
    return ProviderError(f"Copilot report of {day}: {field} is {found}; nothing was stored for that day.")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def count(value: Any, *, day: date, field: str, absent_ok: bool = True) -> int:
    """A non-negative whole number that fits a 64-bit column; absent is 0 where allowed, null never is."""
    if value is _MISSING and absent_ok:
        return 0
    if isinstance(value, bool) or value is None or value is _MISSING:
        raise _bad(day, field, value, "a non-negative whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal | float):
        try:
            whole = Decimal(value).is_finite() and value == int(value)
        except (ValueError, InvalidOperation, OverflowError):
            whole = False
        if not whole:
            raise _bad(day, field, value, "a non-negative whole number")
        number = int(value)
    else:
        raise _bad(day, field, value, "a non-negative whole number")
    if number < 0 or number > _MAX_BIGINT:
        raise _bad(day, field, value, "a non-negative whole number that fits 64 bits")
    return number


def credits(value: Any, *, day: date, field: str = "ai_credits_used") -> Decimal:
    """AI credits (fractional): absent before GitHub added the field, so absent is 0; null is not."""
    if value is _MISSING:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise _bad(day, field, value, "a non-negative number of credits")
    amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite() or amount < 0 or amount * USD_PER_CREDIT >= _MAX_COST:
        raise _bad(day, field, value, "a non-negative number of credits")
    return amount


def _get(record: Mapping[str, Any], key: str) -> Any:
    return record.get(key, _MISSING)


@dataclass(slots=True)
class UserDay:
    """One person's day, summed over every record of theirs in the report (an enterprise report may hold
    one per organisation)."""

    login: str
    user_id: int
    credits: Decimal = Decimal(0)
    cli_input_tokens: int = 0
    cli_output_tokens: int = 0
    cli_sessions: int = 0
    cli_requests: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    models: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def cost_usd(self) -> Decimal:
        return (self.credits * USD_PER_CREDIT).quantize(_MICRO, rounding=ROUND_HALF_EVEN)


def _login(record: Mapping[str, Any], day: date, where: str) -> str:
    login = _get(record, "user_login")
    if not isinstance(login, str) or not login.strip():
        raise _bad(day, f"user_login of {where}", login, "a GitHub login")
    login = login.strip()
    if len(login) > _MAX_TEXT or any(ch in login for ch in "\x00\r\n"):
        raise _bad(day, f"user_login of {where}", login, "a GitHub login")
    return login.lower()


def parse_day(records: Iterable[Any], day: date) -> dict[str, UserDay]:
    """Every record of one day's report, checked and summed per login (lower case, as GitHub compares them)."""
    users: dict[str, UserDay] = {}
    for position, record in enumerate(records, start=1):
        where = f"record {position}"
        if not isinstance(record, dict):
            raise _bad(day, where, record, "an object")
        named = _get(record, "day")
        if named != day.isoformat():
            raise _bad(day, f"day of {where}", named, f"{day}")
        login = _login(record, day, where)
        user_id = count(_get(record, "user_id"), day=day, field=f"user_id of {login}", absent_ok=False)
        user = users.setdefault(login, UserDay(login, user_id))
        if user.user_id != user_id:
            raise _bad(day, f"user_id of {login}", user_id, f"{user.user_id}, the id of its other record")
        user.credits += credits(_get(record, "ai_credits_used"), day=day, field=f"ai_credits_used of {login}")
        for source, column in _COUNTERS:
            value = count(_get(record, source), day=day, field=f"{source} of {login}")
            user.counters[column] = _add(user.counters.get(column, 0), value, day, f"{source} of {login}")
        user.flags |= {flag for flag in _FLAGS if record.get(flag) is True}
        _cli(user, _get(record, "totals_by_cli"), day)
        _models(user, _get(record, "totals_by_model_feature"), day)
        if user.cost_usd >= _MAX_COST:
            raise _bad(day, f"ai_credits_used of {login}", user.credits, "a total below $10^12")
    return users


def _add(a: int, b: int, day: date, field: str) -> int:
    if a + b > _MAX_BIGINT:
        raise _bad(day, field, a + b, "a sum that fits 64 bits")
    return a + b


def _cli(user: UserDay, cli: Any, day: date) -> None:
    """Copilot CLI's counts: the only token counts Copilot reports (omitted on days without CLI use)."""
    if cli is _MISSING:
        return
    where = f"totals_by_cli of {user.login}"
    if not isinstance(cli, dict):
        raise _bad(day, where, cli, "an object")
    user.cli_sessions = _add(user.cli_sessions, count(_get(cli, "session_count"), day=day, field=where), day, where)
    user.cli_requests = _add(user.cli_requests, count(_get(cli, "request_count"), day=day, field=where), day, where)
    tokens = _get(cli, "token_usage")
    if tokens is _MISSING:
        return
    if not isinstance(tokens, dict):
        raise _bad(day, f"{where}.token_usage", tokens, "an object")
    prompt = count(_get(tokens, "prompt_tokens_sum"), day=day, field=f"{where}.token_usage.prompt_tokens_sum")
    output = count(_get(tokens, "output_tokens_sum"), day=day, field=f"{where}.token_usage.output_tokens_sum")
    user.cli_input_tokens = _add(user.cli_input_tokens, prompt, day, where)
    user.cli_output_tokens = _add(user.cli_output_tokens, output, day, where)
    if user.cli_input_tokens + user.cli_output_tokens > _MAX_BIGINT:
        raise _bad(day, where, user.cli_input_tokens + user.cli_output_tokens, "a total that fits 64 bits")


def _models(user: UserDay, breakdown: Any, day: date) -> None:
    """Per-model activity counts (chat and agent only, never tokens), summed over features."""
    if breakdown is _MISSING:
        return
    where = f"totals_by_model_feature of {user.login}"
    if not isinstance(breakdown, list):
        raise _bad(day, where, breakdown, "a list")
    for entry in breakdown:
        if not isinstance(entry, dict):
            raise _bad(day, where, entry, "an object")
        model = entry.get("model")
        if not isinstance(model, str) or not model.strip() or len(model) > _MAX_TEXT:
            raise _bad(day, f"{where}: model", model, "a model name")
        into = user.models.setdefault(model.strip(), {})
        for source, column in _MODEL_COUNTERS:
            value = count(_get(entry, source), day=day, field=f"{where}: {source} of {model}")
            into[column] = _add(into.get(column, 0), value, day, where)


def usage_records(
    users: Mapping[str, UserDay], *, day: date, org_id: str, identities: Mapping[str, str]
) -> list[UsageRecord]:
    """One usage row per person: the credits' list value as cost, and only Copilot CLI's real token counts.

    ``identities`` maps lower-case logins to emails; a login nobody is mapped to is kept with an empty email
    (unattributed, listed by ``abacus mappings``), never dropped.
    """
    return [
        UsageRecord(
            tool=TOOL,
            date=day,
            actor=user.login,
            org_id=org_id,
            actor_type=ACTOR_TYPE,
            email=identities.get(user.login, ""),
            raw_model=RAW_MODEL,
            input_tokens=user.cli_input_tokens,
            output_tokens=user.cli_output_tokens,
            cost_usd=user.cost_usd,
        )
        for user in users.values()
    ]


def activity_records(
    users: Mapping[str, UserDay], *, day: date, org_id: str, identities: Mapping[str, str]
) -> list[CopilotActivityRecord]:
    return [
        CopilotActivityRecord(
            date=day,
            org_id=org_id,
            actor=user.login,
            email=identities.get(user.login, ""),
            user_id=user.user_id,
            credits=user.credits,
            cli_sessions=user.cli_sessions,
            cli_requests=user.cli_requests,
            features=",".join(sorted(flag.removeprefix("used_") for flag in user.flags)),
            models={name: dict(counts) for name, counts in sorted(user.models.items())},
            **user.counters,
        )
        for user in users.values()
    ]


def seat_emails(seats: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Lower-case login -> email from the seats list, where GitHub gives an email (usually it does not)."""
    found: dict[str, str] = {}
    for seat in seats:
        assignee = seat.get("assignee")
        if not isinstance(assignee, dict):
            continue
        login, email = assignee.get("login"), assignee.get("email")
        if isinstance(login, str) and isinstance(email, str) and "@" in email and len(email) <= _MAX_TEXT:
            found[login.strip().lower()] = email.strip().lower()
    return found
