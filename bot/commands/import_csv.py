"""`abacus import cursor-csv FILE`: load a Cursor dashboard usage export (history the API cannot reach)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from bot.cli_support import AppContext, console, emit_json, json_option, pass_app
from bot.commands.sync import AlreadyRunning
from bot.database import schema_problem
from bot.errors import AbacusError
from bot.formatting import format_tokens, format_usd
from bot.settings import Settings
from providers.cursor import SPEC as CURSOR
from providers.cursor.csv_import import DEFAULT_CSV_ORG_ID, CsvImportError, CsvSummary, import_cursor_csv
from providers.cursor.jobs import lock_name, org_id_of
from providers.spec import select_keys
from storage.locks import LockHeld, hold_lock


class ImportRefused(AbacusError):
    exit_code = 65  # EX_DATAERR: the input file is wrong


@click.group("import")
def import_group() -> None:
    """Import usage from exported files."""


def csv_org_id(settings: Settings, org: str | None) -> str:
    """--org picks a configured team; one configured team is used as is; none means the documented default."""
    keys = settings.keys_of(CURSOR)
    if org is not None:
        try:
            return org_id_of(select_keys(keys, org, "Cursor")[0])
        except LookupError as exc:
            raise AbacusError(str(exc.args[0])) from None
    if len(keys) == 1:
        return org_id_of(keys[0])
    if not keys:
        return DEFAULT_CSV_ORG_ID
    names = ", ".join(k.name for k in keys)
    raise AbacusError(f"Several Cursor teams are configured ({names}): pass --org NAME to say whose export this is.")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    if not console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield step


@contextmanager
def _team_lock(engine: Engine | None, org_id: str) -> Iterator[None]:
    """The team's sync lock: an import and a sync writing the same rows at once could deadlock."""
    if engine is None:
        yield
        return
    try:
        with hold_lock(engine, lock_name(org_id)):
            yield
    except LockHeld:
        raise AlreadyRunning(
            f"A Cursor sync or import of {org_id} is running; import again when it has finished."
        ) from None


@import_group.command("cursor-csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--org", help="The configured Cursor team (key label, or default / KEY_n) the export belongs to.")
@click.option("--user", "user", metavar="EMAIL", help="Whose usage a personal export (no User column) is.")
@click.option("--dry-run", is_flag=True, help="Check the file and report what would be imported; store nothing.")
@json_option
@pass_app
def cursor_csv_command(
    app: AppContext, file: Path, org: str | None, user: str | None, dry_run: bool, as_json: bool
) -> None:
    """Import a Cursor usage CSV export; re-importing, or importing what a sync stored, never double counts.

    The whole file is checked first: a file with a structural problem imports nothing.
    """
    if user is not None and "@" not in user:
        raise click.BadParameter(f"{user!r} is not an email address.", param_hint="--user")
    if user is not None and len(user.strip()) > 255:
        raise click.BadParameter("longer than the 255 characters the database stores.", param_hint="--user")
    org_id = csv_org_id(app.settings, org)
    engine = None
    if not dry_run:
        engine = app.engine
        problem = schema_problem(engine)
        if problem:
            raise AbacusError(problem)
    with _progress(f"Importing {file.name}") as progress, _team_lock(engine, org_id):
        try:
            summary = import_cursor_csv(engine, file, org_id=org_id, user=user, dry_run=dry_run, progress=progress)
        except CsvImportError as exc:
            raise ImportRefused(f"{file.name}: {exc}. Nothing was imported.") from None
    if as_json:
        emit_json(summary_payload(summary))
    else:
        print_summary(summary)


def summary_payload(summary: CsvSummary) -> dict[str, Any]:
    return {
        "file": summary.file,
        "org_id": summary.org_id,
        "dry_run": summary.dry_run,
        "rows": summary.rows,
        "imported": summary.imported,
        "new_rows": summary.new_rows,
        "skipped": dict(summary.skipped),
        "days": len(summary.days),
        "first_day": summary.first_day,
        "last_day": summary.last_day,
        "users": len(summary.users),
        "tokens": {
            "input": summary.input_tokens,
            "cache_write": summary.cache_write_tokens,
            "cache_read": summary.cache_read_tokens,
            "output": summary.output_tokens,
            "total": summary.total_tokens,
        },
        "cost_usd": summary.cost_usd,
        "cache_write_reading": summary.reading,
        "mismatched_rows": summary.mismatched_rows,
        "mismatched_lines": summary.mismatched_lines,
        "has_cost_column": summary.has_cost,
    }


def print_summary(summary: CsvSummary) -> None:
    verb = "Would import" if summary.dry_run else "Imported"
    span = f"{summary.first_day} .. {summary.last_day}" if summary.days else "no days"
    console.print(f"{verb} {summary.imported:,} of {summary.rows:,} rows into {summary.org_id} ({span}).")
    if summary.new_rows is not None:
        console.print(
            f"  {summary.new_rows:,} new rows; {summary.imported - summary.new_rows:,} were already stored "
            "(from an earlier import or an API sync) and were refreshed, not counted twice."
        )
    for reason, count in sorted(summary.skipped.items()):
        console.print(f"  skipped {count:,} rows: {reason}")
    console.print(f"  {len(summary.days):,} days, {len(summary.users):,} users")
    console.print(
        f"  {format_tokens(summary.total_tokens)} tokens (input {summary.input_tokens:,}, cache write "
        f"{summary.cache_write_tokens:,}, cache read {summary.cache_read_tokens:,}, output {summary.output_tokens:,})"
    )
    console.print(f"  cost {format_usd(summary.cost_usd)}")
    if not summary.has_cost:
        console.print("  The file has no Cost column (a request-based export): costs are stored as $0.", style="yellow")
    if summary.checked_totals:
        meaning = (
            "cache writes (the four token columns add up to Total Tokens)"
            if summary.reading == "disjoint"
            else "input including cache writes (cache writes = w/ - w/o)"
        )
        console.print(f"  'Input (w/ Cache Write)' read as {meaning}.")
    if summary.mismatched_rows:
        lines = ", ".join(str(n) for n in summary.mismatched_lines)
        console.print(
            f"  {summary.mismatched_rows:,} rows do not add up to Total Tokens under this file's reading "
            f"(first lines: {lines}); they were imported, read the same way as the rest.",
            style="yellow",
        )
