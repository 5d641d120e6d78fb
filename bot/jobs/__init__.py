"""Scheduled job ids (as recorded in job_runs) and how status screens name them.

Provider jobs (sync, backfill and any extra job) are named by the provider registry; the others are the
application's own.
"""

from __future__ import annotations

from providers import registry
from providers.spec import utc_now

__all__ = ["APP_JOB_TITLES", "job_title", "job_titles", "utc_now"]

APP_JOB_TITLES = {
    "digests": "Channel digests",
    "team_sync": "Slack user-group teams sync",
    "budgets": "Budget alerts",
    "spikes": "Spike alerts",
}


def job_titles() -> dict[str, str]:
    titles: dict[str, str] = {}
    for spec in registry.providers():
        titles[spec.sync_job] = f"{spec.title} forward sync"
        titles[spec.backfill_job] = f"{spec.title} backfill"
        titles.update({job.id: job.title for job in spec.extra_jobs})
    return titles | APP_JOB_TITLES


def job_title(job_id: str) -> str:
    return job_titles().get(job_id, job_id)
