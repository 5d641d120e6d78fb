"""Every benchmark's entry point still runs, on a tiny size. No timing is asserted: that is BENCHMARKS.md's job."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import cursor_csv_import, openai_sync_ingest, run, scale, slack_load, sync_ingest


def test_query_and_chart_benchmark_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run.main(["--url", f"sqlite:///{tmp_path / 'bench.db'}", "--people", "3", "--days", "10", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "| overview, 30 days (with previous period) |" in out and "| chart: personal, 90 days |" in out


def test_real_shape_and_the_issue_table_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    run.main(["--url", url, "--people", "30", "--days", "10", "--repeat", "1", "--real", "--events"])
    out = capsys.readouterr().out
    assert "usage_person_monthly:" in out and "models per active person-day" in out
    scale.main(["--sqlite", url, "--repeat", "1"])
    out = capsys.readouterr().out
    assert "| 365-day overview or ranking | 5.75 s | ≤ 1.00 s |" in out and "| person lookup by email or name |" in out


def test_csv_import_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    cursor_csv_import.main(["--rows", "300", "--postgres", ""])
    out = capsys.readouterr().out
    assert "| SQLite |" in out and "| 1/" in out


def test_sync_ingest_benchmark_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sizes = ["--actors", "20", "--cc-days", "1", "--events", "100", "--cursor-days", "1"]
    sync_ingest.main([*sizes, "--seats", "30", "--enterprise-days", "2", "--dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "| SQLite | claude_code |" in out and "| SQLite | cursor | 100 |" in out
    assert "| SQLite | claude_enterprise |" in out and "| SQLite | claude_enterprise, re-sync |" in out


def test_slack_load_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    slack_load.main(["--requests", "4", "--concurrency", "2", "--people", "4", "--days", "7", "--workers", "1"])
    out = capsys.readouterr().out
    assert "| ack (HTTP 200 to the command) |" in out and "4 requests in" in out and "| master |" in out


def test_openai_sync_ingest_benchmark_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    openai_sync_ingest.main(["--users", "5", "--days", "2", "--dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "| SQLite | openai, first sync |" in out and "| SQLite | openai, re-sync |" in out
