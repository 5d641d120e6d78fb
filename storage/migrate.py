"""Schema migrations, run programmatically so a deploy needs nothing but a database URL.

Every command checks the schema before it reads (:func:`current_revision` against :func:`head_revision`);
only ``abacus db migrate`` and ``upgrade`` need Alembic itself. Loading Alembic's migration machinery costs
more CPU than the rest of a short command, so the check reads the ``alembic_version`` table and the
revision files' own ``revision``/``down_revision`` lines directly (a test keeps both equal to Alembic's).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).parent / "migrations"
_VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=]+)?=\s*(?:["']([^"']+)["']|None)\s*$""", re.M)


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision: the one that no revision file names as its ``down_revision``."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        found = dict((name, value) for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if found.get("revision"):
            revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    if len(heads) == 1:
        return heads.pop()
    # Anything the simple reading cannot settle (merge revisions, tuples of parents): ask Alembic.
    return alembic_head_revision()


def alembic_head_revision() -> str:
    """:func:`head_revision` as Alembic computes it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has no schema yet."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(_VERSION_TABLE):
            return None
        versions = list(conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalars())  # noqa: S608
    if len(versions) > 1:
        raise RuntimeError(f"The database has several schema heads ({', '.join(sorted(versions))}).")
    return versions[0] if versions else None


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision. Returns (revision before, revision after).

    Safe to run on every deploy: at head it does nothing. On PostgreSQL, Alembic's transactional DDL
    means a failed migration leaves the previous schema intact.
    """
    from alembic import command

    before = current_revision(engine)
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, head_revision()
