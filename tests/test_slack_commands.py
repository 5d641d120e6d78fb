"""Every /abacus command end to end: signed request -> served Bolt app -> database -> fake Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import Engine

from storage.db import transaction
from storage.sync_state import record_success
from storage.writes import UsageRecord, upsert_usage
from tests.slack_harness import SlackHarness

# "Today" as Dana sees it (her Slack timezone is the fake's default, Europe/Vienna), so periods line up with the
# seeded days at any hour, including 23:00-24:00 UTC when Vienna is already on the next day.
TODAY = datetime.now(UTC).date()  # the fake users' Slack timezone is UTC
PNG = b"\x89PNG\r\n\x1a\n"


def seed(engine: Engine) -> None:
    rows = []
    for back in range(10):
        day = TODAY - timedelta(days=back + 1)
        rows += [
            UsageRecord(
                tool="claude_code",
                date=day,
                actor="dana@acme.com",
                email="dana@acme.com",
                org_id="org-1",
                raw_model="claude-opus-4-6",
                input_tokens=1_000,
                output_tokens=500,
                cache_read_tokens=20_000,
                cost_usd=Decimal("4.00"),
            ),
            UsageRecord(
                tool="cursor",
                date=day,
                actor="bob@acme.com",
                email="bob@acme.com",
                org_id="cursor:team",
                raw_model="auto",
                event_key=f"e{back}",
                event_ts_ms=1,
                input_tokens=300,
                output_tokens=100,
                cost_usd=Decimal("0.50"),
            ),
        ]
    rows.append(
        UsageRecord(
            tool="claude_code",
            date=TODAY - timedelta(days=2),
            actor="ci-key",
            actor_type="api_key",
            org_id="org-1",
            raw_model="claude-opus-4-6",
            input_tokens=50,
            cost_usd=Decimal("1.25"),
        )
    )
    with transaction(engine) as s:
        upsert_usage(s, rows)
    now = datetime.now(UTC)
    record_success(
        engine, "claude_code", "org-1", now, forward_watermark=datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
    )


def text_of(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def valid_blocks(blocks: list[dict]) -> None:
    """Round-trip through slack_sdk's models: limit violations fail here rather than in Slack."""
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()


def test_me_answers_privately_and_sends_the_chart_to_the_dm(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    assert slack_harness.command("me 7d").status_code == 200
    [reply] = slack_harness.slack.wait_for_responses(1)
    assert reply["response_type"] == "ephemeral"
    valid_blocks(reply["blocks"])
    body = text_of(reply)
    assert "Your AI coding usage · last 7 days" in body
    assert "$24.00" in body and "6 active days" in body  # 7d = today (no data yet) and the 6 days before
    assert "Chart on its way to your DM" in body
    assert "Claude Code complete to" in body and "Cursor is" not in body
    [complete] = slack_harness.slack.wait_for("files.completeUploadExternal")
    assert complete.args["channel_id"] == "DDANA"
    [upload] = slack_harness.slack.uploads.values()
    assert upload.startswith(PNG)
    assert slack_harness.slack.called("conversations.open")[0].args["users"] == "UDANA"


def test_me_with_no_usage_says_so_without_a_chart(slack_harness: SlackHarness) -> None:
    slack_harness.command("me", user="UADMIN")
    [reply] = slack_harness.slack.wait_for_responses(1)
    assert "no AI coding usage recorded yet" in text_of(reply)
    assert slack_harness.slack.called("files.getUploadURLExternal") == []


def test_top_ranks_people_with_shares(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    slack_harness.command("top 5 30d by tokens")
    [reply] = slack_harness.slack.wait_for_responses(1)
    valid_blocks(reply["blocks"])
    body = text_of(reply)
    assert "Top 2 by tokens · last 30 days" in body
    assert body.index("1. dana@acme.com") < body.index("2. bob@acme.com")
    assert "Unattributed (last 30 days): $1.25" in body and "not in the people's total" in body
    assert "/abacus map" in body
    slack_harness.slack.wait_for("files.completeUploadExternal")


def test_user_by_mention_and_by_unknown_email(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    slack_harness.command("user <@UBOB|bob> 30d")
    slack_harness.command("user nobody@acme.com")
    replies = slack_harness.slack.wait_for_responses(2)
    bodies = sorted(text_of(r) for r in replies)
    assert any("Bob AI coding usage" in b and "$5.00" in b for b in bodies)
    assert any("No AI coding usage is recorded for nobody@acme.com" in b for b in bodies)


def test_models_gaps_and_status(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    for text in ("models 30d", "gaps", "status", "gaps claude"):
        slack_harness.command(text)
    replies = [text_of(r) for r in slack_harness.slack.wait_for_responses(4)]
    assert any(("Models · last 30 days" in r and "opus-4.6" in r) or "claude-opus-4-6" in r for r in replies)
    assert any("Gaps in the data" in r and "no gaps" in r for r in replies)
    status = next(r for r in replies if "Abacus status" in r)
    assert "Claude Code" in status and "Unattributed (all time, all stored data)" in status and "API key" in status
    # The freshness words of every surface: complete to (final) and latest data (newest stored day).
    yesterday = TODAY - timedelta(days=1)
    assert f"complete to {yesterday:%b} {yesterday.day} · latest data {yesterday:%b} {yesterday.day}" in status
    # Cursor has data (imported, no sync): asking about Claude Code never calls it "not connected".
    gaps = [r for r in replies if "Gaps in the data" in r]
    assert len(gaps) == 2 and not any(
        "Cursor is not connected" in r or "Claude Code is not connected" in r for r in gaps
    )
    # A tool with neither a key nor data is named as not connected, with what to set.
    assert any("OpenAI" in r and "not connected yet" in r for r in gaps)


def test_a_bad_period_is_explained(slack_harness: SlackHarness) -> None:
    slack_harness.command("me 2026-02-30..2026-03-01")
    [reply] = slack_harness.slack.wait_for_responses(1)
    assert "not a real calendar date" in text_of(reply) and "/abacus me [period]" in text_of(reply)


def test_shared_overview_needs_the_bot_in_the_channel(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    slack_harness.command("overview 7d share", channel="C0PRIVATE")
    [reply] = slack_harness.slack.wait_for_responses(1)
    assert "/invite @Abacus" in text_of(reply)
    slack_harness.slack.channel_members["C0TEAM"] = {"UBOT"}
    slack_harness.command("7d share", channel="C0TEAM")
    posts = slack_harness.slack.wait_for("chat.postMessage", 2)
    shared = posts[-1].args
    assert shared["channel"] == "C0TEAM"
    assert "AI coding usage · last 7 days" in text_of(shared)
    complete = slack_harness.slack.wait_for("files.completeUploadExternal")[-1]
    assert complete.args["channel_id"] == "C0TEAM" and complete.args.get("thread_ts")


def test_a_slack_429_during_the_chart_upload_is_retried(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    slack_harness.slack.fail("files.getUploadURLExternal", status=429, retry_after=0)
    slack_harness.command("me")
    slack_harness.slack.wait_for("files.completeUploadExternal")
    assert len(slack_harness.slack.called("files.getUploadURLExternal")) == 2
    assert all(body.startswith(PNG) for body in slack_harness.slack.uploads.values())


def test_a_failed_chart_upload_is_reported_and_the_numbers_still_arrive(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    slack_harness.slack.fail("conversations.open", error="cannot_dm_bot")
    slack_harness.command("me")
    replies = slack_harness.slack.wait_for_responses(2)
    assert "$" in text_of(replies[0])
    assert "couldn't send the chart to your DM" in text_of(replies[1]) and "cannot_dm_bot" in text_of(replies[1])


def test_app_home_shows_the_viewers_summary(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    response = slack_harness.event({"type": "app_home_opened", "user": "UDANA", "channel": "DDANA", "tab": "home"})
    assert response.status_code == 200
    [publish] = slack_harness.slack.wait_for("views.publish")
    assert publish.args["user_id"] == "UDANA"
    view = publish.args["view"]
    View(**view).validate_json()
    body = text_of(view)
    assert "last 30 days" in body and "$40.00" in body and "daily tokens" in body


def test_app_home_for_a_stranger_publishes_nothing(slack_harness: SlackHarness) -> None:
    slack_harness.event({"type": "app_home_opened", "user": "UOUT", "channel": "DOUT", "tab": "home"})
    import time

    time.sleep(0.3)
    assert slack_harness.slack.called("views.publish") == []


@pytest.mark.parametrize("visible", ["everyone", "admins"])
def test_people_visibility_setting(slack_harness: SlackHarness, visible: str) -> None:
    from bot.access import AccessPolicy
    from bot.command_text import parse
    from bot.slack.services import Services
    from bot.slack.users import SlackUser

    seed(slack_harness.engine)
    policy = AccessPolicy(("acme.com",), frozenset({"admin@acme.com"}), people_visible_to_all=visible == "everyone")
    services = Services(slack_harness.settings, slack_harness.engine, None, policy)
    dana = SlackUser("UDANA", "dana@acme.com", "dana", "T0ACME", "UTC")
    admin = SlackUser("UADMIN", "admin@acme.com", "admin", "T0ACME", "UTC")
    top = services.answer(parse("top"), dana, is_admin=False)
    someone = services.answer(parse("user bob@acme.com"), dana, is_admin=False)
    if visible == "everyone":
        assert "bob@acme.com" in text_of({"b": top.blocks}) and top.charts
        assert "Bob AI coding usage" in someone.text
    else:
        assert "bob@acme.com" not in text_of({"b": top.blocks}) and not top.charts
        assert "admins only" in someone.text
        assert "bob@acme.com" in text_of({"b": services.answer(parse("top"), admin, is_admin=True).blocks})


def test_app_home_button_sends_the_chart_to_the_dm(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    slack_harness.event({"type": "app_home_opened", "user": "UDANA", "channel": "DDANA", "tab": "home"})
    [publish] = slack_harness.slack.wait_for("views.publish")
    [button] = [e for b in publish.args["view"]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    response = slack_harness.interaction(
        {
            "type": "block_actions",
            "trigger_id": "1.2.3",
            "container": {"type": "view", "view_id": "V1"},
            "view": {"id": "V1", "type": "home"},
            "actions": [
                {"type": "button", "action_id": button["action_id"], "block_id": "b", "value": "30d", "action_ts": "1"}
            ],
        },
        user="UDANA",
    )
    assert response.status_code == 200
    [complete] = slack_harness.slack.wait_for("files.completeUploadExternal")
    assert complete.args["channel_id"] == "DDANA"
    assert all(body.startswith(PNG) for body in slack_harness.slack.uploads.values())
