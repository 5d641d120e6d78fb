"""The database's own bulk load of usage rows: the yardstick the import and sync benchmarks are divided by.

A plain table with the columns of ``usage`` (no key, no index, no rollup) filled the fastest way each
database offers from Python: PostgreSQL ``COPY … FROM STDIN`` (psycopg 3), SQLite ``executemany`` in one
transaction. What Abacus adds on top (keys, upserts, the daily rollup) is what the ratio measures.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from storage.writes import UsageRecord

TABLE = "bench_raw_usage"
COLUMNS = tuple(f.name for f in fields(UsageRecord))
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


def record_row(record: UsageRecord) -> tuple[Any, ...]:
    """One row in COLUMNS order, dates as ISO text (both databases read that)."""
    return tuple(getattr(record, c).isoformat() if c == "date" else getattr(record, c) for c in COLUMNS)


def bulk_load(engine: Engine, rows: Iterable[Sequence[Any]]) -> tuple[int, float]:
    """(rows loaded, seconds) into a freshly created plain table, committed; the table is dropped after."""
    columns = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in COLUMNS)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(text(f"CREATE TABLE {TABLE} ({columns})"))
    raw = engine.raw_connection()
    count = 0
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            counted = _Counting(tuple(str(v) if isinstance(v, Decimal) else v for v in row) for row in rows)
            placeholders = ", ".join("?" for _ in COLUMNS)
            cursor.executemany(f"INSERT INTO {TABLE} VALUES ({placeholders})", counted)  # noqa: S608 - our names
            count = counted.count
        raw.commit()
        seconds = time.perf_counter() - started
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
    return count, seconds


class _Counting:
    """An iterator that counts what executemany consumed (it accepts any iterable)."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self._rows = iter(rows)
        self.count = 0

    def __iter__(self) -> _Counting:
        return self

    def __next__(self) -> Sequence[Any]:
        row = next(self._rows)
        self.count += 1
        return row
