"""The `/abacus map` form in Slack: open it, search its keys, take its submission, tell the people.

What is mapped, and who may, is ``bot.usecases.mapping``; this module only speaks Slack. The submission is
validated and mapped before it is acknowledged, so the admin sees a problem under the field it concerns.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import SlackUser
from bot.answers.blocks import escape
from bot.answers.mapping import (
    CALLBACK_ID,
    EMAIL_ACTION,
    EMAIL_BLOCK,
    KEY_ACTION,
    KEY_BLOCK,
    PERSON_ACTION,
    PERSON_BLOCK,
    loading_modal,
)
from bot.command_text import AbacusRequest
from bot.slack.services import Services
from bot.usecases import mapping
from providers import registry

log = logging.getLogger(__name__)
NOT_ADMIN = mapping.NOT_ADMIN


def opens_form(request: AbacusRequest) -> bool:
    """`/abacus map` alone opens a form, which Slack allows only within 3 s of the command."""
    return request.command == "map" and request.key is None and not request.problems


def open_loading(client: WebClient, trigger_id: str) -> dict[str, Any]:
    # The trigger expires about 3 s after the command: open a loading view at once, then fill it in.
    opened: dict[str, Any] = client.views_open(trigger_id=trigger_id, view=loading_modal())["view"]
    return opened


def fill_form(client: WebClient, opened: dict[str, Any], modal: dict[str, Any]) -> None:
    client.views_update(view_id=opened["id"], hash=opened.get("hash"), view=modal)


def register(app: App, services: Services) -> None:
    @app.options(KEY_ACTION)
    def on_key_search(ack: Any, payload: dict[str, Any], context: Any) -> None:
        ctx = services.context(context["abacus_user"], is_admin=bool(context.get("abacus_admin")))
        ack(options=mapping.key_choices(ctx, str(payload.get("value") or "")))

    @app.view(CALLBACK_ID)
    def on_submit(ack: Any, view: dict[str, Any], context: Any, client: WebClient) -> None:
        admin: SlackUser = context["abacus_user"]
        ctx = services.context(admin, is_admin=bool(context.get("abacus_admin")))
        values = view["state"]["values"]
        option = (values.get(KEY_BLOCK, {}).get(KEY_ACTION) or {}).get("selected_option")
        person = (values.get(PERSON_BLOCK, {}).get(PERSON_ACTION) or {}).get("selected_user")
        typed = (values.get(EMAIL_BLOCK, {}).get(EMAIL_ACTION) or {}).get("value")
        try:
            result = mapping.submit(ctx, str(option.get("value") or "") if option else None, person, typed)
        except mapping.MappingRefused as exc:
            ack(response_action="errors", errors={exc.block_id: str(exc)})
            return
        ack()
        key, email = result.key, result.email
        _tell(
            client, admin.id, f"Mapped `{escape(key)}` → {escape(email)}: moved {mapping.moved(result.moved)} to them."
        )
        if services.settings.notify_mapped_people:
            found = services.directory.by_email(email) if person is None and services.directory else None
            person_id = person or (found.id if found else None)
            if person_id:
                _tell(
                    client,
                    person_id,
                    f"FYI: {escape(admin.name or admin.email)} tied the {_what(result.source)} `{escape(key)}` to "
                    f"you in Abacus, so its {registry.tool_title(result.source)} usage now counts as yours "
                    "(`/abacus me`).",
                )


def _what(source: str) -> str:
    return registry.tool(source).identity  # "API key", "GitHub login"


def _tell(client: WebClient, user_id: str, text: str) -> None:
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.chat_postMessage(channel=channel, text=text)
    except SlackApiError as exc:
        log.warning("could not DM %s: %s", user_id, exc.response.get("error"))
