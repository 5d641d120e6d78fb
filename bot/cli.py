"""The `abacus` command line: everything an operator needs, each read command also as `--json`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from bot.database import connect, display_url, schema_problem
from bot.errors import AbacusError, ConfigError
from bot.formatting import format_tokens, format_usd
from bot.settings import Settings
from bot.settings_report import describe_settings
from storage.db import transaction
from storage.migrate import current_revision, head_revision, upgrade
from storage.stats import collect_stats

# soft_wrap: long messages stay on one line, so they read well in logs and can be grepped.
console = Console(highlight=False, soft_wrap=True)

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")


class AppContext:
    """Settings and database, loaded only when a command needs them (so `--help` always works)."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = connect(self.settings.database_url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


pass_app = click.make_pass_decorator(AppContext)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'/'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"Invalid settings ({problems}). Fix the environment or .env and retry.") from None


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(round(value, 6))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(to_jsonable(payload), sort_keys=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="abacus", prog_name="abacus")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Abacus: Claude Code and Cursor usage, costs and people, answered in Slack.

    Settings come from the environment or a .env file; `abacus config` shows them.
    """
    app = AppContext()
    ctx.obj = app
    ctx.call_on_close(app.close)


# --- config -------------------------------------------------------------------------------------


@cli.command("config")
@json_option
@pass_app
def config_command(app: AppContext, as_json: bool) -> None:
    """Show the effective settings (secrets masked) and what each feature still needs."""
    report = describe_settings(app.settings)
    if as_json:
        emit_json(report)
        return
    table = Table(title="Settings", title_justify="left")
    table.add_column("Setting")
    table.add_column("Value")
    for name, value in report["settings"].items():
        table.add_row(name, "[dim]not set[/dim]" if value in (None, "", []) else _plain(value))
    console.print(table)
    features = Table(title="Features", title_justify="left")
    features.add_column("Feature")
    features.add_column("Ready")
    features.add_column("What is missing")
    for name, feature in report["features"].items():
        ready = "[green]yes[/green]" if feature["ready"] else "[yellow]no[/yellow]"
        features.add_row(name, ready, "; ".join(feature["missing"]) or "-")
    console.print(features)


def _plain(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


# --- db -------------------------------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Database schema: create and upgrade it."""


@db_group.command("migrate")
@pass_app
def db_migrate(app: AppContext) -> None:
    """Create or upgrade the schema to this version. Safe to run on every deploy."""
    before, after = upgrade(app.engine)
    where = display_url(app.settings.database_url)
    if before == after:
        console.print(f"Schema already at revision {after} ({where}); nothing to do.")
    else:
        console.print(f"Schema migrated from {before or 'empty'} to {after} ({where}).")


@db_group.command("status")
@json_option
@pass_app
def db_status(app: AppContext, as_json: bool) -> None:
    """Show the schema revision of the database and whether a migration is pending."""
    current, head = current_revision(app.engine), head_revision()
    payload = {
        "database": display_url(app.settings.database_url),
        "current_revision": current,
        "head_revision": head,
        "up_to_date": current == head,
    }
    if as_json:
        emit_json(payload)
        return
    state = "up to date" if current == head else "migration pending: run `abacus db migrate`"
    console.print(f"{payload['database']}: revision {current or 'none'} (head {head}), {state}.")


# --- stats ----------------------------------------------------------------------------------------


@cli.command("stats")
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
        console.print(f"[yellow]{problem}[/yellow]")


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
            "unattributed": {"records": 0, "total_tokens": 0, "cost_usd": 0.0, "keys": 0},
        }
    return to_jsonable(
        {
            "records": stats.records,
            "total_tokens": stats.total_tokens,
            "total_cost_usd": stats.total_cost_usd,
            "people": stats.people,
            "by_tool": {
                t.tool: {"records": t.records, "total_tokens": t.total_tokens, "cost_usd": t.cost_usd}
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
        f"[bold]{p['records']:,}[/bold] records · {format_tokens(p['total_tokens'])} tokens · "
        f"{format_usd(p['total_cost_usd'])} · {p['people']:,} people · {span}"
    )
    if p["by_tool"]:
        tools = Table(title="By tool", title_justify="left")
        for column in ("Tool", "Records", "Tokens", "Cost"):
            tools.add_column(column, justify="left" if column == "Tool" else "right")
        for tool, t in p["by_tool"].items():
            tools.add_row(tool, f"{t['records']:,}", format_tokens(t["total_tokens"]), format_usd(t["cost_usd"]))
        console.print(tools)
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
        console.print(
            f"Unattributed: {format_tokens(un['total_tokens'])} tokens, {format_usd(un['cost_usd'])} "
            f"from {un['keys']} API key(s): map them with `abacus mappings` or /abacus map."
        )
    else:
        console.print("Unattributed: none")


# --- entry point ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure an operator can cause ends as one line on stderr and a non-zero exit."""
    return run(cli, argv)


def run(command: Callable[..., Any], argv: list[str] | None) -> int:
    try:
        result = command.main(args=argv, prog_name="abacus", standalone_mode=False)  # type: ignore[attr-defined]
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "abacus"
        return _fail(f"{exc.format_message()} Run `{where} --help` for usage.", exc.exit_code)
    except click.Abort:
        return _fail("Aborted.", 130)
    except click.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code)
    except AbacusError as exc:
        return _fail(str(exc), exc.exit_code)
    return result if isinstance(result, int) else 0


def _fail(message: str, code: int) -> int:
    click.echo(f"abacus: {message}", err=True)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
