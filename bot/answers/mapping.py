"""The `/abacus map` modal (pure view builders): pick an unmapped API key, pick its person."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.answers.blocks import Block, context, escape, plain, section
from bot.answers.common import money, short_day, tokens
from bot.formatting import identities, identity_word
from providers import registry
from storage.mappings import CLAUDE_CODE, UnmappedKey

CALLBACK_ID = "abacus_map"
KEY_BLOCK, KEY_ACTION = "key", "key_select"
PERSON_BLOCK, PERSON_ACTION = "person", "person_select"
EMAIL_BLOCK, EMAIL_ACTION = "email", "email_input"
MAX_OPTIONS = 100  # Slack's cap for a select's options
MAX_OPTION_TEXT = 75  # Slack's cap for an option's text and description


def key_id(org_id: str, key_name: str, tool: str = CLAUDE_CODE) -> str:
    """A short stable id for an API key (or another tool's login): Slack caps an option's value at 150
    characters and a key's name can be longer, so the option carries this (``k`` and 24 hex digits of a
    SHA-256 of org and name, and of the tool for tools other than Claude Code, whose ids predate them) and
    the submission is resolved back to the key (``bot.usecases.mapping.resolve_key``)."""
    text = f"{org_id}\x00{key_name}" if tool == CLAUDE_CODE else f"{tool}\x00{org_id}\x00{key_name}"
    return "k" + hashlib.sha256(text.encode()).hexdigest()[:24]


def key_value(key: UnmappedKey) -> str:
    return key_id(key.org_id, key.key_name, key.tool)


def _whose(key: UnmappedKey) -> str:
    """Which tool an identity belongs to, named only for tools other than Claude Code (whose API keys these
    lists were first made for): "GitHub Copilot login", "OpenAI API (Codex) key"."""
    if key.tool == CLAUDE_CODE:
        return ""
    return f"{registry.tool_title(key.tool)} {identity_word(key.tool).split()[-1]} "


def legacy_key_value(value: str) -> tuple[str, str] | None:
    """The ``["org", "name"]`` value of a modal opened before options carried ids; None for an id."""
    if not value.startswith("["):
        return None
    org_id, key_name = json.loads(value)
    return str(org_id), str(key_name)


def key_option(key: UnmappedKey) -> dict[str, Any]:
    cost = f" · {money(key.cost_usd)}"
    return {
        "text": {"type": "plain_text", "text": plain(key.key_name, MAX_OPTION_TEXT - len(cost)) + cost},
        "description": {
            "type": "plain_text",
            "text": plain(f"{_whose(key)}{tokens(key.total_tokens)} tokens · {key.org_id}", MAX_OPTION_TEXT),
        },
        "value": key_value(key),
    }


def key_options(keys: Sequence[UnmappedKey], query: str) -> list[dict[str, Any]]:
    """The keys matching what the admin typed (case-insensitive), largest cost first, at most 100."""
    wanted = query.strip().lower()
    return [key_option(k) for k in keys if wanted in k.key_name.lower()][:MAX_OPTIONS]


def _kinds(keys: Sequence[UnmappedKey]) -> str:
    return identities(dict(Counter(k.tool for k in keys)), len(keys))


def loading_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": {"type": "plain_text", "text": "Map an API key"},
        "blocks": [section(":hourglass_flowing_sand: Looking up unmapped API keys…")],
    }


def map_modal(keys: Sequence[UnmappedKey]) -> dict[str, Any]:
    total = sum((k.cost_usd for k in keys), Decimal(0))
    if not keys:
        return {
            "type": "modal",
            "callback_id": CALLBACK_ID,
            "title": {"type": "plain_text", "text": "Map an API key"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": [section(":white_check_mark: Every API key is mapped: all usage is attributed.")],
        }
    top = "\n".join(
        f"• {escape(_whose(k))}`{escape(k.key_name)}` {money(k.cost_usd)} · {tokens(k.total_tokens)} tokens · "
        f"{short_day(k.first_date)}–{short_day(k.last_date)} {k.last_date.year}"
        for k in keys[:8]
    )
    more = f"\n…and {len(keys) - 8} more (type to search)." if len(keys) > 8 else ""
    blocks: list[Block] = [
        section(
            f"*{_kinds(keys)}* {'carries' if len(keys) == 1 else 'carry'} {money(total)} of unattributed usage. "
            "Tie each to the person "
            f"who uses it; its whole history moves to them.\n{top}{more}"
        ),
        {
            "type": "input",
            "block_id": KEY_BLOCK,
            "label": {"type": "plain_text", "text": "API key"},
            "element": {
                "type": "external_select",
                "action_id": KEY_ACTION,
                "min_query_length": 0,
                "placeholder": {"type": "plain_text", "text": "Search keys"},
                "initial_option": key_option(keys[0]),
            },
        },
        {
            "type": "input",
            "block_id": PERSON_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Person in Slack"},
            "element": {"type": "users_select", "action_id": PERSON_ACTION},
        },
        {
            "type": "input",
            "block_id": EMAIL_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "…or their email"},
            "element": {"type": "email_text_input", "action_id": EMAIL_ACTION},
            "hint": {"type": "plain_text", "text": "For someone not in Slack. Must be on the company domain."},
        },
        context("Admins can also use `/abacus map KEY @person`, `/abacus unmap KEY` or `abacus mappings`."),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": {"type": "plain_text", "text": "Map an API key"},
        "submit": {"type": "plain_text", "text": "Map key"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
