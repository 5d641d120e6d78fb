"""Thin Slack listeners: ack, parse, ask the services for an answer, deliver it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.answers.personal import HOME_CHART_ACTION
from bot.command_text import AbacusRequest, parse
from bot.observability import bound, current_context, new_id
from bot.slack import mapping
from bot.slack.delivery import deliver, send_private_charts
from bot.slack.services import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services, answers: Executor | None = None) -> None:
    """``answers`` runs the work after the ack (queries, charts, uploads). Bolt runs acks on its listener
    executor too, so if answers ran there, a burst of slow answers would keep later commands from being
    acked within Slack's 3 s (measured: `benchmarks/slack_load.py`, 20 at a time against 8 threads)."""

    def run(work: Callable[[], None], *, command: str, now: bool = False) -> None:
        # The log context (request id, command) is bound in the thread that does the work.
        tags = {"request_id": new_id(), "command": command}

        def in_context() -> None:
            with bound(**tags):
                work()

        if answers is None or now:
            in_context()
        else:
            answers.submit(in_context)

    @app.command("/abacus")
    def on_abacus(ack: Any, command: dict[str, Any], respond: Any, context: Any, client: WebClient) -> None:
        # Ack first and with nothing to show: the answer follows within a second or two via response_url.
        ack()
        request = parse(command.get("text") or "")
        # A mapping modal needs the trigger id within 3 s of the command: those answer on this thread.
        modal = mapping.opens_form(request)

        def work() -> None:
            # Who is asking is checked here, after the ack, when the middleware could not tell from its
            # cache (Slack may be slow or rate-limited, and the ack must not wait for it). Fail closed.
            admit = context.get("abacus_admit")
            refusal = admit() if admit is not None else "Abacus could not check who you are; please try again."
            if refusal is not None:
                respond(text=refusal, response_type="ephemeral")
                return
            _answer_command(services, request, command, respond, context, client)

        run(
            work,
            command=f"/abacus {request.command}",
            now=modal,
        )

    mapping.register(app, services)

    @app.action(HOME_CHART_ACTION)
    def on_home_chart(ack: Any, context: Any, client: WebClient) -> None:
        ack()
        viewer, is_admin = context["abacus_user"], context["abacus_admin"]

        def send() -> None:
            try:
                answer = services.answer(parse("me 30d"), viewer, is_admin=is_admin)
                if answer.charts:
                    send_private_charts(client, viewer.id, answer)
            except Exception:
                log.exception("the App Home chart for %s failed", viewer.id)  # logged (and reported) with its id

        run(send, command="home chart")

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
        user, is_admin = context["abacus_user"], context["abacus_admin"]
        form = mapping.open_loading(client, command["trigger_id"]) if mapping.opens_form(request) and is_admin else None
        answer = services.answer(request, user, is_admin=is_admin, channel_id=command["channel_id"])
        if form is not None and answer.modal is not None:
            mapping.fill_form(client, form, answer.modal)
            return
        deliver(answer, respond=respond, client=client, user_id=command["user_id"], channel_id=command["channel_id"])
    except Exception:
        # The reference is the request id: it is on every log line of this request (and the Sentry event).
        reference = current_context().get("request_id", "")
        log.exception("/abacus %r failed (ref %s)", command.get("text"), reference)
        respond(
            text=f"Sorry, something went wrong on my side (ref `{reference}`). An admin can find it in the logs.",
            response_type="ephemeral",
        )
