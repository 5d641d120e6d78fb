"""Which models: tokens and cost per model, merged across tools, with the split per tool."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.analytics.common import D, M, in_range, model_label, share_pct, sum_cost, sum_tokens, to_decimal
from storage.analytics.overview import NO_SUBSCRIPTION, SubscriptionUsage, in_scope, subscription_usage


@dataclass(frozen=True, slots=True)
class ModelUsage:
    model: str
    tokens: int
    cost_usd: Decimal
    token_pct: float  # of all tokens in the period, not of the listed models (W15)
    cost_pct: float
    tokens_by_tool: dict[str, int]
    cost_by_tool: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class ModelBreakdown:
    models: list[ModelUsage]
    total_tokens: int
    total_cost_usd: Decimal
    other_models: int  # models left out by ``limit``; their usage is still in the totals
    subscription: SubscriptionUsage = NO_SUBSCRIPTION  # subscription-seat usage within the totals

    @property
    def top_model(self) -> ModelUsage | None:
        """The model with the most tokens across all tools (the original picked a (model, tool) row)."""
        return self.models[0] if self.models else None


def model_breakdown(
    session: Session,
    start: date,
    end: date,
    *,
    tool: str | None = None,
    email: str | None = None,
    limit: int | None = None,
    seat_tools: Collection[str] | None = None,
    uncounted_tools: Collection[str] = (),
) -> ModelBreakdown:
    """Models by tokens in ``start..end``; optionally for one tool or one person (company-wide from the
    per-model rollup, one person's from ``usage_daily`` through its email index). ``uncounted_tools`` are
    counted in something else than tokens (credits): their cost is in every figure, their tokens in none,
    so token shares mean the same as everywhere else."""
    t = M if email is None else D
    stmt = select(t.model, t.tool, sum_tokens(t), sum_cost(t)).where(in_range(start, end, t)).group_by(t.model, t.tool)
    if tool:
        stmt = stmt.where(t.tool == tool)
    if email is not None:
        stmt = stmt.where(D.email == email)
    tokens: dict[str, dict[str, int]] = {}
    costs: dict[str, dict[str, Decimal]] = {}
    for model, row_tool, row_tokens, row_cost in session.execute(stmt):
        name = model_label(model)
        # Two stored names can map to one label ('' and 'unknown'), so accumulate.
        per_tool = tokens.setdefault(name, {})
        if row_tool not in uncounted_tools:
            per_tool[row_tool] = per_tool.get(row_tool, 0) + int(row_tokens)
        per_cost = costs.setdefault(name, {})
        per_cost[row_tool] = per_cost.get(row_tool, Decimal(0)) + to_decimal(row_cost)
    total_tokens = sum(sum(t.values()) for t in tokens.values())
    total_cost = sum((sum(c.values(), Decimal(0)) for c in costs.values()), Decimal(0))
    models = [
        ModelUsage(
            model=name,
            tokens=sum(tokens[name].values()),
            cost_usd=sum(costs[name].values(), Decimal(0)),
            token_pct=share_pct(sum(tokens[name].values()), total_tokens),
            cost_pct=share_pct(sum(costs[name].values(), Decimal(0)), total_cost),
            tokens_by_tool=dict(sorted(tokens[name].items())),
            cost_by_tool=dict(sorted(costs[name].items())),
        )
        for name in tokens
    ]
    models.sort(key=lambda m: (-m.tokens, -m.cost_usd, m.model))  # a model counted only in credits goes last
    shown = models if limit is None else models[:limit]
    tools = sorted({t for per_tool in costs.values() for t in per_tool})
    return ModelBreakdown(
        models=shown,
        total_tokens=total_tokens,
        total_cost_usd=total_cost,
        other_models=len(models) - len(shown),
        subscription=subscription_usage(session, start, end, tools=in_scope(tools, seat_tools), email=email),
    )
