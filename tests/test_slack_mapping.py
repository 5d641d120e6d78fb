"""Admins map unmapped API keys from Slack: the modal, its search, validation, races and re-attribution."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from slack_sdk.models.views import View
from sqlalchemy import Engine, func, select

from bot.answers.mapping import (
    CALLBACK_ID,
    EMAIL_ACTION,
    EMAIL_BLOCK,
    KEY_ACTION,
    KEY_BLOCK,
    PERSON_ACTION,
    key_id,
)
from bot.answers.mapping import PERSON_BLOCK as PERSON
from storage.db import transaction
from storage.models import IdentityMapping, Usage, UsageDaily
from storage.writes import UsageRecord, upsert_usage
from tests.slack_harness import SlackHarness

DAY = datetime.now(UTC).date() - timedelta(days=3)


def seed(engine: Engine, extra_keys: int = 0) -> None:
    rows = [
        UsageRecord(
            tool="claude_code",
            date=DAY - timedelta(days=d),
            actor="deploy-bot",
            actor_type="api_key",
            org_id="org-1",
            raw_model="claude-opus-4-6",
            input_tokens=1_000,
            cost_usd=Decimal("6.20"),
        )
        for d in range(2)
    ]
    rows.append(
        UsageRecord(
            tool="claude_code",
            date=DAY,
            actor="bob@acme.com",
            email="bob@acme.com",
            org_id="org-1",
            raw_model="claude-opus-4-6",
            input_tokens=500,
            cost_usd=Decimal("1.00"),
        )
    )
    rows += [
        UsageRecord(
            tool="claude_code",
            date=DAY,
            actor=f"k{i:03d}",
            actor_type="api_key",
            org_id="org-1",
            raw_model="claude-opus-4-6",
            input_tokens=1,
            cost_usd=Decimal("0.01"),
        )
        for i in range(extra_keys)
    ]
    with transaction(engine) as s:
        upsert_usage(s, rows)


def cost_by_email(engine: Engine) -> dict[str, Decimal]:
    with transaction(engine) as s:
        return {
            e: Decimal(c)
            for e, c in s.execute(select(UsageDaily.email, func.sum(UsageDaily.cost_usd)).group_by(UsageDaily.email))
        }


def submission(
    key: str = "deploy-bot", person: str | None = None, email: str | None = None, *, legacy: bool = False
) -> dict:
    # The option carries the key's short id; a modal opened before ids existed carried ["org", "name"].
    value = json.dumps(["org-1", key], separators=(",", ":")) if legacy else key_id("org-1", key)
    option = {"text": {"type": "plain_text", "text": key}, "value": value}
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
                    EMAIL_BLOCK: {EMAIL_ACTION: {"type": "email_text_input", "value": email}},
                }
            },
        },
    }


def test_non_admins_can_neither_open_nor_search_nor_submit(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    slack_harness.command("map", user="UDANA")
    [reply] = slack_harness.slack.wait_for_responses(1)
    assert "Only Abacus admins" in json.dumps(reply)
    assert slack_harness.slack.called("views.open") == []
    search = slack_harness.interaction(
        {"type": "block_suggestion", "action_id": KEY_ACTION, "block_id": KEY_BLOCK, "value": "", "view": {"id": "V1"}},
        user="UDANA",
    )
    assert search.json() == {"options": []}
    refused = slack_harness.interaction(submission(person="UBOB"), user="UDANA")
    assert refused.json()["errors"][KEY_BLOCK].startswith("Only Abacus admins")
    assert cost_by_email(slack_harness.engine)[""] == Decimal("12.40")


def test_admin_opens_the_modal_with_a_loading_view_then_the_keys(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    slack_harness.command("map", user="UADMIN")
    [opened] = slack_harness.slack.wait_for("views.open")
    assert "Looking up" in json.dumps(opened.args["view"])
    [updated] = slack_harness.slack.wait_for("views.update")
    view = updated.args["view"]
    View(**view).validate_json()
    text = json.dumps(view)
    assert "deploy-bot" in text and "$12.40" in text and "external_select" in text


def test_key_search_filters_and_caps_at_100(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine, extra_keys=120)
    every = slack_harness.interaction(
        {"type": "block_suggestion", "action_id": KEY_ACTION, "block_id": KEY_BLOCK, "value": "", "view": {"id": "V1"}}
    ).json()["options"]
    assert len(every) == 100 and every[0]["text"]["text"].startswith("deploy-bot")  # largest cost first
    found = slack_harness.interaction(
        {
            "type": "block_suggestion",
            "action_id": KEY_ACTION,
            "block_id": KEY_BLOCK,
            "value": "K11",
            "view": {"id": "V1"},
        }
    ).json()["options"]
    assert [o["text"]["text"].split(" ")[0] for o in found] == [f"k11{i}" for i in range(10)]


def test_validation_errors_appear_under_the_field(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    outside = slack_harness.interaction(submission(email="someone@gmail.com")).json()
    assert outside["response_action"] == "errors" and "not on the company domain" in outside["errors"][EMAIL_BLOCK]
    nobody = slack_harness.interaction(submission()).json()
    assert "Pick the person" in nobody["errors"][PERSON]
    both = slack_harness.interaction(submission(person="UBOB", email="bob@acme.com")).json()
    assert "not both" in both["errors"][EMAIL_BLOCK]


def test_mapping_moves_exactly_the_keys_history_and_tells_both_people(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    before = cost_by_email(slack_harness.engine)
    response = slack_harness.interaction(submission(person="UBOB"))
    assert response.status_code == 200 and response.text == ""
    after = cost_by_email(slack_harness.engine)
    assert "" not in after and after["bob@acme.com"] == before["bob@acme.com"] + before[""]
    assert sum(after.values()) == sum(before.values())
    with transaction(slack_harness.engine) as s:
        mapping = s.scalars(select(IdentityMapping)).one()
        assert (mapping.email, mapping.method, mapping.mapped_by) == ("bob@acme.com", "slack", "admin@acme.com")
        assert set(s.scalars(select(Usage.email).where(Usage.actor == "deploy-bot"))) == {"bob@acme.com"}
    messages = [c.args["text"] for c in slack_harness.slack.wait_for("chat.postMessage", 2)]
    assert any("moved 2 row(s)" in m and "$12.40" in m for m in messages)
    assert any("tied the API key `deploy-bot` to you" in m for m in messages)
    # A second admin submitting the same key (their modal was open meanwhile) is told who won.
    late = slack_harness.interaction(submission(email="dana@acme.com")).json()
    assert late["errors"][KEY_BLOCK] == "deploy-bot was just mapped to bob@acme.com by admin@acme.com."
    assert cost_by_email(slack_harness.engine) == after


def test_a_modal_opened_before_options_carried_ids_still_maps(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    response = slack_harness.interaction(submission(person="UBOB", legacy=True))
    assert response.status_code == 200 and response.text == ""
    assert "" not in cost_by_email(slack_harness.engine)


def test_text_forms_remap_and_unmap(slack_harness: SlackHarness) -> None:
    seed(slack_harness.engine)
    texts = [
        "map deploy-bot <@UBOB|bob>",
        "map deploy-bot dana@acme.com",
        "unmap deploy-bot",
        "map nope-key a@acme.com",
    ]
    for n, text in enumerate(texts, start=1):  # one at a time: answers are computed after the ack, in parallel
        slack_harness.command(text, user="UADMIN")
        slack_harness.slack.wait_for_responses(n)
    replies = [json.dumps(r, ensure_ascii=False) for r in slack_harness.slack.responses]
    assert any("Mapped `deploy-bot` → bob@acme.com: moved 2 row(s)" in r for r in replies)
    assert any("→ dana@acme.com (was bob@acme.com)" in r for r in replies)
    assert any("Unmapped `deploy-bot` (was dana@acme.com)" in r for r in replies)
    assert any("I don't know an API key called `nope-key`" in r for r in replies)
    assert cost_by_email(slack_harness.engine)[""] == Decimal("12.40")
