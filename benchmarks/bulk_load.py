"""The database's own bulk load of usage rows: the yardsticks the import and sync benchmarks are divided by.

The rows are loaded the fastest way each database offers from Python: PostgreSQL ``COPY … FROM STDIN``
(psycopg 3), SQLite ``executemany`` of a plain ``INSERT`` in one transaction. Two destinations:

- ``bare``: a plain table with the columns of ``usage`` and no key, index or default. What Abacus adds on
  top of it is everything: keys, upserts, indexes, the daily rollup.
- ``usage``: the real ``usage`` table of a freshly migrated database, with its unique key and indexes, but
  no upsert and no rollup. What Abacus adds on top of it is its own work; the schema's cost is in both.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, select, text

from storage.models import Usage
from storage.writes import USAGE_COLUMNS

BARE_TABLE = "bench_raw_usage"
_TYPES = {
    "date": "DATE",
    "event_ts_ms": "BIGINT",
    "max_mode": "BOOLEAN",
    "input_tokens": "BIGINT",
    "cache_write_tokens": "BIGINT",
    "cache_read_tokens": "BIGINT",
    "output_tokens": "BIGINT",
    "cost_usd": "NUMERIC(18, 6)",
}
_DATE, _COST = USAGE_COLUMNS.index("date"), USAGE_COLUMNS.index("cost_usd")


def stored_rows(engine: Engine, tool: str) -> list[tuple[Any, ...]]:
    """The ``usage`` rows of ``tool`` as stored, in ``USAGE_COLUMNS`` order (dates and Decimals)."""
    table = Usage.__table__
    query = select(*(table.c[name] for name in USAGE_COLUMNS)).where(table.c.tool == tool)
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def bulk_load(engine: Engine, rows: Sequence[Sequence[Any]], *, into: str = "bare") -> tuple[int, float]:
    """(rows loaded, seconds to load and commit) into the ``bare`` table (created, then dropped) or ``usage``."""
    if into == "bare":
        columns = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in USAGE_COLUMNS)
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {BARE_TABLE}"))
            conn.execute(text(f"CREATE TABLE {BARE_TABLE} ({columns})"))
    table = BARE_TABLE if into == "bare" else "usage"
    if engine.dialect.name == "sqlite":
        # The forms SQLAlchemy binds on SQLite (ISO dates, float money); converted before the clock starts.
        rows = [
            (*r[:_DATE], r[_DATE].isoformat(), *r[_DATE + 1 : _COST], float(r[_COST]), *r[_COST + 1 :]) for r in rows
        ]
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        names = ", ".join(USAGE_COLUMNS)
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" for _ in USAGE_COLUMNS)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)  # noqa: S608
        raw.commit()
        seconds = time.perf_counter() - started
    finally:
        raw.close()
    if into == "bare":
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {BARE_TABLE}"))
    return len(rows), seconds
