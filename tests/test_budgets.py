"""Budgets: period maths, projection, which alert is due, exactly-once posting across runs and
restarts, period rollover, and the Slack commands. Every date is fixed: nothing depends on today."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.budgets import BudgetState, budget_state, check_budgets, due_alert
from bot.settings import Settings
from bot.slack.outbox import SlackOutbox
from storage.budgets import Budget, alerts_of, budget_period, list_budgets, projected_spend, set_budget
from storage.db import transaction
from storage.teams import replace_members
from storage.writes import upsert_usage
from tests.factories import usage
from tests.fakes.slack_server import BOT_USER, FakeSlack
from tests.slack_harness import SlackHarness

NOV = budget_period("monthly", date(2026, 11, 10))


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


def spend(engine: Engine, email: str, cost: str, day: date) -> None:
    with transaction(engine) as s:
        upsert_usage(s, [usage(email=email, actor=email, date=day, cost_usd=Decimal(cost))])


def state(spent: str, as_of: date, amount: str = "100", projected: Decimal | None = None) -> BudgetState:
    budget = Budget(1, "org", "", "monthly", "", Decimal(amount), "C1", "admin", True)
    period = budget_period("monthly", as_of)
    return BudgetState(budget, period, as_of, Decimal(spent), projected)


# --- pure maths -------------------------------------------------------------------------------------


def test_budget_periods_are_calendar_months_and_iso_weeks() -> None:
    assert (NOV.key, NOV.start, NOV.end, NOV.days) == ("2026-11", date(2026, 11, 1), date(2026, 11, 30), 30)
    feb = budget_period("monthly", date(2028, 2, 29))
    assert (feb.start, feb.end) == (date(2028, 2, 1), date(2028, 2, 29))
    dec = budget_period("monthly", date(2026, 12, 31))
    assert dec.end == date(2026, 12, 31)
    week = budget_period("weekly", date(2027, 1, 3))  # a Sunday: still ISO week 53 of 2026
    assert (week.key, week.start, week.end) == ("2026-W53", date(2026, 12, 28), date(2027, 1, 3))
    assert budget_period("weekly", date(2027, 1, 4)).key == "2027-W01"


def test_projection_is_the_pace_so_far_and_waits_for_three_days() -> None:
    assert projected_spend(Decimal(50), NOV, date(2026, 11, 2)) is None
    assert projected_spend(Decimal(30), NOV, date(2026, 11, 3)) == Decimal("300.00")
    assert projected_spend(Decimal("100"), NOV, date(2026, 11, 7)) == Decimal("428.57")  # 100 * 30 / 7
    assert projected_spend(Decimal(90), NOV, date(2026, 11, 30)) == Decimal("90.00")
    assert projected_spend(Decimal(0), NOV, date(2026, 11, 15)) == Decimal("0.00")


def test_the_due_alert_is_the_highest_new_threshold_and_a_projection_before_the_overrun() -> None:
    thresholds = [50, 80, 100]
    assert due_alert(state("49.99", date(2026, 11, 20)), thresholds, set()) is None
    half = due_alert(state("50", date(2026, 11, 20)), thresholds, set())
    assert half is not None and (half.threshold, half.passed, half.projected) == (50, [], False)
    assert due_alert(state("79", date(2026, 11, 20)), thresholds, {"50"}) is None
    jump = due_alert(state("110", date(2026, 11, 20)), thresholds, {"50"})
    assert jump is not None and (jump.threshold, jump.passed, jump.projected) == (100, [80], False)
    pace = due_alert(state("40", date(2026, 11, 10), projected=Decimal(120)), thresholds, set())
    assert pace is not None and (pace.threshold, pace.projected) == (None, True)
    assert due_alert(state("40", date(2026, 11, 10), projected=Decimal(120)), thresholds, {"projected"}) is None
    # Already over: the 100% alert says so; no projection of what has already happened.
    over = due_alert(state("101", date(2026, 11, 10), projected=Decimal(300)), thresholds, {"50", "80"})
    assert over is not None and (over.threshold, over.projected) == (100, False)


# --- posting exactly once -------------------------------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.channel_members["CBUDGET"] = {BOT_USER}
    yield fake
    fake.close()


def client_for(slack: FakeSlack) -> WebClient:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    client.proxy = None
    return client


def settings_for(slack: FakeSlack) -> Settings:
    return Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.api_url)


def posts(slack: FakeSlack) -> list[str]:
    return [json.dumps(c.args.get("blocks"), ensure_ascii=False) for c in slack.called("chat.postMessage")]


def make_budget(engine: Engine, channel: str = "CBUDGET", **kw: object) -> Budget:
    values: dict[str, object] = {
        "scope": "org",
        "target": "",
        "cadence": "monthly",
        "tool": "",
        "amount_usd": Decimal(100),
        "channel_id": channel,
        "created_by": "admin@acme.com",
        "now": at(1),
    }
    values.update(kw)
    return set_budget(engine, **values)  # type: ignore[arg-type]


def test_thresholds_fire_once_per_period_across_restarts_and_again_next_month(engine: Engine, slack: FakeSlack) -> None:
    budget = make_budget(engine)
    settings, client = settings_for(slack), client_for(slack)
    spend(engine, "dana@acme.com", "30", date(2026, 11, 1))
    spend(engine, "bob@acme.com", "25", date(2026, 11, 2))
    assert check_budgets(settings, engine, SlackOutbox(client), now=at(2)).posted == 1  # 55%: the 50% alert
    [first] = posts(slack)
    assert "has used 50% of its monthly budget of $100.00" in first and "dana $30.00 · bob $25.00" in first
    # A restart (a new pass, a new client) finds the claim: nothing again.
    assert check_budgets(settings, engine, SlackOutbox(client_for(slack)), now=at(2)).posted == 0
    spend(engine, "dana@acme.com", "60", date(2026, 11, 3))  # 115%: 80 passed on the way, 100 announced
    assert check_budgets(settings, engine, SlackOutbox(client), now=at(3)).posted == 1
    assert "has reached its monthly budget" in posts(slack)[-1]
    assert check_budgets(settings, engine, SlackOutbox(client), now=at(4)).posted == 0
    kinds = [(a.period, a.kind, a.status) for a in alerts_of(engine, budget.id)]
    assert kinds == [("2026-11", "50", "posted"), ("2026-11", "80", "silent"), ("2026-11", "100", "posted")]
    # December is a new period: the same thresholds fire again.
    spend(engine, "dana@acme.com", "51", date(2026, 12, 1))
    assert check_budgets(settings, engine, SlackOutbox(client), now=at(1, month=12)).posted == 1
    assert ("2026-12", "50", "posted") in [(a.period, a.kind, a.status) for a in alerts_of(engine, budget.id)]


def test_a_projected_overrun_is_announced_once_before_it_happens(engine: Engine, slack: FakeSlack) -> None:
    make_budget(engine, amount_usd=Decimal(300))
    settings, client = settings_for(slack), client_for(slack)
    for day in range(1, 11):
        spend(engine, "dana@acme.com", "12", date(2026, 11, day))  # $120 by Nov 10: pace $360
    assert check_budgets(settings, engine, SlackOutbox(client), now=at(10)).posted == 1
    [post] = posts(slack)
    assert "is on pace to pass its monthly budget of $300.00" in post and "$360.00 by Nov 30 (over budget)" in post
    spend(engine, "dana@acme.com", "12", date(2026, 11, 11))
    assert check_budgets(settings, engine, SlackOutbox(client), now=at(11)).posted == 0


def test_a_failed_post_is_retried_and_a_missing_team_is_reported(engine: Engine, slack: FakeSlack) -> None:
    budget = make_budget(engine, channel="CNEW")
    make_budget(engine, scope="team", target="gone")
    settings, client = settings_for(slack), client_for(slack)
    spend(engine, "dana@acme.com", "60", date(2026, 11, 1))
    tick = check_budgets(settings, engine, SlackOutbox(client), now=at(1))
    assert tick.posted == 0 and any("not_in_channel" in e for e in tick.errors)
    assert any("team gone no longer exists" in e for e in tick.errors)
    slack.channel_members["CNEW"] = {BOT_USER}
    assert check_budgets(settings, engine, SlackOutbox(client), now=at(1)).posted == 1
    assert [(a.kind, a.status) for a in alerts_of(engine, budget.id)] == [("50", "posted")]


def test_team_and_person_budgets_count_only_their_people_and_tool(engine: Engine) -> None:
    replace_members(engine, "web", ["dana@acme.com", "bob@acme.com"], source="admin", by="a", now=at(1))
    spend(engine, "dana@acme.com", "10", date(2026, 11, 1))
    spend(engine, "bob@acme.com", "5", date(2026, 11, 1))
    spend(engine, "erin@acme.com", "100", date(2026, 11, 1))
    team = make_budget(engine, scope="team", target="web")
    person = make_budget(engine, scope="person", target="bob@acme.com")
    cursor_only = make_budget(engine, tool="cursor")
    with transaction(engine) as s:
        assert budget_state(s, team, date(2026, 11, 5)).spend_usd == Decimal(15)
        assert budget_state(s, person, date(2026, 11, 5)).spend_usd == Decimal(5)
        assert budget_state(s, cursor_only, date(2026, 11, 5)).spend_usd == Decimal(0)


# --- Slack -------------------------------------------------------------------------------------------


def body_of(reply: dict) -> str:
    return json.dumps(reply, ensure_ascii=False)


def test_admins_set_list_and_switch_off_budgets_in_slack(slack_harness: SlackHarness) -> None:
    slack = slack_harness.slack
    slack.channel_members["C0GENERAL"] = {BOT_USER}
    slack_harness.command("budget set org $5,000 monthly", user="UADMIN")
    assert "Budget set: Company · monthly: $0.00 of $5,000 (0%)" in body_of(slack.wait_for_responses(1)[-1])
    slack_harness.command("budget set person <@UDANA|dana> $200 weekly cursor <#C0OPS|ops>", user="UADMIN")
    assert "I'm not a member of <#C0OPS>" in body_of(slack.wait_for_responses(2)[-1])
    slack_harness.command("budget set person <@UDANA|dana> $200 weekly cursor", user="UADMIN")
    assert "dana@acme.com (cursor) · weekly" in body_of(slack.wait_for_responses(3)[-1])
    slack_harness.command("budget list")  # not an admin
    assert "Only Abacus admins can manage budgets" in body_of(slack.wait_for_responses(4)[-1])
    slack_harness.command("budget list", user="UADMIN")
    listed = body_of(slack.wait_for_responses(5)[-1])
    assert "Budgets (2)" in listed and "alerts in <#C0GENERAL>" in listed
    slack_harness.command("me")  # dana sees her own budget; status shows the company's to everyone
    slack_harness.command("status")
    replies = [body_of(r) for r in slack.wait_for_responses(7)[5:]]
    assert any("Your budget: dana@acme.com (cursor) · weekly" in r for r in replies)
    status = next(r for r in replies if "Abacus status" in r)
    assert "*Budgets*" in status and "Company · monthly" in status and "dana@acme.com" not in status
    slack_harness.command("budget off person dana@acme.com", user="UADMIN")
    assert "Switched off 1 budget(s)." in body_of(slack.wait_for_responses(8)[-1])
    assert [b.scope for b in list_budgets(slack_harness.engine)] == ["org"]


def test_threshold_and_spike_settings_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABACUS_BUDGET_THRESHOLDS", "80%, 50,100")
    monkeypatch.setenv("ABACUS_TEAM_USERGROUPS", "@Backend, web")
    loaded = Settings()
    assert loaded.budget_thresholds == [50, 80, 100] and loaded.team_usergroups == ["backend", "web"]
    assert (loaded.spike_factor, loaded.spike_floor_usd, loaded.team_min_people) == (3.0, Decimal(20), 3)
    monkeypatch.setenv("ABACUS_BUDGET_THRESHOLDS", "half")
    with pytest.raises(ValueError, match="whole percentages"):
        Settings()
