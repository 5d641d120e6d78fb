"""The overview of a period: totals, averages, tool split, the change against the previous period."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from storage.analytics.common import (
    P,
    PersonToolSums,
    calendar_days,
    in_range,
    percent_change,
    person_tool_sums,
    previous_period,
    share_pct,
    sum_cost,
    sum_of,
    to_decimal,
    total_tokens_of,
)
from storage.models import Usage as U

SUBSCRIPTION = "subscription"  # usage.customer_type of subscription seats (Claude Enterprise, Team, Max)


@dataclass(frozen=True, slots=True)
class PeriodTotals:
    """Everything summed over one period. Tokens and cost include unattributed usage (it is real spend);
    ``active_users`` counts people only, so per-person averages use ``attributed_*`` figures."""

    start: date
    end: date
    input_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    output_tokens: int
    cost_usd: Decimal
    active_users: int
    attributed_tokens: int
    attributed_cost_usd: Decimal

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens + self.output_tokens

    @property
    def billable_tokens(self) -> int:
        """Input + output: the view that cache reads do not swamp (W11)."""
        return self.input_tokens + self.output_tokens

    @property
    def cache_hit_ratio(self) -> float:
        """Share of prompt tokens served from the cache, 0..1."""
        prompt = self.input_tokens + self.cache_write_tokens + self.cache_read_tokens
        return self.cache_read_tokens / prompt if prompt else 0.0

    @property
    def days(self) -> int:
        return calendar_days(self.start, self.end)

    @property
    def avg_tokens_per_day(self) -> int:
        """Per calendar day of the period (a quiet weekend counts), as the original dashboard."""
        return round(self.total_tokens / self.days)

    @property
    def avg_tokens_per_user(self) -> int:
        return round(self.attributed_tokens / self.active_users) if self.active_users else 0

    @property
    def avg_cost_per_user(self) -> Decimal:
        return (self.attributed_cost_usd / self.active_users) if self.active_users else Decimal(0)


@dataclass(frozen=True, slots=True)
class ToolSplit:
    tool: str
    tokens: int
    cost_usd: Decimal
    users: int
    token_pct: float  # of all tokens in the period
    user_pct: float  # of active people; the tools can add up to more than 100% (people use both)


@dataclass(frozen=True, slots=True)
class UnattributedUsage:
    """Usage of API keys not mapped to anyone yet: reported beside people, never ranked among them."""

    tokens: int
    cost_usd: Decimal
    keys: int
    # The same identities counted per tool (an API key of Claude Code, a login of GitHub Copilot).
    keys_by_tool: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SubscriptionUsage:
    """Usage on subscription seats (``customer_type = subscription``, e.g. Claude Enterprise seats): paid by
    the seat, so its cost is a list-price value of the usage, not a bill. Part of every total it falls in."""

    tokens: int
    cost_usd: Decimal


NO_SUBSCRIPTION = SubscriptionUsage(0, Decimal(0))


def subscription_usage(
    session: Session,
    start: date,
    end: date,
    *,
    tools: Collection[str],
    email: str | None = None,
    attributed_only: bool = False,
) -> SubscriptionUsage:
    """Subscription-seat usage of ``tools`` in ``start..end`` (optionally one person's, or people's only).

    Read from ``usage`` (the rollup has no customer type), by its (tool, date) key prefix: Claude Code rows are
    one per (org, day, actor, model, customer type), so this stays small."""
    if not tools:
        return NO_SUBSCRIPTION
    stmt = select(
        func.coalesce(func.sum(U.input_tokens + U.cache_write_tokens + U.cache_read_tokens + U.output_tokens), 0),
        func.coalesce(func.sum(U.cost_usd), 0),
    ).where(U.tool.in_(sorted(tools)), U.date.between(start, end), U.customer_type == SUBSCRIPTION)
    if email is not None:
        stmt = stmt.where(U.email == email)
    elif attributed_only:
        stmt = stmt.where(U.email != "")
    tokens, cost = session.execute(stmt).one()
    return SubscriptionUsage(int(tokens), to_decimal(cost))


def in_scope(present: Collection[str], seat_tools: Collection[str] | None) -> list[str]:
    """The tools a subscription split reads: those with usage, narrowed to ``seat_tools`` when given."""
    return sorted(t for t in present if seat_tools is None or t in seat_tools)


@dataclass(frozen=True, slots=True)
class Changes:
    """Percent change against the previous period; None when hidden (under 3%) or not comparable."""

    total_tokens: float | None
    cost_usd: float | None
    active_users: float | None
    avg_tokens_per_day: float | None


@dataclass(frozen=True, slots=True)
class Overview:
    current: PeriodTotals
    previous: PeriodTotals
    changes: Changes
    tools: list[ToolSplit]
    unattributed: UnattributedUsage
    subscription: SubscriptionUsage = NO_SUBSCRIPTION  # part of ``current``'s totals


@dataclass(frozen=True, slots=True)
class _ToolSums:
    tool: str
    input_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    output_tokens: int
    cost_usd: Decimal
    users: int
    attributed_tokens: int
    attributed_cost_usd: Decimal

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens + self.output_tokens


def _tool_sums(
    session: Session, start: date, end: date, tool: str | None, sums: PersonToolSums | None = None
) -> tuple[list[_ToolSums], int]:
    """The period's sums per tool, the attributed part and the people, added up from the period summed per
    (tool, person) (``sums`` when it covers this period, else one scan)."""
    if sums is None or not sums.covers(start, end, tool):
        sums = person_tool_sums(session, start, end, tool)
    per_tool: dict[str, list[Any]] = {}
    everyone: set[str] = set()
    for r in sums.rows:
        row = per_tool.setdefault(r.tool, [0, 0, 0, 0, Decimal(0), 0, 0, Decimal(0)])
        row[0] += r.input_tokens
        row[1] += r.cache_write_tokens
        row[2] += r.cache_read_tokens
        row[3] += r.output_tokens
        row[4] += r.cost_usd
        if r.email:  # attributed: a person (unmapped API keys are summed under the empty email)
            row[5] += 1
            row[6] += r.tokens
            row[7] += r.cost_usd
            everyone.add(r.email)
    # People who use both tools count once overall, so the total is not the sum of the per-tool counts.
    return [_ToolSums(name, *row) for name, row in per_tool.items()], len(everyone)


def _totals(start: date, end: date, per_tool: list[_ToolSums], active_users: int) -> PeriodTotals:
    return PeriodTotals(
        start=start,
        end=end,
        input_tokens=sum(t.input_tokens for t in per_tool),
        cache_write_tokens=sum(t.cache_write_tokens for t in per_tool),
        cache_read_tokens=sum(t.cache_read_tokens for t in per_tool),
        output_tokens=sum(t.output_tokens for t in per_tool),
        cost_usd=sum((t.cost_usd for t in per_tool), Decimal(0)),
        active_users=active_users,
        attributed_tokens=sum(t.attributed_tokens for t in per_tool),
        attributed_cost_usd=sum((t.attributed_cost_usd for t in per_tool), Decimal(0)),
    )


def period_totals(session: Session, start: date, end: date, *, tool: str | None = None) -> PeriodTotals:
    return _totals(start, end, *_tool_sums(session, start, end, tool))


def overview(
    session: Session,
    start: date,
    end: date,
    *,
    tool: str | None = None,
    seat_tools: Collection[str] | None = None,
    sums: PersonToolSums | None = None,
) -> Overview:
    """The numbers of the dashboard cards for ``start..end`` (inclusive UTC days). ``seat_tools``: the tools
    whose usage can be on subscription seats (None: every tool with usage; each is read from ``usage``).
    ``sums`` (from :func:`person_tool_sums` for the same period and tool) saves the scan when the caller has
    it already."""
    per_tool, active_users = _tool_sums(session, start, end, tool, sums)
    current = _totals(start, end, per_tool, active_users)
    prev_start, prev_end = previous_period(start, end)
    previous = period_totals(session, prev_start, prev_end, tool=tool)
    tools = [
        ToolSplit(
            tool=t.tool,
            tokens=t.tokens,
            cost_usd=t.cost_usd,
            users=t.users,
            token_pct=share_pct(t.tokens, current.total_tokens),
            user_pct=share_pct(t.users, current.active_users),
        )
        for t in per_tool
    ]
    return Overview(
        current=current,
        previous=previous,
        changes=Changes(
            total_tokens=percent_change(current.total_tokens, previous.total_tokens),
            cost_usd=percent_change(current.cost_usd, previous.cost_usd),
            active_users=percent_change(current.active_users, previous.active_users),
            avg_tokens_per_day=percent_change(current.avg_tokens_per_day, previous.avg_tokens_per_day),
        ),
        tools=sorted(tools, key=lambda r: (-r.tokens, r.tool)),
        unattributed=unattributed_usage(session, start, end, tool=tool),
        subscription=subscription_usage(session, start, end, tools=in_scope([t.tool for t in per_tool], seat_tools)),
    )


def unattributed_usage(session: Session, start: date, end: date, *, tool: str | None = None) -> UnattributedUsage:
    stmt = select(
        sum_of(total_tokens_of(P)), sum_cost(P), func.count(distinct(P.tool + ":" + P.org_id + ":" + P.actor))
    ).where(in_range(start, end, P), P.email == "")
    if tool:
        stmt = stmt.where(P.tool == tool)
    tokens, cost, keys = session.execute(stmt).one()
    by_tool: dict[str, int] = {}
    if keys:
        per_tool = select(P.tool, func.count(distinct(P.org_id + ":" + P.actor))).where(
            in_range(start, end, P), P.email == ""
        )
        if tool:
            per_tool = per_tool.where(P.tool == tool)
        by_tool = {str(t): int(n) for t, n in session.execute(per_tool.group_by(P.tool))}
    return UnattributedUsage(tokens=int(tokens), cost_usd=to_decimal(cost), keys=int(keys), keys_by_tool=by_tool)
