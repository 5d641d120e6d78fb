"""`abacus stats`: what is stored, for whom, over which dates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click
from rich.table import Table

from bot.cli_support import AppContext, console, emit_json, json_option, pass_app, styled, to_jsonable
from bot.database import schema_problem
from bot.errors import AbacusError
from bot.formatting import ALL_TIME, cost_notes, est, format_tokens, format_usd, unattributed_words
from providers import registry
from storage.db import transaction
from storage.migrate import current_revision
from storage.stats import collect_stats


@click.command("stats")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 1000), help="How many users to list.")
@json_option
@pass_app
def stats_command(app: AppContext, top: int, as_json: bool) -> None:
    """What is stored: records, tokens and cost per tool, top users, date span, mappings."""
    problem = schema_problem(app.engine)
    if problem and current_revision(app.engine) is not None:
        raise AbacusError(problem)
    if problem:
        # A brand-new database holds nothing: say so with zeros rather than failing.
        stats = None
    else:
        with transaction(app.engine) as session:
            stats = collect_stats(session, top=top)
    payload = _stats_payload(stats)
    if as_json:
        emit_json(payload)
        return
    _print_stats(payload)
    if problem:
        console.print(problem, style="yellow")


def _stats_payload(stats: Any) -> dict[str, Any]:
    if stats is None:
        return {
            "records": 0,
            "total_tokens": 0,
            "total_cost_usd": 0.0,
            "people": 0,
            "by_tool": {},
            "top_users": [],
            "first_date": None,
            "last_date": None,
            "mappings": 0,
            "unattributed": {"records": 0, "total_tokens": 0, "cost_usd": 0.0, "keys": 0, "keys_by_tool": {}},
        }
    return to_jsonable(
        {
            "records": stats.records,
            "total_tokens": stats.total_tokens,
            "total_cost_usd": stats.total_cost_usd,
            "people": stats.people,
            "by_tool": {
                t.tool: {
                    "records": t.records,
                    "total_tokens": t.total_tokens,
                    "cost_usd": t.cost_usd,
                    "cost_is_estimate": registry.cost_is_estimated(t.tool),
                }
                for t in stats.by_tool
            },
            "top_users": stats.top_users,
            "first_date": stats.first_date,
            "last_date": stats.last_date,
            "mappings": stats.mappings,
            "unattributed": stats.unattributed,
        }
    )


def _print_stats(p: dict[str, Any]) -> None:
    span = f"{p['first_date']} to {p['last_date']}" if p["first_date"] else "no data yet"
    console.print(
        styled(
            (f"{p['records']:,}", "bold"),
            f" records · {format_tokens(p['total_tokens'])} tokens · "
            f"{format_usd(p['total_cost_usd'])} · {p['people']:,} people · {span}",
        )
    )
    if p["by_tool"]:
        tools = Table(title="By tool", title_justify="left")
        for column in ("Tool", "Records", "Tokens", "Cost"):
            tools.add_column(column, justify="left" if column == "Tool" else "right")
        for tool, t in p["by_tool"].items():
            tools.add_row(
                registry.tool_title(tool),
                f"{t['records']:,}",
                format_tokens(t["total_tokens"]),
                format_usd(t["cost_usd"]) + est(tool),
            )
        console.print(tools)
        costly = [tool for tool, t in p["by_tool"].items() if t["cost_usd"]]
        for note in cost_notes(tools=costly, total_usd=Decimal(0), subscription_usd=Decimal(0), money=format_usd):
            console.print(note)
    if p["top_users"]:
        users = Table(title=f"Top {len(p['top_users'])} users by total tokens", title_justify="left")
        for column in ("#", "User", "Tokens", "Cost", "Records"):
            users.add_column(column, justify="left" if column == "User" else "right")
        for rank, u in enumerate(p["top_users"], start=1):
            users.add_row(
                str(rank), u["email"], format_tokens(u["total_tokens"]), format_usd(u["cost_usd"]), f"{u['records']:,}"
            )
        console.print(users)
    un = p["unattributed"]
    console.print(f"Identity mappings: {p['mappings']:,}")
    if un["records"]:
        words = unattributed_words(
            period=ALL_TIME,
            cost_usd=Decimal(str(un["cost_usd"])),
            tokens=un["total_tokens"],
            keys_by_tool=un["keys_by_tool"],
            keys=un["keys"],
            money=format_usd,
            count=format_tokens,
        )
        console.print(f"{words}: map them with `abacus mappings` or /abacus map.", markup=False)
    else:
        console.print("Unattributed: none")
