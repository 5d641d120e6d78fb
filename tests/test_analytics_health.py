"""Trends, gaps and sync status against hand-computed answers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from storage.analytics.gaps import Gap, find_gaps
from storage.analytics.status import FreshnessRule, sync_status
from storage.analytics.trends import trends
from storage.db import transaction
from storage.models import IdentityMapping, SyncState
from storage.writes import upsert_usage
from tests.factories import usage

# How the registered providers are judged: Claude Code daily with a lag, Cursor by its hourly watermark.
RULES = {
    "claude_code": FreshnessRule(max_complete_day_lag=1, max_success_age=timedelta(hours=7)),
    "cursor": FreshnessRule(max_watermark_age=timedelta(hours=2)),
}


def tokens(n: int, **kw: object) -> dict[str, object]:
    return {"input_tokens": n, "cache_write_tokens": 0, "cache_read_tokens": 0, "output_tokens": 0, **kw}


def test_trends_project_the_late_days(engine: Engine) -> None:
    rows = [usage(date=date(2026, 11, d), **tokens(1_000)) for d in range(1, 6)]  # Claude Code up to Thu 11-05
    rows += [
        usage(tool="cursor", date=date(2026, 11, d), event_key=f"c{d}", cost_usd=Decimal("0.10"), **tokens(500))
        for d in range(1, 8)
    ]
    with transaction(engine) as s:
        upsert_usage(s, rows)
    with transaction(engine) as s:
        t = trends(s, date(2026, 11, 1), date(2026, 11, 7), now=datetime(2026, 11, 7, 12, tzinfo=UTC))
    assert t.granularity == "day" and t.tools == ["claude_code", "cursor"]
    assert t.last_data == {"claude_code": date(2026, 11, 5), "cursor": date(2026, 11, 7)}
    assert [p.incomplete for p in t.points] == [False] * 5 + [True, True]
    friday, saturday = t.points[5], t.points[6]
    assert friday.actual == {"claude_code": 0, "cursor": 500} and friday.projected == {"claude_code": 1_000}
    assert saturday.projected == {"claude_code": 1_000, "cursor": 1_000}  # estimated; 500 at noon doubled
    assert t.total_tokens == 5 * 1_000 + 7 * 500 and t.has_projection
    assert t.points[0].cost_usd == Decimal("1.35")  # the factory's 1.25 plus 0.10; cost is never projected
    with transaction(engine) as s:
        short = trends(s, date(2026, 11, 6), date(2026, 11, 7), now=datetime(2026, 11, 7, 12, tzinfo=UTC))
    # The average comes from the weeks before today, not from the two visible days (W15).
    assert [p.projected.get("claude_code") for p in short.points] == [1_000, 1_000]


def test_trends_fold_into_weeks_above_90_days_and_filter_by_tool(engine: Engine) -> None:
    with transaction(engine) as s:
        upsert_usage(s, [usage(date=date(2026, 1, 5) + timedelta(days=n), **tokens(10)) for n in range(120)])
    with transaction(engine) as s:
        long = trends(s, date(2026, 1, 5), date(2026, 5, 4), now=datetime(2026, 11, 7, 12, tzinfo=UTC))
        cursor = trends(s, date(2026, 1, 5), date(2026, 1, 11), now=datetime(2026, 11, 7, tzinfo=UTC), tool="cursor")
    assert long.granularity == "week" and len(long.points) == 120 // 7 + 1
    assert long.points[0].date == date(2026, 1, 5) and long.points[0].actual == {"claude_code": 70}
    assert long.total_tokens == 1_200
    assert cursor.tools == ["cursor"] and cursor.total_tokens == 0 and cursor.last_data == {"cursor": None}


def test_gaps_and_stale_tail(engine: Engine) -> None:
    rows = [usage(date=date(2026, 11, d)) for d in (1, 2, 5, 6)]
    rows += [usage(date=date(2026, 11, 1), org_id="org-A", tool="cursor", event_key="x")]
    with transaction(engine) as s:
        upsert_usage(s, rows)
        s.add(SyncState(provider="cursor", org_id="org-A", last_success_at=datetime(2026, 11, 10, 10, tzinfo=UTC)))
        s.add(SyncState(provider="claude_code", org_id="org-2", last_success_at=datetime(2026, 11, 10, tzinfo=UTC)))
    with transaction(engine) as s:
        report = find_gaps(s, today=date(2026, 11, 10))
        only_cursor = find_gaps(s, today=date(2026, 11, 10), provider="cursor")
    assert [(g.provider, g.org_id) for g in report] == [
        ("claude_code", "org-1"),
        ("claude_code", "org-2"),
        ("cursor", "org-A"),
    ]
    cc, never, cursor = report
    assert cc.gaps == [Gap(date(2026, 11, 3), date(2026, 11, 4))] and cc.gaps[0].days == 2
    assert (cc.first_date, cc.last_date, cc.days_with_data, cc.expected_days, cc.missing_days) == (
        date(2026, 11, 1),
        date(2026, 11, 6),
        4,
        6,
        2,
    )
    assert cc.stale is None  # no sync state says it ran since, so silence is not flagged as stale
    assert never.first_date is None and never.gaps == [] and never.expected_days == 0
    assert cursor.gaps == [] and cursor.stale is not None
    assert (cursor.stale.last_data, cursor.stale.days_without_data) == (date(2026, 11, 1), 9)
    assert [g.provider for g in only_cursor] == ["cursor"]


NOW = datetime(2026, 11, 25, 14, tzinfo=UTC)


def test_status_judges_each_provider_by_its_schedule(engine: Engine) -> None:
    states = [
        # Claude Code complete to yesterday, last success 2 h ago: up to date (the original said "behind").
        SyncState(
            provider="claude_code",
            org_id="org-1",
            forward_watermark=datetime(2026, 11, 25, tzinfo=UTC),
            last_attempt_at=NOW - timedelta(hours=2),
            last_success_at=NOW - timedelta(hours=2),
        ),
        SyncState(
            provider="claude_code",
            org_id="org-2",
            forward_watermark=datetime(2026, 11, 23, tzinfo=UTC),
            last_success_at=NOW - timedelta(hours=2),
            last_error="HTTP 429 from the Anthropic API",
            last_error_at=NOW - timedelta(hours=1),
        ),
        SyncState(
            provider="cursor",
            org_id="org-A",
            forward_watermark=NOW - timedelta(hours=1),
            last_success_at=NOW - timedelta(hours=1),
            backfill_cursor=datetime(2026, 6, 1, tzinfo=UTC),
            backfill_target=date(2026, 1, 1),
        ),
        SyncState(
            provider="cursor",
            org_id="org-B",
            forward_watermark=NOW - timedelta(hours=4),
            last_success_at=NOW - timedelta(hours=4),
            backfill_complete=True,
            backfill_target=date(2026, 1, 1),
        ),
    ]
    with transaction(engine) as s:
        s.add_all(states)
        upsert_usage(
            s,
            [
                usage(org_id="org-3", date=date(2026, 11, 2)),
                usage(date=date(2026, 11, 24), actor="ci-key", actor_type="api_key", email="", **tokens(3_000)),
                usage(date=date(2026, 11, 20), actor="old-key", actor_type="api_key", email="", **tokens(10)),
            ],
        )
        s.add(IdentityMapping(source="claude_code", org_id="org-1", external_id="old-key", email="x@y.z", method="cli"))
    with transaction(engine) as s:
        status = sync_status(s, now=NOW, rules=RULES)
        strict = sync_status(
            s, now=NOW, provider="cursor", rules={"cursor": FreshnessRule(max_watermark_age=timedelta(minutes=30))}
        )
    by_key = {(p.provider, p.org_id): p for p in status.providers}
    assert list(by_key) == [
        ("claude_code", "org-1"),
        ("claude_code", "org-2"),
        ("claude_code", "org-3"),
        ("cursor", "org-A"),
        ("cursor", "org-B"),
    ]
    ok = by_key[("claude_code", "org-1")]
    assert (ok.freshness, ok.failing, ok.newest_complete_day, ok.days_behind) == (
        "up_to_date",
        False,
        date(2026, 11, 24),
        0,
    )
    assert ok.newest_data_day == date(2026, 11, 24) and ok.watermark_age == timedelta(hours=14)
    late = by_key[("claude_code", "org-2")]
    assert (late.freshness, late.failing, late.newest_complete_day, late.days_behind) == (
        "behind",
        True,
        date(2026, 11, 22),
        2,
    )
    assert late.last_error == "HTTP 429 from the Anthropic API"
    csv_only = by_key[("claude_code", "org-3")]
    assert csv_only.freshness == "never_synced" and csv_only.backfill.state == "not_started"
    a = by_key[("cursor", "org-A")]
    assert a.freshness == "up_to_date" and a.newest_complete_day == date(2026, 11, 24)  # watermark inside Nov 25
    assert (a.backfill.state, a.backfill.reached, a.backfill.days_remaining, a.backfill.percent) == (
        "in_progress",
        date(2026, 6, 1),
        151,
        53.8,  # 176 of the 327 days between 2026-01-01 and 2026-11-24
    )
    b = by_key[("cursor", "org-B")]
    assert b.freshness == "behind" and b.backfill.state == "complete" and b.backfill.percent == 100.0
    assert [p.freshness for p in strict.providers] == ["behind", "behind"]
    assert status.unmapped_key_count == 2 and status.unmapped_tokens == 3_010
    assert status.unmapped_cost_usd == Decimal("2.50")
    assert [(k.key, k.tokens, k.last_seen, k.mapped_to) for k in status.unmapped_keys] == [
        ("ci-key", 3_000, date(2026, 11, 24), None),
        ("old-key", 10, date(2026, 11, 20), "x@y.z"),
    ]
