"""Usage of a set of people (a team): its totals, top people and models, and teams ranked by cost.

Every query reads the daily rollup filtered by the team's emails. A person can be in several teams, so
team rankings are summed per person once and folded into teams in Python, never joined row by row.

The privacy floor lives here too: a team with fewer active people than ``min_people`` in the period is
reported as counts only (how many members, how many active), because a small team's total is close to
one person's spend. The floor counts *active* people, not members: a ten-person team with one active
person would otherwise show that one person's cost.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import median
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.analytics.common import (
    D,
    P,
    PersonRollup,
    in_range,
    model_label,
    percent_change,
    previous_period,
    share_pct,
    sum_cost,
    sum_tokens,
    to_decimal,
)


@dataclass(frozen=True, slots=True)
class PersonSpend:
    email: str
    cost_usd: Decimal
    tokens: int


@dataclass(frozen=True, slots=True)
class ModelSpend:
    model: str
    tokens: int
    cost_usd: Decimal
    token_pct: float  # of the team's tokens


@dataclass(frozen=True, slots=True)
class TeamUsage:
    """One team over one period. When ``counts_only`` the money, token, people and model figures are
    left empty: only ``members`` and ``active_people`` may be shown."""

    members: int
    active_people: int
    counts_only: bool
    cost_usd: Decimal
    tokens: int
    previous_cost_usd: Decimal
    cost_change_pct: float | None
    cost_by_tool: dict[str, Decimal]
    top_people: list[PersonSpend]
    models: list[ModelSpend]


@dataclass(frozen=True, slots=True)
class TeamRank:
    rank: int
    name: str
    members: int
    active_people: int
    cost_usd: Decimal
    tokens: int
    share_pct: float  # of the company's cost (or tokens) in the period, unattributed usage included
    change_pct: float | None  # of the ranking's measure against the previous period
    cost_per_person: Decimal  # per active person
    tokens_per_person: int


@dataclass(frozen=True, slots=True)
class SmallTeam:
    name: str
    members: int
    active_people: int


@dataclass(frozen=True, slots=True)
class TeamRanking:
    rank_by: Literal["cost", "tokens"]
    teams: list[TeamRank]
    small: list[SmallTeam]  # below the privacy floor: counts only, never ranked
    min_people: int
    # Everyone's usage in the period (the overview's totals, unattributed included): what shares are of.
    company_cost_usd: Decimal = Decimal(0)
    company_tokens: int = 0


def _scope(emails: Collection[str], start: date, end: date, tool: str | None, t: PersonRollup = D) -> list[Any]:
    scope: list[Any] = [in_range(start, end, t), t.email.in_(sorted(emails))]
    if tool:
        scope.append(t.tool == tool)
    return scope


def _per_person(
    session: Session, emails: Collection[str], start: date, end: date, tool: str | None
) -> dict[str, PersonSpend]:
    if not emails:
        return {}
    rows = session.execute(
        select(P.email, sum_cost(P), sum_tokens(P)).where(*_scope(emails, start, end, tool, P)).group_by(P.email)
    )
    return {email: PersonSpend(email, to_decimal(cost), int(tokens)) for email, cost, tokens in rows}


def team_usage(
    session: Session,
    emails: Collection[str],
    start: date,
    end: date,
    *,
    min_people: int,
    tool: str | None = None,
    top: int = 5,
) -> TeamUsage:
    """The team's figures for ``start..end``; its top ``top`` people by cost (ties by email)."""
    people = _per_person(session, emails, start, end, tool)
    active = len(people)
    if active < min_people:
        return TeamUsage(len(emails), active, True, Decimal(0), 0, Decimal(0), None, {}, [], [])
    cost = sum((p.cost_usd for p in people.values()), Decimal(0))
    tokens = sum(p.tokens for p in people.values())
    prev_start, prev_end = previous_period(start, end)
    previous = sum((p.cost_usd for p in _per_person(session, emails, prev_start, prev_end, tool).values()), Decimal(0))
    by_tool = {
        row_tool: to_decimal(row_cost)
        for row_tool, row_cost in session.execute(
            select(P.tool, sum_cost(P)).where(*_scope(emails, start, end, tool, P)).group_by(P.tool).order_by(P.tool)
        )
    }
    model_tokens: dict[str, tuple[int, Decimal]] = {}
    for model, row_tokens, row_cost in session.execute(
        select(D.model, sum_tokens(), sum_cost()).where(*_scope(emails, start, end, tool)).group_by(D.model)
    ):
        name = model_label(model)
        old_tokens, old_cost = model_tokens.get(name, (0, Decimal(0)))
        model_tokens[name] = (old_tokens + int(row_tokens), old_cost + to_decimal(row_cost))
    models = sorted(
        (ModelSpend(m, t, c, share_pct(t, tokens)) for m, (t, c) in model_tokens.items()),
        key=lambda m: (-m.tokens, m.model),
    )
    ranked = sorted(people.values(), key=lambda p: (-p.cost_usd, -p.tokens, p.email))
    return TeamUsage(
        members=len(emails),
        active_people=active,
        counts_only=False,
        cost_usd=cost,
        tokens=tokens,
        previous_cost_usd=previous,
        cost_change_pct=percent_change(cost, previous),
        cost_by_tool=by_tool,
        top_people=ranked[:top],
        models=models[:5],
    )


def rank_teams(
    session: Session,
    teams: Mapping[str, Collection[str]],
    start: date,
    end: date,
    *,
    min_people: int,
    tool: str | None = None,
    rank_by: Literal["cost", "tokens"] = "cost",
) -> TeamRanking:
    """Teams by cost (or tokens) in ``start..end``, ties by the other measure, then name. Shares are of the
    company's total in the period (everyone's usage, unattributed included), so a team that is half the
    company's spend shows 50% however few teams are ranked; a person in two teams counts in both."""
    everyone = {email for members in teams.values() for email in members}
    current = _per_person(session, everyone, start, end, tool)
    prev_start, prev_end = previous_period(start, end)
    previous = _per_person(session, everyone, prev_start, prev_end, tool)
    by_tokens = rank_by == "tokens"
    rows: list[tuple[str, int, int, Decimal, int, float | None]] = []
    small: list[SmallTeam] = []
    for name, members in sorted(teams.items()):
        spends = [current[e] for e in members if e in current]
        if len(spends) < min_people:
            small.append(SmallTeam(name, len(members), len(spends)))
            continue
        cost = sum((s.cost_usd for s in spends), Decimal(0))
        tokens = sum(s.tokens for s in spends)
        before = [previous[e] for e in members if e in previous]
        if by_tokens:
            change = percent_change(tokens, sum(p.tokens for p in before))
        else:
            change = percent_change(cost, sum((p.cost_usd for p in before), Decimal(0)))
        rows.append((name, len(members), len(spends), cost, tokens, change))
    if by_tokens:
        rows.sort(key=lambda r: (-r[4], -r[3], r[0]))
    else:
        rows.sort(key=lambda r: (-r[3], -r[4], r[0]))
    company = [in_range(start, end), *([D.tool == tool] if tool else [])]
    company_tokens, company_cost = session.execute(select(sum_tokens(), sum_cost()).where(*company)).one()
    whole_cost, whole_tokens = to_decimal(company_cost), int(company_tokens)
    ranked = [
        TeamRank(
            rank=i,
            name=name,
            members=members,
            active_people=active,
            cost_usd=cost,
            tokens=tokens,
            share_pct=share_pct(tokens, whole_tokens) if by_tokens else share_pct(cost, whole_cost),
            change_pct=change,
            cost_per_person=cost / active,
            tokens_per_person=tokens // active,
        )
        for i, (name, members, active, cost, tokens, change) in enumerate(rows, start=1)
    ]
    return TeamRanking(rank_by, ranked, small, min_people, whole_cost, whole_tokens)


@dataclass(frozen=True, slots=True)
class TeamSpike:
    name: str
    cost_usd: Decimal
    usual_usd: Decimal  # the median of the team's active days in the history window
    ratio: float


def team_spikes(
    session: Session,
    teams: Mapping[str, Collection[str]],
    day: date,
    *,
    factor: float,
    floor_usd: Decimal,
    min_people: int,
    history_days: int = 28,
    min_active_days: int = 3,
) -> list[TeamSpike]:
    """Teams whose ``day`` cost more than ``factor`` times their usual day and more than ``floor_usd``;
    largest ratio first. Usual is the median of the team's active days before (zero days left out, as for
    people); a team with fewer than ``min_people`` active that day is never named (the privacy floor)."""
    everyone = {email for members in teams.values() for email in members}
    if not everyone:
        return []
    daily: dict[str, dict[date, Decimal]] = {}
    rows = session.execute(
        select(P.email, P.date, sum_cost(P))
        .where(in_range(day - timedelta(days=history_days), day, P), P.email.in_(sorted(everyone)))
        .group_by(P.email, P.date)
    )
    for email, row_day, cost in rows:
        daily.setdefault(email, {})[row_day] = to_decimal(cost)
    found = []
    for name, members in sorted(teams.items()):
        if sum(1 for e in members if daily.get(e, {}).get(day)) < min_people:
            continue
        totals: dict[date, Decimal] = {}
        for email in members:
            for row_day, cost in daily.get(email, {}).items():
                totals[row_day] = totals.get(row_day, Decimal(0)) + cost
        cost = totals.get(day, Decimal(0))
        history = [c for d, c in totals.items() if d < day and c > 0]
        if cost <= floor_usd or len(history) < min_active_days:
            continue
        usual = Decimal(median(history))
        if usual > 0 and cost > usual * Decimal(str(factor)):
            found.append(TeamSpike(name, cost, usual, round(float(cost / usual), 1)))
    return sorted(found, key=lambda s: (-s.ratio, s.name))
