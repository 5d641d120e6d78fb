"""Who is asking (a Slack user as Abacus sees them) and what they may ask. Pure decisions here; the Bolt
middleware in ``bot.slack.app`` applies them.

Only people whose Slack email is on a company domain get answers; anything that cannot be verified is
refused (fail closed). Admin rights come from an explicit allowlist of emails, never from Slack's own
workspace-admin flag, which means something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class SlackUser:
    id: str
    email: str  # lowercased; "" when Slack did not give one
    name: str
    team_id: str
    tz: str
    deleted: bool = False
    is_bot: bool = False
    is_guest: bool = False

    @classmethod
    def from_api(cls, user: dict[str, Any]) -> SlackUser:
        profile = user.get("profile") or {}
        return cls(
            id=str(user.get("id") or ""),
            email=str(profile.get("email") or "").strip().lower(),
            name=str(profile.get("display_name") or profile.get("real_name") or user.get("name") or ""),
            team_id=str(user.get("team_id") or ""),
            tz=str(user.get("tz") or ""),
            deleted=bool(user.get("deleted")),
            is_bot=bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        )


class UserLookupFailed(Exception):
    """Slack would not tell us who this is; access is refused (fail closed)."""


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    domains: tuple[str, ...]
    admins: frozenset[str]
    allow_guests: bool = False
    people_visible_to_all: bool = True

    def is_admin(self, user: SlackUser) -> bool:
        return bool(user.email) and user.email in self.admins

    def can_see_people(self, user: SlackUser) -> bool:
        """Named people (top lists, someone else's profile): everyone, or admins only, by setting."""
        return self.people_visible_to_all or self.is_admin(user)


def access_policy(settings: Settings) -> AccessPolicy:
    return AccessPolicy(
        domains=tuple(settings.email_domains),
        admins=frozenset(settings.admins),
        allow_guests=settings.allow_guests,
        people_visible_to_all=settings.people_visibility == "everyone",
    )


def denial(policy: AccessPolicy, user: SlackUser, workspace_team_id: str | None) -> str | None:
    """Why ``user`` may not use Abacus, as a sentence for them, or None when they may."""
    if user.deleted or user.is_bot:
        return "Abacus answers people only, not bots or deactivated accounts."
    if workspace_team_id and user.team_id and user.team_id != workspace_team_id:
        return "Abacus answers members of this workspace only, not people from other organisations."
    if user.is_guest and not policy.allow_guests:
        return "Abacus is not available to guest accounts. Ask a workspace admin if you need access."
    if not user.email:
        return "Abacus could not read your email address from Slack, so it cannot check your access."
    if not policy.domains:
        return "Abacus has no company email domain configured yet; an admin can set ABACUS_EMAIL_DOMAINS."
    domain = user.email.rpartition("@")[2]
    if domain not in policy.domains:
        return "Abacus answers only people with a company email address."
    return None
