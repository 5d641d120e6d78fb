"""Write one batch on a writer thread while the caller reads, fetches and parses the next.

Imports and syncs alternate Python work that holds the GIL (parsing CSV rows, decoding JSON pages) with
database work that mostly does not (statements run inside SQLite's C code or on the PostgreSQL server).
Handing each write to a single writer thread lets the two overlap on separate cores. At most one write is
in flight, so writes happen in order and memory stays bounded by two batches; a failed write is raised in
the caller at its next ``submit``, ``wait`` or on leaving the block, so nothing after it is written.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

# How soon a thread waiting for the GIL gets it (Python's default is 5 ms). The writer gives the GIL up at
# every database call and needs it back when the call returns; with the default, each return waited for
# the parser's time slice to run out, and the writer, not the database, became the bottleneck (a
# 200,000-row CSV import on SQLite: 10.4 s with 5 ms, 5.6 s with 0.2 ms).
SWITCH_INTERVAL = 0.0002

# The interval is the process's, and blocks may overlap (the scheduler runs several syncs at once): the
# first block in lowers it, the last one out puts back what was there before any of them.
_interval_lock = threading.Lock()
_blocks_open = 0
_interval_before = 0.0


def _lower_switch_interval() -> None:
    global _blocks_open, _interval_before
    with _interval_lock:
        if _blocks_open == 0:
            _interval_before = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)
        _blocks_open += 1


def _restore_switch_interval() -> None:
    global _blocks_open
    with _interval_lock:
        _blocks_open -= 1
        if _blocks_open == 0:
            sys.setswitchinterval(_interval_before)


class WriteBehind:
    """``with WriteBehind("name") as writer: writer.submit(fn, *args)``; the block ends when every write has."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[Any] | None = None

    def __enter__(self) -> WriteBehind:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=self._name)
        _lower_switch_interval()
        return self

    def submit(self, write: Callable[..., Any], *args: Any) -> None:
        """Start ``write(*args)`` once the previous write has finished (raising its error, if it failed)."""
        assert self._pool is not None, "use WriteBehind as a context manager"
        self.wait()
        self._pending = self._pool.submit(write, *args)

    def wait(self) -> None:
        """Block until the write in flight has finished; raise what it raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                self.wait()  # a failed last write fails the block
            elif self._pending is not None:
                # Already failing: let the write in flight finish (the caller's transaction must not be rolled
                # back under it), and keep the first error.
                self._pending.exception()
        finally:
            assert self._pool is not None
            self._pool.shutdown(wait=True)
            _restore_switch_interval()
