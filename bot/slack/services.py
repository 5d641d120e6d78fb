"""What the Slack listeners (and `abacus ask`) ask for: an answer to a parsed request, and the App Home.

This is the seam between Slack and the rest: it resolves periods and people, runs the storage queries,
renders the charts and hands the numbers to the pure block builders in ``bot.slack.answers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.budgets import BudgetState, budget_states
from bot.chart_inputs import model_bars, personal_days, top_user_bars, trend_days
from bot.doctor import run_doctor
from bot.formatting import PEOPLE_TOTAL
from bot.periods import Period, PeriodError, parse_period, today_in
from bot.settings import Settings
from bot.slack.access import AccessPolicy
from bot.slack.answers.budgets import budget_list_blocks, budget_status_blocks, state_line
from bot.slack.answers.common import freshness_line
from bot.slack.answers.data_health import gaps_blocks, status_blocks
from bot.slack.answers.digest import not_in_channel_blocks, stopped_blocks, subscribed_blocks, subscriptions_blocks
from bot.slack.answers.doctor import doctor_blocks
from bot.slack.answers.personal import home_view, profile_blocks
from bot.slack.answers.team import models_blocks, overview_blocks, top_blocks
from bot.slack.answers.team_table import MAX_PEOPLE, export_blocks, team_table_blocks
from bot.slack.answers.teams import team_blocks, team_changed_blocks, team_list_blocks, top_teams_blocks
from bot.slack.blocks import context, escape, help_blocks, problem_blocks, section
from bot.slack.command_text import AbacusRequest
from bot.slack.delivery import Answer, ChartFile, ExportFile
from bot.slack.plain_text import notification_text
from bot.slack.users import SlackUser, UserDirectory, UserLookupFailed
from bot.sources import all_tools, footer_status, gaps_of, resolve_source, status_of
from bot.teams import UsergroupError, sync_followed_usergroups, sync_usergroup
from charts.bars import model_chart, top_users_chart
from charts.daily import daily_usage_chart
from charts.data import Chart
from charts.personal import personal_trend_chart
from providers import registry
from providers.registry import seat_tools
from storage.analytics.common import person_tool_sums
from storage.analytics.exports import team_csv, usage_csv
from storage.analytics.models_breakdown import model_breakdown
from storage.analytics.overview import overview
from storage.analytics.profile import find_person, user_profile
from storage.analytics.team import team_table
from storage.analytics.team_usage import rank_teams, team_usage
from storage.analytics.top_users import top_users
from storage.analytics.trends import trends
from storage.budgets import set_budget, switch_off
from storage.db import transaction
from storage.digests import deactivate, list_subscriptions, subscribe
from storage.job_runs import last_runs
from storage.teams import TeamNameError, add_members, delete_team, get_team, list_teams, remove_members

STATUS_TIMEOUT = 3.0  # seconds per network call of the admin's status checks
TEAM_EXPORT_LIMIT = 10_000  # the original's export limit
NEEDS_SLACK = (
    "{what} checks that I'm a member of <#{channel}> (I post there), which needs Slack: run it from Slack "
    "(or set SLACK_BOT_TOKEN)."
)
PEOPLE_ADMINS_ONLY = "{what} names people, which only Abacus admins may see here. `/abacus overview` shows the totals."


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _chart(chart: Chart, name: str, title: str) -> ChartFile:
    return ChartFile(chart.png, f"{name}.png", title, chart.alt_text)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    directory: UserDirectory | None
    policy: AccessPolicy
    now: Callable[[], datetime] = field(default=_utc_now)
    client: WebClient | None = None  # for digest set-up (channel membership); None in `abacus ask`

    # --- helpers -------------------------------------------------------------------------------------

    def configured_tools(self) -> list[str]:
        return self.settings.configured_tools()

    def _zone(self, user: SlackUser | None) -> ZoneInfo:
        """The person's own Slack timezone for 'today', else the reporting timezone."""
        if user is not None and user.tz:
            try:
                return ZoneInfo(user.tz)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return self.settings.zone

    def _period(self, text: str | None, user: SlackUser | None) -> Period:
        return parse_period(text, today=today_in(self._zone(user), self.now()))

    def _freshness(self, session: Session) -> str:
        return freshness_line(footer_status(session, now=self.now()), self.configured_tools())

    # --- answers -------------------------------------------------------------------------------------

    def answer(
        self, request: AbacusRequest, asker: SlackUser, *, is_admin: bool, channel_id: str | None = None
    ) -> Answer:
        if request.command == "help":
            return Answer("What you can ask Abacus", help_blocks(is_admin=is_admin))
        if request.command == "digest":
            return self._digest(request, asker, is_admin=is_admin, channel_id=channel_id)
        if request.command == "budget":
            return self._budget(request, asker, is_admin=is_admin, channel_id=channel_id)
        if request.command == "team" and request.action is not None:
            return self._team_action(request, asker, is_admin=is_admin)
        if request.problems:
            return _problems(request.problems, request.usage)
        try:
            period = self._period(request.period, asker)
        except PeriodError as exc:
            return _problems([str(exc)], request.usage)
        handler = getattr(self, f"_{request.command}")
        answer: Answer = handler(request, asker, period, is_admin)
        return answer

    def _me(self, request: AbacusRequest, asker: SlackUser, period: Period, _admin: bool) -> Answer:
        answer = self._profile(asker.email, period, whose="Your")
        mine = budget_states(self.engine, self.now().date(), scope="person", target=asker.email)
        if mine:
            answer.blocks.append(context("Your budget: " + " · ".join(state_line(s) for s in mine)))
        return answer

    def _user(self, request: AbacusRequest, asker: SlackUser, period: Period, is_admin: bool) -> Answer:
        email = request.target_email
        if request.target_user_id:
            if self.directory is None:
                return _say("Give an email address here: mentions need Slack.")
            try:
                email = self.directory.get(request.target_user_id).email
            except UserLookupFailed:
                return _say("I couldn't look that person up in Slack; try their email address.")
            if not email:
                return _say("Slack doesn't share that person's email, so I can't find their usage.")
        assert email is not None
        if email != asker.email and not self.policy.can_see_people(asker):
            return _say("Other people's usage is visible to Abacus admins only. `/abacus me` shows your own.")
        with transaction(self.engine) as session:
            stored = find_person(session, email)
        if stored is None:
            return _say(f"No AI coding usage is recorded for {escape(email)}.")
        return self._profile(stored, period, whose=stored.split("@")[0].replace(".", " ").title())

    def _profile(self, email: str, period: Period, *, whose: str) -> Answer:
        with transaction(self.engine) as session:
            profile = user_profile(session, email, period.start, period.end, seat_tools=seat_tools())
            freshness = self._freshness(session)
            activity = registry.activity_lines(session, email, period.start, period.end)
        blocks = profile_blocks(profile, period, whose=whose, freshness=freshness, tool_activity=activity)
        charts = []
        if profile.summary.tokens:
            chart = personal_trend_chart(personal_days(profile), period_label=period.label, who=whose)
            charts.append(_chart(chart, "usage", f"{whose} AI coding usage · {period.label}"))
        return Answer(notification_text(blocks), blocks, charts)

    def _top(self, request: AbacusRequest, asker: SlackUser, period: Period, _admin: bool) -> Answer:
        if request.teams:
            return self._top_teams(request, period)
        named = self.policy.can_see_people(asker)
        with transaction(self.engine) as session:
            top = top_users(
                session,
                period.start,
                period.end,
                rank_by=request.by,  # type: ignore[arg-type]
                tool=request.tool,
                limit=request.limit or 10,
                seat_tools=seat_tools(),
            )
            freshness = self._freshness(session)
        blocks = top_blocks(top, period, tool=request.tool, named=named, freshness=freshness)
        charts = []
        if named and top.users:
            total = float(top.total_cost_usd) if request.by == "cost" else float(top.total_tokens)
            chart = top_users_chart(
                top_user_bars(top),
                period_label=period.label,
                metric=request.by,  # type: ignore[arg-type]
                total=total,
                of=top.people,
                total_label=PEOPLE_TOTAL if top.unattributed.keys else "in total",
            )
            charts.append(_chart(chart, "top", f"Top users · {period.label}"))
        return Answer(notification_text(blocks), blocks, charts)

    def _models(self, request: AbacusRequest, _asker: SlackUser, period: Period, _admin: bool) -> Answer:
        with transaction(self.engine) as session:
            breakdown = model_breakdown(session, period.start, period.end, tool=request.tool, seat_tools=seat_tools())
            freshness = self._freshness(session)
        blocks = models_blocks(breakdown, period, tool=request.tool, freshness=freshness)
        charts = []
        if breakdown.models:
            chart = model_chart(
                model_bars(breakdown)[:6], period_label=period.label, total=float(breakdown.total_tokens)
            )
            charts.append(_chart(chart, "models", f"Models · {period.label}"))
        return Answer(notification_text(blocks), blocks, charts)

    def _overview(self, request: AbacusRequest, asker: SlackUser, period: Period, _admin: bool) -> Answer:
        named = self.policy.can_see_people(asker) and not (request.share and not self.policy.people_visible_to_all)
        with transaction(self.engine) as session:
            # The cards and the ranking add up the same (tool, person) sums: one scan of the period for both.
            sums = person_tool_sums(session, period.start, period.end, request.tool)
            ov = overview(session, period.start, period.end, tool=request.tool, seat_tools=seat_tools(), sums=sums)
            models = model_breakdown(
                session, period.start, period.end, tool=request.tool, limit=5, seat_tools=seat_tools()
            )
            top = (
                top_users(
                    session,
                    period.start,
                    period.end,
                    rank_by="cost",
                    tool=request.tool,
                    limit=5,
                    seat_tools=seat_tools(),
                    sums=sums,
                )
                if named
                else None
            )
            series = trends(session, period.start, period.end, now=self.now(), tool=request.tool)
            freshness = self._freshness(session)
        blocks = overview_blocks(ov, period, tool=request.tool, models=models, top=top, freshness=freshness)
        charts = []
        if ov.current.total_tokens:
            chart = daily_usage_chart(trend_days(series), period_label=period.label, granularity=series.granularity)
            charts.append(_chart(chart, "daily", f"AI coding usage · {period.label}"))
        return Answer(notification_text(blocks), blocks, charts, public=request.share)

    # --- teams ---------------------------------------------------------------------------------------

    def _team(self, request: AbacusRequest, asker: SlackUser, period: Period, _admin: bool) -> Answer:
        assert request.team_name is not None
        with transaction(self.engine) as session:
            team = get_team(session, request.team_name)
            if team is None:
                return _say(f"There is no team `{escape(request.team_name)}`; `/abacus team list` shows the teams.")
            usage = team_usage(
                session,
                team.members,
                period.start,
                period.end,
                min_people=self.settings.team_min_people,
                tool=request.tool,
            )
            # Below the privacy floor only counts are shown, so no chart either.
            series = (
                None
                if usage.counts_only or not usage.tokens
                else trends(session, period.start, period.end, now=self.now(), tool=request.tool, emails=team.members)
            )
            freshness = self._freshness(session)
        blocks = team_blocks(
            team.name,
            usage,
            period,
            tool=request.tool,
            named=self.policy.can_see_people(asker),
            min_people=self.settings.team_min_people,
            freshness=freshness,
        )
        charts = []
        if series is not None:
            chart = daily_usage_chart(trend_days(series), period_label=period.label, granularity=series.granularity)
            charts.append(_chart(chart, "team", f"Team {team.name} · AI coding usage · {period.label}"))
        return Answer(notification_text(blocks), blocks, charts)

    def _top_teams(self, request: AbacusRequest, period: Period) -> Answer:
        with transaction(self.engine) as session:
            teams = {t.name: t.members for t in list_teams(session)}
            ranking = rank_teams(
                session,
                teams,
                period.start,
                period.end,
                min_people=self.settings.team_min_people,
                tool=request.tool,
                rank_by="tokens" if request.by == "tokens" else "cost",
            )
            freshness = self._freshness(session)
        blocks = top_teams_blocks(ranking, period, tool=request.tool, limit=request.limit or 10, freshness=freshness)
        return Answer(notification_text(blocks), blocks)

    def _team_action(self, request: AbacusRequest, asker: SlackUser, *, is_admin: bool) -> Answer:
        if request.action != "list" and not is_admin:
            return _say(
                "Only Abacus admins can change teams (the ABACUS_ADMINS setting); `/abacus team list` shows them."
            )
        if request.problems:
            return _problems(request.problems, request.usage)
        if request.action == "list":
            with transaction(self.engine) as session:
                blocks = team_list_blocks(list_teams(session))
            return Answer(notification_text(blocks), blocks)
        if request.action == "sync":
            return self._team_sync(request, asker)
        assert request.team_name is not None
        emails, unknown = self._member_emails(request)
        try:
            if request.action == "add":
                if not emails:
                    return _say("None of those people has an email in Slack, so nobody was added.")
                team = add_members(self.engine, request.team_name, emails, by=asker.email, now=self.now())
                blocks = team_changed_blocks(team, "updated", unknown=unknown)
                return Answer(notification_text(blocks), blocks)
            if not request.member_ids and not request.member_emails:
                if not delete_team(self.engine, request.team_name):
                    return _say(f"There is no team `{escape(request.team_name)}`.")
                return _say(
                    f"Team `{escape(request.team_name)}` is removed (its usage stays, attributed to its people)."
                )
            changed = remove_members(self.engine, request.team_name, emails, by=asker.email, now=self.now())
        except TeamNameError as exc:
            return _say(escape(str(exc), limit=500))
        if changed is None:
            return _say(f"There is no team `{escape(request.team_name)}`.")
        blocks = team_changed_blocks(changed, "updated", unknown=unknown)
        return Answer(notification_text(blocks), blocks)

    def _member_emails(self, request: AbacusRequest) -> tuple[list[str], list[str]]:
        """Emails of the mentioned people (and the typed ones); mentions Slack gives no email for."""
        emails = list(request.member_emails)
        unknown = []
        for user_id in request.member_ids:
            email = ""
            if self.directory is not None:
                try:
                    email = self.directory.get(user_id).email
                except UserLookupFailed:
                    email = ""
            if email:
                emails.append(email)
            else:
                unknown.append(f"<@{user_id}>")
        return emails, unknown

    def _team_sync(self, request: AbacusRequest, asker: SlackUser) -> Answer:
        if self.client is None:
            return _say("Syncing Slack user groups needs Slack: run it from Slack (or set SLACK_BOT_TOKEN).")
        if request.usergroup_id is None and request.usergroup_handle is None:
            results = sync_followed_usergroups(self.settings, self.engine, self.client, now=self.now())
            if not results:
                return _say("No Slack user groups are followed yet: `/abacus team sync @group` follows one.")
            lines = [
                f"*{escape(r.team)}*: {r.members} people"
                if r.ok
                else f"*{escape(r.team)}*: not synced. {escape(r.error, limit=500)}"
                for r in results
            ]
            return _say("Teams refreshed from Slack:\n" + "\n".join(lines))
        try:
            team = sync_usergroup(
                self.client,
                self.engine,
                now=self.now(),
                by=asker.email,
                usergroup_id=request.usergroup_id or "",
                handle=request.usergroup_handle or "",
            )
        except UsergroupError as exc:
            return _say(escape(str(exc), limit=500))
        blocks = team_changed_blocks(team, "follows the Slack user group")
        return Answer(notification_text(blocks), blocks)

    def _gaps(self, request: AbacusRequest, asker: SlackUser, _period: Period, _admin: bool) -> Answer:
        with transaction(self.engine) as session:
            today = today_in(self._zone(asker), self.now())
            results = gaps_of(session, today=today, sources=resolve_source(request.tool))
        blocks = gaps_blocks(results, configured=self.configured_tools())
        return Answer(notification_text(blocks), blocks)

    def _table(self, request: AbacusRequest, asker: SlackUser, period: Period, _admin: bool) -> Answer:
        if not self.policy.can_see_people(asker):
            return _say(PEOPLE_ADMINS_ONLY.format(what="The team table"))
        sort = request.sort or "total_tokens"
        # Names and dates read naturally A→Z and oldest first; amounts, largest first.
        ascending = request.ascending if request.ascending is not None else sort == "email"
        with transaction(self.engine) as session:
            table = team_table(
                session,
                period.start,
                period.end,
                today=today_in(self._zone(asker), self.now()),
                sort_by=sort,
                descending=not ascending,
                tool=request.tool,
                tools=all_tools(),
                limit=MAX_PEOPLE,
            )
            freshness = self._freshness(session)
        blocks = team_table_blocks(
            table, period, sort=sort, ascending=ascending, tool=request.tool, freshness=freshness
        )
        return Answer(notification_text(blocks), blocks)

    def _export(self, request: AbacusRequest, asker: SlackUser, period: Period, _admin: bool) -> Answer:
        """The original's CSV exports, same columns and file names, as a file in the asker's DM."""
        start, end = period.start.isoformat(), period.end.isoformat()
        if request.export == "team":
            if not self.policy.can_see_people(asker):
                return _say(PEOPLE_ADMINS_ONLY.format(what="The team export"))
            with transaction(self.engine) as session:
                table = team_table(
                    session,
                    period.start,
                    period.end,
                    today=today_in(self._zone(asker), self.now()),
                    tool=request.tool,
                    tools=all_tools(),
                    limit=TEAM_EXPORT_LIMIT,
                )
            content, rows, filename = team_csv(table), len(table.rows), f"team_{start}_to_{end}.csv"
        else:
            view = request.view or "models"
            with transaction(self.engine) as session:
                content = usage_csv(session, period.start, period.end, view=view, tool=request.tool)  # type: ignore[arg-type]
            rows, filename = content.count("\n") - 1, f"usage_{view}_{start}_to_{end}.csv"
        blocks = export_blocks(filename, rows=rows, what=request.export or "usage", period=period)
        title = f"{'Team' if request.export == 'team' else 'Usage'} export · {period.label}"
        return Answer(notification_text(blocks), blocks, files=[ExportFile(content.encode(), filename, title)])

    def _status(self, _request: AbacusRequest, _asker: SlackUser, _period: Period, is_admin: bool) -> Answer:
        with transaction(self.engine) as session:
            status = status_of(session, now=self.now())
            jobs = last_runs(session)
            sizes = {t.name: len(t.members) for t in list_teams(session)}
        blocks = status_blocks(status, configured=self.configured_tools(), is_admin=is_admin, jobs=jobs)
        blocks += budget_status_blocks(
            [s for s in budget_states(self.engine, self.now().date()) if self._may_see(s, is_admin, sizes)]
        )
        if is_admin:
            # The same checks as `abacus doctor`, with short timeouts so the answer stays quick.
            report = run_doctor(self.settings, engine=self.engine, slack_client=self.client, timeout=STATUS_TIMEOUT)
            blocks += doctor_blocks(report.checks)
        return Answer(notification_text(blocks), blocks)

    def _may_see(self, state: BudgetState, is_admin: bool, team_sizes: dict[str, int]) -> bool:
        """Admins see every budget; others the company's and those of teams above the privacy floor
        (a person's budget is theirs: `/abacus me` shows it)."""
        scope = state.budget.scope
        if is_admin or scope == "org":
            return True
        return scope == "team" and team_sizes.get(state.budget.target, 0) >= self.settings.team_min_people

    # --- budgets -------------------------------------------------------------------------------------

    def _budget(self, request: AbacusRequest, asker: SlackUser, *, is_admin: bool, channel_id: str | None) -> Answer:
        if not is_admin:
            return _say("Only Abacus admins can manage budgets (the ABACUS_ADMINS setting).")
        if request.problems:
            return _problems(request.problems, request.usage)
        if request.action == "list":
            blocks = budget_list_blocks(budget_states(self.engine, self.now().date()))
            return Answer(notification_text(blocks), blocks)
        scope = request.budget_scope or "org"
        target = request.budget_target or ""
        if request.target_user_id:
            if self.directory is None:
                return _say("Give an email address here: mentions need Slack.")
            try:
                target = self.directory.get(request.target_user_id).email
            except UserLookupFailed:
                target = ""
            if not target:
                return _say("Slack doesn't share that person's email, so I can't budget their usage.")
        if request.action == "off":
            count = switch_off(self.engine, scope=scope, target=target, cadence=request.cadence, tool=request.tool)
            return _say(f"Switched off {count} budget(s)." if count else "No budget matched; `/abacus budget list`.")
        if scope == "team":
            with transaction(self.engine) as session:
                if get_team(session, target) is None:
                    return _say(f"There is no team `{escape(target)}`; `/abacus team list` shows the teams.")
        channel = request.alert_channel or channel_id
        if channel is None:
            # Only `abacus ask` asks without a channel (`--channel ID` gives one).
            return _say("Say which channel gets the alerts: `#channel`, or run it in that channel.")
        if self.client is None:
            return _say(NEEDS_SLACK.format(what="Setting a budget", channel=channel))
        if not self._bot_is_member(channel):
            return _say(f"I'm not a member of <#{channel}>, so I can't post its alerts there: `/invite @Abacus` first.")
        assert request.amount is not None and request.cadence is not None
        budget = set_budget(
            self.engine,
            scope=scope,
            target=target,
            cadence=request.cadence,
            tool=request.tool or "",
            amount_usd=request.amount,
            channel_id=channel,
            created_by=asker.email,
            now=self.now(),
        )
        [state] = [s for s in budget_states(self.engine, self.now().date()) if s.budget.id == budget.id]
        return _say(f"Budget set: {state_line(state)}. Alerts go to <#{channel}>.")

    def _digest(self, request: AbacusRequest, asker: SlackUser, *, is_admin: bool, channel_id: str | None) -> Answer:
        if not is_admin:
            return _say("Only Abacus admins can manage digests (the ABACUS_ADMINS setting).")
        if request.problems:
            return _problems(request.problems, request.usage)
        if request.action == "list":
            blocks = subscriptions_blocks(list_subscriptions(self.engine))
            return Answer(notification_text(blocks), blocks)
        if channel_id is None:
            # Only `abacus ask` asks without a channel (`--channel ID` gives one).
            return _say("Digests belong to a channel: run this in the Slack channel that should get them.")
        if request.action == "off":
            count = deactivate(self.engine, channel_id=channel_id, cadence=request.cadence)
            blocks = stopped_blocks(channel_id, count)
            return Answer(notification_text(blocks), blocks)
        if self.client is None:
            return _say(NEEDS_SLACK.format(what="Setting up a digest", channel=channel_id))
        if not self._bot_is_member(channel_id):
            blocks = not_in_channel_blocks()
            return Answer(notification_text(blocks), blocks)
        sub = subscribe(
            self.engine,
            channel_id=channel_id,
            cadence=request.cadence or "daily",
            local_time=request.local_time or "09:00",
            weekday=(request.weekday or 0) if request.cadence == "weekly" else None,
            timezone=request.timezone or self._zone(asker).key,
            created_by=asker.id,
            now=self.now(),
        )
        blocks = subscribed_blocks(sub)
        return Answer(notification_text(blocks), blocks)

    def _bot_is_member(self, channel_id: str) -> bool:
        """Digests are posted (and charts uploaded) as a channel member; Slack refuses otherwise."""
        assert self.client is not None
        try:
            info = self.client.conversations_info(channel=channel_id)
        except SlackApiError as exc:
            if exc.response.get("error") in ("channel_not_found", "not_in_channel"):
                return False  # a private channel the bot is not in looks like this
            raise
        return bool(info["channel"].get("is_member") or info["channel"].get("is_im"))

    # --- App Home ------------------------------------------------------------------------------------

    def home_view(self, viewer: SlackUser) -> dict[str, Any]:
        period = self._period(None, viewer)
        with transaction(self.engine) as session:
            stored = find_person(session, viewer.email) if viewer.email else None
            profile = (
                user_profile(session, stored, period.start, period.end, seat_tools=seat_tools()) if stored else None
            )
            freshness = self._freshness(session)
        return home_view(profile, period, name=viewer.name or viewer.email, freshness=freshness)


def _problems(problems: tuple[str, ...] | list[str], usage: str) -> Answer:
    return Answer(escape(" ".join(problems), limit=1_000), problem_blocks(problems, usage))


def _say(markdown: str) -> Answer:
    """``markdown``: with every outside string in it escaped. The text fallback is the section's own text,
    so it is within Slack's limits and escaped too."""
    block = section(markdown)
    return Answer(block["text"]["text"], [block])
