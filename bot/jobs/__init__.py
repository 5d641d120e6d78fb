"""Provider jobs as the CLI and the scheduler run them: settings in, per-organisation results out.

Each provider module (``bot/jobs/anthropic.py``, ``bot/jobs/cursor.py``) builds a :class:`ProviderJobs`
from the settings; ``PROVIDERS`` lists them by their command-line name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from bot.settings import ProviderKey, Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobContext:
    settings: Settings
    engine: Engine
    now: Callable[[], datetime] = utc_now
    # Progress lines ("org acme: 2026-11-20 stored 412 rows"); the CLI shows them, the scheduler logs them.
    report: Callable[[str], None] = lambda _line: None


@dataclass(frozen=True, slots=True)
class SyncRequest:
    start: date | None = None  # None: the provider's default window
    end: date | None = None
    org: str | None = None  # a key label or name; None: every configured org


@dataclass(frozen=True, slots=True)
class BackfillRequest:
    target: date
    org: str | None = None
    max_windows: int | None = None  # None: the provider's per-run budget
    newest: date | None = None  # where a backfill with no cursor yet starts (default: below forward sync)


@dataclass(frozen=True, slots=True)
class OrgResult:
    org: str  # the operator's name for it: key label or default/KEY_n
    org_id: str  # the stored organisation id
    ok: bool
    records: int = 0
    windows: int = 0
    status: str = ""
    message: str = ""
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderJobs:
    name: str  # command-line name: anthropic | cursor
    tool: str  # stored tool: claude_code | cursor
    title: str  # for people: Claude Code | Cursor
    key_settings: str  # what to set to configure it, e.g. "ANTHROPIC_ADMIN_KEY or ANTHROPIC_ADMIN_KEYS"
    keys: Callable[[Settings], list[ProviderKey]]
    sync: Callable[[JobContext, SyncRequest], list[OrgResult]]
    backfill: Callable[[JobContext, BackfillRequest], list[OrgResult]]
    # The stored org ids of the configured keys (optionally one), for `backfill complete|reset`.
    org_ids: Callable[[JobContext, str | None], list[str]]


def select_keys(keys: list[ProviderKey], org: str | None, title: str) -> list[ProviderKey]:
    """All keys, or the one named ``org``; an unknown name is an error that lists the known ones."""
    if org is None:
        return keys
    chosen = [k for k in keys if k.name == org]
    if not chosen:
        known = ", ".join(k.name for k in keys) or "none"
        raise LookupError(f"No {title} organisation named {org!r} is configured (configured: {known}).")
    return chosen


# Scheduled job ids (as recorded in job_runs) and how status screens name them.
JOB_TITLES = {
    "claude_code_sync": "Claude Code forward sync",
    "cursor_sync": "Cursor forward sync",
    "claude_code_backfill": "Claude Code backfill",
    "cursor_backfill": "Cursor backfill",
    "mappings_sync": "API key mappings sync",
    "digests": "Channel digests",
    "team_sync": "Slack user-group teams sync",
    "budgets": "Budget alerts",
    "spikes": "Spike alerts",
}


def job_title(job_id: str) -> str:
    return JOB_TITLES.get(job_id, job_id)
