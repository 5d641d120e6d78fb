"""Budget alerts: where each budget stands this period, and the alerts that are due, posted once.

Thresholds (ABACUS_BUDGET_THRESHOLDS, default 50/80/100 %) each fire once per budget period. When one run
finds several newly crossed (a big day), only the highest is announced and the lower ones are recorded as
passed, so they never fire later out of order. A projected overrun (the pace so far ends above the
budget) is announced once per period, before it happens; once the budget is spent the 100% alert says it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.answers.budgets import budget_alert_blocks
from bot.answers.plain_text import notification_text
from bot.outbox import Message, Outbox, Undelivered
from bot.settings import Settings
from storage.budgets import (
    Budget,
    BudgetPeriod,
    budget_period,
    claim_alert,
    finish_alerts,
    fired_kinds,
    list_budgets,
    projected_spend,
    spend,
    top_contributors,
)
from storage.db import transaction
from storage.teams import get_team

log = logging.getLogger(__name__)

PROJECTED = "projected"


@dataclass(frozen=True, slots=True)
class BudgetState:
    budget: Budget
    period: BudgetPeriod
    as_of: date
    spend_usd: Decimal
    projected_usd: Decimal | None
    missing: str = ""  # why the spend could not be computed (a team that no longer exists)

    @property
    def percent(self) -> float:
        return float(self.spend_usd / self.budget.amount_usd * 100) if self.budget.amount_usd else 0.0


def _emails(session: Session, budget: Budget) -> tuple[set[str] | None, str]:
    if budget.scope == "org":
        return None, ""
    if budget.scope == "person":
        return {budget.target}, ""
    team = get_team(session, budget.target)
    if team is None:
        return set(), f"team {budget.target} no longer exists"
    return set(team.members), ""


def budget_state(session: Session, budget: Budget, as_of: date) -> BudgetState:
    period = budget_period(budget.cadence, as_of)
    emails, missing = _emails(session, budget)
    spent = spend(session, period.start, period.end, emails=emails, tool=budget.tool)
    return BudgetState(budget, period, as_of, spent, projected_spend(spent, period, as_of), missing)


def budget_states(
    engine: Engine, as_of: date, *, scope: str | None = None, target: str | None = None
) -> list[BudgetState]:
    budgets = [
        b
        for b in list_budgets(engine)
        if (scope is None or b.scope == scope) and (target is None or b.target == target)
    ]
    with transaction(engine) as session:
        return [budget_state(session, b, as_of) for b in budgets]


@dataclass(frozen=True, slots=True)
class DueAlert:
    threshold: int | None  # the highest newly crossed threshold, if any
    passed: list[int]  # lower thresholds crossed in the same run: recorded, not announced
    projected: bool  # announce a projected overrun


def due_alert(state: BudgetState, thresholds: list[int], fired: set[str]) -> DueAlert | None:
    """What this run should announce for the budget, given what already fired this period (pure)."""
    amount = state.budget.amount_usd
    crossed = [t for t in sorted(thresholds) if amount > 0 and state.spend_usd * 100 >= amount * t]
    new = [t for t in crossed if str(t) not in fired]
    projected = (
        state.projected_usd is not None
        and state.spend_usd < amount
        and state.projected_usd > amount
        and PROJECTED not in fired
    )
    if not new and not projected:
        return None
    return DueAlert(new[-1] if new else None, new[:-1], projected)


@dataclass
class BudgetTick:
    posted: int = 0
    errors: list[str] = field(default_factory=list)


def alert_message(state: BudgetState, due: DueAlert, top: list[tuple[str, Decimal]]) -> Message:
    """What to say, and where: the alert, in the budget's own channel."""
    blocks = budget_alert_blocks(state, threshold=due.threshold, projected=due.projected, top=top)
    return Message(notification_text(blocks), blocks, channel=state.budget.channel_id)


def check_budgets(settings: Settings, engine: Engine, outbox: Outbox, *, now: datetime) -> BudgetTick:
    """One pass over every active budget: claim what is due, send it to the budget's channel."""
    tick = BudgetTick()
    as_of = now.date()
    named = settings.people_visibility == "everyone"
    for budget in list_budgets(engine):
        with transaction(engine) as session:
            state = budget_state(session, budget, as_of)
            if state.missing:
                tick.errors.append(f"budget {budget.label}: {state.missing}")
                continue
            due = due_alert(state, settings.budget_thresholds, fired_kinds(session, budget.id, state.period.key))
            emails, _ = _emails(session, budget)
            top = (
                top_contributors(session, state.period.start, state.period.end, emails=emails, tool=budget.tool)
                if named and budget.scope != "person"
                else []
            )
        if due is None:
            continue
        claims = _claim(engine, budget, state, due, now)
        if not claims:
            continue  # another scheduler took them
        try:
            sent = outbox.send(alert_message(state, due, top))
        except Undelivered as exc:
            finish_alerts(engine, claims, message_ts=None, error=exc.error)
            tick.errors.append(f"budget {budget.label}: {exc.error}")
            continue
        finish_alerts(engine, claims, message_ts=sent.ts)
        tick.posted += 1
    return tick


def _claim(engine: Engine, budget: Budget, state: BudgetState, due: DueAlert, now: datetime) -> list[int]:
    key = state.period.key
    for passed in due.passed:
        claim_alert(engine, budget.id, key, str(passed), state.spend_usd, now, silent=True)
    claims = []
    if due.threshold is not None:
        claimed = claim_alert(engine, budget.id, key, str(due.threshold), state.spend_usd, now)
        if claimed is None:
            return []
        claims.append(claimed)
    if due.projected:
        claimed = claim_alert(engine, budget.id, key, PROJECTED, state.spend_usd, now)
        if claimed is not None:
            claims.append(claimed)
    return claims
