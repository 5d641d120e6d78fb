"""Channel digests: when they are due, what they say, and that each period is posted exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine

from bot.answers.plain_text import blocks_to_text
from bot.digests import compose_digest, due_period, latest_period, period_for_day, run_due_digests
from bot.settings import Settings
from bot.slack.app import web_client
from bot.slack.outbox import SlackOutbox
from storage.db import transaction
from storage.digests import Subscription, claim_run, list_subscriptions, runs_for, subscribe
from storage.sync_state import record_success
from storage.writes import upsert_usage
from tests.factories import usage
from tests.fakes.slack_server import BOT_USER, FakeSlack

PNG = b"\x89PNG\r\n\x1a\n"
TOKYO, NEW_YORK = "Asia/Tokyo", "America/New_York"
DAY = date(2026, 11, 24)  # a Tuesday: the day the digests below report
SET_UP = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.channel_members["CDIGEST"] = {BOT_USER}
    fake.channel_members["CTOKYO"] = {BOT_USER}
    fake.channel_members["CNYC"] = {BOT_USER}
    yield fake
    fake.close()


def settings_for(slack: FakeSlack, **extra: Any) -> Settings:
    return Settings(
        **{
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": slack.api_url,
            "ANTHROPIC_ADMIN_KEY": "sk-ant-admin01-x",
            "CURSOR_ADMIN_KEY": "key_" + "c" * 64,
            **extra,
        }
    )


def seed(engine: Engine) -> None:
    """Four weeks of steady use by dana and bob, then a spike by bob on DAY; one unmapped key."""
    rows = []
    for back in range(0, 35):
        day = DAY - timedelta(days=back)
        rows.append(usage(date=day, email="dana@acme.com", actor="dana@acme.com", cost_usd=Decimal("10.00")))
        bob = Decimal("60.00") if day == DAY else Decimal("5.00")
        rows.append(
            usage(
                tool="cursor",
                date=day,
                email="bob@acme.com",
                actor="bob@acme.com",
                org_id="cursor:team",
                raw_model="gpt-5",
                event_key=f"e{back}",
                event_ts_ms=back + 1,
                cost_usd=bob,
            )
        )
    rows.append(usage(date=DAY, email="", actor="ci-key", actor_type="api_key", cost_usd=Decimal("2.50")))
    with transaction(engine) as s:
        upsert_usage(s, rows)
    record_success(engine, "claude_code", "org-1", SET_UP, forward_watermark=datetime(2026, 11, 25, tzinfo=UTC))


def add(
    engine: Engine, channel: str, *, cadence: str = "daily", at: str = "09:00", tz: str = "UTC", **kw: Any
) -> Subscription:
    return subscribe(
        engine,
        channel_id=channel,
        cadence=cadence,
        local_time=at,
        weekday=kw.get("weekday", 0 if cadence == "weekly" else None),
        timezone=tz,
        created_by="UADMIN",
        now=kw.get("now", SET_UP),
    )


def posts(slack: FakeSlack, channel: str | None = None) -> list[dict[str, Any]]:
    found = [c.args for c in slack.called("chat.postMessage")]
    return [a for a in found if channel is None or a.get("channel") == channel]


def blocks_of(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks")
    found: list[dict[str, Any]] = json.loads(blocks) if isinstance(blocks, str) else blocks or []
    return found


def tick(engine: Engine, slack: FakeSlack, now: datetime, **extra: Any) -> Any:
    settings = settings_for(slack, **extra)
    return run_due_digests(settings, engine, SlackOutbox(web_client(settings)), now=now)


# --- when a digest is due -------------------------------------------------------------------------------


def test_nine_in_tokyo_and_new_york_on_the_same_utc_day() -> None:
    tokyo = latest_period("daily", "09:00", None, ZoneInfo(TOKYO), datetime(2026, 11, 25, 0, 5, tzinfo=UTC))
    assert tokyo.key == "2026-11-24" and tokyo.scheduled_at.astimezone(UTC) == datetime(2026, 11, 25, tzinfo=UTC)
    # At the same instant New York's newest 09:00 was the day before, reporting the 23rd.
    ny_early = latest_period("daily", "09:00", None, ZoneInfo(NEW_YORK), datetime(2026, 11, 25, 0, 5, tzinfo=UTC))
    assert ny_early.key == "2026-11-23"
    ny = latest_period("daily", "09:00", None, ZoneInfo(NEW_YORK), datetime(2026, 11, 25, 14, 5, tzinfo=UTC))
    assert ny.key == "2026-11-24" and ny.scheduled_at.astimezone(UTC) == datetime(2026, 11, 25, 14, tzinfo=UTC)


def test_weekly_reports_the_last_full_week() -> None:
    monday_nine = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    week = latest_period("weekly", "09:00", 0, ZoneInfo("UTC"), monday_nine)
    assert (week.key, week.start, week.end) == ("2026-W48", date(2026, 11, 23), date(2026, 11, 29))
    before = latest_period("weekly", "09:00", 0, ZoneInfo("UTC"), monday_nine - timedelta(minutes=1))
    assert (before.start, before.end) == (date(2026, 11, 16), date(2026, 11, 22))
    friday = latest_period("weekly", "17:30", 4, ZoneInfo("UTC"), datetime(2026, 11, 27, 18, tzinfo=UTC))
    assert (friday.start, friday.end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert period_for_day("weekly", date(2026, 11, 26)).key == "2026-W48"


def test_a_new_subscription_waits_for_its_next_moment(engine: Engine) -> None:
    sub = add(engine, "CDIGEST", now=datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    assert due_period(sub, datetime(2026, 11, 25, 10, 5, tzinfo=UTC)) is None
    assert due_period(sub, datetime(2026, 11, 26, 9, 0, tzinfo=UTC)).key == "2026-11-25"  # type: ignore[union-attr]


# --- posting ----------------------------------------------------------------------------------------------


def test_daily_digest_content_and_chart(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    add(engine, "CDIGEST")
    result = tick(engine, slack, datetime(2026, 11, 25, 9, 2, tzinfo=UTC))
    assert result.posted == 1 and not result.errors
    [post] = posts(slack)
    blocks = blocks_of(post)
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    text = blocks_to_text(blocks)
    assert "AI CODING COSTS · TUESDAY NOV 24" in text
    # 10 + 60 + 2.50 = 72.50 against a 7-day average of 15: up 383%.
    assert "$72.50 that day" in text and "▲ 383.3% vs the 7-day average" in text and "2 active people" in text
    assert "Claude Code $12.50 est. (17%) · Cursor $60.00 (83%)" in text and "est.: Claude Code cost is" in text
    assert "Top: bob $60.00 · dana $10.00" in text
    assert "Unusual: bob at 12.0× their usual daily spend ($60.00 on Nov 24)" in text
    assert "Models: gpt-5 83% · sonnet-4.5 17%" in text
    assert "Data: Claude Code complete to Nov 24 · Cursor latest data Nov 24 (not synced by Abacus)" in text
    assert "Unattributed (that day): $2.50" in text and "included in the totals above" in text and "/abacus map" in text
    assert "posted late" not in text.lower()
    [upload] = slack.called("files.completeUploadExternal")
    assert upload.args["channel_id"] == "CDIGEST" and upload.args["thread_ts"]
    assert all(data.startswith(PNG) for data in slack.uploads.values()) and slack.uploads


def test_people_are_not_named_when_only_admins_may_see_them(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    add(engine, "CDIGEST")
    tick(engine, slack, datetime(2026, 11, 25, 9, 2, tzinfo=UTC), ABACUS_PEOPLE_VISIBILITY="admins")
    text = blocks_to_text(blocks_of(posts(slack)[0]))
    assert "bob" not in text and "dana" not in text
    assert "visible to Abacus admins only" in text and "Unusual: 1 person above 3× their usual daily spend" in text


def test_posted_exactly_once_across_restarts_and_claimants(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    sub = add(engine, "CDIGEST")
    now = datetime(2026, 11, 25, 9, 2, tzinfo=UTC)
    assert tick(engine, slack, now).posted == 1
    # A restarted process (new client, same database) a few minutes later: nothing new.
    assert tick(engine, slack, now + timedelta(minutes=5)).posted == 0
    assert tick(engine, slack, now + timedelta(hours=20)).posted == 0
    assert len(posts(slack)) == 1
    [run] = runs_for(engine, sub.id)
    assert (run.period, run.status) == ("2026-11-24", "posted") and run.message_ts
    # A second claimant of a period someone holds gets nothing.
    assert claim_run(engine, sub.id, "2026-11-25", now) is not None
    assert claim_run(engine, sub.id, "2026-11-25", now) is None


def test_timezones_post_at_their_own_nine(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    # Set up between New York's 09:00 on the 24th and Tokyo's 09:00 on the 25th.
    evening = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    add(engine, "CTOKYO", tz=TOKYO, now=evening)
    add(engine, "CNYC", tz=NEW_YORK, now=evening)
    assert tick(engine, slack, datetime(2026, 11, 25, 0, 5, tzinfo=UTC)).posted == 1
    assert len(posts(slack, "CTOKYO")) == 1 and not posts(slack, "CNYC")
    assert tick(engine, slack, datetime(2026, 11, 25, 13, 55, tzinfo=UTC)).posted == 0
    assert tick(engine, slack, datetime(2026, 11, 25, 14, 5, tzinfo=UTC)).posted == 1
    for channel in ("CTOKYO", "CNYC"):
        [post] = posts(slack, channel)
        assert "TUESDAY NOV 24" in blocks_to_text(blocks_of(post))


def test_a_missed_day_is_posted_late_once_and_says_so(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    add(engine, "CDIGEST", tz=TOKYO)
    # The scheduler was down at 09:00 Tokyo (00:00 UTC) and came back at 06:00 UTC.
    assert tick(engine, slack, datetime(2026, 11, 25, 6, 0, tzinfo=UTC)).posted == 1
    text = blocks_to_text(blocks_of(posts(slack)[0]))
    assert "Posted late: this digest was due Wednesday Nov 25 09:00 (Asia/Tokyo)" in text
    assert tick(engine, slack, datetime(2026, 11, 25, 6, 5, tzinfo=UTC)).posted == 0
    assert len(posts(slack)) == 1


def test_weekly_digest_compares_with_the_week_before(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    add(engine, "CDIGEST", cadence="weekly")
    assert tick(engine, slack, datetime(2026, 11, 30, 9, 1, tzinfo=UTC)).posted == 1
    text = blocks_to_text(blocks_of(posts(slack)[0]))
    # Nov 23–29 holds Nov 23 and 24 only (the data ends on DAY): 15 + 72.50 against a full week of 105.
    assert "WEEK OF NOV 23 – NOV 29 2026" in text
    assert "$87.50 that week" in text and "▼ 16.7% vs the week before" in text


def test_a_429_is_retried_and_posts_once(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    sub = add(engine, "CDIGEST")
    slack.fail("chat.postMessage", status=429, retry_after=1)
    assert tick(engine, slack, datetime(2026, 11, 25, 9, 2, tzinfo=UTC)).posted == 1
    assert len(slack.called("chat.postMessage")) == 2  # the 429, then the post
    assert [r.status for r in runs_for(engine, sub.id)] == ["posted"]


def test_a_post_that_still_fails_is_retried_on_the_next_run(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    sub = add(engine, "CDIGEST")
    slack.fail("chat.postMessage", status=429, retry_after=0, times=3)  # outlasts the client's 2 retries
    first = tick(engine, slack, datetime(2026, 11, 25, 9, 2, tzinfo=UTC))
    assert first.posted == 0 and first.errors
    assert [(r.status, r.message_ts) for r in runs_for(engine, sub.id)] == [("failed", None)]
    assert tick(engine, slack, datetime(2026, 11, 25, 9, 7, tzinfo=UTC)).posted == 1
    assert [r.status for r in runs_for(engine, sub.id)] == ["posted"]
    assert list_subscriptions(engine)  # a transient failure never switches a digest off


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found", "is_archived"])
def test_a_channel_abacus_cannot_post_in_disables_the_digest(engine: Engine, slack: FakeSlack, error: str) -> None:
    seed(engine)
    sub = add(engine, "CDIGEST")
    if error == "not_in_channel":
        slack.channel_members["CDIGEST"] = set()  # the bot was removed
    else:
        slack.fail("chat.postMessage", error=error)
    result = tick(engine, slack, datetime(2026, 11, 25, 9, 2, tzinfo=UTC))
    assert result.posted == 0 and result.disabled == 1
    assert list_subscriptions(engine) == []
    assert [r.status for r in runs_for(engine, sub.id)] == ["failed"]
    [dm] = slack.called("conversations.open")
    assert dm.args["users"] == "UADMIN"
    note = posts(slack, "DADMIN")
    assert len(note) == 1 and "/invite @Abacus" in note[0]["text"] and "CDIGEST" in note[0]["text"]
    assert tick(engine, slack, datetime(2026, 11, 26, 9, 2, tzinfo=UTC)).posted == 0


def test_preview_composes_what_would_be_posted(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    settings = settings_for(slack)
    now = datetime(2026, 11, 25, 9, 2, tzinfo=UTC)
    message = compose_digest(settings, engine, "daily", period_for_day("daily", DAY), now=now)
    add(engine, "CDIGEST")
    tick(engine, slack, now)
    assert blocks_of(posts(slack)[0]) == message.blocks
    assert message.chart.png.startswith(PNG)


def test_cli_preview_prints_the_digest_without_posting(
    engine: Engine,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    from bot.cli import main

    seed(engine)
    add(engine, "CDIGEST", tz=TOKYO)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    png = tmp_path / "digest.png"
    assert main(["digest", "preview", "--channel", "CDIGEST", "--date", "2026-11-24", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "Would post in CDIGEST (daily, period 2026-11-24)" in out
    assert "AI CODING COSTS · TUESDAY NOV 24" in out and "$72.50 that day" in out
    assert "[chart in the thread: Tokens and cost per day · Oct 26 – Nov 24" in out
    assert png.read_bytes().startswith(PNG)
    assert slack.calls == []  # nothing was posted

    assert main(["digest", "preview", "--weekly", "--date", "2026-11-24"]) == 0
    assert "WEEK OF NOV 23 – NOV 29 2026" in capsys.readouterr().out
    assert main(["digest", "preview", "--channel", "CNOPE"]) == 1
    assert "No digest is set up for channel CNOPE" in capsys.readouterr().err


def test_late_data_is_marked_as_not_final(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    record_success(engine, "cursor", "cursor:team", SET_UP, forward_watermark=datetime(2026, 11, 24, 6, tzinfo=UTC))
    add(engine, "CDIGEST")
    tick(engine, slack, datetime(2026, 11, 25, 9, 2, tzinfo=UTC))
    text = blocks_to_text(blocks_of(posts(slack)[0]))
    assert "Cursor complete to Nov 24 06:00 UTC" in text
    assert "Not final yet: Cursor complete to Nov 23 only, so these numbers may still grow" in text
    assert "Claude Code only" not in text


def test_two_digests_for_one_channel_are_a_second_apart(engine: Engine, slack: FakeSlack) -> None:
    seed(engine)
    add(engine, "CDIGEST")
    add(engine, "CDIGEST", cadence="weekly", weekday=2)  # Wednesday 09:00: due at the same moment
    settings = settings_for(slack)
    waits: list[float] = []
    result = run_due_digests(
        settings,
        engine,
        SlackOutbox(web_client(settings)),
        now=datetime(2026, 11, 25, 9, 2, tzinfo=UTC),
        sleep=waits.append,
        clock=lambda: 1_000.0,  # a clock that stands still: the second post must wait the whole second
    )
    assert result.posted == 2 and waits == [1.0]
