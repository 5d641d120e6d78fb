"""`abacus config`: the effective settings and what each feature still needs."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from rich.text import Text

from bot.cli_support import AppContext, console, emit_json, json_option, pass_app
from bot.settings_report import describe_settings


@click.command("config")
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
        table.add_row(name, Text("not set", style="dim") if value in (None, "", []) else _plain(value))
    console.print(table)
    features = Table(title="Features", title_justify="left")
    features.add_column("Feature")
    features.add_column("Ready")
    features.add_column("What is missing")
    for name, feature in report["features"].items():
        ready = Text("yes", style="green") if feature["ready"] else Text("no", style="yellow")
        features.add_row(name, ready, "; ".join(feature["missing"]) or "-")
    console.print(features)


def _plain(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)
