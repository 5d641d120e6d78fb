"""Slack user groups for team syncs: find a group by handle or id and read its members' emails.

Slack gives user-group members as user ids; usage is attributed to emails, so each member is looked up
once per sync (``users.info``, cached for the life of this object, one sync).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.teams import Usergroup, UsergroupError

log = logging.getLogger(__name__)


def _slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "unknown error")


class SlackUsergroups:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._emails: dict[str, str] = {}  # user id -> email ('' for people who cannot have attributed usage)

    def find_usergroup(self, *, usergroup_id: str = "", handle: str = "") -> Usergroup:
        try:
            groups = self.client.usergroups_list(include_disabled=False).get("usergroups") or []
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
                return Usergroup(str(group["id"]), str(group.get("handle") or ""))
        shown = f"@{wanted}" if wanted else usergroup_id
        raise UsergroupError(f"There is no active Slack user group {shown}; check its handle in Slack.")

    def usergroup_emails(self, usergroup_id: str) -> list[str]:
        try:
            user_ids = self.client.usergroups_users_list(usergroup=usergroup_id).get("users") or []
        except SlackApiError as exc:
            raise UsergroupError(f"Slack would not list the group's members ({_slack_error(exc)}).") from None
        return sorted({email for uid in user_ids if (email := self._email_of(str(uid)))})

    def _email_of(self, user_id: str) -> str:
        if user_id not in self._emails:
            try:
                user = self.client.users_info(user=user_id).get("user") or {}
            except SlackApiError as exc:
                log.warning("users.info %s failed during a team sync: %s", user_id, _slack_error(exc))
                return ""  # not cached: the next sync tries again
            profile = user.get("profile") or {}
            usable = not user.get("deleted") and not user.get("is_bot")
            self._emails[user_id] = str(profile.get("email") or "").strip().lower() if usable else ""
        return self._emails[user_id]
