"""The team table (the original's pivot): one row per person for a period, sortable, searchable, paged.

Fixed against the original: "last active" is within the period like every other column, search is
case-insensitive, and sorting and paging happen in the database rather than in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from storage.analytics.common import P, escape_like, in_range, sum_cost, sum_of, sum_tokens, to_decimal, tool_tokens

# Besides these, "<tool>_tokens" sorts by one tool's tokens (claude_code_tokens) for every tool asked for.
SortKey = Literal[
    "email",
    "total_tokens",
    "total_cost",
    "input_tokens",
    "output_tokens",
    "first_active",
    "last_active",
    "days_active",
    "avg_tokens_per_day",
]
SORT_KEYS: tuple[str, ...] = get_args(SortKey)


@dataclass(frozen=True, slots=True)
class TeamRow:
    email: str
    total_tokens: int
    total_cost: Decimal
    tokens_by_tool: dict[str, int]  # every tool of the table's ``tools``, zero included
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    first_active: date
    last_active: date
    days_active: int
    avg_tokens_per_day: int  # per active day
    tool_count: int
    days_since_last_active: int


@dataclass(frozen=True, slots=True)
class TeamTable:
    rows: list[TeamRow]
    total_count: int  # people matching the search, before paging
    tools: tuple[str, ...] = ()  # the tools broken out per person, in column order


def tool_sort_key(tool: str) -> str:
    return f"{tool}_tokens"


def team_table(
    session: Session,
    start: date,
    end: date,
    *,
    today: date,
    sort_by: str = "total_tokens",
    descending: bool = True,
    search: str | None = None,
    tool: str | None = None,
    tools: Sequence[str] = (),
    limit: int = 500,
    offset: int = 0,
) -> TeamTable:
    """People with usage in ``start..end``, with each of ``tools`` broken out. An unknown ``sort_by`` falls
    back to total tokens (as the original). Ties are broken by email so pages never overlap."""
    days_active = func.count(distinct(P.date))
    total = sum_tokens(P)
    columns: dict[str, Any] = {
        "email": P.email,
        "total_tokens": total,
        "total_cost": sum_cost(P),
        **{f"tool_{i}": tool_tokens(t, P) for i, t in enumerate(tools)},
        "input_tokens": sum_of(P.input_tokens),
        "output_tokens": sum_of(P.output_tokens),
        "cache_read_tokens": sum_of(P.cache_read_tokens),
        "first_active": func.min(P.date),
        "last_active": func.max(P.date),
        "days_active": days_active,
        "tool_count": func.count(distinct(P.tool)),
    }
    stmt = select(*(c.label(n) for n, c in columns.items())).where(in_range(start, end, P), P.email != "")
    if tool:
        stmt = stmt.where(P.tool == tool)
    if search:
        stmt = stmt.where(func.lower(P.email).like("%" + escape_like(search.lower()) + "%", escape="\\"))
    grouped = stmt.group_by(P.email).subquery()
    by_tool = {tool_sort_key(t): f"tool_{i}" for i, t in enumerate(tools)}
    key = sort_by if sort_by in SORT_KEYS or sort_by in by_tool else "total_tokens"
    if key == "avg_tokens_per_day":
        sort_column: Any = grouped.c.total_tokens * 1.0 / grouped.c.days_active
    else:
        sort_column = grouped.c[by_tool.get(key, key)]
    order = sort_column.desc() if descending else sort_column.asc()
    page = session.execute(select(grouped).order_by(order, grouped.c.email).limit(limit).offset(offset)).all()
    count = session.scalar(select(func.count()).select_from(grouped)) or 0
    rows = [
        TeamRow(
            email=r.email,
            total_tokens=int(r.total_tokens),
            total_cost=to_decimal(r.total_cost),
            tokens_by_tool={t: int(r._mapping[f"tool_{i}"]) for i, t in enumerate(tools)},
            input_tokens=int(r.input_tokens),
            output_tokens=int(r.output_tokens),
            cache_read_tokens=int(r.cache_read_tokens),
            first_active=r.first_active,
            last_active=r.last_active,
            days_active=int(r.days_active),
            avg_tokens_per_day=round(int(r.total_tokens) / int(r.days_active)),
            tool_count=int(r.tool_count),
            days_since_last_active=(today - r.last_active).days,
        )
        for r in page
    ]
    return TeamTable(rows=rows, total_count=int(count), tools=tuple(tools))
