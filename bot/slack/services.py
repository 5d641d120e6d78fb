"""What the Slack listeners (and `abacus ask`) ask for: an answer to a parsed request, and the App Home.

The seam between Slack and the use cases: it says who is asking and what Slack can be asked (their
directory of people, the bot's client) and hands the parsed request to ``bot.usecases.dispatch``. Data is
reached only through the use cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.access import AccessPolicy, SlackUser
from bot.command_text import AbacusRequest
from bot.settings import Settings
from bot.slack.users import UserDirectory
from bot.slack.workspace import SlackWorkspace
from bot.usecases import dispatch, person
from bot.usecases.context import Context
from bot.usecases.result import Answer
from providers.spec import utc_now


@dataclass
class Services:
    settings: Settings
    engine: Engine
    directory: UserDirectory | None
    policy: AccessPolicy
    now: Callable[[], datetime] = field(default=utc_now)
    client: WebClient | None = None  # for digest set-up (channel membership); None in `abacus ask`

    def context(self, asker: SlackUser, *, is_admin: bool = False, channel_id: str | None = None) -> Context:
        return Context(
            settings=self.settings,
            engine=self.engine,
            policy=self.policy,
            now=self.now,
            asker=asker,
            is_admin=is_admin,
            channel_id=channel_id,
            directory=self.directory,
            workspace=SlackWorkspace(self.client) if self.client is not None else None,
        )

    def answer(
        self, request: AbacusRequest, asker: SlackUser, *, is_admin: bool, channel_id: str | None = None
    ) -> Answer:
        return dispatch.answer(self.context(asker, is_admin=is_admin, channel_id=channel_id), request)

    def home_view(self, viewer: SlackUser) -> dict[str, Any]:
        return person.home(self.context(viewer))
