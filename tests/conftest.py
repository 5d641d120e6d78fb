"""Shared fixtures: every storage test runs on SQLite and, when configured, on a real PostgreSQL.

Set ABACUS_TEST_DATABASE_URL to a PostgreSQL server URL (``.ci/run`` does); each test session creates
its own throwaway databases there and drops them afterwards. Under CI the variable is required, so the
PostgreSQL half of the suite can never be skipped silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from storage.db import make_engine, normalize_database_url
from storage.migrate import upgrade
from storage.models import Base

PG_URL = os.environ.get("ABACUS_TEST_DATABASE_URL", "")

# The served Slack app + fake Slack fixture lives in its own module.
pytest_plugins = ["tests.slack_harness"]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") and not PG_URL:
        raise pytest.UsageError("CI is set but ABACUS_TEST_DATABASE_URL is not: PostgreSQL tests would be skipped.")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's real settings or .env, and write files only under tmp_path."""
    # Proxy variables too: slack_sdk would send the fake Slack's traffic through them.
    ours = (
        "ABACUS_",
        "SLACK_",
        "ANTHROPIC_",
        "CURSOR_",
        "DATABASE_URL",
        "POSTGRES_URL",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "PORT",
        "WEB_CONCURRENCY",
    )
    for name in list(os.environ):
        if name.startswith(ours) and name != "ABACUS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


class PostgresServer:
    """Creates and drops throwaway databases on the test PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(normalize_database_url(url))
        self.admin = make_engine(self.url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create_database(self) -> str:
        name = f"abacus_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not PG_URL:
        pytest.skip("ABACUS_TEST_DATABASE_URL is not set; PostgreSQL tests skipped")
    server = PostgresServer(PG_URL)
    yield server
    server.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Makes URLs of new, empty databases of the parametrised kind."""
    if request.param == "sqlite":
        counter = iter(range(1_000))
        return lambda: f"sqlite:///{tmp_path / f'empty-{next(counter)}.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database


def _migrated_engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


@pytest.fixture(scope="session")
def _sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = _migrated_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'abacus.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _postgresql_engine(postgres_server: PostgresServer) -> Iterator[Engine]:
    engine = _migrated_engine(postgres_server.create_database())
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated database of each kind, emptied before every test."""
    engine: Engine = request.getfixturevalue(f"_{request.param}_engine")
    _empty_all_tables(engine)
    yield engine


def _empty_all_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
