"""`/abacus budget set|list|off`: the admins' budgets (the alerts themselves are ``bot.budgets``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.access import UserLookupFailed
from bot.answers.blocks import escape
from bot.answers.budgets import budget_list_blocks, state_line
from bot.answers.plain_text import notification_text
from bot.budgets import budget_states
from bot.command_text import AbacusRequest
from bot.usecases.context import Context
from bot.usecases.result import Answer, problems, say
from storage.budgets import set_budget, switch_off
from storage.db import transaction
from storage.teams import get_team

NEEDS_SLACK = (
    "{what} checks that I'm a member of <#{channel}> (I post there), which needs Slack: run it from Slack "
    "(or set SLACK_BOT_TOKEN)."
)


@dataclass(frozen=True, slots=True)
class BudgetRequest:
    action: str  # set | list | off
    scope: str = "org"  # org | team | person
    target: str = ""  # the team's name or the person's email; or
    target_user_id: str | None = None  # a Slack mention
    amount: Decimal = Decimal(0)
    cadence: str | None = None  # monthly | weekly (None with off: both)
    tool: str | None = None
    alert_channel: str | None = None
    problems: tuple[str, ...] = ()
    usage: str = ""


def from_parsed(parsed: AbacusRequest) -> BudgetRequest:
    return BudgetRequest(
        parsed.action or "list",
        parsed.budget_scope or "org",
        parsed.budget_target or "",
        parsed.target_user_id,
        parsed.amount or Decimal(0),
        parsed.cadence,
        parsed.tool,
        parsed.alert_channel,
        tuple(parsed.problems),
        parsed.usage,
    )


def manage(ctx: Context, request: BudgetRequest) -> Answer:
    if not ctx.is_admin:
        return say("Only Abacus admins can manage budgets (the ABACUS_ADMINS setting).")
    if request.problems:
        return problems(request.problems, request.usage)
    if request.action == "list":
        blocks = budget_list_blocks(budget_states(ctx.engine, ctx.now().date()))
        return Answer(notification_text(blocks), blocks)
    scope, target = request.scope, request.target
    if request.target_user_id:
        if ctx.directory is None:
            return say("Give an email address here: mentions need Slack.")
        try:
            target = ctx.directory.get(request.target_user_id).email
        except UserLookupFailed:
            target = ""
        if not target:
            return say("Slack doesn't share that person's email, so I can't budget their usage.")
    if request.action == "off":
        count = switch_off(ctx.engine, scope=scope, target=target, cadence=request.cadence, tool=request.tool)
        return say(f"Switched off {count} budget(s)." if count else "No budget matched; `/abacus budget list`.")
    if scope == "team":
        with transaction(ctx.engine) as session:
            if get_team(session, target) is None:
                return say(f"There is no team `{escape(target)}`; `/abacus team list` shows the teams.")
    channel = request.alert_channel or ctx.channel_id
    if channel is None:
        # Only `abacus ask` asks without a channel (`--channel ID` gives one).
        return say("Say which channel gets the alerts: `#channel`, or run it in that channel.")
    if ctx.workspace is None:
        return say(NEEDS_SLACK.format(what="Setting a budget", channel=channel))
    if not ctx.workspace.is_member(channel):
        return say(f"I'm not a member of <#{channel}>, so I can't post its alerts there: `/invite @Abacus` first.")
    budget = set_budget(
        ctx.engine,
        scope=scope,
        target=target,
        cadence=request.cadence or "monthly",
        tool=request.tool or "",
        amount_usd=request.amount,
        channel_id=channel,
        created_by=ctx.asker.email,
        now=ctx.now(),
    )
    [state] = [s for s in budget_states(ctx.engine, ctx.now().date()) if s.budget.id == budget.id]
    return say(f"Budget set: {state_line(state)}. Alerts go to <#{channel}>.")
