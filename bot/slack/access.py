"""Who may ask what. Pure decisions here; the Bolt middleware in ``bot.slack.app`` applies them.

Only people whose Slack email is on a company domain get answers; anything that cannot be verified is
refused (fail closed). Admin rights come from an explicit allowlist of emails, never from Slack's own
workspace-admin flag, which means something else.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.users import SlackUser


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
