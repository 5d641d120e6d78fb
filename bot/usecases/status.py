"""`/abacus status`: sync health per provider and org, scheduled jobs, budgets, and (admins) the doctor."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.budgets import budget_status_blocks
from bot.answers.data_health import status_blocks
from bot.answers.doctor import doctor_blocks
from bot.answers.plain_text import notification_text
from bot.budgets import BudgetState, budget_states
from bot.command_text import AbacusRequest
from bot.doctor import run_doctor
from bot.periods import Period
from bot.sources import status_of
from bot.usecases.context import Context
from bot.usecases.result import Answer
from storage.db import transaction
from storage.job_runs import last_runs
from storage.teams import list_teams

STATUS_TIMEOUT = 3.0  # seconds per network call of the admin's status checks


@dataclass(frozen=True, slots=True)
class StatusRequest:
    pass


def from_parsed(_parsed: AbacusRequest, _period: Period) -> StatusRequest:
    return StatusRequest()


def answer(ctx: Context, _request: StatusRequest) -> Answer:
    with transaction(ctx.engine) as session:
        status = status_of(session, now=ctx.now())
        jobs = last_runs(session)
        sizes = {t.name: len(t.members) for t in list_teams(session)}
    configured = ctx.settings.configured_tools()
    blocks = status_blocks(status, configured=configured, is_admin=ctx.is_admin, jobs=jobs)
    blocks += budget_status_blocks([s for s in budget_states(ctx.engine, ctx.now().date()) if _may_see(ctx, s, sizes)])
    if ctx.is_admin:
        # The same checks as `abacus doctor`, with short timeouts so the answer stays quick.
        if ctx.workspace is not None:
            report = ctx.workspace.run_doctor(ctx.settings, ctx.engine, timeout=STATUS_TIMEOUT)
        else:
            report = run_doctor(ctx.settings, engine=ctx.engine, timeout=STATUS_TIMEOUT)
        blocks += doctor_blocks(report.checks)
    return Answer(notification_text(blocks), blocks)


def _may_see(ctx: Context, state: BudgetState, team_sizes: dict[str, int]) -> bool:
    """Admins see every budget; others the company's and those of teams above the privacy floor
    (a person's budget is theirs: `/abacus me` shows it)."""
    scope = state.budget.scope
    if ctx.is_admin or scope == "org":
        return True
    return scope == "team" and team_sizes.get(state.budget.target, 0) >= ctx.settings.team_min_people
