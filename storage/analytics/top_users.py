"""Who used the most: people ranked by tokens or by cost, with their tool split and favourite model."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.analytics.common import (
    TOTAL_TOKENS,
    D,
    PersonToolSums,
    in_range,
    model_label,
    person_tool_sums,
    share_pct,
    to_decimal,
)
from storage.analytics.overview import (
    NO_SUBSCRIPTION,
    SubscriptionUsage,
    UnattributedUsage,
    in_scope,
    subscription_usage,
    unattributed_usage,
)

RankBy = Literal["tokens", "cost"]


@dataclass(frozen=True, slots=True)
class TopUser:
    rank: int
    email: str
    tokens: int
    cost_usd: Decimal
    tokens_by_tool: dict[str, int]
    cost_by_tool: dict[str, Decimal]
    favourite_model: str
    last_active: date  # the last day with usage inside the period
    share_pct: float  # of everyone's total in the ranking metric


@dataclass(frozen=True, slots=True)
class TopUsers:
    rank_by: RankBy
    users: list[TopUser]
    people: int  # everyone with attributed usage in the period, not just the listed ones
    total_tokens: int  # attributed usage only: the whole the shares refer to
    total_cost_usd: Decimal
    unattributed: UnattributedUsage
    subscription: SubscriptionUsage = NO_SUBSCRIPTION  # people's subscription-seat usage, within the totals


def top_users(
    session: Session,
    start: date,
    end: date,
    *,
    rank_by: RankBy = "tokens",
    tool: str | None = None,
    limit: int = 10,
    seat_tools: Collection[str] | None = None,
    sums: PersonToolSums | None = None,
) -> TopUsers:
    """The ``limit`` people with the most tokens (or cost) in ``start..end``; ties go by the other metric,
    then by email, so the order never depends on the database. ``sums`` as for ``overview``."""
    # The period summed per (tool, person) gives the ranking, the split by tool, everyone's total and the
    # number of people; only the favourite models need the per-model rollup.
    if sums is None or not sums.covers(start, end, tool):
        sums = person_tool_sums(session, start, end, tool)
    totals: dict[str, tuple[int, Decimal, date]] = {}
    by_tool: dict[str, dict[str, int]] = {}
    cost_by_tool: dict[str, dict[str, Decimal]] = {}
    for r in sums.rows:
        if not r.email:
            continue  # unattributed usage is reported beside people, never ranked among them
        by_tool.setdefault(r.email, {})[r.tool] = r.tokens
        cost_by_tool.setdefault(r.email, {})[r.tool] = r.cost_usd
        before = totals.get(r.email)
        totals[r.email] = (
            (r.tokens, r.cost_usd, r.last_day)
            if before is None
            else (before[0] + r.tokens, before[1] + r.cost_usd, max(before[2], r.last_day))
        )
    all_tokens = sum(t for t, _c, _d in totals.values())
    all_cost = sum((c for _t, c, _d in totals.values()), Decimal(0))
    active = len(totals)
    if rank_by == "tokens":
        order = sorted(totals, key=lambda e: (-totals[e][0], -totals[e][1], e))
    else:
        order = sorted(totals, key=lambda e: (-totals[e][1], -totals[e][0], e))
    ranked = [(email, *totals[email]) for email in order[:limit]]
    emails = [row[0] for row in ranked]
    model_scope: list[Any] = [in_range(start, end), *([D.tool == tool] if tool else [])]
    favourites = favourite_models(session, emails, model_scope)
    users = []
    for rank, (email, user_tokens, user_cost, last_active) in enumerate(ranked, start=1):
        user_cost = to_decimal(user_cost)
        share = share_pct(user_tokens, all_tokens) if rank_by == "tokens" else share_pct(user_cost, all_cost)
        users.append(
            TopUser(
                rank=rank,
                email=email,
                tokens=int(user_tokens),
                cost_usd=user_cost,
                tokens_by_tool=dict(sorted(by_tool.get(email, {}).items())),
                cost_by_tool=dict(sorted(cost_by_tool.get(email, {}).items())),
                favourite_model=favourites.get(email, model_label("")),
                last_active=last_active,
                share_pct=share,
            )
        )
    return TopUsers(
        rank_by=rank_by,
        users=users,
        people=active,
        total_tokens=int(all_tokens),
        total_cost_usd=to_decimal(all_cost),
        unattributed=unattributed_usage(session, start, end, tool=tool),
        subscription=subscription_usage(
            session,
            start,
            end,
            tools=in_scope([tool] if tool else sorted({r.tool for r in sums.rows}), seat_tools),
            attributed_only=True,
        ),
    )


def favourite_models(session: Session, emails: list[str], scope: list[Any]) -> dict[str, str]:
    """Each person's model with the most tokens in scope, merged across tools; ties go to the model name
    that sorts first, so the answer is stable."""
    if not emails:
        return {}
    best: dict[str, tuple[int, str]] = {}
    rows = session.execute(
        select(D.email, D.model, func.sum(TOTAL_TOKENS)).where(*scope, D.email.in_(emails)).group_by(D.email, D.model)
    )
    for email, model, tokens in rows:
        candidate = (-int(tokens), model_label(model))
        if email not in best or candidate < best[email]:
            best[email] = candidate
    return {email: model for email, (_, model) in best.items()}
