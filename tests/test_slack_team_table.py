"""`/abacus table` and `/abacus export`: the team pivot as a Slack table, and the original's CSVs in a DM."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.access import AccessPolicy
from bot.answers.team_table import MAX_TABLE_ROWS, team_table_blocks
from bot.command_text import parse
from bot.periods import Period
from bot.slack.services import Services
from bot.slack.users import SlackUser
from providers import registry
from storage.analytics.exports import MODELS_COLUMNS, TOOLS_COLUMNS
from storage.analytics.team import TeamRow, TeamTable
from storage.db import transaction
from storage.writes import UsageRecord, upsert_usage
from tests.slack_harness import SlackHarness

OCTOBER = "2026-10-01..2026-10-31"
PEOPLE = 120

# The team export's columns: one "<tool>_tokens" column per tool of the registry, in registry order.
ORIGINAL_TEAM_COLUMNS = (
    "email",
    "total_tokens",
    "total_cost",
    # One column per registered tool, in registry order.
    *(f"{t.id}_tokens" for t in registry.tools()),
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "first_active",
    "last_active",
    "days_active",
    "avg_tokens_per_day",
    "tool_count",
)


def person(n: int) -> str:
    return f"p{n:03d}@acme.com"


def seed(engine: Engine, people: int = PEOPLE) -> None:
    """Person n uses n thousand tokens on n % 28 + 1 October and costs $n, so every order is known."""
    rows = [
        UsageRecord(
            tool="claude_code" if n % 2 else "cursor",
            date=date(2026, 10, n % 28 + 1),
            actor=person(n),
            email=person(n),
            org_id="org-1",
            raw_model="claude-opus-4-6",
            event_key="" if n % 2 else f"e{n}",
            input_tokens=n * 1_000,
            output_tokens=0,
            cost_usd=Decimal(n),
        )
        for n in range(1, people + 1)
    ]
    with transaction(engine) as session:
        upsert_usage(session, rows)


def reply(harness: SlackHarness, count: int = 1) -> dict[str, Any]:
    return harness.slack.wait_for_responses(count)[count - 1]


def table_rows(body: dict[str, Any]) -> list[list[str]]:
    table = next(b for b in body["blocks"] if b["type"] == "table")
    return [[cell["text"] for cell in row] for row in table["rows"]]


# --- parsing -------------------------------------------------------------------------------------------


def test_parse_table_and_export() -> None:
    request = parse("table 7d cursor sort cost asc")
    assert (request.command, request.period, request.tool, request.sort, request.ascending) == (
        "table",
        "7d",
        "cursor",
        "total_cost",
        True,
    )
    assert parse("team-table sort last").sort == "last_active"
    assert parse("table sort cursor").tool is None  # after `sort`, cursor is the column
    assert parse("export team mtd").export == "team"
    usage = parse("export usage 30d tools claude")
    assert (usage.export, usage.view, usage.tool, usage.problems) == ("usage", "tools", "claude_code", ())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("table sort fame", "can't sort by `fame`"),
        ("table sort", "Say what to sort by"),
        ("export", "Say what to export"),
        ("export team models", "views of the usage export"),
        ("export payroll", "don't understand `payroll`"),
    ],
)
def test_parse_problems(text: str, problem: str) -> None:
    assert any(problem in p for p in parse(text).problems), parse(text).problems


# --- the pure table ------------------------------------------------------------------------------------


def row(n: int) -> TeamRow:
    return TeamRow(
        email=person(n),
        total_tokens=n,
        total_cost=Decimal(n),
        tokens_by_tool={"claude_code": n, "cursor": 0},
        input_tokens=n,
        output_tokens=0,
        cache_read_tokens=0,
        first_active=date(2026, 10, 1),
        last_active=date(2026, 10, 2),
        days_active=2,
        avg_tokens_per_day=n // 2,
        tool_count=1,
        days_since_last_active=3,
    )


def test_table_block_is_capped_at_100_rows_with_a_note() -> None:
    period = Period(date(2026, 10, 1), date(2026, 10, 31), "Oct 2026")
    blocks = team_table_blocks(
        TeamTable([row(n) for n in range(150)], 150),
        period,
        sort="total_cost",
        ascending=False,
        tool=None,
        freshness="",
    )
    table = next(b for b in blocks if b["type"] == "table")
    assert len(table["rows"]) == MAX_TABLE_ROWS and all(len(r) <= 20 for r in table["rows"])
    assert len(table["column_settings"]) == len(table["rows"][0])
    note = json.dumps(blocks)
    assert "Showing the first 99; 51 more are not shown" in note and "/abacus export team" in note
    small = team_table_blocks(TeamTable([row(1)], 1), period, sort="email", ascending=True, tool="cursor", freshness="")
    assert "more" not in json.dumps(small) and "Cursor" in small[0]["text"]["text"]


# --- end to end ----------------------------------------------------------------------------------------


def test_table_sorted_and_truncated_in_slack(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    slack_harness.command(f"table {OCTOBER} sort cost", user="UDANA")
    body = reply(slack_harness)
    rows = table_rows(body)
    assert rows[0][:3] == ["Person", "Tokens", "Cost"]
    assert len(rows) == MAX_TABLE_ROWS
    assert [r[0] for r in rows[1:4]] == [person(120), person(119), person(118)]
    assert rows[1][2] == "$120.00" and rows[1][rows[0].index("Days active")] == "1"
    assert "21 more are not shown" in json.dumps(body)
    slack_harness.command(f"table {OCTOBER} sort tokens asc claude", user="UDANA")
    rows = table_rows(reply(slack_harness, 2))
    assert [r[0] for r in rows[1:3]] == [person(1), person(3)]  # Claude Code only: the odd ones
    assert len(rows) == 1 + 60


def test_export_team_and_usage_go_to_the_dm_with_the_originals_names_and_columns(
    slack_harness: SlackHarness,
) -> None:
    seed(slack_harness.engine, people=3)
    slack_harness.command(f"export team {OCTOBER}", user="UDANA")
    assert "team_2026-10-01_to_2026-10-31.csv" in json.dumps(reply(slack_harness))
    slack = slack_harness.slack
    upload = slack.wait_for("files.getUploadURLExternal")[0]
    assert upload.args["filename"] == "team_2026-10-01_to_2026-10-31.csv"
    assert slack.called("conversations.open")[0].args["users"] == "UDANA"
    complete = slack.wait_for("files.completeUploadExternal")[0]
    assert str(complete.args["channel_id"]).startswith("D")
    team = list(csv.reader(io.StringIO(next(iter(slack.uploads.values())).decode())))
    # The original abacus's team export columns, one "<tool>_tokens" column per tool.
    assert tuple(team[0]) == ORIGINAL_TEAM_COLUMNS
    assert [r[0] for r in team[1:]] == [person(3), person(2), person(1)]
    assert team[1][2] == "3.000000"

    for n, (words, name, columns) in enumerate(
        [
            ("usage", "usage_models_2026-10-01_to_2026-10-31.csv", MODELS_COLUMNS),
            ("usage tools", "usage_tools_2026-10-01_to_2026-10-31.csv", TOOLS_COLUMNS),
        ],
        start=2,
    ):
        slack.uploads.clear()
        slack_harness.command(f"export {words} {OCTOBER}", user="UDANA")
        reply(slack_harness, n)
        calls = slack.wait_for("files.getUploadURLExternal", n)
        assert calls[-1].args["filename"] == name
        slack.wait_for("files.completeUploadExternal", n)
        content = next(iter(slack.uploads.values())).decode()
        assert tuple(next(csv.reader(io.StringIO(content)))) == columns
        assert content.count("\n") == 1 + 3


def test_people_visibility_admins_keeps_the_table_and_team_export_to_admins(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine, people=2)
    policy = AccessPolicy(domains=("acme.com",), admins=frozenset({"admin@acme.com"}), people_visible_to_all=False)
    services = Services(slack_harness.settings, slack_harness.engine, None, policy, now=lambda: datetime.now(UTC))
    member = SlackUser("UDANA", "dana@acme.com", "Dana", "T0ACME", "UTC")
    admin = SlackUser("UADMIN", "admin@acme.com", "Admin", "T0ACME", "UTC")
    for text in (f"table {OCTOBER}", f"export team {OCTOBER}"):
        refused = services.answer(parse(text), member, is_admin=False)
        assert "only Abacus admins" in refused.text and not refused.files
        assert "p001" not in json.dumps(refused.blocks)
    usage = services.answer(parse(f"export usage {OCTOBER}"), member, is_admin=False)
    assert usage.files and usage.files[0].filename.startswith("usage_models_")
    allowed = services.answer(parse(f"export team {OCTOBER}"), admin, is_admin=True)
    assert allowed.files[0].content.decode().count("\n") == 3
    table = services.answer(parse(f"table {OCTOBER}"), admin, is_admin=True)
    assert any(b["type"] == "table" for b in table.blocks)
