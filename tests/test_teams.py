"""Teams: storage, the privacy floor, Slack user-group sync against the fake Slack, the CSV import, and
`/abacus team` / `/abacus top teams` end to end. Every date is fixed: nothing depends on today."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.cli import main
from bot.command_text import parse
from bot.scheduler import TEAM_SYNC, Leadership, SchedulerEnv, run_job
from bot.settings import Settings
from bot.slack.usergroups import SlackUsergroups
from bot.teams import UsergroupError, sync_followed_usergroups, sync_usergroup
from storage.analytics.team_usage import rank_teams, team_usage
from storage.analytics.trends import trends
from storage.db import transaction
from storage.job_runs import runs_of
from storage.model_names import normalize_model_name
from storage.teams import add_members, delete_team, get_team, list_teams, remove_members, replace_members
from storage.writes import upsert_usage
from tests.factories import usage
from tests.fakes.slack_server import FakeSlack
from tests.slack_harness import SlackHarness

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OCT = (date(2026, 10, 1), date(2026, 10, 31))
OCT_TEXT = "2026-10-01..2026-10-31"
MODEL = normalize_model_name("claude-opus-4-6")


def spend(
    engine: Engine, email: str, cost: str, day: date = date(2026, 10, 10), model: str = "claude-opus-4-6"
) -> None:
    with transaction(engine) as s:
        upsert_usage(s, [usage(email=email, actor=email, date=day, cost_usd=Decimal(cost), raw_model=model)])


def client_for(slack: FakeSlack) -> WebClient:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    client.proxy = None
    return client


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


# --- storage ---------------------------------------------------------------------------------------


def test_membership_is_replaced_added_and_removed(engine: Engine) -> None:
    team = replace_members(engine, "web", ["A@x.com", "b@x.com"], source="csv", by="cli", now=NOW)
    assert team.members == ("a@x.com", "b@x.com")
    team = replace_members(engine, "web", ["b@x.com", "c@x.com"], source="csv", by="cli", now=NOW)
    assert team.members == ("b@x.com", "c@x.com")
    team = add_members(engine, "web", ["c@x.com", "d@x.com"], by="admin@x.com", now=NOW)
    assert team.members == ("b@x.com", "c@x.com", "d@x.com") and team.source == "csv"
    removed = remove_members(engine, "web", ["b@x.com"], by="admin@x.com", now=NOW)
    assert removed is not None and removed.members == ("c@x.com", "d@x.com")
    assert remove_members(engine, "nope", ["b@x.com"], by="a", now=NOW) is None
    assert delete_team(engine, "web") and not delete_team(engine, "web")
    with transaction(engine) as s:
        assert list_teams(s) == []


def test_a_renamed_user_group_keeps_its_team(engine: Engine) -> None:
    replace_members(engine, "backend", ["a@x.com"], source="slack", by="s", now=NOW, usergroup_id="S1")
    replace_members(engine, "platform", ["a@x.com", "b@x.com"], source="slack", by="s", now=NOW, usergroup_id="S1")
    with transaction(engine) as s:
        assert [(t.name, t.members) for t in list_teams(s)] == [("platform", ("a@x.com", "b@x.com"))]


def test_admins_cannot_edit_a_team_that_follows_slack(engine: Engine) -> None:
    replace_members(engine, "backend", ["a@x.com"], source="slack", by="s", now=NOW, usergroup_id="S1")
    with pytest.raises(ValueError, match="follows a Slack user group"):
        add_members(engine, "backend", ["z@x.com"], by="admin", now=NOW)
    with pytest.raises(ValueError, match="follows a Slack user group"):
        remove_members(engine, "backend", ["a@x.com"], by="admin", now=NOW)


# --- analytics and the privacy floor -------------------------------------------------------------------


def test_team_usage_totals_people_and_models(engine: Engine) -> None:
    for email, cost in (("a@x.com", "30"), ("b@x.com", "20"), ("c@x.com", "10"), ("outsider@x.com", "999")):
        spend(engine, email, cost)
    spend(engine, "a@x.com", "5", day=date(2026, 9, 15))  # previous period
    with transaction(engine) as s:
        got = team_usage(s, {"a@x.com", "b@x.com", "c@x.com", "idle@x.com"}, *OCT, min_people=3)
    assert not got.counts_only
    assert (got.members, got.active_people, got.cost_usd) == (4, 3, Decimal(60))
    assert got.previous_cost_usd == Decimal(5) and got.cost_change_pct == 1100.0
    assert [p.email for p in got.top_people] == ["a@x.com", "b@x.com", "c@x.com"]
    assert [(m.model, m.token_pct) for m in got.models] == [(MODEL, 100.0)]
    # The team's daily chart series holds exactly its members' usage, the outsider's left out.
    with transaction(engine) as s:
        series = trends(s, *OCT, now=datetime(2026, 11, 20, tzinfo=UTC), emails={"a@x.com", "b@x.com", "idle@x.com"})
    assert sum(sum(p.actual.values()) for p in series.points) == 2 * usage().total_tokens


def test_a_team_below_the_floor_is_counts_only(engine: Engine) -> None:
    spend(engine, "a@x.com", "30")
    spend(engine, "b@x.com", "20")
    with transaction(engine) as s:
        # Five members but two active: the total would be close to one person's spend.
        got = team_usage(s, {"a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"}, *OCT, min_people=3)
    assert got.counts_only and (got.members, got.active_people) == (5, 2)
    assert got.cost_usd == 0 and got.top_people == [] and got.models == []


def test_rank_teams_ranks_big_teams_and_counts_small_ones(engine: Engine) -> None:
    for email, cost in (("a@x.com", "30"), ("b@x.com", "20"), ("c@x.com", "10"), ("d@x.com", "50"), ("e@x.com", "1")):
        spend(engine, email, cost)
    teams = {
        "web": {"a@x.com", "b@x.com", "c@x.com"},
        "data": {"a@x.com", "d@x.com", "e@x.com"},  # a is in two teams: counted in both
        "tiny": {"d@x.com", "e@x.com"},
    }
    with transaction(engine) as s:
        ranking = rank_teams(s, teams, *OCT, min_people=3)
    assert [(t.rank, t.name, t.cost_usd) for t in ranking.teams] == [(1, "data", Decimal(81)), (2, "web", Decimal(60))]
    # Shares are of the company's spend (everyone, 111), not of the ranked teams' sum (141).
    assert ranking.company_cost_usd == Decimal(111)
    assert ranking.teams[0].share_pct == pytest.approx(81 / 111 * 100)
    assert [(t.name, t.members, t.active_people) for t in ranking.small] == [("tiny", 2, 2)]
    # By tokens: web's three people used more tokens than data's, though data spent more.
    spend(engine, "c@x.com", "1", model="gpt-5")  # a second row: c's tokens double, the cost barely moves
    with transaction(engine) as s:
        by_tokens = rank_teams(s, teams, *OCT, min_people=3, rank_by="tokens")
    per_row = usage().total_tokens
    assert [(t.name, t.tokens) for t in by_tokens.teams] == [("web", 4 * per_row), ("data", 3 * per_row)]
    assert by_tokens.teams[0].share_pct == pytest.approx(4 / 6 * 100) and by_tokens.teams[0].tokens_per_person == (
        4 * per_row // 3
    )


# --- Slack user groups ------------------------------------------------------------------------------


def directory(slack: FakeSlack) -> None:
    slack.add_user("UA", "a@acme.com")
    slack.add_user("UB", "B@acme.com")
    slack.add_user("UBOT1", "bot@acme.com", is_bot=True)
    slack.add_user("UGONE", "gone@acme.com", deleted=True)
    slack.add_user("UNOMAIL", None)
    slack.add_usergroup("S1", "backend", ["UA", "UB", "UBOT1", "UGONE", "UNOMAIL", "UMISSING"])
    slack.add_usergroup("S2", "old-team", ["UA"], disabled=True)


def test_sync_a_user_group_by_handle_keeps_people_with_usable_emails(engine: Engine, slack: FakeSlack) -> None:
    directory(slack)
    team = sync_usergroup(SlackUsergroups(client_for(slack)), engine, now=NOW, by="admin@acme.com", handle="@Backend")
    assert (team.name, team.source, team.usergroup_id) == ("backend", "slack", "S1")
    assert team.members == ("a@acme.com", "b@acme.com")
    assert slack.called("usergroups.users.list")[0].args["usergroup"] == "S1"
    slack.usergroups["S1"]["users"] = ["UB"]
    team = sync_usergroup(SlackUsergroups(client_for(slack)), engine, now=NOW, by="admin@acme.com", usergroup_id="S1")
    assert team.members == ("b@acme.com",)


def test_unknown_and_disabled_groups_and_missing_scope_say_what_to_do(engine: Engine, slack: FakeSlack) -> None:
    directory(slack)
    with pytest.raises(UsergroupError, match="no active Slack user group @nope"):
        sync_usergroup(SlackUsergroups(client_for(slack)), engine, now=NOW, by="a", handle="nope")
    with pytest.raises(UsergroupError, match="no active Slack user group @old-team"):
        sync_usergroup(SlackUsergroups(client_for(slack)), engine, now=NOW, by="a", handle="old-team")
    slack.fail("usergroups.list", error="missing_scope")
    with pytest.raises(UsergroupError, match="usergroups:read"):
        sync_usergroup(SlackUsergroups(client_for(slack)), engine, now=NOW, by="a", handle="backend")
    with transaction(engine) as s:
        assert list_teams(s) == []


def test_the_daily_job_refreshes_followed_and_configured_groups(engine: Engine, slack: FakeSlack) -> None:
    directory(slack)
    slack.add_user("UC", "c@acme.com")
    slack.add_usergroup("S3", "design", ["UC"])
    replace_members(engine, "backend", [], source="slack", by="a", now=NOW, usergroup_id="S1")
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.api_url, ABACUS_TEAM_USERGROUPS="@design, missing"
    )
    env = SchedulerEnv(settings, engine, Leadership(engine), now=lambda: NOW, slack_client=lambda: client_for(slack))
    outcome = run_job(env, TEAM_SYNC)
    assert outcome is not None and outcome.rows == 3  # backend 2 + design 1
    assert outcome.error is not None and "missing" in outcome.error
    with transaction(engine) as s:
        assert {t.name: t.members for t in list_teams(s)} == {
            "backend": ("a@acme.com", "b@acme.com"),
            "design": ("c@acme.com",),
        }
        [run] = runs_of(s, TEAM_SYNC)
    assert run.status == "failed" and run.rows == 3
    env.leadership.release()
    # One failing group does not stop the rest, and a second run changes nothing.
    results = sync_followed_usergroups(settings, engine, SlackUsergroups(client_for(slack)), now=NOW)
    assert sorted((r.team, r.ok) for r in results) == [("backend", True), ("design", True), ("missing", False)]


# --- the parser -------------------------------------------------------------------------------------


def test_team_commands_parse() -> None:
    assert parse("team").command == "overview" and parse("team 7d").period == "7d"  # as before teams existed
    shown = parse("team Backend 7d cursor")
    assert (shown.command, shown.team_name, shown.period, shown.tool) == ("team", "backend", "7d", "cursor")
    synced = parse("team sync <!subteam^S0123|@backend>")
    assert (synced.action, synced.usergroup_id, synced.usergroup_handle) == ("sync", "S0123", "backend")
    added = parse("team add web <@UDANA|dana> bob@acme.com")
    assert (added.team_name, added.member_ids, added.member_emails) == ("web", ("UDANA",), ("bob@acme.com",))
    assert parse("team add web").problems and parse("team add list @x").problems
    assert parse("team remove web").problems == () and parse("team list extra").problems
    assert parse("top teams 30d").teams and parse("team web/x").problems
    by_tokens = parse("top teams 30d by tokens")
    assert by_tokens.teams and by_tokens.by == "tokens" and by_tokens.problems == ()


# --- CSV import -----------------------------------------------------------------------------------------


def test_csv_import_is_all_or_nothing(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    good = tmp_path / "teams.csv"
    good.write_text("\ufeffTeam,Email\r\nweb,A@x.com\r\nweb,b@x.com\r\ndata,c@x.com\r\n,\r\n", encoding="utf-8")
    assert main(["teams", "import", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "teams": [{"name": "web", "members": 2}, {"name": "data", "members": 1}]
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("team,email\nweb,z@x.com\nops,not-an-email\n", encoding="utf-8")
    assert main(["teams", "import", str(bad)]) == 65
    assert "line 3" in capsys.readouterr().err
    replace_members(engine, "backend", ["a@x.com"], source="slack", by="s", now=NOW, usergroup_id="S1")
    clash = tmp_path / "clash.csv"
    clash.write_text("team,email\nbackend,z@x.com\n", encoding="utf-8")
    assert main(["teams", "import", str(clash)]) == 65
    with transaction(engine) as s:
        assert get_team(s, "web") is not None and get_team(s, "web").members == ("a@x.com", "b@x.com")  # type: ignore[union-attr]
        assert get_team(s, "ops") is None and get_team(s, "backend").members == ("a@x.com",)  # type: ignore[union-attr]


# --- Slack end to end -----------------------------------------------------------------------------------


def body_of(reply: dict) -> str:
    return json.dumps(reply, ensure_ascii=False)


def test_admin_follows_a_user_group_and_defines_a_team(slack_harness: SlackHarness) -> None:
    slack = slack_harness.slack
    slack.add_usergroup("S9", "backend", ["UDANA", "UBOB", "UROBOT"])
    slack_harness.command("team sync <!subteam^S9|@backend>", user="UADMIN")
    assert "Team *backend* follows the Slack user group: now 2 people" in body_of(slack.wait_for_responses(1)[-1])
    slack_harness.command("team add web <@UDANA|dana> erin@acme.com <@UNOMAIL>", user="UADMIN")
    reply = body_of(slack.wait_for_responses(2)[-1])
    assert "Team *web* updated: now 2 people" in reply and "<@UNOMAIL>" in reply
    slack_harness.command("team add web <@UBOB>")  # not an admin
    assert "Only Abacus admins can change teams" in body_of(slack.wait_for_responses(3)[-1])
    slack_harness.command("team list")
    listed = body_of(slack.wait_for_responses(4)[-1])
    assert "*backend* · 2 people · Slack user group" in listed and "*web* · 2 people" in listed


def test_team_and_top_teams_answer_with_the_privacy_floor(slack_harness: SlackHarness) -> None:
    engine = slack_harness.engine
    for email, cost in (("dana@acme.com", "40"), ("bob@acme.com", "25"), ("erin@acme.com", "10")):
        spend(engine, email, cost)
    replace_members(engine, "web", ["dana@acme.com", "bob@acme.com", "erin@acme.com"], source="csv", by="t", now=NOW)
    replace_members(engine, "pair", ["dana@acme.com", "bob@acme.com"], source="csv", by="t", now=NOW)
    slack = slack_harness.slack
    slack_harness.command(f"team web {OCT_TEXT}")
    web = body_of(slack.wait_for_responses(1)[-1])
    assert "Team web · 2026-10-01 to 2026-10-31" in web
    assert "*$75.00*" in web and "3 of 3 members active" in web and "dana $40.00" in web
    # The team's own daily chart goes to the asker's DM.
    [complete] = slack.wait_for("files.completeUploadExternal")
    [file] = json.loads(complete.args["files"])
    assert file["title"] == "Team web · AI coding usage · 2026-10-01 to 2026-10-31"
    assert complete.args["channel_id"] == "DDANA"
    assert len(slack.uploads) == 1 and next(iter(slack.uploads.values())).startswith(b"\x89PNG")
    slack_harness.command(f"team pair {OCT_TEXT}")
    pair = body_of(slack.wait_for_responses(2)[-1])
    assert "2 people in the team · 2 active" in pair and "$" not in pair.split("Data:")[0]
    assert "Chart on its way" not in pair  # below the privacy floor: counts only, no chart
    slack_harness.command(f"top teams {OCT_TEXT}")
    top = body_of(slack.wait_for_responses(3)[-1])
    assert "1. *web*  *$75.00* (100%)" in top and "Not ranked: pair (2 of 2 active)" in top
    slack_harness.command(f"top teams {OCT_TEXT} by tokens")
    by_tokens = body_of(slack.wait_for_responses(4)[-1])
    assert "Top teams by tokens" in by_tokens and "1. *web*  *19K* (100%)" in by_tokens
    assert "6K per active person" in by_tokens
    slack_harness.command("team nobody")
    assert "There is no team `nobody`" in body_of(slack.wait_for_responses(5)[-1])
