"""Admins tie unmapped API keys to people: `/abacus map` (a form), `/abacus map KEY @person`, `/abacus unmap KEY`.

Every path checks the admin list itself (opening, searching, submitting), because the form can stay open
while the list changes. Validation and the mapping happen in one transaction, so two admins mapping the
same key at once cannot both succeed; a refusal names the form field it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.access import UserLookupFailed
from bot.answers.blocks import escape, plain, problem_blocks
from bot.answers.common import money, tokens
from bot.answers.mapping import EMAIL_BLOCK, KEY_BLOCK, PERSON_BLOCK, key_id, key_options, legacy_key_value, map_modal
from bot.command_text import AbacusRequest
from bot.usecases.context import Context
from bot.usecases.result import Answer, say
from providers import registry
from providers.spec import utc_now
from storage.db import transaction
from storage.mappings import (
    CLAUDE_CODE,
    Reattribution,
    api_keys,
    current_mapping,
    key_orgs,
    key_source,
    set_mapping,
    unmapped_keys,
)

NOT_ADMIN = "Only Abacus admins can map API keys (ABACUS_ADMINS)."


class MappingRefused(Exception):
    def __init__(self, block_id: str, message: str) -> None:
        super().__init__(message)
        self.block_id = block_id


@dataclass(frozen=True, slots=True)
class Mapped:
    source: str  # the tool whose identity was mapped (Claude Code for API keys, another tool for its logins)
    org_id: str
    key: str
    email: str
    previous: str
    moved: Reattribution


@dataclass(frozen=True, slots=True)
class MapRequest:
    key: str | None = None  # None: open the form
    email: str | None = None  # typed; or
    user_id: str | None = None  # a Slack mention
    unmap: bool = False


def from_parsed(parsed: AbacusRequest) -> MapRequest:
    return MapRequest(parsed.key, parsed.target_email, parsed.target_user_id, unmap=parsed.command == "unmap")


def not_admin() -> Answer:
    return Answer(NOT_ADMIN, problem_blocks([NOT_ADMIN], "/abacus me"))


def answer(ctx: Context, request: MapRequest) -> Answer:
    if not ctx.is_admin:
        return not_admin()
    if request.key is None:
        with transaction(ctx.engine) as session:
            keys = unmapped_keys(session, None)
        return Answer("Map an API key to a person", [], modal=map_modal(keys))
    return text_command(ctx, request.key, request.email, request.user_id, unmap=request.unmap)


def key_choices(ctx: Context, query: str) -> list[dict[str, Any]]:
    """The form's key options matching ``query`` (none for someone who is no longer an admin)."""
    if not ctx.is_admin:
        return []
    with transaction(ctx.engine) as session:
        keys = unmapped_keys(session, None)
    return key_options(keys, query)


def resolve_email(ctx: Context, person_id: str | None, typed: str | None) -> str:
    """The chosen person's email, checked against the company domains."""
    if person_id and typed:
        raise MappingRefused(EMAIL_BLOCK, "Pick a person or type an email, not both.")
    if person_id:
        if ctx.directory is None:
            raise MappingRefused(PERSON_BLOCK, "Slack users cannot be looked up here; type their email.")
        try:
            email = ctx.directory.get(person_id).email
        except UserLookupFailed:
            raise MappingRefused(PERSON_BLOCK, "Slack would not tell me who that is; type their email.") from None
        if not email:
            raise MappingRefused(PERSON_BLOCK, "Slack does not share this person's email; type it instead.")
        block = PERSON_BLOCK
    elif typed:
        email, block = typed.strip().lower(), EMAIL_BLOCK
    else:
        raise MappingRefused(PERSON_BLOCK, "Pick the person who uses this key, or type their email below.")
    if email.rpartition("@")[2] not in ctx.policy.domains:
        raise MappingRefused(block, f"{email} is not on the company domain ({', '.join(ctx.policy.domains)}).")
    return email


def resolve_key(ctx: Context, value: str) -> tuple[str, str, str]:
    """The (tool, org, key name) a form option's value stands for: the option carries a short id, never the
    name. The tool is the mapping's source: Claude Code for its API keys, another tool for its keys or logins."""
    legacy = legacy_key_value(value)
    if legacy is not None:
        return (CLAUDE_CODE, *legacy)
    with transaction(ctx.engine) as session:
        keys = [(tool.id, org_id, key) for tool in registry.tools() for org_id, key in api_keys(session, tool.id)]
    for tool, org_id, key in keys:
        if key_id(org_id, key, tool) == value:
            return tool, org_id, key
    raise MappingRefused(KEY_BLOCK, "That API key is no longer known; close this and run `/abacus map` again.")


def map_key(ctx: Context, *, org_id: str, key: str, email: str, remap: bool, source: str = CLAUDE_CODE) -> Mapped:
    """Map ``key`` (of the tool ``source``) to ``email`` and move its history. Without ``remap`` the key must
    still be unmapped."""
    try:
        with transaction(ctx.engine) as session:
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
                by=ctx.asker.email,
                now=utc_now(),
            )
    except IntegrityError:  # another admin's mapping of the same key committed first
        raise MappingRefused(KEY_BLOCK, f"{_short(key)} was mapped by someone else a moment ago.") from None
    return Mapped(source, org_id, key, email, previous, moved or Reattribution(0, 0, Decimal(0)))


def submit(ctx: Context, option: str | None, person_id: str | None, typed: str | None) -> Mapped:
    """The form's submission: the chosen key to the chosen person. Raises MappingRefused."""
    if not ctx.is_admin:
        raise MappingRefused(KEY_BLOCK, NOT_ADMIN)
    if not option:
        raise MappingRefused(KEY_BLOCK, "Pick the API key to map.")
    source, org_id, key = resolve_key(ctx, option)
    email = resolve_email(ctx, person_id, typed)
    return map_key(ctx, org_id=org_id, key=key, email=email, remap=False, source=source)


def _short(key: str) -> str:
    """A key's name in a form error (plain text, shown under the field): one line, not the whole essay."""
    return plain(key, 80)


def moved(m: Reattribution) -> str:
    return f"{m.rows} row(s), {tokens(m.total_tokens)} tokens, {money(m.cost_usd)}"


def text_command(
    ctx: Context, request_key: str, target_email: str | None, target_user: str | None, *, unmap: bool
) -> Answer:
    """`/abacus map KEY @person` (also changes an existing mapping) and `/abacus unmap KEY`."""
    shown = escape(request_key)
    with transaction(ctx.engine) as session:
        # An API key's name as typed, or else another tool's login (compared without letter case, as GitHub does).
        key = request_key
        found = {(key_source(session, CLAUDE_CODE, org, key), org) for org in key_orgs(session, key)}
        if not found:
            key = request_key.lower()
            found = {
                (tool.id, org)
                for tool in registry.tools()
                if tool.id != CLAUDE_CODE
                for org in key_orgs(session, key, tool.id)
            }
    if not found:
        return say(f"I don't know an API key called `{shown}`. `/abacus map` lists the unmapped ones.")
    if len(found) > 1:
        return say(f"`{shown}` exists in several organisations; use `abacus mappings set --org` for it.")
    source, org_id = found.pop()
    try:
        email = "" if unmap else resolve_email(ctx, target_user, target_email)
        result = map_key(ctx, org_id=org_id, key=key, email=email, remap=True, source=source)
    except MappingRefused as exc:
        return say(escape(str(exc), limit=500))
    if unmap:
        if not result.previous:
            return say(f"`{shown}` was not mapped; nothing changed.")
        return say(f"Unmapped `{shown}` (was {escape(result.previous)}): {moved(result.moved)} back to unattributed.")
    was = f" (was {escape(result.previous)})" if result.previous else ""
    return say(f"Mapped `{shown}` → {escape(email)}{was}: moved {moved(result.moved)}.")
