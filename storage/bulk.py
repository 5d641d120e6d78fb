"""The one bulk upsert path: many rows into a table by its unique key, inside the caller's transaction.

Rows arrive as tuples in a fixed column order (no dicts, no ORM objects: at a million rows every per-row
allocation shows). Each batch is first bulk-loaded into a temporary staging table without keys or indexes
(PostgreSQL ``COPY``; SQLite multi-row ``INSERT``s), with SQLAlchemy's own bind processors applied so no
per-row SQLAlchemy work is paid, then merged with one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` (a plain
``INSERT … SELECT`` when the caller knows the keys are new): the statement SQLAlchemy generates from the
table, so keys, defaults and the conflict rule are defined once.

One set-based statement replaces thousands of per-row executions, and it runs inside the database with
Python's GIL released, so a caller can run it on a writer thread while it parses the next batch
(``providers/write_behind.py``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import Boolean, Date, Table, case, column, func, literal_column, select, true
from sqlalchemy import table as lightweight_table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

Row = Sequence[Any]


@dataclass(frozen=True)
class UpsertSpec:
    """How rows of one shape land in ``table``: their columns in order, the unique key, and the rules."""

    table: Table
    columns: tuple[str, ...]
    key: tuple[str, ...]
    # Columns whose stored value survives an incoming empty string (an attribution is never erased).
    keep_if_empty: tuple[str, ...] = ()
    key_of: Callable[[Row], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        missing = [name for name in (*self.key, *self.keep_if_empty) if name not in self.columns]
        if missing:
            raise ValueError(f"{self.table.name}: {missing} not among the upserted columns")
        object.__setattr__(self, "key_of", itemgetter(*(self.columns.index(name) for name in self.key)))

    @property
    def staging_table(self) -> str:
        return f"abacus_stage_{self.table.name}"


def bulk_upsert(session: Session, spec: UpsertSpec, rows: Sequence[Row]) -> int:
    """Insert or overwrite ``rows`` by ``spec.key``; a later row with the same key wins. Returns rows written."""
    written = stage(session, spec, rows)
    if written:
        merge_staged(session, spec)
    return written


def stage(session: Session, spec: UpsertSpec, rows: Sequence[Row], *, distinct: bool = False) -> int:
    """The first half of :func:`bulk_upsert`: put ``rows`` (deduplicated by key) in the staging table.

    The Python-heavy half. A caller that overlaps work runs this on its own thread, then
    :func:`merge_staged` (the database-heavy half) wherever it likes, before staging again. ``distinct``:
    the caller knows no two rows share a key, so they are not deduplicated again.
    """
    if distinct or len(rows) < 2:
        unique = rows if isinstance(rows, list) else list(rows)
    else:
        unique = list({spec.key_of(row): row for row in rows}.values())
    if not unique:
        return 0
    connection = session.connection()
    convert = _converter(spec, connection.dialect)
    if convert:
        unique = [convert(row) for row in unique]
    _stage(connection, spec, unique)
    return len(unique)


def merge_staged(session: Session, spec: UpsertSpec, *, new_keys: bool = False) -> None:
    """The second half of :func:`bulk_upsert`: merge the staging table into the target, then empty it.

    ``new_keys``: the caller knows that none of the staged keys is stored yet, so the rows are inserted
    plainly. Checking each key for a conflict is most of an upsert's cost (PostgreSQL, a million rows into
    ``usage``: 20 s with ``ON CONFLICT``, either ``DO UPDATE`` or ``DO NOTHING``, 12.5 s without); a key that
    is stored after all fails the statement with the unique constraint's error rather than overwriting.
    """
    connection = session.connection()
    connection.exec_driver_sql(_merge_sql(spec, connection.dialect, upsert=not new_keys))
    # TRUNCATE on PostgreSQL: a DELETE leaves every deleted row in the temporary table until the transaction
    # ends, so an import of many batches would scan ever more dead rows; SQLite empties a table the same way
    # for a DELETE without a WHERE.
    empty = "TRUNCATE" if connection.dialect.name == "postgresql" else "DELETE FROM"
    connection.exec_driver_sql(f"{empty} {spec.staging_table}")


def _stage(connection: Connection, spec: UpsertSpec, rows: list[Row]) -> None:
    columns = ", ".join(spec.columns)
    stage = spec.staging_table
    if connection.dialect.name != "postgresql":
        # SQLite: a connection's temporary table lives as long as the connection; it is emptied after use,
        # and a rollback takes back whatever the failed batch put there.
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {columns} FROM {spec.table.name} WHERE 0"  # noqa: S608
        )
        # Many rows per statement, not executemany: one call into SQLite per chunk releases the GIL once for
        # the whole chunk, instead of once per row (which starves a parsing thread, or is starved by it).
        # At most the build's parameter limit, and no more than 32,766 parameters (SQLite's default limit):
        # longer statements cost more to parse than they save (measured: 1,724 rows a statement beat 13,157).
        limit = _driver(connection).getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per_statement = max(1, min(limit, 32_766) // len(spec.columns))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            connection.exec_driver_sql(
                _multirow_insert(stage, spec.columns, len(chunk)), tuple(chain.from_iterable(chunk))
            )
        return
    # PostgreSQL: the target's column types, no constraints, dropped with the transaction.
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "  # noqa: S608
        f"SELECT {columns} FROM {spec.table.name} WITH NO DATA"
    )
    statement = f"COPY {stage} ({columns}) FROM STDIN"
    try:
        with _driver(connection).cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    except connection.dialect.loaded_dbapi.Error as exc:
        # Callers handle SQLAlchemy's exceptions, as from every other statement.
        raise DBAPIError.instance(statement, None, exc, connection.dialect.loaded_dbapi.Error) from exc


def _driver(connection: Connection) -> Any:
    """The driver's own connection (sqlite3's or psycopg's), under SQLAlchemy's."""
    driver = connection.connection.driver_connection
    assert driver is not None, "the connection is closed"
    return driver


@cache
def _multirow_insert(table: str, columns: tuple[str, ...], rows: int) -> str:
    one = "(" + ", ".join("?" for _ in columns) + ")"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([one] * rows)  # noqa: S608


@cache
def _merge_sql(spec: UpsertSpec, dialect: Dialect, *, upsert: bool = True) -> str:
    # Imported here: the PostgreSQL dialect package also loads its asyncio driver (and asyncio), which a
    # command on SQLite would otherwise pay for at start-up.
    insert: Callable[..., Any]
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        insert = postgresql_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = sqlite_insert
    stage = lightweight_table(spec.staging_table, *(column(name) for name in spec.columns))
    # WHERE true: SQLite cannot tell an upsert's ON CONFLICT from a join's ON after a bare FROM.
    source = select(*stage.c).where(true())
    stmt = insert(spec.table).from_select(list(spec.columns), source)
    return str((_on_conflict(stmt, spec) if upsert else stmt).compile(dialect=dialect))


def _on_conflict(stmt: Any, spec: UpsertSpec) -> Any:
    table = spec.table
    updates: dict[str, Any] = {name: stmt.excluded[name] for name in spec.columns if name not in spec.key}
    for name in spec.keep_if_empty:
        # A literal, not a bound '': the merge is compiled once, to a string without parameters.
        updates[name] = case((stmt.excluded[name] == literal_column("''"), table.c[name]), else_=stmt.excluded[name])
    if "updated_at" in table.c:
        updates["updated_at"] = func.now()
    return stmt.on_conflict_do_update(index_elements=list(spec.key), set_=updates)


@cache
def _converter(spec: UpsertSpec, dialect: Dialect) -> Callable[[Row], Row] | None:
    """SQLAlchemy's own bind processors for the columns that have one (SQLite: dates and money; JSON)."""
    processors = [
        (position, processor)
        for position, name in enumerate(spec.columns)
        if (processor := _bind_processor(spec.table.c[name].type, dialect)) is not None
    ]
    if not processors:
        return None

    def convert(row: Row) -> Row:
        values = list(row)
        for position, processor in processors:
            values[position] = processor(values[position])
        return tuple(values)

    return convert


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    if isinstance(type_, Boolean) and dialect.supports_native_boolean:
        # On a database with booleans of its own (PostgreSQL) it only checks a value and turns 0/1 into
        # False/True, which COPY's text form reads as they are: a call per row for nothing (a second per
        # million rows). Every writer hands in True, False or None.
        return None
    # The dialect's own implementation of the type (SQLite's DATE, psycopg's JSON...), not the generic one.
    processor = type_.dialect_impl(dialect).bind_processor(dialect)
    if processor is not None and isinstance(type_, Date | Boolean):
        # A batch holds a handful of distinct days and flags: convert each once, not once per row.
        return lru_cache(maxsize=4096)(processor)
    return processor
