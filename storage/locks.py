"""Named locks held in or beside the database, so two processes never run the same job at once.

PostgreSQL: a session-level advisory lock on a dedicated connection; the server frees it if the process
dies. SQLite: an ``flock`` on a file next to the database file; the kernel frees it if the process dies,
and every process that can open a SQLite file shares that file system. An in-memory SQLite database is
private to its process, so a process-local lock is enough there.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text

_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


class LockHeld(Exception):
    """Someone else holds the lock."""


def _advisory_key(name: str) -> int:
    # A stable signed 64-bit key per name (Python's hash() changes between processes).
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def hold_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold the lock ``name`` for the block, or raise :class:`LockHeld` at once if it is taken."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn, _postgres_lock(conn, name):
            yield
        return
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file::memory:"):
        with _file_lock(Path(database), name):
            yield
        return
    with _process_lock(f"{engine.url}:{name}"):
        yield


@contextmanager
def _postgres_lock(conn: Connection, name: str) -> Iterator[None]:
    key = _advisory_key(name)
    got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
    conn.commit()
    if not got:
        raise LockHeld(name)
    try:
        yield
    finally:
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        conn.commit()


@contextmanager
def _file_lock(database: Path, name: str) -> Iterator[None]:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    path = database.with_name(f"{database.name}.{safe}.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(name) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _process_lock(key: str) -> Iterator[None]:
    with _local_guard:
        lock = _local_locks.setdefault(key, threading.Lock())
    if not lock.acquire(blocking=False):
        raise LockHeld(key)
    try:
        yield
    finally:
        lock.release()
