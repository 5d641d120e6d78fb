"""Recording scheduled job runs, and reading back the newest run of each job for status screens.

A run is written as ``running`` when it starts (in its own transaction, so a crash mid-run still
leaves a trace) and completed with its outcome when it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from storage.db import transaction
from storage.models import JobRun

MAX_ERROR_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class JobRunSummary:
    job_id: str
    status: str  # running | ok | failed
    started_at: datetime
    finished_at: datetime | None
    rows: int
    error: str | None


def start_run(engine: Engine, job_id: str, now: datetime) -> int:
    with transaction(engine) as session:
        run = JobRun(job_id=job_id, status="running", started_at=now, rows=0)
        session.add(run)
        session.flush()
        return run.id


def finish_run(engine: Engine, run_id: int, now: datetime, *, ok: bool, rows: int, error: str | None = None) -> None:
    with transaction(engine) as session:
        run = session.get(JobRun, run_id)
        if run is None:  # the row was deleted meanwhile (a wiped database): nothing to complete
            return
        run.status = "ok" if ok else "failed"
        run.finished_at = now
        run.rows = rows
        run.error = error[:MAX_ERROR_CHARS] if error else None


def last_runs(session: Session) -> list[JobRunSummary]:
    """The newest run of every job that ever ran, by job id."""
    newest = select(JobRun.job_id, func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    rows = session.scalars(select(JobRun).join(newest, JobRun.id == newest.c.id).order_by(JobRun.job_id))
    return [JobRunSummary(r.job_id, r.status, r.started_at, r.finished_at, r.rows, r.error) for r in rows]


def runs_of(session: Session, job_id: str) -> list[JobRunSummary]:
    rows = session.scalars(select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.id))
    return [JobRunSummary(r.job_id, r.status, r.started_at, r.finished_at, r.rows, r.error) for r in rows]
