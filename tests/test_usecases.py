"""The use cases called directly, with no Slack and no click in the way; and what changed around them:
one dispatch table for every command, charts drawn after the answer's text is shown, and the scheduled
alerts worked out without Slack before any of them is delivered."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.access import AccessPolicy, SlackUser
from bot.budgets import BudgetState, DueAlert, alert_message
from bot.command_text import USAGE, parse
from bot.outbox import Message
from bot.settings import Settings
from bot.spikes import spike_message, summary_message
from bot.usecases import dispatch, overview, top
from bot.usecases.context import Context
from bot.usecases.top import TopRequest
from storage.analytics.unusual import UnusualSpend
from storage.budgets import Budget, BudgetPeriod
from tests.slack_harness import SlackHarness
from tests.test_slack_commands import seed

POLICY = AccessPolicy(("acme.com",), frozenset({"admin@acme.com"}))
DANA = SlackUser("UDANA", "dana@acme.com", "dana", "T0ACME", "UTC")


def ctx_for(engine: Engine, asker: SlackUser = DANA, **kwargs: Any) -> Context:
    return Context(Settings(), engine, POLICY, lambda: datetime.now(UTC), asker, **kwargs)


def test_every_command_of_the_parser_has_one_use_case() -> None:
    assert set(dispatch.DISPATCH) == set(USAGE)


def test_a_use_case_answers_without_slack(engine: Engine) -> None:
    seed(engine)
    answer = dispatch.answer(ctx_for(engine), parse("top 7d by tokens"))
    body = json.dumps(answer.blocks)
    assert "dana@acme.com" in body and "bob@acme.com" in body and answer.charts
    # The typed request, straight: the same ranking, the same chart file.
    request = TopRequest(ctx_for(engine).period("7d"), by="tokens")
    direct = top.answer(ctx_for(engine), request)
    assert direct.blocks == answer.blocks and direct.charts[0].filename == answer.charts[0].filename == "top.png"
    # Someone who may not see people gets totals, and no chart of names.
    hidden = Context(
        Settings(),
        engine,
        AccessPolicy(("acme.com",), frozenset(), people_visible_to_all=False),
        lambda: datetime.now(UTC),
        DANA,
    )
    assert "bob@acme.com" not in json.dumps(top.answer(hidden, request).blocks)
    assert top.answer(hidden, request).charts == []


def test_period_typos_and_admin_commands_answer_in_words(engine: Engine) -> None:
    assert "period" in dispatch.answer(ctx_for(engine), parse("overview 99999d")).text.lower()
    assert "Only Abacus admins can manage budgets" in dispatch.answer(ctx_for(engine), parse("budget list")).text
    # An admin without Slack at hand: the use case says what it needs instead of failing.
    admin = SlackUser("UADMIN", "admin@acme.com", "admin", "T0ACME", "UTC")
    said = dispatch.answer(ctx_for(engine, admin, is_admin=True, channel_id="C1"), parse("digest here daily")).text
    assert "needs Slack" in said
    assert dispatch.answer(ctx_for(engine, admin, is_admin=True), parse("map")).modal is not None


def test_charts_are_drawn_only_when_asked_for(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(engine)
    drawn: list[str] = []
    real = overview.chart

    def chart(*args: Any, **kwargs: Any) -> Any:
        drawn.append("daily")
        return real(*args, **kwargs)

    monkeypatch.setattr(overview, "chart", chart)
    answer = dispatch.answer(ctx_for(engine), parse("overview 7d"))
    assert answer.blocks and drawn == []
    png = answer.charts[0].png
    assert png.startswith(b"\x89PNG") and answer.charts[0].png is png and drawn == ["daily"]  # drawn once


def test_slack_shows_the_numbers_before_it_draws_the_chart(
    slack_harness: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(slack_harness.engine)
    replies_when_drawn: list[int] = []
    real = overview.chart

    def chart(*args: Any, **kwargs: Any) -> Any:
        replies_when_drawn.append(len(slack_harness.slack.responses))
        return real(*args, **kwargs)

    monkeypatch.setattr(overview, "chart", chart)
    slack_harness.command("overview 7d")
    [reply] = slack_harness.slack.wait_for_responses(1)
    assert "Chart on its way to your DM" in json.dumps(reply)
    slack_harness.slack.wait_for("files.completeUploadExternal")
    assert replies_when_drawn == [1]  # the reply had arrived when the chart was drawn


def test_alerts_say_what_to_whom_without_slack() -> None:
    settings = Settings(ABACUS_SPIKE_ADMIN_CHANNEL="CADMIN", ABACUS_SPIKE_FACTOR="3")
    spike = UnusualSpend("bob@acme.com", date(2026, 11, 30), Decimal("120"), Decimal("10"), 12.0)
    note = spike_message(settings, spike)
    assert (note.email, note.channel, note.user_id) == ("bob@acme.com", "", "")
    assert "$120" in json.dumps(note.blocks)
    summary = summary_message(settings, [spike])
    assert summary is not None and summary.channel == "CADMIN" and "bob $120.00" in json.dumps(summary.blocks)
    assert summary_message(Settings(), [spike]) is None  # no admin channel: no summary
    budget = Budget(
        id=1,
        scope="org",
        target="",
        cadence="monthly",
        tool="",
        amount_usd=Decimal("100"),
        channel_id="CBUDGET",
        created_by="admin@acme.com",
        active=True,
    )
    period = BudgetPeriod("2026-11", date(2026, 11, 1), date(2026, 11, 30))
    state = BudgetState(budget, period, date(2026, 11, 20), Decimal("85"), Decimal("120"))
    message = alert_message(state, DueAlert(80, [50], projected=True), [("bob@acme.com", Decimal("60"))])
    assert isinstance(message, Message) and message.channel == "CBUDGET" and "80%" in json.dumps(message.blocks)
