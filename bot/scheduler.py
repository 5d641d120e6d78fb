"""The scheduler: forward syncs, backfills, mapping sync and digests on APScheduler 3 timers.

`abacus scheduler` runs it in its own process (BlockingScheduler); `abacus serve --with-scheduler` runs it
inside the web process (BackgroundScheduler). Either way several processes may start one (two web
workers, a deploy overlap), so a leader lock held in the database decides who works: the first
scheduler to take ``scheduler-leader`` keeps it for its lifetime; every other one tries again at each
job run and skips the run while someone else leads. Jobs live in memory (defined here in code), so no
job store is shared between processes, which APScheduler does not support.

Every run is recorded in ``job_runs`` (start, end, rows, error), and a failing job is logged and
recorded, never allowed to stop the scheduler.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from bot.jobs import job_titles, utc_now
from bot.observability import bound, new_id
from bot.outbox import Outbox
from bot.settings import Settings
from providers import registry
from providers.spec import BackfillRequest, ExtraJob, JobContext, OrgResult, ProviderSpec, SyncRequest
from storage.job_runs import finish_run, start_run
from storage.locks import LockHeld, hold_lock

log = logging.getLogger(__name__)

UTC_ZONE = ZoneInfo("UTC")
LEADER_LOCK = "scheduler-leader"

# Job ids: stable, because `abacus status` shows runs by them. Provider jobs are named by their spec
# (`claude_code_sync`, `cursor_backfill`, `mappings_sync`...).
DIGESTS = "digests"
TEAM_SYNC = "team_sync"
BUDGETS = "budgets"
SPIKES = "spikes"


class Leadership:
    """The leader lock, held open (on its own database connection, or as a file lock beside a SQLite
    file) from the moment it is taken until the scheduler shuts down."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stack = ExitStack()
        self._held = False
        self._guard = threading.Lock()

    @property
    def is_leader(self) -> bool:
        return self._held

    def ensure(self) -> bool:
        """True when this process leads (taking the lock now if it is free)."""
        with self._guard:
            if self._held:
                return True
            try:
                self._stack.enter_context(hold_lock(self._engine, LEADER_LOCK))
            except LockHeld:
                return False
            self._held = True
            log.info("this process now leads the scheduler")
            return True

    def release(self) -> None:
        with self._guard:
            try:
                self._stack.close()
            finally:
                self._held = False


@dataclass(frozen=True, slots=True)
class JobOutcome:
    rows: int = 0
    error: str | None = None  # None: the run succeeded


@dataclass
class SchedulerEnv:
    """What every job needs; ``now`` and ``slack_client`` are swapped in tests."""

    settings: Settings
    engine: Engine
    leadership: Leadership
    now: Callable[[], datetime] = utc_now
    # Makes the Slack Web API client (a slack_sdk WebClient); Slack's libraries load only in bot.slack.
    slack_client: Callable[[], Any] | None = None

    def client(self) -> Any:
        if self.slack_client is not None:
            return self.slack_client()
        from bot.slack.app import web_client

        return web_client(self.settings)

    def outbox(self) -> Outbox:
        from bot.slack.outbox import SlackOutbox

        return SlackOutbox(self.client())

    def job_context(self, spec: ProviderSpec[Any]) -> JobContext[Any]:
        return JobContext(settings=self.settings.provider(spec), engine=self.engine, now=self.now, report=log.info)


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    name: str
    trigger: BaseTrigger
    misfire_grace_time: int  # seconds a run may start late before it is skipped (coalesced into the next)


# --- the jobs -----------------------------------------------------------------------------------------


def _org_outcome(results: list[OrgResult]) -> JobOutcome:
    failed = [f"{r.org}: {r.message or r.status or 'failed'}" for r in results if not r.ok]
    return JobOutcome(sum(r.records for r in results), "; ".join(failed) or None)


def _forward_sync(spec: ProviderSpec[Any]) -> Callable[[SchedulerEnv], JobOutcome]:
    def work(env: SchedulerEnv) -> JobOutcome:
        # start=None: the provider's own forward window (a rolling lookback, or on from its watermark).
        return _org_outcome(spec.sync(env.job_context(spec), SyncRequest()))

    return work


def _backfill(spec: ProviderSpec[Any]) -> Callable[[SchedulerEnv], JobOutcome]:
    def work(env: SchedulerEnv) -> JobOutcome:
        request = BackfillRequest(target=env.settings.backfill_target)  # bounded by the per-run day budget
        return _org_outcome(spec.backfill(env.job_context(spec), request))

    return work


def _extra(spec: ProviderSpec[Any], job: ExtraJob) -> Callable[[SchedulerEnv], JobOutcome]:
    def work(env: SchedulerEnv) -> JobOutcome:
        rows, error = job.run(env.job_context(spec))
        return JobOutcome(rows, error)

    return work


def _digests(env: SchedulerEnv) -> JobOutcome:
    from bot.digests import run_due_digests

    tick = run_due_digests(env.settings, env.engine, env.outbox(), now=env.now())
    return JobOutcome(tick.posted, "; ".join(tick.errors) or None)


def _team_sync(env: SchedulerEnv) -> JobOutcome:
    from bot.slack.usergroups import SlackUsergroups
    from bot.teams import sync_followed_usergroups

    results = sync_followed_usergroups(env.settings, env.engine, SlackUsergroups(env.client()), now=env.now())
    failed = [f"{r.team}: {r.error}" for r in results if not r.ok]
    return JobOutcome(sum(r.members for r in results if r.ok), "; ".join(failed) or None)


def _budgets(env: SchedulerEnv) -> JobOutcome:
    from bot.budgets import check_budgets

    tick = check_budgets(env.settings, env.engine, env.outbox(), now=env.now())
    return JobOutcome(tick.posted, "; ".join(tick.errors) or None)


def _spikes(env: SchedulerEnv) -> JobOutcome:
    from bot.spikes import check_spikes

    tick = check_spikes(env.settings, env.engine, env.outbox(), now=env.now())
    return JobOutcome(tick.sent, "; ".join(tick.errors) or None)


def scheduled_jobs(settings: Settings, *, now: datetime | None = None) -> list[ScheduledJob]:
    """The jobs this installation runs: providers without keys, and digests without Slack, have none.

    Interval jobs first run shortly after start (staggered), so a fresh process catches up at once
    instead of waiting a whole interval."""
    start = (now or utc_now()).astimezone(UTC_ZONE)

    def every(delay: timedelta, **interval: int) -> IntervalTrigger:
        return IntervalTrigger(**interval, start_date=start + delay, timezone=UTC_ZONE)

    def every_span(delay: timedelta, interval: timedelta) -> IntervalTrigger:
        return IntervalTrigger(seconds=int(interval.total_seconds()), start_date=start + delay, timezone=UTC_ZONE)

    jobs: list[ScheduledJob] = []
    titles = job_titles()
    for index, spec in enumerate(settings.configured()):
        own = settings.provider(spec)
        interval = spec.sync_every(own)
        # A late run may still start within half its interval (between 5 minutes and an hour).
        grace = int(min(3600, max(300, interval.total_seconds() / 2)))
        first = timedelta(minutes=1 + index)
        jobs.append(ScheduledJob(spec.sync_job, titles[spec.sync_job], every_span(first, interval), grace))
        jobs.append(
            ScheduledJob(
                spec.backfill_job,
                titles[spec.backfill_job],
                every(timedelta(minutes=15 + 5 * index), hours=settings.schedule_backfill_hours),
                3600,
            )
        )
        for extra in spec.extra_jobs:
            hour, minute = (int(part) for part in extra.at(own).split(":"))
            trigger = CronTrigger(hour=hour, minute=minute, timezone=UTC_ZONE)
            jobs.append(ScheduledJob(extra.id, titles[extra.id], trigger, 6 * 3600))
    if settings.slack_bot_token is not None:
        # Each subscription decides whether its time has come, so a skipped tick only delays by one tick.
        minutes = settings.schedule_digest_minutes
        jobs.append(ScheduledJob(DIGESTS, titles[DIGESTS], every(timedelta(seconds=30), minutes=minutes), 300))
        minutes = settings.schedule_budget_minutes
        jobs.append(ScheduledJob(BUDGETS, titles[BUDGETS], every(timedelta(minutes=3), minutes=minutes), 600))
        minutes = settings.schedule_spike_minutes
        jobs.append(ScheduledJob(SPIKES, titles[SPIKES], every(timedelta(minutes=4), minutes=minutes), 600))
        # Teams that follow Slack user groups (by command or by ABACUS_TEAM_USERGROUPS), refreshed daily.
        hour, minute = (int(part) for part in settings.schedule_team_sync_at.split(":"))
        jobs.append(
            ScheduledJob(
                TEAM_SYNC, titles[TEAM_SYNC], CronTrigger(hour=hour, minute=minute, timezone=UTC_ZONE), 6 * 3600
            )
        )
    return jobs


APP_JOBS: dict[str, Callable[[SchedulerEnv], JobOutcome]] = {
    DIGESTS: _digests,
    TEAM_SYNC: _team_sync,
    BUDGETS: _budgets,
    SPIKES: _spikes,
}


def job_work() -> dict[str, Callable[[SchedulerEnv], JobOutcome]]:
    """Every job id this version knows, whether or not this installation schedules it."""
    work: dict[str, Callable[[SchedulerEnv], JobOutcome]] = {}
    for spec in registry.providers():
        work[spec.sync_job] = _forward_sync(spec)
        work[spec.backfill_job] = _backfill(spec)
        work.update({job.id: _extra(spec, job) for job in spec.extra_jobs})
    return work | APP_JOBS


@dataclass(frozen=True, slots=True)
class JobRunResult:
    """One recorded run: what `POST /jobs/<job>` answers with."""

    job_id: str
    outcome: JobOutcome
    started_at: datetime
    finished_at: datetime

    @property
    def status(self) -> str:
        return "ok" if self.outcome.error is None else "failed"


def run_job(env: SchedulerEnv, job_id: str) -> JobOutcome | None:
    """Run one job if this process leads; record the run; never raise (a failure must not stop the
    scheduler). Returns None when the run was skipped because another process leads."""
    if not env.leadership.ensure():
        log.info("skipping %s: another process leads the scheduler", job_id)
        return None
    result = _execute(env, job_id)
    return result.outcome if result is not None else None


def run_job_once(env: SchedulerEnv, job_id: str) -> JobRunResult | None:
    """Run one job now, for an external trigger (a platform's cron calling `POST /jobs/<job>`).

    It takes the same ``scheduler-leader`` lock as the scheduler, but only for this run, so an external
    trigger never works beside a running scheduler or a second trigger. Returns None when the lock is held.
    """
    try:
        with hold_lock(env.engine, LEADER_LOCK):
            return _execute(env, job_id)
    except LockHeld:
        log.info("not running %s: the scheduler lock is held (a scheduler or another trigger runs)", job_id)
        return None


def _execute(env: SchedulerEnv, job_id: str) -> JobRunResult | None:
    """The run itself, recorded in job_runs; never raises. None when even the start could not be recorded."""
    with bound(job=job_id, request_id=new_id()):
        return _execute_bound(env, job_id)


def _execute_bound(env: SchedulerEnv, job_id: str) -> JobRunResult | None:
    work = job_work()[job_id]
    started = env.now()
    try:
        run_id = start_run(env.engine, job_id, started)
    except Exception:
        log.exception("could not record the start of %s; skipping this run", job_id)
        return None
    try:
        outcome = work(env)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        outcome = JobOutcome(0, f"{type(exc).__name__}: {exc}")
    if outcome.error:
        log.warning("job %s finished with errors: %s", job_id, outcome.error)
    else:
        log.info("job %s finished: %d rows", job_id, outcome.rows)
    finished = env.now()
    try:
        finish_run(env.engine, run_id, finished, ok=outcome.error is None, rows=outcome.rows, error=outcome.error)
    except Exception:
        log.exception("could not record the end of %s", job_id)
    return JobRunResult(job_id, outcome, started, finished)


class AbacusScheduler:
    """An APScheduler scheduler with Abacus's jobs, and the leader lock it holds while it runs."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        background: bool,
        now: Callable[[], datetime] = utc_now,
        slack_client: Callable[[], Any] | None = None,
    ) -> None:
        self.env = SchedulerEnv(settings, engine, Leadership(engine), now, slack_client)
        self.background = background
        self.scheduler: BaseScheduler = (
            BackgroundScheduler(timezone=UTC_ZONE) if background else BlockingScheduler(timezone=UTC_ZONE)
        )
        self.jobs = scheduled_jobs(settings, now=now())
        for job in self.jobs:
            self.scheduler.add_job(
                run_job,
                trigger=job.trigger,
                args=[self.env, job.id],
                id=job.id,
                name=job.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=job.misfire_grace_time,
                replace_existing=True,
            )

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def start(self) -> None:
        """Start (a BlockingScheduler blocks here until shut down). Leadership is tried at once, so the
        logs say early which process works, and again at every run if another process leads."""
        if not self.jobs:
            log.warning("the scheduler has no jobs: configure a provider key or Slack (see `abacus config`)")
        leads = self.env.leadership.ensure()
        log.info("scheduler starting with %d job(s); %s", len(self.jobs), "leader" if leads else "standing by")
        if self.background:
            self.scheduler.start()
            return
        try:
            self.scheduler.start()  # blocks until shutdown
        finally:
            self.env.leadership.release()

    def shutdown(self, wait: bool = True) -> None:
        try:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=wait)
        finally:
            self.env.leadership.release()
