"""`abacus db`: create, upgrade and inspect the schema."""

from __future__ import annotations

import click

from bot.cli_support import AppContext, console, emit_json, json_option, pass_app
from bot.database import display_url
from storage.migrate import current_revision, head_revision, upgrade


@click.group("db")
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
