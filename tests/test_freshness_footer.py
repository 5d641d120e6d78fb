"""Every answer's freshness line is read cheaply (sync states and one index entry per tool) and says exactly
what the full status scan would say."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from bot.answers.common import freshness_line
from bot.sources import footer_status, status_of
from storage.db import transaction
from storage.sync_state import record_attempt, record_failure, record_success
from storage.writes import upsert_usage
from tests.factories import usage

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def both_lines(engine: Engine, configured: list[str]) -> tuple[str, str]:
    with transaction(engine) as s:
        cheap = freshness_line(footer_status(s, now=NOW), configured)
        full = freshness_line(status_of(s, now=NOW, max_keys=0), configured)
    return cheap, full


def test_the_cheap_footer_says_what_the_full_scan_says(engine: Engine) -> None:
    configured = ["claude_code", "cursor"]
    cheap, full = both_lines(engine, configured)
    assert cheap == full == "Data: Claude Code not synced yet · Cursor not synced yet"

    # Data imported without any sync (a CSV import, say): "not synced by Abacus".
    with transaction(engine) as s:
        upsert_usage(s, [usage(tool="cursor", org_id="cursor:default", date=date(2026, 11, 21))])
    cheap, full = both_lines(engine, configured)
    assert cheap == full
    assert "Cursor latest data Nov 21 (not synced by Abacus)" in cheap

    # Synced providers: Claude Code from two sources (the slower one counts), Cursor to the hour.
    with transaction(engine) as s:
        upsert_usage(
            s,
            [
                usage(date=date(2026, 11, 23)),
                usage(org_id="claude-enterprise:acme", date=date(2026, 11, 22), customer_type="subscription"),
            ],
        )
    for provider, org, mark in (
        ("claude_code", "org-1", datetime(2026, 11, 24, tzinfo=UTC)),
        ("claude-enterprise", "claude-enterprise:acme", datetime(2026, 11, 23, tzinfo=UTC)),
        ("cursor", "cursor:default", datetime(2026, 11, 25, 13, tzinfo=UTC)),
    ):
        record_attempt(engine, provider, org, NOW)
        record_success(engine, provider, org, NOW, forward_watermark=mark)
    cheap, full = both_lines(engine, configured)
    assert cheap == full == "Data: Claude Code complete to Nov 22 · Cursor complete to Nov 25 13:00 UTC"

    # A provider that has only ever failed has no watermark: its tool reads as its newest stored day.
    record_failure(engine, "claude-enterprise", "claude-enterprise:beta", NOW, "HTTP 403")
    cheap, full = both_lines(engine, configured)
    assert cheap == "Data: Claude Code latest data Nov 23 (not synced by Abacus) · Cursor complete to Nov 25 13:00 UTC"
    assert cheap == full
