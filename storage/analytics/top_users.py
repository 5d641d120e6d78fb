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
    count_all_people,
    in_range,
    model_label,
    share_pct,
    sum_cost,
    sum_tokens,
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
) -> TopUsers:
    """The ``limit`` people with the most tokens (or cost) in ``start..end``; ties go by the other metric,
    then by email, so the order never depends on the database."""
    scope: list[Any] = [in_range(start, end), D.email != ""]
    if tool:
        scope.append(D.tool == tool)
    tokens, cost = sum_tokens(), sum_cost()
    order = [tokens.desc(), cost.desc()] if rank_by == "tokens" else [cost.desc(), tokens.desc()]
    ranked = session.execute(
        select(D.email, tokens, cost, func.max(D.date))
        .where(*scope)
        .group_by(D.email)
        .order_by(*order, D.email)
        .limit(limit)
    ).all()
    all_tokens, all_cost = session.execute(select(sum_tokens(), sum_cost()).where(*scope)).one()
    active = count_all_people(session, scope)
    emails = [row[0] for row in ranked]
    by_tool, cost_by_tool = _split_by_tool(session, emails, scope)
    favourites = favourite_models(session, emails, scope)
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
                tokens_by_tool=by_tool.get(email, {}),
                cost_by_tool=cost_by_tool.get(email, {}),
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
            tools=in_scope([tool] if tool else _tools(session, scope), seat_tools),
            attributed_only=True,
        ),
    )


def _tools(session: Session, scope: list[Any]) -> list[str]:
    return list(session.scalars(select(D.tool).where(*scope).distinct()))


def _split_by_tool(
    session: Session, emails: list[str], scope: list[Any]
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, Decimal]]]:
    tokens: dict[str, dict[str, int]] = {}
    costs: dict[str, dict[str, Decimal]] = {}
    if not emails:
        return tokens, costs
    rows = session.execute(
        select(D.email, D.tool, sum_tokens(), sum_cost())
        .where(*scope, D.email.in_(emails))
        .group_by(D.email, D.tool)
        .order_by(D.email, D.tool)
    )
    for email, tool, tool_tokens, tool_cost in rows:
        tokens.setdefault(email, {})[tool] = int(tool_tokens)
        costs.setdefault(email, {})[tool] = to_decimal(tool_cost)
    return tokens, costs


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
