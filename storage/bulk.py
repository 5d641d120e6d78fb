"""The one bulk upsert path: many rows into a table by its unique key, inside the caller's transaction.

Rows arrive as tuples in a fixed column order (no dicts, no ORM objects: at a million rows every per-row
allocation shows). Each database gets its own fastest way in:

- PostgreSQL: the rows are ``COPY``'d into a temporary staging table, then merged with one
  ``INSERT … SELECT … ON CONFLICT DO UPDATE``. COPY is the server's own bulk load, and one set-based
  statement replaces thousands of per-row executions.
- SQLite: one prepared ``INSERT … ON CONFLICT DO UPDATE`` executed by the driver for every row
  (``executemany``), with the values already converted the way SQLAlchemy would bind them, so no per-row
  SQLAlchemy processing is paid.

Both run the statement SQLAlchemy generates from the table, so keys, defaults and the conflict rule are
defined once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, bindparam, case, column, func, literal_column, select
from sqlalchemy import table as lightweight_table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

Row = Sequence[Any]


@dataclass(frozen=True)
class UpsertSpec:
    """How rows of one shape land in ``table``: their columns (in the table's order), the key, and the rules."""

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
        # SQLAlchemy renders an INSERT's columns in table order; the driver gets bare tuples in that order.
        if list(self.columns) != [col.name for col in self.table.columns if col.name in self.columns]:
            raise ValueError(f"{self.table.name}: columns must follow the table's order")
        object.__setattr__(self, "key_of", itemgetter(*(self.columns.index(name) for name in self.key)))

    @property
    def staging_table(self) -> str:
        return f"abacus_stage_{self.table.name}"


def bulk_upsert(session: Session, spec: UpsertSpec, rows: Sequence[Row]) -> int:
    """Insert or overwrite ``rows`` by ``spec.key``; a later row with the same key wins. Returns rows written."""
    unique = list({spec.key_of(row): row for row in rows}.values()) if len(rows) > 1 else list(rows)
    if not unique:
        return 0
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        _copy_and_merge(connection, spec, unique)
    else:
        convert = _converter(spec, dialect)
        connection.exec_driver_sql(_upsert_sql(spec, dialect), [convert(row) for row in unique] if convert else unique)
    return len(unique)


def _copy_and_merge(connection: Connection, spec: UpsertSpec, rows: list[Row]) -> None:
    columns = ", ".join(spec.columns)
    stage = spec.staging_table
    convert = _converter(spec, connection.dialect)
    # Same column types as the target, no constraints; dropped with the transaction, so a rollback or
    # a pooled connection never sees a stale one.
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "  # noqa: S608 - our own names
        f"SELECT {columns} FROM {spec.table.name} WITH NO DATA"
    )
    statement = f"COPY {stage} ({columns}) FROM STDIN"
    try:
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(convert(row) if convert else row)
    except connection.dialect.loaded_dbapi.Error as exc:
        # Callers handle SQLAlchemy's exceptions, as from every other statement.
        raise DBAPIError.instance(statement, None, exc, connection.dialect.loaded_dbapi.Error) from exc
    connection.exec_driver_sql(_merge_sql(spec, connection.dialect))
    connection.exec_driver_sql(f"TRUNCATE {stage}")


@cache
def _merge_sql(spec: UpsertSpec, dialect: Dialect) -> str:
    stage = lightweight_table(spec.staging_table, *(column(name) for name in spec.columns))
    stmt = postgresql.insert(spec.table).from_select(list(spec.columns), select(*stage.c))
    return str(_on_conflict(stmt, spec).compile(dialect=dialect))


@cache
def _upsert_sql(spec: UpsertSpec, dialect: Dialect) -> str:
    values = {name: bindparam(name) for name in spec.columns}
    compiled = _on_conflict(sqlite.insert(spec.table).values(values), spec).compile(dialect=dialect)
    # The driver gets bare tuples, so the placeholders must follow the columns and nothing else.
    if list(compiled.positiontup or []) != list(spec.columns):
        raise RuntimeError(f"{spec.table.name}: unexpected parameter order {compiled.positiontup}")
    return str(compiled)


def _on_conflict(stmt: Any, spec: UpsertSpec) -> Any:
    table = spec.table
    updates: dict[str, Any] = {name: stmt.excluded[name] for name in spec.columns if name not in spec.key}
    for name in spec.keep_if_empty:
        # A literal, not a bound '', so the statement's only parameters are the row's own values.
        updates[name] = case((stmt.excluded[name] == literal_column("''"), table.c[name]), else_=stmt.excluded[name])
    if "updated_at" in table.c:
        updates["updated_at"] = func.now()
    return stmt.on_conflict_do_update(index_elements=list(spec.key), set_=updates)


@cache
def _converter(spec: UpsertSpec, dialect: Dialect) -> Callable[[Row], Row] | None:
    """SQLAlchemy's own bind processors for the columns that have one (dates and money on SQLite, JSON)."""
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
    processor = type_.bind_processor(dialect)
    if processor is None and isinstance(type_, JSON):
        # psycopg adapts JSON parameters itself, but COPY takes text: the server parses it into jsonb.
        return json.dumps
    return processor
