"""The writer thread behind imports and syncs: order, one write in flight, errors, and the switch interval."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from providers.write_behind import SWITCH_INTERVAL, WriteBehind


def test_writes_run_in_order_on_one_other_thread_one_at_a_time() -> None:
    seen: list[tuple[int, str]] = []
    running = threading.Semaphore(1)

    def write(n: int) -> None:
        assert running.acquire(blocking=False), "two writes in flight"
        time.sleep(0.01)
        seen.append((n, threading.current_thread().name))
        running.release()

    with WriteBehind("test-writer") as writer:
        for n in range(5):
            writer.submit(write, n)
    assert [n for n, _ in seen] == [0, 1, 2, 3, 4]
    assert {name for _, name in seen} != {threading.current_thread().name}
    assert all(name.startswith("test-writer") for _, name in seen)


def test_the_caller_runs_while_a_write_is_in_flight() -> None:
    started, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        started.set()
        assert release.wait(5)

    with WriteBehind("test-writer") as writer:
        writer.submit(slow_write)
        assert started.wait(5)
        release.set()  # the caller got here while the write was still waiting


def test_a_failed_write_is_raised_at_the_next_submit_and_nothing_after_it_runs() -> None:
    ran: list[int] = []

    def write(n: int) -> None:
        if n == 1:
            raise ValueError("disk full")
        ran.append(n)

    with pytest.raises(ValueError, match="disk full"), WriteBehind("test-writer") as writer:
        for n in range(4):
            writer.submit(write, n)
    assert ran == [0]


def test_a_failed_last_write_fails_the_block() -> None:
    def write() -> None:
        raise ValueError("constraint")

    with pytest.raises(ValueError, match="constraint"), WriteBehind("test-writer") as writer:
        writer.submit(write)


def test_when_the_caller_fails_the_write_in_flight_still_finishes_and_the_first_error_wins() -> None:
    finished = threading.Event()

    def write() -> None:
        time.sleep(0.05)
        finished.set()
        raise ValueError("second")

    with pytest.raises(KeyError, match="first"), WriteBehind("test-writer") as writer:
        writer.submit(write)
        raise KeyError("first")
    assert finished.is_set()  # nothing may roll back a transaction under a write still running


def test_the_switch_interval_is_lowered_inside_and_restored_after() -> None:
    before = sys.getswitchinterval()
    with WriteBehind("test-writer"):
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before
    with pytest.raises(RuntimeError), WriteBehind("test-writer"):
        raise RuntimeError("boom")
    assert sys.getswitchinterval() == before


def test_overlapping_blocks_put_the_interval_back_only_when_the_last_one_ends() -> None:
    # Two syncs on the scheduler's threads: whichever order they end in, the process gets its interval back.
    before = sys.getswitchinterval()
    first, second = WriteBehind("first"), WriteBehind("second")
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before
