"""Thin Slack listeners: ack, parse, ask the services for an answer, deliver it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.observability import bound, current_context, new_id
from bot.slack import mapping
from bot.slack.answers.personal import HOME_CHART_ACTION
from bot.slack.blocks import problem_blocks
from bot.slack.command_text import AbacusRequest, parse
from bot.slack.delivery import Answer, deliver, send_private_charts
from bot.slack.services import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.command("/abacus")
    def on_abacus(ack: Any, command: dict[str, Any], respond: Any, context: Any, client: WebClient) -> None:
        # Ack first and with nothing to show: the answer follows within a second or two via response_url.
        ack()
        request = parse(command.get("text") or "")
        # Listeners run on Bolt's worker threads, so the request's log context is bound here.
        with bound(request_id=new_id(), command=f"/abacus {request.command}"):
            _answer_command(services, request, command, respond, context, client)

    mapping.register(app, services)

    @app.action(HOME_CHART_ACTION)
    def on_home_chart(ack: Any, context: Any, client: WebClient) -> None:
        ack()
        viewer = context["abacus_user"]
        with bound(request_id=new_id(), command="home chart"):
            try:
                answer = services.answer(parse("me 30d"), viewer, is_admin=context["abacus_admin"])
                if answer.charts:
                    send_private_charts(client, viewer.id, answer)
            except Exception:
                log.exception("the App Home chart for %s failed", viewer.id)  # logged (and reported) with its id

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], context: Any, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        with bound(request_id=new_id(), command="app home"):
            try:
                client.views_publish(user_id=event["user"], view=services.home_view(context["abacus_user"]))
            except Exception:
                log.exception("the App Home of %s failed", event["user"])


def _answer_command(
    services: Services, request: AbacusRequest, command: dict[str, Any], respond: Any, context: Any, client: WebClient
) -> None:
    try:
        if request.command in ("map", "unmap") and not request.problems:
            answer = _mapping(services, request, command, context, client)
            if answer is None:
                return  # the modal is open
        else:
            answer = services.answer(
                request, context["abacus_user"], is_admin=context["abacus_admin"], channel_id=command["channel_id"]
            )
        deliver(answer, respond=respond, client=client, user_id=command["user_id"], channel_id=command["channel_id"])
    except Exception:
        # The reference is the request id: it is on every log line of this request (and the Sentry event).
        reference = current_context().get("request_id", "")
        log.exception("/abacus %r failed (ref %s)", command.get("text"), reference)
        respond(
            text=f"Sorry, something went wrong on my side (ref `{reference}`). An admin can find it in the logs.",
            response_type="ephemeral",
        )


def _mapping(
    services: Services, request: AbacusRequest, command: dict[str, Any], context: Any, client: WebClient
) -> Answer | None:
    if not context["abacus_admin"]:
        return Answer(mapping.NOT_ADMIN, problem_blocks([mapping.NOT_ADMIN], "/abacus me"))
    if request.key is None:
        mapping.open_modal(services, client, command["trigger_id"])
        return None
    return mapping.text_command(
        services,
        request.key,
        request.target_email,
        request.target_user_id,
        context["abacus_user"],
        unmap=request.command == "unmap",
    )
