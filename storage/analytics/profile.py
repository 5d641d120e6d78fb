"""One person's usage: the period, every day of it, models, lifetime, standing and Claude Code activity."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from storage.analytics.common import (
    P,
    escape_like,
    in_range,
    percent_change,
    previous_period,
    sum_cost,
    sum_of,
    sum_tokens,
    to_decimal,
    total_tokens_of,
)
from storage.analytics.models_breakdown import ModelBreakdown, model_breakdown
from storage.analytics.percentile import Percentile, user_percentile
from storage.analytics.projection import DayTotals
from storage.analytics.trends import daily_totals, known_tools, last_data_dates, missing_days
from storage.models import ClaudeCodeActivity


@dataclass(frozen=True, slots=True)
class UserSummary:
    tokens: int
    input_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    output_tokens: int
    cost_usd: Decimal
    tokens_by_tool: dict[str, int]
    active_days: int
    first_active: date | None
    last_active: date | None

    @property
    def avg_tokens_per_active_day(self) -> int:
        """Per *active* day: the personal view; the team overview averages per calendar day."""
        return round(self.tokens / self.active_days) if self.active_days else 0

    @property
    def avg_cost_per_active_day(self) -> Decimal:
        return self.cost_usd / self.active_days if self.active_days else Decimal(0)


@dataclass(frozen=True, slots=True)
class Lifetime:
    first_day: date | None
    tokens: int
    cost_usd: Decimal
    favourite_tool: str | None
    record_day: date | None
    record_day_tokens: int


@dataclass(frozen=True, slots=True)
class Activity:
    """Claude Code's own figures beside tokens."""

    sessions: int
    lines_added: int
    lines_removed: int
    commits: int
    pull_requests: int
    tool_accepted: int
    tool_rejected: int

    @property
    def accept_rate(self) -> float | None:
        """Accepted share of suggested tool actions (edits, writes...), in percent, one decimal."""
        decided = self.tool_accepted + self.tool_rejected
        return round(self.tool_accepted / decided * 100, 1) if decided else None


@dataclass(frozen=True, slots=True)
class UserProfile:
    email: str
    start: date
    end: date
    summary: UserSummary
    previous_tokens: int
    previous_cost_usd: Decimal
    tokens_change: float | None
    cost_change: float | None
    daily: list[DayTotals]  # every calendar day of the period, zeros included
    models: ModelBreakdown
    lifetime: Lifetime
    percentile: Percentile
    activity: Activity


def find_person(session: Session, query: str) -> str | None:
    """The stored email for ``query``: an email (any letter case) or a bare username (``dana`` finds
    ``dana@example.com``; the alphabetically first if several domains match). None if nobody matches."""
    text = query.strip().lower()
    if not text:
        return None
    # Emails are stored lower-case (every write lower-cases them), so an email is found by equality on the
    # email index instead of lower-casing every row. A bare username is a prefix match: LIKE, which is right
    # under every collation and walks PostgreSQL's pattern index; SQLite's LIKE ignores case and so never
    # uses an index, hence the range too (exact there: SQLite compares text byte by byte).
    if "@" in text:
        return session.scalar(select(P.email).where(P.email == text).limit(1))
    start = text + "@"
    condition: list[Any] = [P.email.like(escape_like(text) + "@%", escape="\\")]
    if session.get_bind().dialect.name == "sqlite":
        condition += [P.email >= start, P.email < start + "\U0010ffff"]
    # The matching emails (a handful), not ORDER BY email LIMIT 1: PostgreSQL would walk the whole email
    # index in order to avoid a sort, filtering every row before the name's place in the alphabet.
    found = session.scalars(select(P.email).where(*condition).distinct()).all()
    return min(found) if found else None


def user_profile(
    session: Session,
    email: str,
    start: date,
    end: date,
    *,
    tool: str | None = None,
    seat_tools: Collection[str] | None = None,
) -> UserProfile:
    """The profile of ``email`` (as stored; see ``find_person``) for ``start..end``. A person with no usage
    in the period still gets a profile, with zeros and their lifetime figures (the original answered 404).

    ``tool`` narrows the period figures (summary, comparison, days, models); the lifetime, the percentile
    and the Claude Code activity always cover the person's whole usage."""
    summary = _summary(session, email, start, end, tool)
    prev_start, prev_end = previous_period(start, end)
    prev_tokens, prev_cost = session.execute(
        select(sum_tokens(P), sum_cost(P)).where(*_scope(email, prev_start, prev_end, tool))
    ).one()
    prev_cost = to_decimal(prev_cost)
    return UserProfile(
        email=email,
        start=start,
        end=end,
        summary=summary,
        previous_tokens=int(prev_tokens),
        previous_cost_usd=prev_cost,
        tokens_change=percent_change(summary.tokens, int(prev_tokens)),
        cost_change=percent_change(summary.cost_usd, prev_cost),
        daily=_with_missing(session, daily_totals(session, start, end, email=email, tool=tool), start, end, tool),
        models=model_breakdown(session, start, end, email=email, tool=tool, seat_tools=seat_tools),
        lifetime=_lifetime(session, email),
        percentile=user_percentile(session, email, start, end),
        activity=_activity(session, email, start, end),
    )


def _scope(email: str, start: date, end: date, tool: str | None) -> list[Any]:
    scope: list[Any] = [P.email == email, in_range(start, end, P)]
    if tool:
        scope.append(P.tool == tool)
    return scope


def _summary(session: Session, email: str, start: date, end: date, tool: str | None) -> UserSummary:
    scope = _scope(email, start, end, tool)
    inp, cw, cr, out, cost, days, first, last = session.execute(
        select(
            sum_of(P.input_tokens),
            sum_of(P.cache_write_tokens),
            sum_of(P.cache_read_tokens),
            sum_of(P.output_tokens),
            sum_cost(P),
            func.count(distinct(P.date)),
            func.min(P.date),
            func.max(P.date),
        ).where(*scope)
    ).one()
    by_tool = {
        tool: int(tokens)
        for tool, tokens in session.execute(
            select(P.tool, sum_tokens(P)).where(*scope).group_by(P.tool).order_by(P.tool)
        )
    }
    return UserSummary(
        tokens=int(inp) + int(cw) + int(cr) + int(out),
        input_tokens=int(inp),
        cache_write_tokens=int(cw),
        cache_read_tokens=int(cr),
        output_tokens=int(out),
        cost_usd=to_decimal(cost),
        tokens_by_tool=by_tool,
        active_days=int(days),
        first_active=first,
        last_active=last,
    )


def _with_missing(session: Session, days: list[DayTotals], start: date, end: date, tool: str | None) -> list[DayTotals]:
    """The days marked with the tools that have no data at all on them (a gap, or before their first data), so
    the personal chart shades them rather than drawing a day off."""
    tools = [tool] if tool else known_tools(session)
    missing = missing_days(session, start, end, tools, last_data_dates(session, tools))
    return [replace(d, missing=missing[d.date]) if d.date in missing else d for d in days]


def _lifetime(session: Session, email: str) -> Lifetime:
    tokens, cost, first = session.execute(
        select(sum_tokens(P), sum_cost(P), func.min(P.date)).where(P.email == email)
    ).one()
    tokens_per_tool = sum_tokens(P)
    favourite = session.execute(
        select(P.tool, tokens_per_tool)
        .where(P.email == email)
        .group_by(P.tool)
        .order_by(tokens_per_tool.desc(), P.tool)
        .limit(1)
    ).first()
    day_tokens = func.sum(total_tokens_of(P))
    record = session.execute(
        select(P.date, day_tokens).where(P.email == email).group_by(P.date).order_by(day_tokens.desc(), P.date).limit(1)
    ).first()
    return Lifetime(
        first_day=first,
        tokens=int(tokens),
        cost_usd=to_decimal(cost),
        favourite_tool=favourite[0] if favourite else None,
        record_day=record[0] if record else None,
        record_day_tokens=int(record[1]) if record else 0,
    )


def _activity(session: Session, email: str, start: date, end: date) -> Activity:
    a = ClaudeCodeActivity
    row = session.execute(
        select(
            sum_of(a.sessions),
            sum_of(a.lines_added),
            sum_of(a.lines_removed),
            sum_of(a.commits),
            sum_of(a.pull_requests),
            sum_of(a.tool_accepted),
            sum_of(a.tool_rejected),
        ).where(a.email == email, a.date.between(start, end))
    ).one()
    return Activity(*(int(v) for v in row))
