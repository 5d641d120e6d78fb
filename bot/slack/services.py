"""What the Slack listeners ask for: an answer to a parsed request, and the App Home view.

This is the seam between Slack and the rest: it resolves periods and people, runs the storage queries,
renders the charts and hands the numbers to the pure block builders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from bot.settings import Settings
from bot.slack.access import AccessPolicy
from bot.slack.blocks import help_blocks, problem_blocks, section
from bot.slack.command_text import AbacusRequest
from bot.slack.delivery import Answer
from bot.slack.users import SlackUser, UserDirectory


@dataclass
class Services:
    settings: Settings
    engine: Engine
    directory: UserDirectory
    policy: AccessPolicy

    def answer(self, request: AbacusRequest, asker: SlackUser, *, is_admin: bool) -> Answer:
        if request.command == "help":
            return Answer("What you can ask Abacus", help_blocks(is_admin=is_admin))
        if request.problems:
            text = " ".join(request.problems)
            return Answer(text, problem_blocks(request.problems, request.usage))
        raise NotImplementedError(request.command)

    def home_view(self, viewer: SlackUser) -> dict[str, Any]:
        return {"type": "home", "blocks": [section(f"Hi {viewer.name}!")]}
