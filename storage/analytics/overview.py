"""The overview of a period: totals, averages, tool split, the change against the previous period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from storage.analytics.common import (
    TOTAL_TOKENS,
    D,
    calendar_days,
    in_range,
    percent_change,
    previous_period,
    share_pct,
    sum_cost,
    sum_of,
    to_decimal,
    when,
)


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


def period_totals(session: Session, start: date, end: date, *, tool: str | None = None) -> PeriodTotals:
    attributed = D.email != ""
    stmt = select(
        sum_of(D.input_tokens),
        sum_of(D.cache_write_tokens),
        sum_of(D.cache_read_tokens),
        sum_of(D.output_tokens),
        sum_cost(),
        func.count(distinct(func.nullif(D.email, ""))),
        sum_of(when(attributed, TOTAL_TOKENS)),
        sum_of(when(attributed, D.cost_usd)),
    ).where(in_range(start, end))
    if tool:
        stmt = stmt.where(D.tool == tool)
    inp, cw, cr, out, cost, users, att_tokens, att_cost = session.execute(stmt).one()
    return PeriodTotals(
        start=start,
        end=end,
        input_tokens=int(inp),
        cache_write_tokens=int(cw),
        cache_read_tokens=int(cr),
        output_tokens=int(out),
        cost_usd=to_decimal(cost),
        active_users=int(users),
        attributed_tokens=int(att_tokens),
        attributed_cost_usd=to_decimal(att_cost),
    )


def overview(session: Session, start: date, end: date, *, tool: str | None = None) -> Overview:
    """The numbers of the dashboard cards for ``start..end`` (inclusive UTC days)."""
    current = period_totals(session, start, end, tool=tool)
    prev_start, prev_end = previous_period(start, end)
    previous = period_totals(session, prev_start, prev_end, tool=tool)
    return Overview(
        current=current,
        previous=previous,
        changes=Changes(
            total_tokens=percent_change(current.total_tokens, previous.total_tokens),
            cost_usd=percent_change(current.cost_usd, previous.cost_usd),
            active_users=percent_change(current.active_users, previous.active_users),
            avg_tokens_per_day=percent_change(current.avg_tokens_per_day, previous.avg_tokens_per_day),
        ),
        tools=tool_split(session, start, end, current, tool=tool),
        unattributed=unattributed_usage(session, start, end, tool=tool),
    )


def tool_split(
    session: Session, start: date, end: date, totals: PeriodTotals, *, tool: str | None = None
) -> list[ToolSplit]:
    stmt = (
        select(D.tool, sum_of(TOTAL_TOKENS), sum_cost(), func.count(distinct(func.nullif(D.email, ""))))
        .where(in_range(start, end))
        .group_by(D.tool)
    )
    if tool:
        stmt = stmt.where(D.tool == tool)
    rows = [
        ToolSplit(
            tool=name,
            tokens=int(tokens),
            cost_usd=to_decimal(cost),
            users=int(users),
            token_pct=share_pct(tokens, totals.total_tokens),
            user_pct=share_pct(users, totals.active_users),
        )
        for name, tokens, cost, users in session.execute(stmt)
    ]
    return sorted(rows, key=lambda r: (-r.tokens, r.tool))


def unattributed_usage(session: Session, start: date, end: date, *, tool: str | None = None) -> UnattributedUsage:
    stmt = select(
        sum_of(TOTAL_TOKENS), sum_cost(), func.count(distinct(D.tool + ":" + D.org_id + ":" + D.actor))
    ).where(in_range(start, end), D.email == "")
    if tool:
        stmt = stmt.where(D.tool == tool)
    tokens, cost, keys = session.execute(stmt).one()
    return UnattributedUsage(tokens=int(tokens), cost_usd=to_decimal(cost), keys=int(keys))
