"""Teams that follow Slack user groups: find the group, store its members' emails as the team.

Slack is asked through :class:`Usergroups` (``bot.slack.usergroups`` answers it); what is stored is
decided here. Deleted users, bots and people without an email are left out: they cannot have attributed
usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine

from bot.errors import AbacusError
from bot.settings import Settings
from storage.db import transaction
from storage.teams import Team, TeamNameError, normalise_name, replace_members, slack_teams


class UsergroupError(AbacusError):
    """A user group that cannot be synced; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Usergroup:
    id: str
    handle: str


class Usergroups(Protocol):
    """Slack's user groups, as a team sync needs them. Both raise UsergroupError with what to do."""

    def find_usergroup(self, *, usergroup_id: str = "", handle: str = "") -> Usergroup:
        """The active group with this id (preferred: it survives renames) or handle."""
        ...

    def usergroup_emails(self, usergroup_id: str) -> list[str]:
        """The emails of the group's members who can have attributed usage, sorted."""
        ...


@dataclass(frozen=True, slots=True)
class TeamSync:
    team: str
    ok: bool
    members: int = 0
    error: str = ""


def sync_usergroup(
    groups: Usergroups, engine: Engine, *, now: datetime, by: str, usergroup_id: str = "", handle: str = ""
) -> Team:
    """Follow (or refresh) one user group: the team is named after its handle and holds its members."""
    group = groups.find_usergroup(usergroup_id=usergroup_id, handle=handle)
    try:
        name = normalise_name(group.handle)
    except TeamNameError as exc:
        raise UsergroupError(str(exc)) from None
    emails = groups.usergroup_emails(group.id)
    return replace_members(engine, name, emails, source="slack", by=by, now=now, usergroup_id=group.id)


def sync_followed_usergroups(
    settings: Settings, engine: Engine, groups: Usergroups, *, now: datetime
) -> list[TeamSync]:
    """The daily refresh: every group named in ABACUS_TEAM_USERGROUPS and every group already followed.
    One group failing does not stop the others."""
    with transaction(engine) as session:
        followed = {t.usergroup_id: t.name for t in slack_teams(session)}
    results: list[TeamSync] = []
    done: set[str] = set()
    targets: list[tuple[str, str]] = [(gid, "") for gid in sorted(followed)]
    targets += [("", h.lstrip("@").lower()) for h in settings.team_usergroups]
    for usergroup_id, handle in targets:
        label = followed.get(usergroup_id, handle) or handle
        try:
            team = sync_usergroup(groups, engine, now=now, by="scheduler", usergroup_id=usergroup_id, handle=handle)
        except UsergroupError as exc:
            results.append(TeamSync(label, False, error=str(exc)))
            continue
        if team.name in done:
            continue
        done.add(team.name)
        results.append(TeamSync(team.name, True, len(team.members)))
    return results
