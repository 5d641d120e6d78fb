from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from storage.db import make_engine
from storage.migrate import current_revision, head_revision, upgrade
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
