"""`/abacus digest ...` end to end: signed request -> served Bolt app -> database -> fake Slack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.command_text import parse
from storage.digests import list_subscriptions
from tests.fakes.slack_server import BOT_USER
from tests.slack_harness import SlackHarness


def reply_text(harness: SlackHarness, count: int = 1) -> str:
    return json.dumps(harness.slack.wait_for_responses(count)[count - 1], ensure_ascii=False)


def test_only_admins_manage_digests(slack_harness: SlackHarness) -> None:
    slack_harness.slack.channel_members["C0GENERAL"] = {BOT_USER}
    for n, text in enumerate(("digest here daily", "digest list", "digest off"), start=1):
        slack_harness.command(text, user="UDANA")
        assert "Only Abacus admins can manage digests" in reply_text(slack_harness, n)
    assert list_subscriptions(slack_harness.engine) == []
    assert slack_harness.slack.called("conversations.info") == []


def test_the_bot_must_be_in_the_channel(slack_harness: SlackHarness) -> None:
    slack_harness.command("digest here daily", user="UADMIN")
    body = reply_text(slack_harness)
    assert "not a member of this channel" in body and "/invite @Abacus" in body
    assert slack_harness.slack.called("conversations.info")[0].args["channel"] == "C0GENERAL"
    assert list_subscriptions(slack_harness.engine) == []


def test_set_up_list_and_stop_digests(slack_harness: SlackHarness) -> None:
    slack = slack_harness.slack
    slack.channel_members["C0GENERAL"] = {BOT_USER}
    slack_harness.command("digest here daily 8:30 Asia/Tokyo", user="UADMIN")
    assert "gets the daily AI coding digest daily at 08:30 (Asia/Tokyo)" in reply_text(slack_harness, 1)
    slack_harness.command("digest here weekly fri 17:00", user="UADMIN")
    # Without a timezone, the admin's own Slack timezone.
    assert "weekly on Fridays at 17:00 (Europe/Vienna)" in reply_text(slack_harness, 2)
    [daily, weekly] = list_subscriptions(slack_harness.engine)
    assert (daily.cadence, daily.local_time, daily.timezone, daily.created_by) == (
        "daily",
        "08:30",
        "Asia/Tokyo",
        "UADMIN",
    )
    assert (weekly.cadence, weekly.weekday, weekly.local_time) == ("weekly", 4, "17:00")

    slack_harness.command("digest here daily 07:00", user="UADMIN")  # replaces the schedule, no second row
    reply_text(slack_harness, 3)
    assert [s.local_time for s in list_subscriptions(slack_harness.engine)] == ["07:00", "17:00"]

    slack_harness.command("digest list", user="UADMIN")
    listed = reply_text(slack_harness, 4)
    assert "<#C0GENERAL>: daily at 07:00" in listed and "weekly on Fridays" in listed

    slack_harness.command("digest off weekly", user="UADMIN")
    assert "Stopped the digest in <#C0GENERAL>" in reply_text(slack_harness, 5)
    slack_harness.command("digest off", user="UADMIN")
    assert "Stopped the digest in" in reply_text(slack_harness, 6)
    assert list_subscriptions(slack_harness.engine) == []
    slack_harness.command("digest off", user="UADMIN")
    assert "has no digest to stop" in reply_text(slack_harness, 7)


def manifest_scopes() -> str:
    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / "manifest.yml").read_text())
    return ",".join(manifest["oauth_config"]["scopes"]["bot"])


@pytest.mark.parametrize("where", ["dm", "group dm", "private channel", "public channel"])
def test_the_manifest_scopes_cover_conversations_info_everywhere(slack_harness: SlackHarness, where: str) -> None:
    """With exactly the manifest's scopes, a digest and a budget can be set up in every kind of conversation
    (conversations.info needs im:read in a DM and mpim:read in a group DM)."""
    slack = slack_harness.slack
    slack.scopes = manifest_scopes()
    channel = {"dm": "D0ADMIN", "group dm": "G0MPIM", "private channel": "G0PRIV", "public channel": "C0PUB"}[where]
    if where == "group dm":
        slack.group_dms.add(channel)
    if where == "private channel":
        slack.private_channels.add(channel)
    if where != "dm":
        slack.channel_members[channel] = {BOT_USER}
    slack_harness.command("digest here daily 09:00 UTC", user="UADMIN", channel=channel)
    assert "gets the daily AI coding digest" in reply_text(slack_harness, 1)
    slack_harness.command("budget set org $500 monthly", user="UADMIN", channel=channel)
    budget = reply_text(slack_harness, 2)
    assert "went wrong" not in budget and "not a member" not in budget
    assert [c.args["channel"] for c in slack.called("conversations.info")] == [channel, channel]
    assert [s.channel_id for s in list_subscriptions(slack_harness.engine)] == [channel]


def test_a_bad_digest_command_shows_the_usage(slack_harness: SlackHarness) -> None:
    slack_harness.command("digest here hourly", user="UADMIN")
    body = reply_text(slack_harness)
    assert "Say `daily` or `weekly`" in body and "/abacus digest here daily [HH:MM]" in body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest here daily", {"action": "here", "cadence": "daily", "local_time": None, "timezone": None}),
        ("digest here daily 9:05 UTC", {"cadence": "daily", "local_time": "09:05", "timezone": "UTC"}),
        ("digest here weekly monday 08:00 America/New_York", {"weekday": 0, "timezone": "America/New_York"}),
        ("digest list", {"action": "list"}),
        ("digest off daily", {"action": "off", "cadence": "daily"}),
    ],
)
def test_digest_parsing(text: str, expected: dict[str, object]) -> None:
    request = parse(text)
    assert request.command == "digest" and request.problems == ()
    for key, value in expected.items():
        assert getattr(request, key) == value


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("digest", "Use `here`, `list` or `off`"),
        ("digest here daily 24:00", "not a time of day"),
        ("digest here daily Mars/Olympus", "not a timezone I know"),
        ("digest here daily friday", "don't understand `friday`"),
        ("digest list everything", "don't understand `everything`"),
    ],
)
def test_digest_parsing_problems(text: str, problem: str) -> None:
    assert any(problem in p for p in parse(text).problems)


def test_status_shows_the_scheduled_jobs(slack_harness: SlackHarness) -> None:
    from datetime import UTC, datetime, timedelta

    from storage.job_runs import finish_run, start_run

    started = datetime.now(UTC) - timedelta(minutes=10)
    run = start_run(slack_harness.engine, "digests", started)
    finish_run(slack_harness.engine, run, started + timedelta(seconds=3), ok=True, rows=2)
    slack_harness.command("status", user="UADMIN")
    body = reply_text(slack_harness)
    assert "Scheduled jobs" in body and "Channel digests: 10 min ago · 2 rows" in body
