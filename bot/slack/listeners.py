"""Thin Slack listeners: ack, parse, ask the services for an answer, deliver it."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.command_text import parse
from bot.slack.delivery import deliver
from bot.slack.services import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.command("/abacus")
    def on_abacus(ack: Any, command: dict[str, Any], respond: Any, context: Any, client: WebClient) -> None:
        # Ack first and with nothing to show: the answer follows within a second or two via response_url.
        ack()
        request = parse(command.get("text") or "")
        try:
            answer = services.answer(
                request, context["abacus_user"], is_admin=context["abacus_admin"], channel_id=command["channel_id"]
            )
            deliver(
                answer, respond=respond, client=client, user_id=command["user_id"], channel_id=command["channel_id"]
            )
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("/abacus %r failed (ref %s)", command.get("text"), reference)
            respond(
                text=f"Sorry, something went wrong on my side (ref `{reference}`). An admin can find it in the logs.",
                response_type="ephemeral",
            )

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], context: Any, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        client.views_publish(user_id=event["user"], view=services.home_view(context["abacus_user"]))
