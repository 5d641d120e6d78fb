"""`abacus ask`: any /abacus command answered exactly as Slack would answer the named person, as text.

The same parsing, access rules and services as the Slack listeners (admin commands included when the email
is in ABACUS_ADMINS); what Slack shows as a modal (`/abacus map`) is rendered as text. Commands that must
talk to Slack (checking the bot is in a channel, reading a user group) use the bot token when it is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from bot.access import access_policy, denial
from bot.answers.mapping import KEY_BLOCK
from bot.answers.plain_text import blocks_to_text, modal_to_text
from bot.command_text import parse
from bot.errors import AbacusError
from bot.settings import Settings
from bot.slack.app import web_client
from bot.slack.services import Services
from bot.slack.users import SlackUser, UserDirectory
from bot.usecases import mapping
from bot.usecases.result import Answer, ChartFile, ExportFile

MODAL_NOTE = '(In Slack this opens as a form. Here: abacus ask "map KEY EMAIL" or abacus mappings set KEY EMAIL.)'


@dataclass(frozen=True, slots=True)
class TextAnswer:
    text: str
    public: bool = False
    charts: list[ChartFile] = field(default_factory=list)
    files: list[ExportFile] = field(default_factory=list)


def ask(settings: Settings, engine: Engine, text: str, email: str, *, channel_id: str | None = None) -> TextAnswer:
    """The answer ``email`` would get to `/abacus TEXT` (in ``channel_id``), as text.

    Raises AbacusError when Slack would refuse the person."""
    email = email.strip().lower()
    asker = SlackUser(id="cli", email=email, name=email.split("@")[0], team_id="", tz=settings.timezone)
    policy = access_policy(settings)
    reason = denial(policy, asker, None)
    if reason is not None:
        raise AbacusError(f"Slack would refuse {email}: {reason}")
    is_admin = policy.is_admin(asker)
    client = web_client(settings) if settings.slack_bot_token else None
    directory = UserDirectory(client, settings.user_cache_seconds) if client is not None else None
    services = Services(settings=settings, engine=engine, directory=directory, policy=policy, client=client)
    request = parse(text)
    answer = services.answer(request, asker, is_admin=is_admin, channel_id=channel_id)
    if answer.modal is not None:
        return TextAnswer(_form_text(services, answer.modal, asker) + MODAL_NOTE + "\n")
    return _text(answer)


def _form_text(services: Services, modal: dict[str, Any], asker: SlackUser) -> str:
    """The `/abacus map` form as text, with the keys its search would offer as the key field's choices."""
    choices = mapping.key_choices(services.context(asker, is_admin=True), "")
    for block in modal["blocks"]:
        if block.get("block_id") == KEY_BLOCK:
            block["element"]["options"] = choices
    return modal_to_text(modal)


def _text(answer: Answer) -> TextAnswer:
    return TextAnswer(blocks_to_text(answer.blocks), answer.public, answer.charts, answer.files)
