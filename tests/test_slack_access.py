"""Signed requests into the served Bolt app: signatures, the domain lock, and who may ask."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.slack_harness import SlackHarness


def test_help_answers_a_colleague(slack_harness: SlackHarness) -> None:
    response = slack_harness.command("help")
    assert response.status_code == 200
    [reply] = slack_harness.slack.wait_for_responses(1)
    assert reply["response_type"] == "ephemeral"
    assert "/abacus me" in json_text(reply)


@pytest.mark.parametrize(
    ("sign", "why"),
    [({"secret": "forged-secret"}, "forged"), ({"age": 400}, "stale")],
)
def test_forged_or_stale_requests_get_401_and_do_nothing(slack_harness: SlackHarness, sign: dict, why: str) -> None:
    response = slack_harness.command("me", **sign)
    assert response.status_code == 401, why
    time.sleep(0.2)
    assert slack_harness.slack.responses == []
    assert slack_harness.slack.called("users.info") == []


def test_unsigned_request_is_refused(slack_harness: SlackHarness) -> None:
    response = httpx.post(
        f"{slack_harness.url}/slack/events",
        content="command=/abacus&text=me",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("UOUT", "only people with a company email"),
        ("UGUEST", "not available to guest accounts"),
        ("UNOMAIL", "could not read your email"),
        ("UROBOT", "people only"),
        ("UGONE", "people only"),
        ("UEXT", "not people from other organisations"),
        ("UNOBODY", "could not check who you are"),
    ],
)
def test_people_who_may_not_ask_are_told_why_and_get_no_data(
    slack_harness: SlackHarness, user: str, expected: str
) -> None:
    response = slack_harness.command("me", user=user)
    assert response.status_code == 200 and expected in response.text
    time.sleep(0.2)
    assert slack_harness.slack.responses == []  # no answer was computed


def test_email_domain_is_case_insensitive(slack_harness: SlackHarness) -> None:
    assert slack_harness.command("help", user="UBOB").text == ""
    assert "/abacus" in json_text(slack_harness.slack.wait_for_responses(1)[0])


def test_users_info_is_cached(slack_harness: SlackHarness) -> None:
    for _ in range(3):
        slack_harness.command("help")
    slack_harness.slack.wait_for_responses(3)
    assert len(slack_harness.slack.called("users.info")) == 1


def test_unknown_words_get_a_helpful_answer(slack_harness: SlackHarness) -> None:
    slack_harness.command("frobnicate")
    [reply] = slack_harness.slack.wait_for_responses(1)
    assert "I don't know `frobnicate`" in json_text(reply) and "/abacus help" in json_text(reply)


def test_health_check(slack_harness: SlackHarness) -> None:
    response = httpx.get(f"{slack_harness.url}/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True}


def json_text(payload: dict) -> str:
    return json.dumps(payload)
