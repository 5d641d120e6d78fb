"""Admins tie unmapped API keys to people from Slack: the `/abacus map` modal and the text forms.

Every path checks the admin list itself (opening, searching, submitting), because the modal can stay open
while the list changes. Validation and the mapping happen before the submission is acknowledged, in one
transaction, so the admin sees a problem under the field it concerns, and two admins mapping the same key
at once cannot both succeed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from bot.jobs import utc_now
from bot.slack.answers.common import money, tokens
from bot.slack.answers.mapping import (
    CALLBACK_ID,
    EMAIL_ACTION,
    EMAIL_BLOCK,
    KEY_ACTION,
    KEY_BLOCK,
    PERSON_ACTION,
    PERSON_BLOCK,
    key_id,
    key_options,
    legacy_key_value,
    loading_modal,
    map_modal,
)
from bot.slack.blocks import escape, plain, section
from bot.slack.delivery import Answer
from bot.slack.services import Services
from bot.slack.users import SlackUser, UserLookupFailed
from providers import registry
from storage.db import transaction
from storage.mappings import (
    CLAUDE_CODE,
    Reattribution,
    api_keys,
    current_mapping,
    key_orgs,
    set_mapping,
    unmapped_keys,
)

log = logging.getLogger(__name__)
NOT_ADMIN = "Only Abacus admins can map API keys (ABACUS_ADMINS)."


class MappingRefused(Exception):
    def __init__(self, block_id: str, message: str) -> None:
        super().__init__(message)
        self.block_id = block_id


@dataclass(frozen=True, slots=True)
class Mapped:
    org_id: str
    key: str
    email: str
    previous: str
    moved: Reattribution


def resolve_email(services: Services, person_id: str | None, typed: str | None) -> str:
    """The chosen person's email, checked against the company domains."""
    if person_id and typed:
        raise MappingRefused(EMAIL_BLOCK, "Pick a person or type an email, not both.")
    if person_id:
        if services.directory is None:
            raise MappingRefused(PERSON_BLOCK, "Slack users cannot be looked up here; type their email.")
        try:
            email = services.directory.get(person_id).email
        except UserLookupFailed:
            raise MappingRefused(PERSON_BLOCK, "Slack would not tell me who that is; type their email.") from None
        if not email:
            raise MappingRefused(PERSON_BLOCK, "Slack does not share this person's email; type it instead.")
        block = PERSON_BLOCK
    elif typed:
        email, block = typed.strip().lower(), EMAIL_BLOCK
    else:
        raise MappingRefused(PERSON_BLOCK, "Pick the person who uses this key, or type their email below.")
    if email.rpartition("@")[2] not in services.policy.domains:
        raise MappingRefused(block, f"{email} is not on the company domain ({', '.join(services.policy.domains)}).")
    return email


def resolve_key(services: Services, value: str) -> tuple[str, str, str]:
    """The (tool, org, key name) a modal option's value stands for: the option carries a short id, never the
    name. The tool is the mapping's source: Claude Code for API keys, another tool for its logins."""
    legacy = legacy_key_value(value)
    if legacy is not None:
        return (CLAUDE_CODE, *legacy)
    with transaction(services.engine) as session:
        keys = [(tool.id, org_id, key) for tool in registry.tools() for org_id, key in api_keys(session, tool.id)]
    for tool, org_id, key in keys:
        if key_id(org_id, key, tool) == value:
            return tool, org_id, key
    raise MappingRefused(KEY_BLOCK, "That API key is no longer known; close this and run `/abacus map` again.")


def map_key(
    services: Services,
    *,
    org_id: str,
    key: str,
    email: str,
    admin: SlackUser,
    remap: bool,
    source: str = CLAUDE_CODE,
) -> Mapped:
    """Map ``key`` (of the tool ``source``) to ``email`` and move its history. Without ``remap`` the key
    must still be unmapped."""
    try:
        with transaction(services.engine) as session:
            existing = current_mapping(session, source, org_id, key)
            if existing is not None and not remap:
                raise MappingRefused(
                    KEY_BLOCK,
                    f"{_short(key)} was just mapped to {existing.email} by {existing.mapped_by or 'someone'}.",
                )
            previous = existing.email if existing else ""
            moved = set_mapping(
                session,
                source=source,
                org_id=org_id,
                external_id=key,
                email=email,
                method="slack",
                by=admin.email,
                now=utc_now(),
            )
    except IntegrityError:  # another admin's mapping of the same key committed first
        raise MappingRefused(KEY_BLOCK, f"{_short(key)} was mapped by someone else a moment ago.") from None
    return Mapped(org_id, key, email, previous, moved or Reattribution(0, 0, Decimal(0)))


def _short(key: str) -> str:
    """A key's name in a modal error (plain text, shown under the field): one line, not the whole essay."""
    return plain(key, 80)


def _moved(m: Reattribution) -> str:
    return f"{m.rows} row(s), {tokens(m.total_tokens)} tokens, {money(m.cost_usd)}"


def text_command(
    services: Services,
    request_key: str,
    target_email: str | None,
    target_user: str | None,
    admin: SlackUser,
    *,
    unmap: bool,
) -> Answer:
    """`/abacus map KEY @person` (also changes an existing mapping) and `/abacus unmap KEY`."""
    shown = escape(request_key)
    with transaction(services.engine) as session:
        # An API key's name, or another tool's login (compared without letter case, as GitHub does).
        found = {(CLAUDE_CODE, org) for org in key_orgs(session, request_key)} or {
            (tool.id, org)
            for tool in registry.tools()
            if tool.id != CLAUDE_CODE
            for org in key_orgs(session, request_key.lower(), tool.id)
        }
    if not found:
        return _say(f"I don't know an API key called `{shown}`. `/abacus map` lists the unmapped ones.")
    if len(found) > 1:
        return _say(f"`{shown}` exists in several organisations; use `abacus mappings set --org` for it.")
    source, org_id = found.pop()
    key = request_key if source == CLAUDE_CODE else request_key.lower()
    try:
        email = "" if unmap else resolve_email(services, target_user, target_email)
        result = map_key(services, org_id=org_id, key=key, email=email, admin=admin, remap=True, source=source)
    except MappingRefused as exc:
        return _say(escape(str(exc), limit=500))
    if unmap:
        if not result.previous:
            return _say(f"`{shown}` was not mapped; nothing changed.")
        return _say(f"Unmapped `{shown}` (was {escape(result.previous)}): {_moved(result.moved)} back to unattributed.")
    was = f" (was {escape(result.previous)})" if result.previous else ""
    return _say(f"Mapped `{shown}` → {escape(email)}{was}: moved {_moved(result.moved)}.")


def _say(markdown: str) -> Answer:
    """``markdown``: with every outside string in it escaped."""
    block = section(markdown)
    return Answer(block["text"]["text"], [block])


def open_modal(services: Services, client: WebClient, trigger_id: str) -> None:
    # The trigger expires about 3 s after the command: open a loading view at once, then fill it in.
    opened = client.views_open(trigger_id=trigger_id, view=loading_modal())
    with transaction(services.engine) as session:
        keys = unmapped_keys(session, None)
    client.views_update(view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=map_modal(keys))


def register(app: App, services: Services) -> None:
    @app.options(KEY_ACTION)
    def on_key_search(ack: Any, payload: dict[str, Any], context: Any) -> None:
        if not context.get("abacus_admin"):
            ack(options=[])
            return
        with transaction(services.engine) as session:
            keys = unmapped_keys(session, None)
        ack(options=key_options(keys, str(payload.get("value") or "")))

    @app.view(CALLBACK_ID)
    def on_submit(ack: Any, view: dict[str, Any], context: Any, client: WebClient) -> None:
        admin: SlackUser = context["abacus_user"]
        if not context.get("abacus_admin"):
            ack(response_action="errors", errors={KEY_BLOCK: NOT_ADMIN})
            return
        values = view["state"]["values"]
        option = (values.get(KEY_BLOCK, {}).get(KEY_ACTION) or {}).get("selected_option")
        person = (values.get(PERSON_BLOCK, {}).get(PERSON_ACTION) or {}).get("selected_user")
        typed = (values.get(EMAIL_BLOCK, {}).get(EMAIL_ACTION) or {}).get("value")
        try:
            if not option:
                raise MappingRefused(KEY_BLOCK, "Pick the API key to map.")
            source, org_id, key = resolve_key(services, str(option.get("value") or ""))
            email = resolve_email(services, person, typed)
            result = map_key(services, org_id=org_id, key=key, email=email, admin=admin, remap=False, source=source)
        except MappingRefused as exc:
            ack(response_action="errors", errors={exc.block_id: str(exc)})
            return
        ack()
        _tell(client, admin.id, f"Mapped `{escape(key)}` → {escape(email)}: moved {_moved(result.moved)} to them.")
        if services.settings.notify_mapped_people:
            found = services.directory.by_email(email) if person is None and services.directory else None
            person_id = person or (found.id if found else None)
            if person_id:
                _tell(
                    client,
                    person_id,
                    f"FYI: {escape(admin.name or admin.email)} tied the {_what(source)} `{escape(key)}` to you in "
                    f"Abacus, so its {registry.tool_title(source)} usage now counts as yours (`/abacus me`).",
                )


def _what(source: str) -> str:
    return "API key" if source == CLAUDE_CODE else f"{registry.tool_title(source)} login"


def _tell(client: WebClient, user_id: str, text: str) -> None:
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.chat_postMessage(channel=channel, text=text)
    except SlackApiError as exc:
        log.warning("could not DM %s: %s", user_id, exc.response.get("error"))
