"""`/abacus export`: usage or the team table as CSV (the columns and file names getsentry/abacus uses), as a file in
the asker's DM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.answers.plain_text import notification_text
from bot.answers.team_table import export_blocks
from bot.command_text import AbacusRequest
from bot.periods import Period, today_in
from bot.usecases import table as team_table
from bot.usecases.context import Context
from bot.usecases.result import Answer, ExportFile, say
from bot.usecases.table import PEOPLE_ADMINS_ONLY, TableRequest
from storage.analytics.exports import team_csv, usage_csv
from storage.db import transaction

TEAM_EXPORT_LIMIT = 10_000  # people in one team export, as in getsentry/abacus


@dataclass(frozen=True, slots=True)
class ExportRequest:
    period: Period
    what: Literal["usage", "team"] = "usage"
    tool: str | None = None
    view: Literal["models", "tools"] = "models"  # usage per day and model, or per day and tool


def from_parsed(parsed: AbacusRequest, period: Period) -> ExportRequest:
    return ExportRequest(
        period,
        "team" if parsed.export == "team" else "usage",
        parsed.tool,
        "tools" if parsed.view == "tools" else "models",
    )


def answer(ctx: Context, request: ExportRequest) -> Answer:
    period = request.period
    start, end = period.start.isoformat(), period.end.isoformat()
    if request.what == "team":
        if not ctx.can_see_people:
            return say(PEOPLE_ADMINS_ONLY.format(what="The team export"))
        everyone = TableRequest(period, request.tool, ascending=False, limit=TEAM_EXPORT_LIMIT)
        with transaction(ctx.engine) as session:
            table = team_table.rows(session, everyone, today=today_in(ctx.zone, ctx.now()))
        content, rows, filename = team_csv(table), len(table.rows), f"team_{start}_to_{end}.csv"
    else:
        with transaction(ctx.engine) as session:
            content = usage_csv(session, period.start, period.end, view=request.view, tool=request.tool)
        rows, filename = content.count("\n") - 1, f"usage_{request.view}_{start}_to_{end}.csv"
    blocks = export_blocks(filename, rows=rows, what=request.what, period=period)
    title = f"{'Team' if request.what == 'team' else 'Usage'} export · {period.label}"
    return Answer(notification_text(blocks), blocks, files=[ExportFile(content.encode(), filename, title)])
