"""The digest job: for each active subscription whose time has come, compose and post its digest once.

A subscription is due for the newest period whose scheduled moment (its local time, in its timezone)
has passed and came after the subscription was set up. The run is claimed in ``digest_runs`` before
anything is posted (unique per subscription and period), so a restart or a second scheduler never posts
twice. A period that was missed (the scheduler was down at its moment) is posted once, late, and says
so; only the newest period is ever posted, so a long outage does not flood a channel.

Dates: the reported days are the subscription's local calendar days, used as provider UTC days (how
usage is stored), like every other report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.answers.budgets import state_line
from bot.answers.common import freshness_line, short_day
from bot.answers.digest import WEEKDAYS, DigestFacts, digest_blocks, disabled_note, period_title
from bot.answers.plain_text import notification_text
from bot.budgets import budget_state
from bot.chart_inputs import trend_days
from bot.outbox import Message, Outbox, Undelivered
from bot.settings import Settings
from bot.sources import footer_status, tool_of_source
from bot.usecases.result import ChartFile
from charts.daily import digest_chart
from providers.registry import seat_tools, uncounted_tools
from storage.analytics.models_breakdown import model_breakdown
from storage.analytics.overview import overview, period_totals
from storage.analytics.status import SyncStatus
from storage.analytics.team_usage import TeamSpike, team_spikes
from storage.analytics.top_users import top_users
from storage.analytics.trends import trends
from storage.analytics.unusual import unusual_spenders
from storage.budgets import active_budgets
from storage.db import transaction
from storage.digests import (
    Subscription,
    claim_run,
    deactivate,
    finish_run,
    list_subscriptions,
    record_posted,
)
from storage.teams import list_teams

log = logging.getLogger(__name__)

# Slack errors that mean the channel is gone for Abacus: the subscription is switched off.
CHANNEL_GONE = {"not_in_channel", "channel_not_found", "is_archived"}
# A digest posted this long after its moment says it is late.
LATE_AFTER = timedelta(minutes=30)
CHART_DAYS = 30
MIN_POST_GAP_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class DuePeriod:
    key: str  # the digest_runs period: 2026-11-24 or 2026-W48
    start: date
    end: date
    scheduled_at: datetime  # aware, in the subscription's timezone


def _clock(local_time: str) -> clock_time:
    hours, _, minutes = local_time.partition(":")
    return clock_time(int(hours), int(minutes))


def latest_period(cadence: str, local_time: str, weekday: int | None, zone: ZoneInfo, now: datetime) -> DuePeriod:
    """The newest period whose scheduled moment is at or before ``now``."""
    local_now = now.astimezone(zone)
    at = _clock(local_time)
    day = local_now.date()
    if cadence == "weekly":
        target = weekday or 0
        day -= timedelta(days=(day.weekday() - target) % 7)
        if datetime.combine(day, at, tzinfo=zone) > local_now:
            day -= timedelta(days=7)
        end = day - timedelta(days=day.weekday() + 1)  # the Sunday before: the last full week, Mon–Sun
        start = end - timedelta(days=6)
        year, week, _ = start.isocalendar()
        return DuePeriod(f"{year}-W{week:02d}", start, end, datetime.combine(day, at, tzinfo=zone))
    if datetime.combine(day, at, tzinfo=zone) > local_now:
        day -= timedelta(days=1)
    reported = day - timedelta(days=1)
    return DuePeriod(reported.isoformat(), reported, reported, datetime.combine(day, at, tzinfo=zone))


def due_period(sub: Subscription, now: datetime) -> DuePeriod | None:
    """The period to post now, or None when the newest moment came before the subscription existed."""
    period = latest_period(sub.cadence, sub.local_time, sub.weekday, ZoneInfo(sub.timezone), now)
    if period.scheduled_at < sub.created_at:
        return None
    return period


def period_for_day(cadence: str, day: date) -> DuePeriod:
    """The period a preview shows: the day itself, or the Mon–Sun week that contains it."""
    if cadence == "weekly":
        start = day - timedelta(days=day.weekday())
        year, week, _ = start.isocalendar()
        end = start + timedelta(days=6)
        return DuePeriod(f"{year}-W{week:02d}", start, end, datetime.combine(end, clock_time(), tzinfo=ZoneInfo("UTC")))
    return DuePeriod(day.isoformat(), day, day, datetime.combine(day, clock_time(), tzinfo=ZoneInfo("UTC")))


@dataclass(frozen=True, slots=True)
class DigestMessage:
    text: str
    blocks: list[dict[str, object]]
    chart: ChartFile


def compose_digest(
    settings: Settings, engine: Engine, cadence: str, period: DuePeriod, *, now: datetime, late_note: str | None = None
) -> DigestMessage:
    """The digest for ``period`` exactly as it would be posted: blocks, text and the 30-day chart."""
    named = settings.people_visibility == "everyone"
    days = period.end - period.start + timedelta(days=1)
    if cadence == "weekly":
        base_start, base_end = period.start - days, period.start - timedelta(days=1)
    else:
        base_start, base_end = period.start - timedelta(days=7), period.start - timedelta(days=1)
    chart_start = period.end - timedelta(days=CHART_DAYS - 1)
    with transaction(engine) as session:
        status = footer_status(session, now=now)
        summary = overview(session, period.start, period.end, seat_tools=seat_tools())
        totals = summary.current
        baseline = period_totals(session, base_start, base_end)
        baseline_cost: Decimal | None = None
        if baseline.total_tokens:
            baseline_cost = baseline.cost_usd if cadence == "weekly" else baseline.cost_usd / 7
        facts = DigestFacts(
            cadence=cadence,
            start=period.start,
            end=period.end,
            totals=totals,
            baseline_cost_usd=baseline_cost,
            tools=summary.tools,
            models=model_breakdown(
                session, period.start, period.end, seat_tools=seat_tools(), uncounted_tools=uncounted_tools()
            ),
            top=top_users(session, period.start, period.end, rank_by="cost", limit=5, seat_tools=seat_tools())
            if named
            else None,
            unusual=unusual_spenders(
                session,
                period.start,
                period.end,
                factor=settings.digest_unusual_factor,
                floor_usd=settings.digest_unusual_floor_usd,
            ),
            unusual_factor=settings.digest_unusual_factor,
            unattributed=summary.unattributed,
            subscription=summary.subscription,
            freshness=freshness_line(status, settings.configured_tools()),
            incomplete=_incomplete(status, period.end),
            team_spikes=_team_spikes(settings, session, period.end) if cadence == "daily" else [],
            budget_lines=_budget_lines(settings, session, period.end),
        )
        series = trends(session, chart_start, period.end, now=now)
    blocks = digest_blocks(facts, late_note=late_note)
    label = f"{short_day(chart_start)} – {short_day(period.end)}"
    # The digest's headline is money, so its chart draws the daily cost too, and picks out its own day or week.
    reported = short_day(period.end) if cadence == "daily" else f"week of {short_day(period.start)}"
    title = f"AI coding usage · {label}"
    return DigestMessage(
        notification_text(blocks),
        blocks,
        ChartFile(
            lambda: digest_chart(
                trend_days(series),
                period_label=label,
                reported=(period.start, period.end),
                reported_label=reported,
                with_cost=True,
            ),
            f"abacus-digest-{period.key}.png",
            title,
        ),
    )


def _team_spikes(settings: Settings, session: Session, day: date) -> list[TeamSpike]:
    teams = {t.name: t.members for t in list_teams(session)}
    return team_spikes(
        session,
        teams,
        day,
        factor=settings.digest_unusual_factor,
        floor_usd=settings.digest_unusual_floor_usd,
        min_people=settings.team_min_people,
    )


def _budget_lines(settings: Settings, session: Session, as_of: date) -> list[str]:
    """The company's budgets and those of teams above the privacy floor: a channel sees no one's own."""
    sizes = {t.name: len(t.members) for t in list_teams(session)}
    shown = [
        b
        for b in active_budgets(session)
        if b.scope == "org" or (b.scope == "team" and sizes.get(b.target, 0) >= settings.team_min_people)
    ]
    return [state_line(budget_state(session, b, as_of)) for b in shown]


def _incomplete(status: SyncStatus, end: date) -> dict[str, date]:
    """Per tool synced by Abacus, its newest complete UTC day when that is before ``end`` (slowest org wins).

    A day is complete once the forward watermark reached the midnight after it, so a watermark of
    Nov 24 06:00 completes Nov 23 (and one of Nov 25 00:00 completes Nov 24)."""
    newest: dict[str, date] = {}
    for p in status.providers:
        if p.forward_watermark is not None:
            complete = p.forward_watermark.astimezone(UTC).date() - timedelta(days=1)
            tool = tool_of_source(p.provider)
            newest[tool] = min(complete, newest.get(tool, complete))
    return {tool: day for tool, day in newest.items() if day < end}


def late_note(period: DuePeriod, now: datetime, timezone: str) -> str | None:
    if now - period.scheduled_at <= LATE_AFTER:
        return None
    moment = period.scheduled_at
    return (
        f"Posted late: this digest was due {WEEKDAYS[moment.weekday()]} {short_day(moment.date())} "
        f"{moment:%H:%M} ({timezone}), when Abacus was not running."
    )


@dataclass
class DigestTick:
    posted: int = 0
    disabled: int = 0
    errors: list[str] = field(default_factory=list)


def run_due_digests(
    settings: Settings,
    engine: Engine,
    outbox: Outbox,
    *,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DigestTick:
    """Post every digest whose time has come and that nobody posted yet, one at a time, at most one post
    per second into the same channel (Slack's chat.postMessage limit)."""
    tick = DigestTick()
    last_post: dict[str, float] = {}
    for sub in list_subscriptions(engine):
        period = due_period(sub, now)
        if period is None:
            continue
        run_id = claim_run(engine, sub.id, period.key, now)
        if run_id is None:
            continue  # posted already, or another process is posting it right now
        wait = MIN_POST_GAP_SECONDS - (clock() - last_post.get(sub.channel_id, -MIN_POST_GAP_SECONDS))
        if wait > 0:
            sleep(wait)
        last_post[sub.channel_id] = clock()
        try:
            _post(settings, engine, outbox, sub, period, run_id, now, tick)
        except Exception as exc:
            log.exception("digest %s for %s failed", period.key, sub.channel_id)
            finish_run(engine, run_id, now, ok=False, error=f"{type(exc).__name__}: {exc}")
            tick.errors.append(f"{sub.channel_id} {period.key}: {type(exc).__name__}")
    return tick


def _post(
    settings: Settings,
    engine: Engine,
    outbox: Outbox,
    sub: Subscription,
    period: DuePeriod,
    run_id: int,
    now: datetime,
    tick: DigestTick,
) -> None:
    message = compose_digest(
        settings, engine, sub.cadence, period, now=now, late_note=late_note(period, now, sub.timezone)
    )
    try:
        sent = outbox.send(Message(message.text, message.blocks, channel=sub.channel_id, chart=message.chart))
    except Undelivered as exc:
        finish_run(engine, run_id, now, ok=False, error=str(exc))
        if exc.error in CHANNEL_GONE:
            _disable(engine, outbox, sub, exc.error)
            tick.disabled += 1
        tick.errors.append(f"{sub.channel_id} {period.key}: {exc.error}")
        return
    record_posted(engine, run_id, sent.ts)
    if sent.chart_error:
        log.warning("digest %s for %s posted without its chart: %s", period.key, sub.channel_id, sent.chart_error)
    finish_run(engine, run_id, now, ok=True, error=sent.chart_error)
    tick.posted += 1
    log.info("posted the %s digest %s in %s", sub.cadence, period.key, sub.channel_id)


def _disable(engine: Engine, outbox: Outbox, sub: Subscription, error: str) -> None:
    """Stop a subscription the chat service no longer lets us serve, and tell the admin who set it up."""
    deactivate(engine, subscription_id=sub.id)
    log.warning("digest in %s disabled: %s", sub.channel_id, error)
    if not sub.created_by:
        return
    try:
        outbox.send(Message(disabled_note(sub, error), user_id=sub.created_by))
    except Undelivered as exc:
        log.warning("could not tell %s that the digest stopped: %s", sub.created_by, exc.error)


def describe_period(cadence: str, period: DuePeriod) -> str:
    return period_title(cadence, period.start, period.end)
