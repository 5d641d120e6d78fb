"""Budget answers and alerts (pure block builders): where a budget stands, and what just happened.

Alerts lead with the news (which threshold, or the projected overrun), then the spend so far, the pace,
and who contributed most, in the positive framing of ux.md: facts, no blame.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.answers.blocks import Block, context, escape, header, section
from bot.answers.common import money, pct, short_day

if TYPE_CHECKING:
    from bot.budgets import BudgetState

PERIOD_WORD = {"monthly": "month", "weekly": "week"}


def _who(state: BudgetState, *, mrkdwn: bool = True) -> str:
    """Whose budget; the target (a team name or an email) escaped for mrkdwn, raw for a plain-text header."""
    b = state.budget
    target = escape(b.target) if mrkdwn else b.target
    who = {"org": "Company", "team": f"Team {target}", "person": target}[b.scope]
    return who + (f" ({b.tool.replace('_', ' ')})" if b.tool else "")


def state_line(state: BudgetState) -> str:
    """'Team web · monthly: $812 of $1,000 (81%) · projected $1,210 by Nov 30'."""
    b = state.budget
    if state.missing:
        return f"{_who(state)} · {b.cadence} {money(b.amount_usd)}: {escape(state.missing)}"
    line = f"{_who(state)} · {b.cadence}: {money(state.spend_usd)} of {money(b.amount_usd)} ({pct(state.percent)})"
    if state.projected_usd is not None:
        line += f" · projected {money(state.projected_usd)} by {short_day(state.period.end)}"
    return line


def budget_alert_blocks(
    state: BudgetState, *, threshold: int | None, projected: bool, top: Sequence[tuple[str, Decimal]]
) -> list[Block]:
    b = state.budget
    word = PERIOD_WORD.get(b.cadence, "period")
    who = _who(state, mrkdwn=False)  # the news is the header: plain text
    if threshold is not None and threshold >= 100:
        news = f"{who} has reached its {b.cadence} budget of {money(b.amount_usd)}"
    elif threshold is not None:
        news = f"{who} has used {threshold}% of its {b.cadence} budget of {money(b.amount_usd)}"
    else:
        news = f"{who} is on pace to pass its {b.cadence} budget of {money(b.amount_usd)}"
    lines = [f"*{money(state.spend_usd)}* spent this {word} so far ({pct(state.percent)}), to {short_day(state.as_of)}"]
    if state.projected_usd is not None:
        verdict = "over" if state.projected_usd > b.amount_usd else "within"
        lines.append(
            f"At the pace so far: {money(state.projected_usd)} by {short_day(state.period.end)} ({verdict} budget)"
        )
    if top:
        lines.append("Top contributors: " + " · ".join(f"{escape(email.split('@')[0])} {money(v)}" for email, v in top))
    return [
        header(f"Budget: {news}"),
        section("\n".join(lines)),
        context(f"Budget period {state.period.key} · change it with `/abacus budget set` · `/abacus budget list`"),
    ]


def budget_list_blocks(states: Sequence[BudgetState]) -> list[Block]:
    if not states:
        return [
            section(
                "No budgets yet. Admins: `/abacus budget set org $5000 monthly` (alerts go to the channel it is "
                "set in)."
            )
        ]
    lines = [f"{state_line(s)} · alerts in <#{s.budget.channel_id}>" for s in states[:40]]
    return [header(f"Budgets ({len(states)})"), section("\n".join(lines))]


def budget_status_blocks(states: Sequence[BudgetState]) -> list[Block]:
    """For `/abacus status`: one line per budget, after the data health."""
    if not states:
        return []
    return [section("*Budgets*\n" + "\n".join(state_line(s) for s in states[:20]))]
