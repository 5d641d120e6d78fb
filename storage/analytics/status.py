"""Sync health per provider and org: attempts, successes, how complete the data is, backfill, unmapped keys.

Freshness is judged against each provider's own schedule and data delay: one hourly rule for every
provider would show a provider that syncs every 6 hours, with data a day late, as always behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.analytics.common import D, sum_cost, sum_tokens, to_decimal
from storage.analytics.freshness import FreshnessRule
from storage.models import IdentityMapping, SyncState

Freshness = Literal["never_synced", "up_to_date", "behind"]
BackfillState = Literal["not_started", "in_progress", "complete"]


# (tool, org id) of stored usage -> the sync-state provider name that wrote it.
SourceOf = Callable[[str, str], str]


def tool_is_source(tool: str, _org_id: str) -> str:
    """Where one provider feeds each tool, the provider's state is kept under the tool's name."""
    return tool


# A provider without a rule of its own is judged like a daily one.
FALLBACK_RULE = FreshnessRule(max_complete_day_lag=1, max_success_age=timedelta(hours=25))


@dataclass(frozen=True, slots=True)
class Backfill:
    state: BackfillState
    target: date | None
    reached: date | None  # the oldest day fully processed so far
    days_remaining: int | None
    percent: float | None  # share of the span between the target and the newest complete day done


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    provider: str
    org_id: str
    freshness: Freshness
    failing: bool  # the latest attempt ended in an error newer than the last success
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    forward_watermark: datetime | None
    newest_complete_day: date | None
    newest_data_day: date | None  # the newest day with any usage stored, complete or not
    days_behind: int  # complete days missing against the rule (0 when up to date)
    watermark_age: timedelta | None
    last_error: str | None
    last_error_at: datetime | None
    backfill: Backfill
    notes: tuple[str, ...] = ()  # what the provider itself says about this org's stored data (cost checks)


@dataclass(frozen=True, slots=True)
class UnmappedKey:
    provider: str
    org_id: str
    key: str  # the API key name the provider reported
    tokens: int
    cost_usd: Decimal
    last_seen: date
    mapped_to: str | None  # a mapping exists but the usage is not re-attributed yet


@dataclass(frozen=True, slots=True)
class SyncStatus:
    now: datetime
    providers: list[ProviderStatus]
    unmapped_keys: list[UnmappedKey]  # the heaviest first, at most ``max_keys``
    unmapped_key_count: int
    unmapped_tokens: int
    unmapped_cost_usd: Decimal
    # How many of them each tool has (its identities are named by the tool: API keys, GitHub logins).
    unmapped_by_tool: dict[str, int] = field(default_factory=dict)


def newest_complete_day(watermark: datetime | None) -> date | None:
    """The last UTC day entirely before the watermark: at midnight the day before, and also the day before
    when the watermark is inside a day (Nov 24 06:00 completes Nov 23, not Nov 24)."""
    if watermark is None:
        return None
    return watermark.astimezone(UTC).date() - timedelta(days=1)


def judge(
    rule: FreshnessRule, *, now: datetime, watermark: datetime | None, last_success: datetime | None
) -> Freshness:
    if watermark is None and last_success is None:
        return "never_synced"
    today = now.astimezone(UTC).date()
    checks = []
    if rule.max_complete_day_lag is not None:
        complete = newest_complete_day(watermark)
        checks.append(complete is not None and complete >= today - timedelta(days=rule.max_complete_day_lag))
    if rule.max_success_age is not None:
        checks.append(last_success is not None and now - last_success <= rule.max_success_age)
    if rule.max_watermark_age is not None:
        checks.append(watermark is not None and now - watermark <= rule.max_watermark_age)
    return "up_to_date" if all(checks) else "behind"


def sync_status(
    session: Session,
    *,
    now: datetime,
    provider: str | None = None,
    rules: Mapping[str, FreshnessRule] | None = None,
    source_of: SourceOf = tool_is_source,
    max_keys: int = 50,
) -> SyncStatus:
    """Status of every (provider, org) that has a sync state or stored usage, ordered by provider and org.

    ``provider`` and the keys of ``rules`` are sync-state provider names; ``source_of(tool, org)`` names the
    provider that stored a tool's usage for an org, so stored data and sync states meet under one name.
    """
    states_stmt = select(SyncState)
    data_stmt = select(D.tool, D.org_id, func.max(D.date)).group_by(D.tool, D.org_id)
    if provider:
        states_stmt = states_stmt.where(SyncState.provider == provider)
    states = {(s.provider, s.org_id): s for s in session.scalars(states_stmt)}
    newest_data: dict[tuple[str, str], date] = {}
    for tool, org, day in session.execute(data_stmt):
        key = (source_of(tool, org), org)
        if provider is None or key[0] == provider:
            newest_data[key] = max(day, newest_data.get(key, day))
    rules = rules or {}
    providers = [
        _provider_status(key, states.get(key), newest_data.get(key), now, rules.get(key[0], FALLBACK_RULE))
        for key in sorted(set(states) | set(newest_data))
    ]
    keys, count, tokens, cost, by_tool = _unmapped_keys(session, provider, source_of, max_keys)
    return SyncStatus(now, providers, keys, count, tokens, cost, by_tool)


def freshness_status(
    session: Session,
    *,
    now: datetime,
    tools: Sequence[str],
    rules: Mapping[str, FreshnessRule] | None = None,
    tool_of: Callable[[str], str] = lambda provider: provider,
) -> SyncStatus:
    """What an answer's freshness line needs, cheaply: every sync state, and the newest stored day per tool.

    :func:`sync_status` scans the rollup for the newest day of every (tool, org); this reads one index
    entry per tool instead (the rollup's unique key starts with tool and date), so it costs the same
    whatever the size of the data. ``newest_data_day`` is the tool's, for every org of it; no unmapped keys.
    """
    newest = {tool: session.scalar(select(func.max(D.date)).where(D.tool == tool)) for tool in tools}
    states = {(s.provider, s.org_id): s for s in session.scalars(select(SyncState))}
    rules = rules or {}
    providers = [
        _provider_status(key, state, newest.get(tool_of(key[0])), now, rules.get(key[0], FALLBACK_RULE))
        for key, state in sorted(states.items())
    ]
    stateless = [t for t, day in newest.items() if day is not None and t not in {tool_of(p) for p, _ in states}]
    providers += [_provider_status((t, ""), None, newest[t], now, rules.get(t, FALLBACK_RULE)) for t in stateless]
    return SyncStatus(now, providers, [], 0, 0, Decimal(0))


def _provider_status(
    key: tuple[str, str], state: SyncState | None, newest_data: date | None, now: datetime, rule: FreshnessRule
) -> ProviderStatus:
    watermark = state.forward_watermark if state else None
    last_success = state.last_success_at if state else None
    complete = newest_complete_day(watermark)
    freshness = judge(rule, now=now, watermark=watermark, last_success=last_success)
    days_behind = 0
    if freshness == "behind" and complete is not None:
        allowed = now.astimezone(UTC).date() - timedelta(days=rule.max_complete_day_lag or 0)
        days_behind = max(0, (allowed - complete).days)
    failing = bool(
        state
        and state.last_error_at is not None
        and (state.last_success_at is None or state.last_error_at > state.last_success_at)
    )
    return ProviderStatus(
        provider=key[0],
        org_id=key[1],
        freshness=freshness,
        failing=failing,
        last_attempt_at=state.last_attempt_at if state else None,
        last_success_at=last_success,
        forward_watermark=watermark,
        newest_complete_day=complete,
        newest_data_day=newest_data,
        days_behind=days_behind,
        watermark_age=(now - watermark) if watermark else None,
        last_error=state.last_error if state else None,
        last_error_at=state.last_error_at if state else None,
        backfill=_backfill(state, complete),
    )


def _backfill(state: SyncState | None, newest_complete: date | None) -> Backfill:
    if state is None:
        return Backfill("not_started", None, None, None, None)
    target = state.backfill_target
    reached = state.backfill_cursor.astimezone(UTC).date() if state.backfill_cursor else None
    if state.backfill_complete:
        return Backfill("complete", target, reached, 0, 100.0)
    if reached is None:
        return Backfill("not_started", target, None, None, None)
    remaining = max(0, (reached - target).days) if target else None
    percent = None
    if target and newest_complete and newest_complete > target:
        done = (newest_complete - reached).days
        percent = round(max(0.0, min(100.0, done / (newest_complete - target).days * 100)), 1)
    return Backfill("in_progress", target, reached, remaining, percent)


def _unmapped_keys(
    session: Session, provider: str | None, source_of: SourceOf, max_keys: int
) -> tuple[list[UnmappedKey], int, int, Decimal, dict[str, int]]:
    tokens = sum_tokens()
    stmt = select(D.tool, D.org_id, D.actor, tokens, sum_cost(), func.max(D.date)).where(D.email == "")
    rows = list(session.execute(stmt.group_by(D.tool, D.org_id, D.actor)).all())
    if provider:
        rows = [r for r in rows if source_of(r[0], r[1]) == provider]
    rows.sort(key=lambda r: (-int(r[3]), r[0], r[1], r[2]))
    shown = rows[:max_keys]
    mappings = select(IdentityMapping).where(IdentityMapping.external_id.in_([r[2] for r in shown]))
    mapped = {(m.org_id, m.external_id): m.email for m in session.scalars(mappings)}
    keys = [
        UnmappedKey(tool, org, actor, int(t), to_decimal(c), last, mapped.get((org, actor)))
        for tool, org, actor, t, c, last in shown
    ]
    total_cost = sum((to_decimal(r[4]) for r in rows), Decimal(0))
    by_tool: dict[str, int] = {}
    for r in rows:
        by_tool[r[0]] = by_tool.get(r[0], 0) + 1
    return keys, len(rows), sum(int(r[3]) for r in rows), total_cost, by_tool
