"""What every `abacus` command shares: lazily loaded settings and database, output helpers."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text
from sqlalchemy import Engine

from bot.database import connect
from bot.errors import ConfigError
from bot.settings import Settings

# Data is never markup: key names, emails, models, team names and error messages may hold `[bold]`, `[/red]`
# or `:emoji:`, so neither console interprets markup or emoji codes in what it prints (table cells and
# titles included). Styling is explicit: `console.print(text, style="bold")` or `styled(...)` below.
# soft_wrap: long messages stay on one line, so they read well in logs and can be grepped.
console = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
# Progress goes to stderr, so `--json` output on stdout stays one clean object.
progress_console = Console(highlight=False, soft_wrap=True, stderr=True, markup=False, emoji=False)

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
            # Logging and error tracking start as soon as the secrets they must scrub are known.
            from bot.observability import setup

            setup(self._settings)
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


def styled(*parts: str | Text | tuple[str, str]) -> Text:
    """One line from literal parts, each printed exactly as given; a ``(text, style)`` pair is styled,
    e.g. ``styled(("FAILED", "red"), f" {org}: {error}")``. The only way CLI output gets styles."""
    return Text.assemble(*parts)


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
