"""Text that came from outside is data, never markup: usage stored under hostile names (API keys, models,
emails, org ids, team names, Slack display names, provider errors) goes through every answer kind via the
served app and the real scheduler jobs, and everything that reaches the fake Slack is checked.

Nothing that Slack reads as mrkdwn (block texts, message ``text`` fallbacks, upload comments) may carry an
unescaped ``<!``, ``<@``, ``<#``, ``<http`` or a raw ``&`` outside an entity; plain_text objects (headers,
option texts, modal errors) show text literally and are checked against Slack's limits instead, as is
every block, option value, block_id and action_id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import Engine, select

from bot.answers.mapping import CALLBACK_ID, EMAIL_ACTION, EMAIL_BLOCK, KEY_ACTION, KEY_BLOCK, PERSON_ACTION
from bot.answers.mapping import PERSON_BLOCK as PERSON
from bot.budgets import check_budgets
from bot.digests import run_due_digests
from bot.settings import Settings
from bot.slack.app import web_client
from bot.slack.outbox import SlackOutbox
from bot.spikes import check_spikes
from storage.budgets import set_budget
from storage.db import transaction
from storage.digests import subscribe
from storage.job_runs import finish_run, start_run
from storage.models import IdentityMapping, TeamMember
from storage.models import Team as TeamRow
from storage.sync_state import record_failure, record_success
from storage.teams import add_members
from storage.writes import UsageRecord, upsert_usage
from tests.fakes.slack_server import BOT_USER
from tests.slack_harness import SlackHarness

NOW = datetime.now(UTC)
TODAY = NOW.date()
YESTERDAY = TODAY - timedelta(days=1)

KEY = "<!channel> & <@U999|boss> *bold* [x](y)"
MULTILINE_KEY = "line one\n<!everyone> a fake line\n• third & last"
MODEL = "<!here>&model <https://evil.example|click me>"
ORG = "org-<!subteam^S1>&1"
ERROR = "<!channel> the sync failed & see <https://evil.example|the fix>"
TEAM = "<!channel>&crew"  # a name no command accepts, as an old import or a direct write could leave it
HOSTILE_EMAIL = "o&<b>@acme.com"
PEOPLE = (HOSTILE_EMAIL, "x<!here>@acme.com", "q&a@acme.com", "<@u999>@acme.com", "dana@acme.com")
DISPLAY = "<!here> & <@U999> " + "very long display name " * 130  # about 3,000 characters

UNSAFE = re.compile(r"<[!@#]|<http|&(?!(?:amp|lt|gt);)")
ESCAPED_KEY = "&lt;!channel&gt; &amp; &lt;@U999|boss&gt; *bold* [x](y)"


def long_key(engine: Engine) -> str:
    """A key name of 3,000 characters of hostile words; PostgreSQL's column holds 255 of them."""
    word = "<!here>&" + "x" * 40 + " "
    size = 3_000 if engine.dialect.name == "sqlite" else 255
    return (word * (size // len(word) + 1))[:size].strip()


def seed(harness: SlackHarness) -> str:
    engine, slack = harness.engine, harness.slack
    slack.add_user("UHOSTILE", HOSTILE_EMAIL)
    slack.users["UHOSTILE"]["profile"]["display_name"] = DISPLAY
    slack.users["UADMIN"]["profile"]["display_name"] = DISPLAY
    for channel in ("C0TEAM", "CDIGEST", "CBUDGET", "CADMINS"):
        slack.channel_members[channel] = {BOT_USER}
    big_key = long_key(engine)
    rows = []
    for back in range(0, 22):
        day = TODAY - timedelta(days=back)
        for n, email in enumerate(PEOPLE):
            cost = "200" if (email == HOSTILE_EMAIL and day == YESTERDAY) else "10"
            rows.append(
                UsageRecord(
                    tool="claude_code",
                    date=day,
                    actor=email,
                    email=email,
                    org_id=ORG,
                    raw_model=MODEL if n % 2 == 0 else "claude-opus-4-6",
                    input_tokens=1_000,
                    output_tokens=200,
                    cost_usd=Decimal(cost),
                )
            )
        for cost, key in (("30", KEY), ("20", big_key), ("10", MULTILINE_KEY)):
            rows.append(
                UsageRecord(
                    tool="claude_code",
                    date=day,
                    actor=key,
                    actor_type="api_key",
                    org_id=ORG,
                    raw_model=MODEL,
                    input_tokens=500,
                    cost_usd=Decimal(cost),
                )
            )
    with transaction(engine) as session:
        upsert_usage(session, rows)
        hostile_team = TeamRow(name=TEAM, source="csv", created_at=NOW, updated_at=NOW)
        session.add(hostile_team)
        session.flush()
        session.add_all(TeamMember(team_id=hostile_team.id, email=e) for e in PEOPLE)
    add_members(engine, "crew", PEOPLE, by="admin@acme.com", now=NOW)
    midnight = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
    record_success(engine, "claude_code", ORG, NOW - timedelta(hours=2), forward_watermark=midnight)
    record_failure(engine, "claude_code", ORG, NOW - timedelta(hours=1), ERROR)
    run = start_run(engine, "claude_code_sync", NOW - timedelta(minutes=5))
    finish_run(engine, run, NOW - timedelta(minutes=4), ok=False, rows=0, error=ERROR)
    for scope, target in (("person", HOSTILE_EMAIL), ("team", TEAM), ("org", "")):
        set_budget(
            engine,
            scope=scope,
            target=target,
            cadence="monthly",
            tool="",
            amount_usd=Decimal(1),
            channel_id="CBUDGET",
            created_by="admin@acme.com",
            now=NOW - timedelta(days=1),
        )
    subscribe(
        engine,
        channel_id="CDIGEST",
        cadence="daily",
        local_time="00:00",
        weekday=None,
        timezone="UTC",
        created_by="UADMIN",
        now=NOW - timedelta(days=3),
    )
    return big_key


# --- what reached Slack --------------------------------------------------------------------------------


def _blocks(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(value) if isinstance(value, str) else value or []
    return found


def mrkdwn_texts(obj: Any) -> Iterator[str]:
    """Every string Slack reads as mrkdwn: mrkdwn objects, and a message's (or response's) ``text``."""
    if isinstance(obj, dict):
        kind = obj.get("type")
        for key, value in obj.items():
            if isinstance(value, str):
                if (key == "text" and kind not in ("plain_text", "raw_text")) or key == "initial_comment":
                    yield value
            else:
                yield from mrkdwn_texts(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from mrkdwn_texts(item)


def limit_problems(obj: Any, where: str) -> Iterator[str]:
    """Slack's Block Kit limits, wherever the object sits."""
    if isinstance(obj, list):
        for item in obj:
            yield from limit_problems(item, where)
        return
    if not isinstance(obj, dict):
        return
    kind = obj.get("type")
    text: Any = obj.get("text")
    if kind == "header" and len(text["text"]) > 150:
        yield f"{where}: header of {len(text['text'])} characters"
    if kind == "section":
        if isinstance(text, dict) and len(text["text"]) > 3_000:
            yield f"{where}: section of {len(text['text'])} characters"
        for field in obj.get("fields", []):
            if len(field["text"]) > 2_000:
                yield f"{where}: field of {len(field['text'])} characters"
    if kind == "context":
        if len(obj["elements"]) > 10:
            yield f"{where}: context of {len(obj['elements'])} elements"
        for element in obj["elements"]:
            if len(element.get("text", "")) > 3_000:
                yield f"{where}: context element of {len(element['text'])} characters"
    for key in ("block_id", "action_id"):
        if key in obj and len(str(obj[key])) > 255:
            yield f"{where}: {key} of {len(str(obj[key]))} characters"
    if "value" in obj and isinstance(obj["value"], str) and len(obj["value"]) > 150 and kind is None:
        yield f"{where}: option value of {len(obj['value'])} characters"
    if "value" in obj and "text" in obj and kind is None:  # an option
        for part in ("text", "description"):
            if part in obj and len(obj[part]["text"]) > 75:
                yield f"{where}: option {part} of {len(obj[part]['text'])} characters"
    if kind == "plain_text" and "\n" in str(text):
        yield f"{where}: a plain text of several lines: {str(text)[:60]!r}"
    for value in obj.values():
        if isinstance(value, dict | list):
            yield from limit_problems(value, where)


def validate_message(args: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    blocks = _blocks(args.get("blocks"))
    if len(blocks) > 50:
        problems.append(f"{where}: {len(blocks)} blocks")
    if len(str(args.get("text") or "")) > 4_000:
        problems.append(f"{where}: a text of {len(str(args['text']))} characters")
    for block in blocks:
        parsed = Block.parse(block)
        if parsed is not None and block.get("type") != "table":
            parsed.validate_json()
    return problems


def everything_sent(harness: SlackHarness, interactions: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """(where, payload) for each Web API call, response_url post and interaction response."""
    sent: list[tuple[str, Any]] = []
    for call in harness.slack.calls:
        args = dict(call.args)
        if "blocks" in args:
            args["blocks"] = _blocks(args["blocks"])
        if isinstance(args.get("view"), str):
            args["view"] = json.loads(args["view"])
        for key in ("files",):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        sent.append((call.method, args))
    sent += [("response_url", body) for body in harness.slack.responses]
    return sent + interactions


def submission(value: str, person: str) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": "whatever Slack echoes"}, "value": value}
    return {
        "type": "view_submission",
        "trigger_id": "1.2.3",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": CALLBACK_ID,
            "hash": "h",
            "private_metadata": "",
            "state": {
                "values": {
                    KEY_BLOCK: {KEY_ACTION: {"type": "external_select", "selected_option": option}},
                    PERSON: {PERSON_ACTION: {"type": "users_select", "selected_user": person}},
                    EMAIL_BLOCK: {EMAIL_ACTION: {"type": "email_text_input", "value": None}},
                }
            },
        },
    }


def suggestion(value: str) -> dict[str, Any]:
    return {"type": "block_suggestion", "action_id": KEY_ACTION, "block_id": KEY_BLOCK, "value": value, "view": {}}


# --- the suite -----------------------------------------------------------------------------------------


def test_hostile_names_reach_slack_as_data_within_slacks_limits(slack_harness: SlackHarness) -> None:
    harness, slack = slack_harness, slack_harness.slack
    big_key = seed(harness)
    interactions: list[tuple[str, Any]] = []

    # Every answer kind, as the asker who sees the most (ephemeral replies come back on the response URL).
    asked = [
        ("me 30d", "UHOSTILE"),
        ("user <@UHOSTILE> 30d", "UADMIN"),
        ("overview 30d", "UADMIN"),
        ("top 30d", "UADMIN"),
        ("top 30d by tokens", "UADMIN"),
        ("top teams 30d", "UADMIN"),
        ("team crew 30d", "UADMIN"),
        ("team list", "UADMIN"),
        ("models 30d", "UADMIN"),
        ("table 30d", "UADMIN"),
        ("gaps", "UADMIN"),
        ("status", "UADMIN"),
        ("status", "UDANA"),
        ("<!here> & <https://evil.example|x>", "UADMIN"),  # what the asker typed is echoed as data too
        ("unmap <!here>&x", "UADMIN"),
    ]
    for count, (text, user) in enumerate(asked, start=1):
        assert harness.command(text, user=user).status_code == 200
        slack.wait_for_responses(count, timeout=30)
    harness.command("overview 30d share", user="UADMIN", channel="C0TEAM")
    slack.wait_for("chat.postMessage")

    # The mapping modal: open, search, submit the 3,000-character (255 on PostgreSQL) key by its option.
    harness.command("map", user="UADMIN")
    slack.wait_for("views.update")
    options = harness.interaction(suggestion("")).json()["options"]
    interactions.append(("block_suggestion", options))
    assert len(options) == 3
    assert all(len(o["value"]) <= 150 and "<" not in o["value"] for o in options)
    [long_option] = [o for o in options if o["text"]["text"].startswith("<!here>&xxx")]
    assert len(harness.interaction(suggestion("line one")).json()["options"]) == 1
    submitted = harness.interaction(submission(long_option["value"], "UHOSTILE"))
    assert submitted.status_code == 200 and submitted.text in ("", "null"), submitted.text
    receipts = slack.wait_for("chat.postMessage", 3)  # the shared overview, the admin's receipt, the FYI
    with transaction(harness.engine) as session:
        mapped = session.execute(select(IdentityMapping.external_id, IdentityMapping.email)).all()
    assert mapped == [(big_key, HOSTILE_EMAIL)]
    refused = harness.interaction(submission("k" + "0" * 24, "UHOSTILE"))
    interactions.append(("view_submission errors", refused.json()))
    assert "no longer known" in refused.json()["errors"][KEY_BLOCK]

    # App Home, and the scheduler's jobs.
    harness.event({"type": "app_home_opened", "user": "UHOSTILE", "channel": "DHOSTILE", "tab": "home"})
    slack.wait_for("views.publish")
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_URL=slack.api_url,
        ABACUS_SPIKE_ADMIN_CHANNEL="CADMINS",
        ABACUS_PEOPLE_VISIBILITY="everyone",
    )
    client = web_client(settings)
    assert run_due_digests(settings, harness.engine, SlackOutbox(client), now=NOW, sleep=lambda _s: None).posted == 1
    assert check_budgets(settings, harness.engine, SlackOutbox(client), now=NOW).posted == 3
    spikes = check_spikes(settings, harness.engine, SlackOutbox(client), now=NOW)
    assert spikes.sent == 1 and spikes.errors == []

    sent = everything_sent(harness, interactions)
    leaks = [(where, text) for where, payload in sent for text in mrkdwn_texts(payload) if UNSAFE.search(text)]
    assert leaks == []
    problems = [p for where, payload in sent for p in limit_problems(payload, where)]
    for where, payload in sent:
        if where == "chat.postMessage" or where == "response_url":
            problems += validate_message(payload, where)
        if where.startswith("views."):
            View(**payload["view"]).validate_json()
            if len(payload["view"]["blocks"]) > 100:
                problems.append(f"{where}: {len(payload['view']['blocks'])} blocks")
    assert problems == []

    # Not vacuous: the names are there, as the characters they are.
    shown = "\n".join(text for _where, payload in sent for text in mrkdwn_texts(payload))
    assert ESCAPED_KEY in shown  # the map modal's list
    assert "o&amp;&lt;b&gt;@acme.com" in shown  # top, table receipts, the mapping receipt
    assert "&lt;!here&gt;&amp;model" in shown  # models, overview, digest
    assert "&lt;!channel&gt;&amp;crew" in shown  # top teams, team list, budget alerts, digest budgets
    assert "org-&lt;!subteam^S1&gt;" in shown  # gaps, status (org ids are shortened to 18 characters)
    assert "&lt;!channel&gt; the sync failed &amp; see &lt;https://evil.example|the fix&gt;" in shown  # status
    assert "&lt;!everyone&gt;" in shown and "line one &lt;!everyone&gt; a fake line" in shown  # one line
    assert "I don't know `&lt;!here&gt;`" in shown  # the echo of what was typed
    budget_posts = [a for m, a in sent if m == "chat.postMessage" and a.get("channel") == "CBUDGET"]
    assert any("Top contributors: o&amp;&lt;b&gt;" in json.dumps(a["blocks"]) for a in budget_posts)
    headers = [a["blocks"][0]["text"]["text"] for a in budget_posts]
    assert "Budget: o&<b>@acme.com has reached its monthly budget of $1.00" in headers  # plain text, literal
    assert any(h.startswith("Budget: Team <!channel>&crew") for h in headers)
    assert any(a["text"].startswith("Budget: o&amp;&lt;b&gt;@acme.com has reached") for a in budget_posts)
    dms = [a["text"] for a in (r.args for r in receipts) if str(a.get("channel", "")).startswith("D")]
    assert any("FYI: &lt;!here&gt; &amp; &lt;@U999&gt;" in t for t in dms)
    home = next(a["view"] for m, a in sent if m == "views.publish")
    assert home["blocks"][0]["text"]["text"].startswith("Hi <!here> & <@U999> very long")  # plain text, literal
