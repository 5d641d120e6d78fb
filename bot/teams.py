"""Teams from Slack user groups: find a group by handle or id, read its members, store them as a team.

Slack gives user-group members as user ids; usage is attributed to emails, so each member is looked up
once per sync (``users.info``, cached for the run). Deleted users, bots and people without an email are
left out: they cannot have attributed usage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.errors import AbacusError
from bot.settings import Settings
from storage.db import transaction
from storage.teams import Team, TeamNameError, normalise_name, replace_members, slack_teams

log = logging.getLogger(__name__)


class UsergroupError(AbacusError):
    """A user group that cannot be synced; the message says what to do."""


@dataclass(frozen=True, slots=True)
class TeamSync:
    team: str
    ok: bool
    members: int = 0
    error: str = ""


def _slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "unknown error")


def find_usergroup(client: WebClient, *, usergroup_id: str = "", handle: str = "") -> dict[str, object]:
    """The user group with this id (preferred: it survives renames) or handle."""
    try:
        groups = client.usergroups_list(include_disabled=False).get("usergroups") or []
    except SlackApiError as exc:
        if _slack_error(exc) == "missing_scope":
            raise UsergroupError(
                "Abacus needs the `usergroups:read` scope to follow Slack user groups: reinstall the app "
                "from manifest.yml."
            ) from None
        raise UsergroupError(f"Slack would not list user groups ({_slack_error(exc)}); try again later.") from None
    wanted = handle.lstrip("@").lower()
    for group in groups:
        if (usergroup_id and group.get("id") == usergroup_id) or (
            not usergroup_id and str(group.get("handle", "")).lower() == wanted
        ):
            return dict(group)
    shown = f"@{wanted}" if wanted else usergroup_id
    raise UsergroupError(f"There is no active Slack user group {shown}; check its handle in Slack.")


def usergroup_emails(client: WebClient, usergroup_id: str, emails_of: Callable[[str], str]) -> list[str]:
    try:
        user_ids = client.usergroups_users_list(usergroup=usergroup_id).get("users") or []
    except SlackApiError as exc:
        raise UsergroupError(f"Slack would not list the group's members ({_slack_error(exc)}).") from None
    return sorted({email for uid in user_ids if (email := emails_of(str(uid)))})


def email_lookup(client: WebClient) -> Callable[[str], str]:
    """A per-sync cache of user id -> email ('' for people who cannot have attributed usage)."""
    cache: dict[str, str] = {}

    def email_of(user_id: str) -> str:
        if user_id not in cache:
            try:
                user = client.users_info(user=user_id).get("user") or {}
            except SlackApiError as exc:
                log.warning("users.info %s failed during a team sync: %s", user_id, _slack_error(exc))
                return ""  # not cached: the next sync tries again
            profile = user.get("profile") or {}
            usable = not user.get("deleted") and not user.get("is_bot")
            cache[user_id] = str(profile.get("email") or "").strip().lower() if usable else ""
        return cache[user_id]

    return email_of


def sync_usergroup(
    client: WebClient,
    engine: Engine,
    *,
    now: datetime,
    by: str,
    usergroup_id: str = "",
    handle: str = "",
    emails_of: Callable[[str], str] | None = None,
) -> Team:
    """Follow (or refresh) one user group: the team is named after its handle and holds its members."""
    group = find_usergroup(client, usergroup_id=usergroup_id, handle=handle)
    try:
        name = normalise_name(str(group.get("handle") or ""))
    except TeamNameError as exc:
        raise UsergroupError(str(exc)) from None
    emails = usergroup_emails(client, str(group["id"]), emails_of or email_lookup(client))
    return replace_members(engine, name, emails, source="slack", by=by, now=now, usergroup_id=str(group["id"]))


def sync_followed_usergroups(settings: Settings, engine: Engine, client: WebClient, *, now: datetime) -> list[TeamSync]:
    """The daily refresh: every group named in ABACUS_TEAM_USERGROUPS and every group already followed.
    One group failing does not stop the others."""
    with transaction(engine) as session:
        followed = {t.usergroup_id: t.name for t in slack_teams(session)}
    emails_of = email_lookup(client)
    results: list[TeamSync] = []
    done: set[str] = set()
    targets: list[tuple[str, str]] = [(gid, "") for gid in sorted(followed)]
    targets += [("", h.lstrip("@").lower()) for h in settings.team_usergroups]
    for usergroup_id, handle in targets:
        label = followed.get(usergroup_id, handle) or handle
        try:
            team = sync_usergroup(
                client,
                engine,
                now=now,
                by="scheduler",
                usergroup_id=usergroup_id,
                handle=handle,
                emails_of=emails_of,
            )
        except UsergroupError as exc:
            results.append(TeamSync(label, False, error=str(exc)))
            continue
        if team.name in done:
            continue
        done.add(team.name)
        results.append(TeamSync(team.name, True, len(team.members)))
    return results
