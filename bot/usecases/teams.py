"""`/abacus top teams`, `/abacus team list`, and the admins' `team sync|add|remove`."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.access import UserLookupFailed
from bot.answers.blocks import escape
from bot.answers.plain_text import notification_text
from bot.answers.teams import team_changed_blocks, team_list_blocks, top_teams_blocks
from bot.command_text import AbacusRequest
from bot.teams import UsergroupError, sync_followed_usergroups, sync_usergroup
from bot.usecases.context import Context
from bot.usecases.result import Answer, problems, say
from bot.usecases.top import TopRequest
from storage.analytics.team_usage import rank_teams
from storage.db import transaction
from storage.teams import TeamNameError, add_members, delete_team, list_teams, remove_members


@dataclass(frozen=True, slots=True)
class TeamAdminRequest:
    action: str  # list | sync | add | remove
    name: str = ""
    member_ids: tuple[str, ...] = ()  # Slack mentions
    member_emails: tuple[str, ...] = ()
    usergroup_id: str = ""
    usergroup_handle: str = ""
    problems: tuple[str, ...] = field(default=())
    usage: str = ""


def admin_from_parsed(parsed: AbacusRequest) -> TeamAdminRequest:
    return TeamAdminRequest(
        parsed.action or "list",
        parsed.team_name or "",
        tuple(parsed.member_ids),
        tuple(parsed.member_emails),
        parsed.usergroup_id or "",
        parsed.usergroup_handle or "",
        tuple(parsed.problems),
        parsed.usage,
    )


def top_teams(ctx: Context, request: TopRequest) -> Answer:
    period = request.period
    with transaction(ctx.engine) as session:
        teams = {t.name: t.members for t in list_teams(session)}
        ranking = rank_teams(
            session,
            teams,
            period.start,
            period.end,
            min_people=ctx.settings.team_min_people,
            tool=request.tool,
            rank_by=request.by,
        )
        freshness = ctx.freshness(session)
    blocks = top_teams_blocks(ranking, period, tool=request.tool, limit=request.limit, freshness=freshness)
    return Answer(notification_text(blocks), blocks)


def manage(ctx: Context, request: TeamAdminRequest) -> Answer:
    if request.action != "list" and not ctx.is_admin:
        return say("Only Abacus admins can change teams (the ABACUS_ADMINS setting); `/abacus team list` shows them.")
    if request.problems:
        return problems(request.problems, request.usage)
    if request.action == "list":
        with transaction(ctx.engine) as session:
            blocks = team_list_blocks(list_teams(session))
        return Answer(notification_text(blocks), blocks)
    if request.action == "sync":
        return _sync(ctx, request)
    name = request.name
    emails, unknown = _member_emails(ctx, request)
    try:
        if request.action == "add":
            if not emails:
                return say("None of those people has an email in Slack, so nobody was added.")
            team = add_members(ctx.engine, name, emails, by=ctx.asker.email, now=ctx.now())
            blocks = team_changed_blocks(team, "updated", unknown=unknown)
            return Answer(notification_text(blocks), blocks)
        if not request.member_ids and not request.member_emails:
            if not delete_team(ctx.engine, name):
                return say(f"There is no team `{escape(name)}`.")
            return say(f"Team `{escape(name)}` is removed (its usage stays, attributed to its people).")
        changed = remove_members(ctx.engine, name, emails, by=ctx.asker.email, now=ctx.now())
    except TeamNameError as exc:
        return say(escape(str(exc), limit=500))
    if changed is None:
        return say(f"There is no team `{escape(name)}`.")
    blocks = team_changed_blocks(changed, "updated", unknown=unknown)
    return Answer(notification_text(blocks), blocks)


def _member_emails(ctx: Context, request: TeamAdminRequest) -> tuple[list[str], list[str]]:
    """Emails of the mentioned people (and the typed ones); mentions Slack gives no email for."""
    emails = list(request.member_emails)
    unknown = []
    for user_id in request.member_ids:
        email = ""
        if ctx.directory is not None:
            try:
                email = ctx.directory.get(user_id).email
            except UserLookupFailed:
                email = ""
        if email:
            emails.append(email)
        else:
            unknown.append(f"<@{user_id}>")
    return emails, unknown


def _sync(ctx: Context, request: TeamAdminRequest) -> Answer:
    if ctx.workspace is None:
        return say("Syncing Slack user groups needs Slack: run it from Slack (or set SLACK_BOT_TOKEN).")
    if not request.usergroup_id and not request.usergroup_handle:
        results = sync_followed_usergroups(ctx.settings, ctx.engine, ctx.workspace, now=ctx.now())
        if not results:
            return say("No Slack user groups are followed yet: `/abacus team sync @group` follows one.")
        lines = [
            f"*{escape(r.team)}*: {r.members} people"
            if r.ok
            else f"*{escape(r.team)}*: not synced. {escape(r.error, limit=500)}"
            for r in results
        ]
        return say("Teams refreshed from Slack:\n" + "\n".join(lines))
    try:
        team = sync_usergroup(
            ctx.workspace,
            ctx.engine,
            now=ctx.now(),
            by=ctx.asker.email,
            usergroup_id=request.usergroup_id,
            handle=request.usergroup_handle,
        )
    except UsergroupError as exc:
        return say(escape(str(exc), limit=500))
    blocks = team_changed_blocks(team, "follows the Slack user group")
    return Answer(notification_text(blocks), blocks)
