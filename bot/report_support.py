"""What the report, gaps and status commands share: provider names, the clock, a read session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from bot.cli_support import AppContext
from bot.database import schema_problem
from bot.errors import AbacusError
from storage.db import transaction

# Names an operator may type for a provider, and the tool they mean in the data.
PROVIDER_ALIASES = {
    "anthropic": "claude_code",
    "claude_code": "claude_code",
    "claude-code": "claude_code",
    "cursor": "cursor",
}
TOOL_NAMES = {"claude_code": "Claude Code", "cursor": "Cursor"}


def resolve_tool(name: str | None) -> str | None:
    if name is None:
        return None
    tool = PROVIDER_ALIASES.get(name.strip().lower())
    if tool is None:
        raise click.BadParameter(f"unknown provider {name!r}: use anthropic (or claude_code) or cursor.")
    return tool


def tool_name(tool: str) -> str:
    return TOOL_NAMES.get(tool, tool)


def utc_now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def read_session(app: AppContext) -> Iterator[Session]:
    """A session on a database whose schema is current; otherwise one sentence on what to run."""
    problem = schema_problem(app.engine)
    if problem:
        raise AbacusError(problem)
    with transaction(app.engine) as session:
        yield session


def write_file(path: str, data: bytes | str, what: str) -> None:
    target = Path(path)
    try:
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise AbacusError(f"Cannot write the {what} to {path}: {exc.strerror or exc}. Pick a writable path.") from None
