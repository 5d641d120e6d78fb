"""CSV exports of usage (per day and model, or per day and tool) and of the team table.

Python's csv writer does the quoting the original hand-rolled: fields with commas, quotes or line breaks
are quoted with inner quotes doubled.

Text that came from outside (emails, model names) never runs as a spreadsheet formula: per OWASP's CSV
injection guidance, a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
single quote (`'=HYPERLINK(...)`). Numbers are written as they are, so negative amounts stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Literal

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from storage.analytics.common import D, in_range, model_label, sum_cost, sum_of, sum_tokens
from storage.analytics.team import TeamTable, tool_sort_key

UsageView = Literal["models", "tools"]

MODELS_COLUMNS = ("date", "model", "tokens", "input_tokens", "output_tokens", "cost", "tool")
TOOLS_COLUMNS = ("date", "tool", "tokens", "cost", "users")
# The team export's columns; one "<tool>_tokens" column per tool of the table follows total_cost.
TEAM_COLUMNS = (
    "email",
    "total_tokens",
    "total_cost",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "first_active",
    "last_active",
    "days_active",
    "avg_tokens_per_day",
    "tool_count",
)


def usage_csv(
    session: Session,
    start: date,
    end: date,
    *,
    view: UsageView = "tools",
    tool: str | None = None,
    email: str | None = None,
) -> str:
    """Usage per (day, model, tool) or per (day, tool) with distinct people, dates ascending."""
    scope: list[Any] = [in_range(start, end)]
    if tool:
        scope.append(D.tool == tool)
    if email is not None:
        scope.append(D.email == email)
    if view == "models":
        stmt = (
            select(D.date, D.model, sum_tokens(), sum_of(D.input_tokens), sum_of(D.output_tokens), sum_cost(), D.tool)
            .where(*scope)
            .group_by(D.date, D.model, D.tool)
            .order_by(D.date, D.model, D.tool)
        )
        rows: Iterable[Sequence[Any]] = (
            (d, text_cell(model_label(m)), t, i, o, _money(c), text_cell(tl))
            for d, m, t, i, o, c, tl in session.execute(stmt)
        )
        return to_csv(MODELS_COLUMNS, rows)
    stmt = (
        select(D.date, D.tool, sum_tokens(), sum_cost(), func.count(distinct(func.nullif(D.email, ""))))
        .where(*scope)
        .group_by(D.date, D.tool)
        .order_by(D.date, D.tool)
    )
    return to_csv(TOOLS_COLUMNS, ((d, text_cell(tl), t, _money(c), u) for d, tl, t, c, u in session.execute(stmt)))


def team_csv(table: TeamTable) -> str:
    columns = (*TEAM_COLUMNS[:3], *(tool_sort_key(t) for t in table.tools), *TEAM_COLUMNS[3:])
    return to_csv(
        columns,
        (
            (
                text_cell(r.email),
                r.total_tokens,
                _money(r.total_cost),
                *(r.tokens_by_tool[t] for t in table.tools),
                r.input_tokens,
                r.output_tokens,
                r.cache_read_tokens,
                r.first_active,
                r.last_active,
                r.days_active,
                r.avg_tokens_per_day,
                r.tool_count,
            )
            for r in table.rows
        ),
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str | None) -> str:
    """Outside text as a CSV cell a spreadsheet shows and never runs: a leading `'` before `=`, `+`, `-`,
    `@`, tab or carriage return (OWASP CSV injection). Only for text cells, never for numbers."""
    text = value or ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row])
    return buffer.getvalue()


def _money(value: Any) -> str:
    """Exact dollars with six decimals, never through a float."""
    return f"{value:.6f}" if value is not None else ""
