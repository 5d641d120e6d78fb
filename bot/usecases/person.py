"""`/abacus me`, `/abacus user`, and the App Home: one person's usage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.access import UserLookupFailed
from bot.answers.blocks import context, escape
from bot.answers.budgets import state_line
from bot.answers.personal import home_view, profile_blocks
from bot.answers.plain_text import notification_text
from bot.budgets import budget_states
from bot.chart_inputs import personal_days
from bot.command_text import AbacusRequest
from bot.periods import Period
from bot.usecases.context import Context
from bot.usecases.result import Answer, ChartFile, say
from charts.data import Chart
from charts.personal import personal_trend_chart
from providers import registry
from providers.registry import seat_tools
from storage.analytics.profile import UserProfile, find_person, user_profile
from storage.db import transaction


@dataclass(frozen=True, slots=True)
class PersonRequest:
    period: Period
    email: str | None = None  # typed; or
    user_id: str | None = None  # a Slack mention


def me_from_parsed(_parsed: AbacusRequest, period: Period) -> PersonRequest:
    return PersonRequest(period)


def user_from_parsed(parsed: AbacusRequest, period: Period) -> PersonRequest:
    return PersonRequest(period, parsed.target_email, parsed.target_user_id)


def me(ctx: Context, request: PersonRequest) -> Answer:
    answer = profile(ctx, ctx.asker.email, request.period, whose="Your")
    mine = budget_states(ctx.engine, ctx.now().date(), scope="person", target=ctx.asker.email)
    if mine:
        answer.blocks.append(context("Your budget: " + " · ".join(state_line(s) for s in mine)))
    return answer


def user(ctx: Context, request: PersonRequest) -> Answer:
    email = request.email or ""
    if request.user_id:
        if ctx.directory is None:
            return say("Give an email address here: mentions need Slack.")
        try:
            email = ctx.directory.get(request.user_id).email
        except UserLookupFailed:
            return say("I couldn't look that person up in Slack; try their email address.")
        if not email:
            return say("Slack doesn't share that person's email, so I can't find their usage.")
    if email != ctx.asker.email and not ctx.can_see_people:
        return say("Other people's usage is visible to Abacus admins only. `/abacus me` shows your own.")
    with transaction(ctx.engine) as session:
        stored = find_person(session, email)
    if stored is None:
        return say(f"No AI coding usage is recorded for {escape(email)}.")
    return profile(ctx, stored, request.period, whose=stored.split("@")[0].replace(".", " ").title())


def profile_of(session: Session, email: str, period: Period, tool: str | None = None) -> UserProfile:
    """One person's period, models, lifetime and standing (Slack's answer and `abacus report user` alike)."""
    return user_profile(session, email, period.start, period.end, tool=tool, seat_tools=seat_tools())


def chart(found: UserProfile, period: Period, *, who: str) -> Chart:
    return personal_trend_chart(personal_days(found), period_label=period.label, who=who)


def profile(ctx: Context, email: str, period: Period, *, whose: str) -> Answer:
    with transaction(ctx.engine) as session:
        found = profile_of(session, email, period)
        freshness = ctx.freshness(session)
        activity = registry.activity_lines(session, email, period.start, period.end)
    blocks = profile_blocks(found, period, whose=whose, freshness=freshness, tool_activity=activity)
    charts = []
    if found.summary.tokens:
        charts.append(
            ChartFile(
                lambda: chart(found, period, who=whose),
                "usage.png",
                f"{whose} AI coding usage · {period.label}",
            )
        )
    return Answer(notification_text(blocks), blocks, charts)


def home(ctx: Context) -> dict[str, Any]:
    """The App Home view: the viewer's own 30 days (their own Slack timezone decides "today")."""
    period = ctx.period(None)
    viewer = ctx.asker
    with transaction(ctx.engine) as session:
        stored = find_person(session, viewer.email) if viewer.email else None
        found = profile_of(session, stored, period) if stored else None
        freshness = ctx.freshness(session)
    return home_view(found, period, name=viewer.name or viewer.email, freshness=freshness)
