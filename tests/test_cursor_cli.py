"""`abacus sync|backfill cursor` and `abacus import cursor-csv`, through the real entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.cli import main
from providers.cursor.client import to_ms
from storage.db import make_engine, transaction
from storage.locks import hold_lock
from storage.models import Usage, UsageDaily
from storage.sync_state import get_state
from tests.fakes.cursor_server import FakeCursorServer, api_event, running
from tests.test_cursor_csv import INDIVIDUAL, TEAM, _big_file, write

KEY = "key_" + "c" * 64


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def database(
    db_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    url = db_url_factory()
    monkeypatch.setenv("DATABASE_URL", url)
    assert run(capsys, "db", "migrate")[0] == 0
    return url


@pytest.fixture
def server() -> Iterator[FakeCursorServer]:
    with running(FakeCursorServer()) as srv:
        yield srv


def test_import_json_then_reimport_adds_nothing(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, TEAM, bom=True, crlf=True)
    code, out, err = run(capsys, "import", "cursor-csv", str(path), "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["imported"] == 5 and payload["new_rows"] == 5 and payload["org_id"] == "cursor:default"
    assert payload["skipped"] == {"no tokens and no cost": 1} and payload["users"] == 2 and payload["days"] == 2
    assert payload["cost_usd"] == 0.3
    code, out, _ = run(capsys, "import", "cursor-csv", str(path), "--json")
    assert code == 0 and json.loads(out)["new_rows"] == 0
    code, out, _ = run(capsys, "import", "cursor-csv", str(path))
    assert code == 0 and "Imported 5 of 6 rows" in out and "0 new rows" in out and "skipped 1 rows" in out
    code, out, _ = run(capsys, "stats", "--json")
    assert json.loads(out)["records"] == 5


def test_a_malformed_file_exits_non_zero_with_its_line(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, TEAM.replace("2025-12-01T23:10:00.001Z", "soon"))
    code, out, err = run(capsys, "import", "cursor-csv", str(path))
    assert code == 65 and out == ""
    assert err.count("\n") == 1 and "line 5: unreadable Date 'soon'" in err and "Nothing was imported" in err
    assert json.loads(run(capsys, "stats", "--json")[1])["records"] == 0


def test_an_import_is_refused_while_the_team_syncs(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(database)
    with hold_lock(engine, "sync:cursor:cursor:default"):
        code, _, err = run(capsys, "import", "cursor-csv", str(write(tmp_path, TEAM)))
    engine.dispose()
    assert code == 75 and "is running" in err
    assert json.loads(run(capsys, "stats", "--json")[1])["records"] == 0


def test_a_file_that_is_not_utf8_is_refused_with_its_line(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(TEAM.replace("dana@example.com", "dana@exämple.com", 2).encode("latin-1"))
    code, _, err = run(capsys, "import", "cursor-csv", str(path))
    assert code == 65 and "line 2: the file is not UTF-8 text" in err


def test_a_personal_export_asks_for_the_user(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, INDIVIDUAL)
    code, _, err = run(capsys, "import", "cursor-csv", str(path))
    assert code == 65 and "pass --user EMAIL" in err
    code, _, err = run(capsys, "import", "cursor-csv", str(path), "--user", "not-an-email")
    assert code == 2 and "not an email address" in err
    code, out, _ = run(capsys, "import", "cursor-csv", str(path), "--user", "me@example.com", "--json")
    assert code == 0 and json.loads(out)["users"] == 1


def test_dry_run_needs_no_database_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, TEAM)
    code, out, _ = run(capsys, "import", "cursor-csv", str(path), "--dry-run")
    assert code == 0 and "Would import 5 of 6 rows" in out and "$0.30" in out
    assert not (tmp_path / "abacus.db").exists()


def test_the_team_is_chosen_by_org_or_must_be_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, TEAM)
    monkeypatch.setenv("CURSOR_ADMIN_KEYS", f"acme={KEY},beta=key_beta")
    code, _, err = run(capsys, "import", "cursor-csv", str(path), "--dry-run")
    assert code == 1 and "pass --org NAME" in err and KEY not in err
    code, out, _ = run(capsys, "import", "cursor-csv", str(path), "--dry-run", "--org", "beta", "--json")
    assert code == 0 and json.loads(out)["org_id"] == "cursor:beta"
    code, _, err = run(capsys, "import", "cursor-csv", str(path), "--dry-run", "--org", "nope")
    assert code == 1 and "configured: acme, beta" in err


def test_sync_and_backfill_cursor_commands(
    database: str, server: FakeCursorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add_team(KEY, events=[api_event(to_ms(datetime(2025, 12, 1, 10, tzinfo=UTC)), "a@example.com")])
    monkeypatch.setenv("CURSOR_ADMIN_KEYS", f"acme={KEY}")
    monkeypatch.setenv("CURSOR_BASE_URL", server.base_url)
    code, out, err = run(capsys, "sync", "cursor", "--from", "2025-12-01", "--to", "2025-12-01", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["ok"] and payload["results"][0]["org_id"] == "cursor:acme" and payload["results"][0]["records"] == 1

    code, out, err = run(capsys, "backfill", "cursor", "--from", "2025-12-01", "--max-days", "2", "--json")
    assert code == 0, err
    result = json.loads(out)["results"][0]
    assert result["status"] == "in_progress" and result["windows"] == 2

    assert run(capsys, "backfill", "complete", "cursor")[0] == 0
    engine = make_engine(database)
    with transaction(engine) as s:
        assert get_state(s, "cursor", "cursor:acme").backfill_complete
    assert run(capsys, "backfill", "reset", "cursor")[0] == 0
    with transaction(engine) as s:
        state = get_state(s, "cursor", "cursor:acme")
        assert not state.backfill_complete and state.backfill_cursor is not None

    with hold_lock(engine, "sync:cursor:cursor:acme"):
        code, _, err = run(capsys, "sync", "cursor", "--days", "1")
    engine.dispose()
    assert code == 75 and "Another Cursor sync is running" in err


def test_a_rejected_key_is_one_clear_failure(
    database: str, server: FakeCursorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CURSOR_ADMIN_KEY", KEY)  # the fake server knows no team with this key
    monkeypatch.setenv("CURSOR_BASE_URL", server.base_url)
    # Two days, not one: in the first hour of a UTC day, today alone has no complete hour to fetch.
    code, out, err = run(capsys, "sync", "cursor", "--days", "2")
    assert code == 1 and "FAILED" in out and "rejected the admin key" in out
    assert KEY not in out + err


def _writing_has_begun(url: str) -> bool:
    """Whether the import's open transaction has written to `usage` (nothing is visible before it commits)."""
    if url.startswith("sqlite"):
        # Uncommitted pages spill from SQLite's small page cache into the write-ahead log.
        wal = Path(make_url(url).database + "-wal")  # type: ignore[operator]
        return wal.exists() and wal.stat().st_size > 4 * 2**20
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            held = conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = 'usage' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
                )
            ).scalar()
        return bool(held)
    finally:
        engine.dispose()


def test_an_import_killed_halfway_stores_nothing_and_can_run_again(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _big_file(tmp_path / "big.csv", 150_000)
    exe = Path(sys.executable).with_name("abacus")
    env = {**os.environ, "DATABASE_URL": database}
    process = subprocess.Popen([str(exe), "import", "cursor-csv", str(path)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not _writing_has_begun(database):
            assert process.poll() is None, "the import finished before it could be interrupted"
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)  # no cleanup of any kind: a crash
    finally:
        process.wait(timeout=30)
    engine = make_engine(database)
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(Usage)) == 0
        assert s.scalar(select(func.count()).select_from(UsageDaily)) == 0
    engine.dispose()
    # Nothing is left behind either: no lock, no half-written state; the next import just works.
    code, out, err = run(capsys, "import", "cursor-csv", str(write(tmp_path, TEAM)), "--json")
    assert code == 0, err
    assert json.loads(out)["new_rows"] == 5
