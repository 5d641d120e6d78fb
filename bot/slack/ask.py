"""`abacus ask`: any /abacus command answered exactly as Slack would answer the named person, as text.

The same parsing, access rules and services as the Slack listeners (admin commands included when the email
is in ABACUS_ADMINS); what Slack shows as a modal (`/abacus map`) is rendered as text. Commands that must
talk to Slack (checking the bot is in a channel, reading a user group) use the bot token when it is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from bot.errors import AbacusError
from bot.settings import Settings
from bot.slack import mapping
from bot.slack.access import denial
from bot.slack.answers.mapping import KEY_BLOCK, key_options, map_modal
from bot.slack.app import access_policy, web_client
from bot.slack.blocks import problem_blocks
from bot.slack.command_text import parse
from bot.slack.delivery import Answer, ChartFile, ExportFile
from bot.slack.plain_text import blocks_to_text, modal_to_text
from bot.slack.services import Services
from bot.slack.users import SlackUser, UserDirectory
from storage.db import transaction
from storage.mappings import unmapped_keys

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
    if request.command in ("map", "unmap") and not request.problems:
        if not is_admin:
            return _text(Answer(mapping.NOT_ADMIN, problem_blocks([mapping.NOT_ADMIN], "/abacus me")))
        if request.key is None:
            return TextAnswer(_map_modal_text(services) + MODAL_NOTE + "\n")
        answer = mapping.text_command(
            services,
            request.key,
            request.target_email,
            request.target_user_id,
            asker,
            unmap=request.command == "unmap",
        )
        return _text(answer)
    return _text(services.answer(request, asker, is_admin=is_admin, channel_id=channel_id))


def _map_modal_text(services: Services) -> str:
    """The `/abacus map` modal as text, with the keys its search would offer as the key field's choices."""
    with transaction(services.engine) as session:
        keys = unmapped_keys(session, None)
    view = map_modal(keys)
    for block in view["blocks"]:
        if block.get("block_id") == KEY_BLOCK:
            block["element"]["options"] = key_options(keys, "")
    return modal_to_text(view)


def _text(answer: Answer) -> TextAnswer:
    return TextAnswer(blocks_to_text(answer.blocks), answer.public, answer.charts, answer.files)
