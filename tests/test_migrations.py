from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from storage.db import make_engine
from storage.migrate import alembic_head_revision, current_revision, head_revision, upgrade
from storage.models import Base


def test_migrate_is_idempotent_on_an_empty_database(db_url_factory: Callable[[], str]) -> None:
    engine = make_engine(db_url_factory())
    try:
        assert current_revision(engine) is None
        assert upgrade(engine) == (None, head_revision())
        tables_after_first = sorted(inspect(engine).get_table_names())
        assert upgrade(engine) == (head_revision(), head_revision())
        assert sorted(inspect(engine).get_table_names()) == tables_after_first
        assert set(Base.metadata.tables) <= set(tables_after_first)
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    """A model change without a migration (or the reverse) fails here, on both dialects."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _alembic_current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_the_schema_check_reads_revisions_as_alembic_does(db_url_factory: Callable[[], str]) -> None:
    """The schema check every command runs reads the revision files and the version table without Alembic;
    it must agree with Alembic on the newest revision and on where a database is, before and after."""
    assert head_revision() == alembic_head_revision()
    engine = make_engine(db_url_factory())
    try:
        assert current_revision(engine) is None and _alembic_current(engine) is None
        upgrade(engine)
        assert current_revision(engine) == _alembic_current(engine) == head_revision()
    finally:
        engine.dispose()


def test_a_second_head_is_left_to_alembic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two revision files on the same parent (two branches merged without a merge revision): the simple
    reading finds two heads and asks Alembic, which refuses to name one."""
    import shutil

    import storage.migrate as migrate

    copy = tmp_path / "migrations"
    shutil.copytree(Path(migrate.__file__).parent / "migrations", copy)
    head = head_revision()
    (copy / "versions" / "9999_branch.py").write_text(
        f'revision: str = "9999"\ndown_revision: str | None = "{head}"\n\n\ndef upgrade() -> None:\n    pass\n'
        "\n\ndef downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )
    (copy / "versions" / "9998_other.py").write_text(
        f'revision: str = "9998"\ndown_revision: str | None = "{head}"\n\n\ndef upgrade() -> None:\n    pass\n'
        "\n\ndef downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(migrate, "_MIGRATIONS", copy)
    with pytest.raises(Exception, match="head"):
        head_revision()
