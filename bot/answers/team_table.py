"""`/abacus table` and `/abacus export`: the original's team pivot as a Slack table, and export receipts.

Slack's table block holds at most 100 rows (the header is one of them), so a larger team is cut after the
first 99 people in the chosen order, with a note on how many more there are and where the rest is
(`/abacus export team`). Pure: data in, blocks out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.answers.blocks import MAX_NAME, Block, context, header, plain, section
from bot.answers.common import money, short_day, tokens, tool_name
from bot.periods import Period
from providers import registry
from storage.analytics.team import TeamRow, TeamTable, tool_sort_key

MAX_TABLE_ROWS = 100  # Slack's limit per table block, the header row included
MAX_PEOPLE = MAX_TABLE_ROWS - 1

SORT_LABELS = {
    "email": "person",
    "total_tokens": "tokens",
    "total_cost": "cost",
    "input_tokens": "input tokens",
    "output_tokens": "output tokens",
    "first_active": "first active",
    "last_active": "last active",
    "days_active": "days active",
    "avg_tokens_per_day": "tokens per active day",
}

# (header, alignment); the order of the original's pivot (one column per tool after Cost), plus first active
# and tool count.
LEAD_COLUMNS: tuple[tuple[str, str], ...] = (("Person", "left"), ("Tokens", "right"), ("Cost", "right"))
TAIL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Days active", "right"),
    ("Avg / active day", "right"),
    ("Last active", "left"),
    ("First active", "left"),
    ("Tools", "right"),
)


def _cell(text: str) -> dict[str, Any]:
    return {"type": "raw_text", "text": text}


def _day(day: date) -> str:
    return f"{short_day(day)} {day.year}"


def sort_label(sort: str) -> str:
    for tool in registry.tools():
        if sort == tool_sort_key(tool.id):
            return f"{tool.title} tokens"
    return SORT_LABELS.get(sort, sort)


def columns(tools: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return (*LEAD_COLUMNS, *((tool_name(t), "right") for t in tools), *TAIL_COLUMNS)


def _row(r: TeamRow, tools: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        _cell(plain(r.email, MAX_NAME)),  # raw_text shows it literally: no escaping, only a length
        _cell(tokens(r.total_tokens)),
        _cell(money(r.total_cost)),
        *(_cell(tokens(r.tokens_by_tool[t])) for t in tools),
        _cell(str(r.days_active)),
        _cell(tokens(r.avg_tokens_per_day)),
        _cell(_day(r.last_active)),
        _cell(_day(r.first_active)),
        _cell(str(r.tool_count)),
    ]


def table_block(table: TeamTable) -> Block:
    """A Slack ``table`` block: a header row and up to 99 people."""
    heads = columns(table.tools)
    return {
        "type": "table",
        "column_settings": [{"align": align, "is_wrapped": name == "Person"} for name, align in heads],
        "rows": [[_cell(name) for name, _ in heads], *(_row(r, table.tools) for r in table.rows[:MAX_PEOPLE])],
    }


def team_table_blocks(
    table: TeamTable, period: Period, *, sort: str, ascending: bool, tool: str | None, freshness: str
) -> list[Block]:
    scope = f" · {tool_name(tool)}" if tool else ""
    title = f"Team table · {period.label}{scope}"
    if not table.rows:
        return [
            header(title),
            section("No usage by people in this period."),
            *([context(freshness)] if freshness else []),
        ]
    shown = min(len(table.rows), MAX_PEOPLE)
    order = f"sorted by {sort_label(sort)}, {'lowest' if ascending else 'highest'} first"
    if sort in ("email", "first_active", "last_active"):
        order = f"sorted by {SORT_LABELS[sort]}, {'ascending' if ascending else 'descending'}"
    lead = f"{table.total_count} {'person' if table.total_count == 1 else 'people'} · {order}"
    notes = []
    if table.total_count > shown:
        more = table.total_count - shown
        notes.append(
            f"Showing the first {shown}; {more} more {'is' if more == 1 else 'are'} not shown "
            "(Slack tables hold 100 rows). `/abacus export team` sends everyone as a CSV."
        )
    notes.append(
        "Avg / active day: tokens per day with usage. Unattributed API keys are not people: see `/abacus overview`."
    )
    if freshness:
        notes.append(freshness)
    return [header(title), section(lead), table_block(table), context(*notes)]


def export_blocks(filename: str, *, rows: int, what: str, period: Period) -> list[Block]:
    """The reply to `/abacus export`: which file, how many rows, where it went."""
    if what == "team":
        count = f"{rows} {'person' if rows == 1 else 'people'}"
    else:
        count = f"{rows} row{'' if rows == 1 else 's'}"
    return [
        section(f"`{filename}`: {count}, {period.label}. The file is on its way to your DM with Abacus."),
    ]
