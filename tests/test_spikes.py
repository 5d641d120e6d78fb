"""Spike alerts: detection edge cases (new person, holidays, zero days, the floor), one DM per person per
day across runs, the batched admin summary. Every date is fixed: nothing depends on today."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.settings import Settings
from bot.slack.outbox import SlackOutbox
from bot.spikes import check_spikes, find_spikes
from storage.db import transaction
from storage.spikes import spikes_recorded
from storage.writes import upsert_usage
from tests.factories import usage
from tests.fakes.slack_server import BOT_USER, FakeSlack

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
YESTERDAY = TODAY - timedelta(days=1)


def spend(engine: Engine, email: str, costs: dict[date, str]) -> None:
    with transaction(engine) as s:
        upsert_usage(
            s, [usage(email=email, actor=email, date=day, cost_usd=Decimal(cost)) for day, cost in costs.items()]
        )


def history(days: int, cost: str, *, every: int = 1) -> dict[date, str]:
    """``cost`` on every ``every``-th day of the ``days`` days before yesterday."""
    return {YESTERDAY - timedelta(days=back): cost for back in range(1, days + 1) if back % every == 0}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("UDANA", "dana@acme.com")
    fake.add_user("UBOB", "bob@acme.com")
    fake.channel_members["CADMINS"] = {BOT_USER}
    yield fake
    fake.close()


def client_for(slack: FakeSlack) -> WebClient:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    client.proxy = None
    return client


def settings(slack: FakeSlack, **extra: str) -> Settings:
    return Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.api_url, **extra)


def test_detection_edge_cases(engine: Engine, slack: FakeSlack) -> None:
    spend(engine, "usual@x.com", {**history(20, "10"), YESTERDAY: "31"})  # 3.1x and above $20: a spike
    spend(engine, "cheap@x.com", {**history(20, "2"), YESTERDAY: "15"})  # 7.5x but under the $20 floor
    spend(engine, "newbie@x.com", {YESTERDAY - timedelta(days=1): "5", YESTERDAY: "500"})  # no usual day yet
    # Works twice a week (holidays and weekends are zero days): the median is of active days, not zero.
    spend(engine, "parttime@x.com", {**history(28, "10", every=4), YESTERDAY: "25"})
    spend(engine, "zeros@x.com", {**history(10, "0"), YESTERDAY: "100"})  # only zero-cost days: no usual day
    spend(engine, "steady@x.com", {**history(20, "30"), YESTERDAY: "89.99"})  # just under 3x
    found = find_spikes(settings(slack), engine, now=NOW)
    assert [(s.email, s.date, s.ratio) for s in found] == [("usual@x.com", YESTERDAY, 3.1)]


def test_one_dm_per_person_per_day_and_one_batched_summary(engine: Engine, slack: FakeSlack) -> None:
    spend(engine, "dana@acme.com", {**history(20, "10"), YESTERDAY: "50"})
    spend(engine, "bob@acme.com", {**history(20, "20"), YESTERDAY: "100", TODAY: "90"})
    config = settings(slack, ABACUS_SPIKE_ADMIN_CHANNEL="CADMINS")
    tick = check_spikes(config, engine, SlackOutbox(client_for(slack)), now=NOW)
    assert (tick.sent, tick.errors) == (3, [])  # dana yesterday, bob yesterday and today
    posts = slack.called("chat.postMessage")
    dms = [p for p in posts if p.args["channel"].startswith("D")]
    assert sorted(p.args["channel"] for p in dms) == ["DBOB", "DBOB", "DDANA"]
    assert "your AI coding usage on Nov 24 came to *$50.00*, 5× your usual day" in json.dumps(
        next(p for p in dms if p.args["channel"] == "DDANA").args["blocks"], ensure_ascii=False
    )
    [summary] = [p for p in posts if p.args["channel"] == "CADMINS"]
    text = json.dumps(summary.args["blocks"], ensure_ascii=False)
    assert "dana $50.00 on Nov 24" in text and "bob $100.00 on Nov 24" in text and "bob $90.00 on Nov 25" in text
    # The next run (or a restarted scheduler) sends nothing again for those days.
    assert check_spikes(config, engine, SlackOutbox(client_for(slack)), now=NOW + timedelta(hours=1)).sent == 0
    assert len(slack.called("chat.postMessage")) == 4


def test_a_failed_dm_is_retried_and_no_summary_without_a_channel(engine: Engine, slack: FakeSlack) -> None:
    spend(engine, "dana@acme.com", {**history(20, "10"), YESTERDAY: "50"})
    slack.fail("conversations.open", error="user_disabled")
    tick = check_spikes(settings(slack), engine, SlackOutbox(client_for(slack)), now=NOW)
    assert tick.sent == 0 and tick.errors == ["dana@acme.com: user_disabled"]
    assert [r.status for r in spikes_recorded(engine)] == ["failed"]
    assert check_spikes(settings(slack), engine, SlackOutbox(client_for(slack)), now=NOW).sent == 1
    assert [r.status for r in spikes_recorded(engine)] == ["sent"]
    assert [p.args["channel"] for p in slack.called("chat.postMessage")] == ["DDANA"]
