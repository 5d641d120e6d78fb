"""From a parsed `/abacus` command to its use case: one explicit table.

Adding a command is one use-case module, one parser entry (``bot.command_text``) and one line in
:data:`DISPATCH`. Commands about a period get it parsed here (the asker's own "today"), so a typo in a
period is answered the same way by every command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from bot.answers.blocks import help_blocks
from bot.command_text import AbacusRequest
from bot.periods import Period, PeriodError
from bot.usecases import (
    budgets,
    digests,
    export,
    gaps,
    mapping,
    models,
    overview,
    person,
    status,
    table,
    team,
    teams,
    top,
)
from bot.usecases.context import Context
from bot.usecases.result import Answer, problems

R = TypeVar("R")
UseCase = Callable[[Context, AbacusRequest], Answer]


def _in_period(typed: Callable[[AbacusRequest, Period], R], run: Callable[[Context, R], Answer]) -> UseCase:
    """A command about a period: its words understood, the period parsed, then the typed request run."""

    def answer(ctx: Context, parsed: AbacusRequest) -> Answer:
        if parsed.problems:
            return problems(parsed.problems, parsed.usage)
        try:
            period = ctx.period(parsed.period)
        except PeriodError as exc:
            return problems([str(exc)], parsed.usage)
        return run(ctx, typed(parsed, period))

    return answer


def _typed(typed: Callable[[AbacusRequest], R], run: Callable[[Context, R], Answer]) -> UseCase:
    """A command that checks who may ask before it reports what it did not understand (admin commands)."""
    return lambda ctx, parsed: run(ctx, typed(parsed))


def _help(ctx: Context, _parsed: AbacusRequest) -> Answer:
    return Answer("What you can ask Abacus", help_blocks(is_admin=ctx.is_admin))


def _top(ctx: Context, request: top.TopRequest) -> Answer:
    return teams.top_teams(ctx, request) if request.teams else top.answer(ctx, request)


_one_team = _in_period(team.from_parsed, team.answer)
_team_admin = _typed(teams.admin_from_parsed, teams.manage)


def _team(ctx: Context, parsed: AbacusRequest) -> Answer:
    """`team NAME` is one team's usage; `team list|sync|add|remove` administer teams."""
    return _team_admin(ctx, parsed) if parsed.action is not None else _one_team(ctx, parsed)


def _mapping(ctx: Context, parsed: AbacusRequest) -> Answer:
    if parsed.problems:
        return problems(parsed.problems, parsed.usage)
    return mapping.answer(ctx, mapping.from_parsed(parsed))


DISPATCH: dict[str, UseCase] = {
    "help": _help,
    "me": _in_period(person.me_from_parsed, person.me),
    "user": _in_period(person.user_from_parsed, person.user),
    "overview": _in_period(overview.from_parsed, overview.answer),
    "top": _in_period(top.from_parsed, _top),
    "models": _in_period(models.from_parsed, models.answer),
    "table": _in_period(table.from_parsed, table.answer),
    "export": _in_period(export.from_parsed, export.answer),
    "team": _team,
    "gaps": _in_period(gaps.from_parsed, gaps.answer),
    "status": _in_period(status.from_parsed, status.answer),
    "map": _mapping,
    "unmap": _mapping,
    "budget": _typed(budgets.from_parsed, budgets.manage),
    "digest": _typed(digests.from_parsed, digests.manage),
}


def answer(ctx: Context, parsed: AbacusRequest) -> Answer:
    """The answer to a parsed command."""
    use_case = DISPATCH.get(parsed.command)
    if use_case is None:  # a word the parser did not know; its problem says which
        return problems(parsed.problems, parsed.usage)
    return use_case(ctx, parsed)
