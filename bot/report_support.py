"""What the report, gaps and status commands share: provider and tool names, the clock, a read session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session

from bot import sources
from bot.answers.common import tool_name
from bot.cli_support import AppContext
from bot.database import schema_problem
from bot.errors import AbacusError
from providers import registry
from storage.db import transaction

__all__ = ["read_session", "resolve_sources", "resolve_tool", "tool_name", "write_file"]


def resolve_sources(name: str | None) -> set[str] | None:
    """The providers an operator means by PROVIDER (one provider, or every provider of a tool)."""
    try:
        return sources.resolve_source(name)
    except LookupError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="PROVIDER") from None


def resolve_tool(name: str | None) -> str | None:
    """The tool id an operator means by --tool (a tool word, or a provider's name)."""
    if name is None:
        return None
    try:
        return registry.tool(name).id
    except LookupError:
        pass
    try:
        return registry.provider(name).tool.id
    except LookupError:
        words = ", ".join(t.short for t in registry.tools())
        raise click.BadParameter(f"unknown tool {name!r}: use one of {words}.") from None


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
