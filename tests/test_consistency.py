"""Every surface tells the same numbers: one seeded dataset, each headline figure through every surface.

The figures: total cost and tokens, active people, the per-tool split, the top person and unattributed
usage (plus subscription-seat usage and where one person stands). The surfaces: the Slack answers (overview,
top, table, models, user, status, through `abacus ask`, which runs Slack's own pipeline), `abacus report …
--json` and its text, the CSV exports (`report --csv` and `/abacus export`) and the daily digest. They are
equal, or they carry the labelled difference (the people's total "excludes" the unattributed usage).
Replaces the older overview-only parity test.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.answers.common import money
from bot.cli import main
from bot.formatting import format_tokens, format_usd, standing
from storage.db import make_engine, transaction
from storage.writes import UsageRecord, upsert_usage

DOMAIN = "acme.com"
ASKER = f"dana@{DOMAIN}"


@dataclass(frozen=True)
class Truth:
    """The headline figures, summed in Python straight from the seeded rows."""

    cost: Decimal
    tokens: int
    people: int
    tool_cost: dict[str, Decimal]
    tool_tokens: dict[str, int]
    top_by_cost: str
    unattributed_cost: Decimal
    unattributed_tokens: int
    subscription_cost: Decimal


def _rows(today: date) -> list[UsageRecord]:
    """Six people over the last six days (both tools, one on a Claude Enterprise seat) and one unmapped key."""
    rows = []
    people = {  # email: (tool, daily cost, daily input tokens, customer type, org)
        "dana": [("claude_code", "41.25", 90_000, "api", "org_a"), ("cursor", "9.10", 40_000, "", "cursor:t")],
        "bob": [("cursor", "22.40", 70_000, "", "cursor:t")],
        "erin": [("claude_code", "18.75", 60_000, "subscription", "claude-enterprise:e")],
        "carl": [("claude_code", "7.05", 20_000, "api", "org_a")],
        "fay": [("cursor", "0.02", 300, "", "cursor:t")],  # a tiny share: "<1%", never "0%"
        "gus": [("claude_code", "3.30", 9_000, "api", "org_a"), ("cursor", "1.10", 4_000, "", "cursor:t")],
    }
    for back in range(1, 7):
        day = today - timedelta(days=back)
        for name, uses in people.items():
            for tool, cost, tokens, customer, org in uses:
                rows.append(
                    UsageRecord(
                        tool=tool,
                        date=day,
                        org_id=org,
                        actor=f"{name}@{DOMAIN}",
                        email=f"{name}@{DOMAIN}",
                        raw_model="claude-sonnet-4-5-20250929" if tool == "claude_code" else "gpt-5",
                        customer_type=customer,
                        event_key=f"{name}-{back}" if tool == "cursor" else "",
                        input_tokens=tokens + back,
                        output_tokens=tokens // 10,
                        cache_read_tokens=tokens * 3,
                        cost_usd=Decimal(cost) * back,
                    )
                )
        rows.append(
            UsageRecord(
                tool="claude_code",
                date=day,
                org_id="org_a",
                actor="ci-release-bot",
                actor_type="api_key",
                email="",
                raw_model="claude-haiku-4-5-20251001",
                customer_type="api",
                input_tokens=5_000,
                output_tokens=500,
                cost_usd=Decimal("1.15"),
            )
        )
    return rows


def _truth(rows: list[UsageRecord]) -> Truth:
    def total(r: UsageRecord) -> int:
        return r.input_tokens + r.cache_write_tokens + r.cache_read_tokens + r.output_tokens

    per_person: dict[str, Decimal] = {}
    tool_cost: dict[str, Decimal] = {}
    tool_tokens: dict[str, int] = {}
    for r in rows:
        tool_cost[r.tool] = tool_cost.get(r.tool, Decimal(0)) + r.cost_usd
        tool_tokens[r.tool] = tool_tokens.get(r.tool, 0) + total(r)
        if r.email:
            per_person[r.email] = per_person.get(r.email, Decimal(0)) + r.cost_usd
    unattributed = [r for r in rows if not r.email]
    return Truth(
        cost=sum((r.cost_usd for r in rows), Decimal(0)),
        tokens=sum(total(r) for r in rows),
        people=len(per_person),
        tool_cost=tool_cost,
        tool_tokens=tool_tokens,
        top_by_cost=max(per_person, key=lambda e: per_person[e]),
        unattributed_cost=sum((r.cost_usd for r in unattributed), Decimal(0)),
        unattributed_tokens=sum(total(r) for r in unattributed),
        subscription_cost=sum((r.cost_usd for r in rows if r.customer_type == "subscription"), Decimal(0)),
    )


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    data: dict = json.loads(capsys.readouterr().out)
    return data


def _text(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _usd(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.000001"))


def test_every_surface_tells_the_same_numbers(
    db_url_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    url = db_url_factory()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", DOMAIN)
    monkeypatch.delenv("ABACUS_PEOPLE_VISIBILITY", raising=False)
    assert main(["db", "migrate"]) == 0
    today = datetime.now(UTC).date()
    rows = _rows(today)
    truth = _truth(rows)
    engine = make_engine(url)
    with transaction(engine) as s:
        upsert_usage(s, rows)
    engine.dispose()
    people_cost = truth.cost - truth.unattributed_cost
    people_tokens = truth.tokens - truth.unattributed_tokens
    top_name = truth.top_by_cost.split("@")[0]

    # --- CLI reports, JSON: the figures themselves ----------------------------------------------------
    ov = _json(capsys, "report", "overview", "-p", "7d")
    assert _usd(ov["current"]["cost_usd"]) == truth.cost and ov["current"]["total_tokens"] == truth.tokens
    assert ov["current"]["active_users"] == truth.people
    assert {t["tool"]: _usd(t["cost_usd"]) for t in ov["tools"]} == truth.tool_cost
    assert {t["tool"]: t["tokens"] for t in ov["tools"]} == truth.tool_tokens
    assert _usd(ov["unattributed"]["cost_usd"]) == truth.unattributed_cost
    assert ov["unattributed"]["tokens"] == truth.unattributed_tokens
    assert _usd(ov["subscription"]["cost_usd"]) == truth.subscription_cost

    top = _json(capsys, "report", "top", "-p", "7d", "-n", "50")  # by cost, as in Slack
    assert top["rank_by"] == "cost" and top["users"][0]["email"] == truth.top_by_cost
    assert top["people"] == truth.people and len(top["users"]) == truth.people
    # The people's total is the company's minus the unattributed usage, which it reports beside.
    assert _usd(top["total_cost_usd"]) == people_cost and top["total_tokens"] == people_tokens
    assert _usd(top["unattributed"]["cost_usd"]) == truth.unattributed_cost
    assert sum(_usd(u["cost_usd"]) for u in top["users"]) == people_cost
    fay = next(u for u in top["users"] if u["email"] == f"fay@{DOMAIN}")
    assert 0 < fay["share_pct"] < 0.5

    models = _json(capsys, "report", "models", "-p", "7d")
    assert _usd(models["total_cost_usd"]) == truth.cost and models["total_tokens"] == truth.tokens
    assert _usd(models["subscription"]["cost_usd"]) == truth.subscription_cost

    team = _json(capsys, "report", "team", "-p", "7d", "--sort", "cost")
    assert team["total_count"] == truth.people and team["rows"][0]["email"] == truth.top_by_cost
    assert sum(_usd(r["total_cost"]) for r in team["rows"]) == people_cost

    erin = _json(capsys, "report", "user", "erin", "-p", "7d")
    rank, population = erin["percentile"]["rank"], erin["percentile"]["population"]
    assert population == truth.people and rank == 3  # by tokens per active day: dana, bob, then erin
    erin_standing = standing(rank, population)
    assert erin_standing == "3rd of 6 active people"  # the top half is not flattering enough for "top 50%"
    dana = _json(capsys, "report", "user", "dana", "-p", "7d")["percentile"]
    assert standing(dana["rank"], dana["population"]) == "1st of 6 active people (top 17%)"

    # --- CLI text: the same figures, labelled --------------------------------------------------------
    text = _text(capsys, "report", "overview", "-p", "7d")
    assert f"{format_usd(truth.cost)} · {truth.people:,} active people" in text
    assert f"Unattributed (last 7 days): {format_usd(truth.unattributed_cost)}" in text
    assert "included in the totals above" in text and "est.: Claude Code cost is" in text
    assert f"{format_usd(truth.subscription_cost)} is usage on subscription seats" in text
    text = _text(capsys, "report", "top", "-p", "7d", "-n", "3")
    assert f"Top 3 of {truth.people} by cost" in text
    assert f"excludes {format_usd(truth.unattributed_cost)} and {format_tokens(truth.unattributed_tokens)}" in text
    assert f"all usage {format_usd(truth.cost)}" in text and "not in the people's total" in text
    assert f"{erin_standing} by tokens per active day." in _text(capsys, "report", "user", "erin", "-p", "7d")

    # --- exports: report --csv and /abacus export write the same files with the same sums ------------
    exports = tmp_path / "exports"
    _text(capsys, "report", "overview", "-p", "7d", "--csv", str(tmp_path / "tools.csv"))
    _text(capsys, "report", "team", "-p", "7d", "--csv", str(tmp_path / "team.csv"))
    _text(capsys, "ask", "export usage 7d tools", "--as", ASKER, "--png-dir", str(exports))
    _text(capsys, "ask", "export team 7d", "--as", ASKER, "--png-dir", str(exports))
    start = (today - timedelta(days=6)).isoformat()
    slack_tools = _csv(exports / f"usage_tools_{start}_to_{today}.csv")
    slack_team = _csv(exports / f"team_{start}_to_{today}.csv")
    assert slack_tools == _csv(tmp_path / "tools.csv") and slack_team == _csv(tmp_path / "team.csv")
    assert sum(Decimal(r["cost"]) for r in slack_tools) == truth.cost
    assert sum(int(r["tokens"]) for r in slack_tools) == truth.tokens
    for tool, cost in truth.tool_cost.items():
        assert sum(Decimal(r["cost"]) for r in slack_tools if r["tool"] == tool) == cost
    assert len(slack_team) == truth.people
    assert sum(Decimal(r["total_cost"]) for r in slack_team) == people_cost  # people only, as labelled
    assert max(slack_team, key=lambda r: Decimal(r["total_cost"]))["email"] == truth.top_by_cost

    # --- Slack answers (Slack's own pipeline, rendered as text) ---------------------------------------
    def ask(question: str) -> str:
        return _text(capsys, "ask", question, "--as", ASKER)

    slack = ask("overview 7d")
    # (`abacus ask` prints what Slack shows: bold text without its asterisks)
    assert f"{money(truth.cost)} · {format_tokens(truth.tokens)} tokens" in slack
    assert f"{truth.people} active people" in slack
    assert f"{format_tokens(ov['current']['avg_tokens_per_day'])} tokens per day" in slack
    assert f"{money(_usd(ov['current']['avg_cost_per_user']))} and " in slack  # per person: people's usage
    for tool, title in (("claude_code", "Claude Code"), ("cursor", "Cursor")):
        est = " est." if tool == "claude_code" else ""
        assert f"{title} {money(truth.tool_cost[tool])}{est} (" in slack
    assert f"Top people  {top_name} " in slack
    assert f"Unattributed (last 7 days): {money(truth.unattributed_cost)}" in slack
    assert "included in the totals above" in slack
    assert f"Of the {money(truth.cost)}, {money(truth.subscription_cost)} is usage on subscription seats" in slack

    slack = ask("top 3 7d")
    assert f"TOP 3 OF {truth.people} BY COST · LAST 7 DAYS" in slack and f"1. {truth.top_by_cost}" in slack
    assert (
        f"{truth.people} active people · {money(people_cost)} · last 7 days "
        f"(excludes {money(truth.unattributed_cost)} unattributed; all usage {money(truth.cost)})"
    ) in slack
    assert f"fay@{DOMAIN}" not in slack  # not in the top 3
    everyone = ask("top 10 7d")
    assert f"fay@{DOMAIN}  {money(Decimal('0.42'))} (<1%)" in everyone, everyone

    slack = ask("models 7d")
    assert f"{money(truth.cost)} · {format_tokens(truth.tokens)} tokens across" in slack

    slack = ask("table 7d sort cost")
    assert f"{truth.people} people · sorted by cost" in slack
    assert slack.index(truth.top_by_cost) < min(slack.index(f"{n}@{DOMAIN}") for n in ("bob", "erin", "carl"))

    slack = ask("user erin@acme.com 7d")
    assert f"{erin_standing} by tokens per active day." in slack
    erin_cost = next(_usd(r["total_cost"]) for r in team["rows"] if r["email"] == f"erin@{DOMAIN}")
    assert f"{money(erin_cost)} · " in slack
    assert f"Of the {money(erin_cost)}, {money(erin_cost)} is usage on subscription seats" in slack

    slack = ask("status")  # the same unattributed usage, all of it inside the period here: labelled all time
    assert f"Unattributed (all time, all stored data): {money(truth.unattributed_cost)}" in slack
    assert "tokens from 1 API key " in slack

    # --- the daily digest against the report of the same day ------------------------------------------
    yesterday = today - timedelta(days=1)
    day = _json(capsys, "report", "overview", "-p", f"{yesterday}..{yesterday}")
    digest = _text(capsys, "digest", "preview", "--date", yesterday.isoformat())
    assert f"{money(_usd(day['current']['cost_usd']))} that day" in digest
    assert f"{format_tokens(day['current']['total_tokens'])} tokens" in digest
    assert f"{day['current']['active_users']} active people" in digest
    for t in day["tools"]:
        title = "Claude Code" if t["tool"] == "claude_code" else "Cursor"
        est = " est." if t["tool"] == "claude_code" else ""
        assert f"{title} {money(_usd(t['cost_usd']))}{est} (" in digest
    day_top = _json(capsys, "report", "top", "-p", f"{yesterday}..{yesterday}")["users"][0]["email"]
    assert f"Top: {day_top.split('@')[0]} " in digest
    assert f"Unattributed (that day): {money(_usd(day['unattributed']['cost_usd']))}" in digest
