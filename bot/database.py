"""Opening the configured database, with errors an operator can act on."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.errors import DatabaseUnavailable
from storage.db import make_engine
from storage.migrate import current_revision, head_revision


def display_url(url: str) -> str:
    """The URL with any password masked, safe for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable DATABASE_URL>"


def connect(url: str) -> Engine:
    """An engine for ``url`` that has proven it can reach the database."""
    try:
        engine = make_engine(url)
    except Exception as exc:  # bad driver names, malformed URLs
        raise DatabaseUnavailable(
            f"DATABASE_URL is not a usable database URL ({display_url(url)}): {_reason(exc)}."
        ) from None
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseUnavailable(
            f"Cannot reach the database at {display_url(url)}: {_reason(exc)}. "
            "Check DATABASE_URL and that the database server is running."
        ) from None
    return engine


def schema_problem(engine: Engine) -> str | None:
    """Why the schema cannot serve this version of Abacus, or None when it is at head."""
    current, head = current_revision(engine), head_revision()
    if current is None:
        return "The database has no Abacus schema yet: run `abacus db migrate`."
    if current != head:
        return f"The database schema is at revision {current} but this Abacus needs {head}: run `abacus db migrate`."
    return None


def _reason(exc: Exception) -> str:
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(original).strip().splitlines()
    return (lines[0] if lines else type(original).__name__).rstrip(".")
