"""Teams and their members: stored as plain emails, because usage is attributed to emails.

A team's membership is always written whole (``replace_members``) or changed by explicit adds and
removes, in one transaction, so a reader never sees a half-synced user group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from storage.db import transaction
from storage.models import Team as TeamRow
from storage.models import TeamMember

# What a team name may look like: a Slack user-group handle fits, and so does anything typed in a command.
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class TeamNameError(ValueError):
    """The name cannot be a team name; the message says what a name may contain."""


def normalise_name(name: str) -> str:
    """'@Backend' -> 'backend'; raises TeamNameError for anything that is not a handle-like word."""
    cleaned = name.strip().lstrip("@").lower()
    if not NAME.match(cleaned):
        raise TeamNameError(
            f"`{name}` is not a team name: use letters, digits, `.`, `_` or `-` (up to 64), like a Slack handle."
        )
    return cleaned


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    source: str  # slack | admin | csv
    usergroup_id: str  # the Slack user group it follows; "" for admin-defined teams
    members: tuple[str, ...]  # emails, sorted


def _load(session: Session, row: TeamRow) -> Team:
    emails = session.scalars(select(TeamMember.email).where(TeamMember.team_id == row.id).order_by(TeamMember.email))
    return Team(row.name, row.source, row.usergroup_id, tuple(emails))


def _row(session: Session, name: str, source: str, usergroup_id: str, by: str, now: datetime) -> TeamRow:
    row = session.scalar(select(TeamRow).where(TeamRow.name == name))
    if row is None and usergroup_id:
        # A user group whose handle changed: keep its team (and its budgets) under the new name.
        row = session.scalar(select(TeamRow).where(TeamRow.usergroup_id == usergroup_id))
    if row is None:
        row = TeamRow(name=name, created_at=now)
        session.add(row)
    row.name = name
    row.source = source
    row.usergroup_id = usergroup_id
    row.updated_by = by
    row.updated_at = now
    session.flush()
    return row


def _clean(emails: Iterable[str]) -> set[str]:
    return {e.strip().lower() for e in emails if e and e.strip()}


def replace_members(
    engine: Engine,
    name: str,
    emails: Iterable[str],
    *,
    source: str,
    by: str,
    now: datetime,
    usergroup_id: str = "",
) -> Team:
    """Create the team or make its membership exactly ``emails`` (a user-group sync, a CSV import)."""
    wanted = _clean(emails)
    with transaction(engine) as session:
        row = _row(session, name, source, usergroup_id, by, now)
        current = set(session.scalars(select(TeamMember.email).where(TeamMember.team_id == row.id)))
        if current - wanted:
            session.execute(
                delete(TeamMember).where(TeamMember.team_id == row.id, TeamMember.email.in_(current - wanted))
            )
        session.add_all(TeamMember(team_id=row.id, email=email) for email in sorted(wanted - current))
        session.flush()
        return _load(session, row)


def add_members(engine: Engine, name: str, emails: Iterable[str], *, by: str, now: datetime) -> Team:
    """Add people to a team an admin manages, creating it if needed. A team that follows a Slack user
    group is refused: the next daily sync would undo the change."""
    wanted = _clean(emails)
    with transaction(engine) as session:
        existing = session.scalar(select(TeamRow).where(TeamRow.name == name))
        if existing is not None and existing.source == "slack":
            raise TeamNameError(
                f"`{name}` follows a Slack user group; change the group in Slack, or pick another team name."
            )
        row = _row(session, name, existing.source if existing else "admin", "", by, now)
        current = set(session.scalars(select(TeamMember.email).where(TeamMember.team_id == row.id)))
        session.add_all(TeamMember(team_id=row.id, email=email) for email in sorted(wanted - current))
        session.flush()
        return _load(session, row)


def remove_members(engine: Engine, name: str, emails: Iterable[str], *, by: str, now: datetime) -> Team | None:
    """Take people out of a team; None when there is no such team. A team that follows a Slack user group
    is refused, as for adds."""
    with transaction(engine) as session:
        row = session.scalar(select(TeamRow).where(TeamRow.name == name))
        if row is None:
            return None
        if row.source == "slack":
            raise TeamNameError(f"`{name}` follows a Slack user group; change the group in Slack.")
        session.execute(delete(TeamMember).where(TeamMember.team_id == row.id, TeamMember.email.in_(_clean(emails))))
        row.updated_by = by
        row.updated_at = now
        session.flush()
        return _load(session, row)


def delete_team(engine: Engine, name: str) -> bool:
    with transaction(engine) as session:
        row = session.scalar(select(TeamRow).where(TeamRow.name == name))
        if row is None:
            return False
        session.execute(delete(TeamMember).where(TeamMember.team_id == row.id))
        session.delete(row)
        return True


def get_team(session: Session, name: str) -> Team | None:
    row = session.scalar(select(TeamRow).where(TeamRow.name == name))
    return _load(session, row) if row is not None else None


def list_teams(session: Session) -> list[Team]:
    """Every team with its members, by name (two queries, whatever the number of teams)."""
    rows = list(session.scalars(select(TeamRow).order_by(TeamRow.name)))
    members: dict[int, list[str]] = {}
    for team_id, email in session.execute(
        select(TeamMember.team_id, TeamMember.email).order_by(TeamMember.team_id, TeamMember.email)
    ):
        members.setdefault(team_id, []).append(email)
    return [Team(r.name, r.source, r.usergroup_id, tuple(members.get(r.id, []))) for r in rows]


def slack_teams(session: Session) -> list[Team]:
    """Teams that follow a Slack user group (refreshed by the daily team sync)."""
    return [t for t in list_teams(session) if t.usergroup_id]
