"""What every use case is given: settings, the database, the clock, who asks, and what Slack can tell.

Slack itself stays in ``bot.slack``: a use case that needs it (a mention resolved to an email, "is the bot
in this channel", a user group's members) asks the :class:`Workspace` it was given, which is ``None`` where
there is no Slack (`abacus ask` without a bot token, the demo, tests of the use cases alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.access import AccessPolicy, SlackUser
from bot.answers.common import freshness_line
from bot.periods import Period, parse_period, today_in
from bot.settings import Settings
from bot.sources import footer_status
from bot.teams import Usergroups

if TYPE_CHECKING:
    from bot.doctor import DoctorReport


class Directory(Protocol):
    """Slack user ids to people; raises ``bot.access.UserLookupFailed`` when Slack will not say."""

    def get(self, user_id: str) -> SlackUser: ...

    def by_email(self, email: str) -> SlackUser | None: ...


class Workspace(Usergroups, Protocol):
    """What a use case may ask of Slack; ``bot.slack.workspace`` answers it."""

    def is_member(self, channel_id: str) -> bool: ...

    def run_doctor(self, settings: Settings, engine: Engine, *, timeout: float) -> DoctorReport: ...


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    engine: Engine
    policy: AccessPolicy
    now: Callable[[], datetime]
    asker: SlackUser
    is_admin: bool = False
    channel_id: str | None = None  # where the command was typed (None: `abacus ask` without --channel)
    directory: Directory | None = None
    workspace: Workspace | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The person's own Slack timezone for 'today', else the reporting timezone."""
        if self.asker.tz:
            try:
                return ZoneInfo(self.asker.tz)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return self.settings.zone

    def period(self, text: str | None) -> Period:
        """Raises ``bot.periods.PeriodError`` with a sentence for the person."""
        return parse_period(text, today=today_in(self.zone, self.now()))

    def freshness(self, session: Session) -> str:
        return freshness_line(footer_status(session, now=self.now()), self.settings.configured_tools())

    @property
    def can_see_people(self) -> bool:
        return self.policy.can_see_people(self.asker)
