"""Claude Code sync: forward (a rolling window of recent days) and backfill, one org at a time.

A day is the unit of work. It is fetched completely (every page) before anything is written, then
replaces that (org, day) slice in one transaction, so a failure part-way leaves the stored day as it
was (the original upserted partial aggregates on a 429, W3). API keys are attributed through identity
mappings first, then through the org's users and API keys; a key nobody can be tied to is stored as
unattributed under its name rather than dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, delete

from providers.anthropic.client import AnthropicClient, Organization
from providers.anthropic.rows import TOOL, DayRows, records_to_rows
from providers.errors import ProviderError
from providers.sync_engine import BackfillOutcome, run_backfill, utc_midnight
from providers.write_behind import WriteBehind
from storage.db import transaction
from storage.locks import hold_lock
from storage.mappings import load_mappings, set_mapping
from storage.models import ClaudeCodeActivity, Usage
from storage.sync_state import get_state, record_attempt, record_failure, record_success
from storage.writes import refresh_daily_rollup, upsert_activity, upsert_usage

log = logging.getLogger(__name__)

# The report only returns data older than about an hour, so a UTC day is complete an hour after it ends.
DATA_DELAY = timedelta(hours=1)
KEY_STATUSES = ("active", "inactive", "archived")


@dataclass(slots=True)
class KeyDirectory:
    """API key name -> creator email, from the org's users and keys (active, inactive and archived)."""

    emails: dict[str, str] = field(default_factory=dict)
    clashes: dict[str, list[str]] = field(default_factory=dict)  # name -> the different creators' emails

    @classmethod
    def fetch(cls, client: AnthropicClient) -> KeyDirectory:
        users = {str(u.get("id")): str(u.get("email") or "").lower() for u in client.users()}
        creators: dict[str, set[str]] = {}
        for status in KEY_STATUSES:
            for key in client.api_keys(status):
                creator = key.get("created_by") or {}
                email = users.get(str(creator.get("id"))) if isinstance(creator, dict) else None
                name = str(key.get("name") or "").strip()
                if name and email:
                    creators.setdefault(name, set()).add(email)
        directory = cls()
        for name, emails in creators.items():
            if len(emails) == 1:
                directory.emails[name] = next(iter(emails))
            else:
                directory.clashes[name] = sorted(emails)
        return directory


class KeyResolver:
    """Resolves API key names for one org: identity mappings first, the org's directory second.

    The directory is fetched at most once per run, and only when a key is not mapped. If fetching it
    fails the whole run fails: storing that usage as unattributed would be a silent downgrade.
    """

    def __init__(self, engine: Engine, client: AnthropicClient, org_id: str) -> None:
        with transaction(engine) as session:
            self.mapped = load_mappings(session, TOOL, org_id)
        self._client = client
        self.directory: KeyDirectory | None = None
        self.resolved_by_directory: dict[str, str] = {}

    def __call__(self, key_name: str) -> str:
        if key_name in self.mapped:
            return self.mapped[key_name]
        if self.directory is None:
            self.directory = KeyDirectory.fetch(self._client)
            for name, emails in self.directory.clashes.items():
                log.warning(
                    "%s: API key name %r belongs to several people (%s); left unattributed",
                    self._client.who,
                    name,
                    ", ".join(emails),
                )
        email = self.directory.emails.get(key_name, "")
        if email:
            self.resolved_by_directory[key_name] = email
        return email

    def take_resolved(self) -> dict[str, str]:
        """Keys the directory resolved since the last call, to be remembered as mappings with the day's rows.

        From now on they resolve as mapped, so each is remembered once.
        """
        taken, self.resolved_by_directory = self.resolved_by_directory, {}
        self.mapped.update(taken)
        return taken

    @property
    def clashes(self) -> dict[str, list[str]]:
        return self.directory.clashes if self.directory else {}


@dataclass(slots=True)
class OrgSync:
    org: Organization
    days_done: list[date] = field(default_factory=list)
    records: int = 0
    rows: int = 0
    unresolved_keys: set[str] = field(default_factory=set)
    clashes: dict[str, list[str]] = field(default_factory=dict)
    error: ProviderError | None = None


def newest_complete_day(now: datetime) -> date:
    return (now - DATA_DELAY).date() - timedelta(days=1)


def store_day(
    engine: Engine, org_id: str, day: date, rows: DayRows, newly_resolved: dict[str, str], now: datetime
) -> None:
    """Replace the stored (org, day) slice with ``rows`` in one transaction."""
    with transaction(engine) as session:
        session.execute(delete(Usage).where(Usage.tool == TOOL, Usage.org_id == org_id, Usage.date == day))
        session.execute(
            delete(ClaudeCodeActivity).where(ClaudeCodeActivity.org_id == org_id, ClaudeCodeActivity.date == day)
        )
        written = upsert_usage(session, rows.usage, refresh_rollup=False)
        # The slice may have shrunk to nothing, so re-derive the day even when no row was written.
        refresh_daily_rollup(session, written.days | {(TOOL, day)})
        upsert_activity(session, rows.activity)
        # Remember keys the provider's directory resolved, so a later change there keeps history stable.
        for key_name, email in newly_resolved.items():
            set_mapping(
                session,
                source=TOOL,
                org_id=org_id,
                external_id=key_name,
                email=email,
                method="provider_api",
                by="anthropic-api",
                now=now,
            )


def sync_days(
    engine: Engine,
    client: AnthropicClient,
    org: Organization,
    days: list[date],
    *,
    now: Callable[[], datetime],
    report: Callable[[str], None],
) -> OrgSync:
    """Fetch and store each day; stop at the first failure (earlier days stay stored, later ones untouched)."""
    result = OrgSync(org)
    resolver = KeyResolver(engine, client, org.id)

    def store(day: date, rows: DayRows, records: int, newly_resolved: dict[str, str]) -> None:
        store_day(engine, org.id, day, rows, newly_resolved, now())
        result.days_done.append(day)
        result.records += records
        result.rows += len(rows.usage)
        result.unresolved_keys |= rows.unresolved_keys
        report(f"{org.name} {day}: {records} records")

    # Each day is stored on a writer thread while the next one is fetched.
    with WriteBehind("abacus-claude-code-writer") as writer:
        for day in days:
            try:
                records = client.claude_code_day(day)
                rows = records_to_rows(records, org_id=org.id, resolve_key=resolver, day=day)
            except ProviderError as exc:
                result.error = exc
                break
            writer.submit(store, day, rows, len(records), resolver.take_resolved())
    result.clashes = resolver.clashes
    return result


def sync_org(
    engine: Engine,
    client: AnthropicClient,
    days: list[date],
    *,
    now: Callable[[], datetime],
    report: Callable[[str], None] = lambda _line: None,
) -> OrgSync:
    """Sync ``days`` (ascending) for the client's org, holding the org's sync lock, recording state."""
    org = client.organization()
    with hold_lock(engine, f"sync:{TOOL}:{org.id}"):
        record_attempt(engine, TOOL, org.id, now())
        result = sync_days(engine, client, org, days, now=now, report=report)
        if result.error is not None:
            record_failure(engine, TOOL, org.id, now(), str(result.error))
            return result
        record_success(engine, TOOL, org.id, now(), forward_watermark=_watermark(engine, org.id, days, now()))
    return result


def _watermark(engine: Engine, org_id: str, days: list[date], now: datetime) -> datetime | None:
    """Midnight after the newest complete day this run stored, if the run joins up with what came before.

    A range that starts after the current watermark leaves a gap, so it must not claim completeness.
    """
    if not days:
        return None
    newest = min(max(days), newest_complete_day(now))
    with transaction(engine) as session:
        current = get_state(session, TOOL, org_id).forward_watermark
    if newest < min(days) or (current is not None and utc_midnight(min(days)) > current):
        return None
    return utc_midnight(newest + timedelta(days=1))


def backfill_org(
    engine: Engine,
    client: AnthropicClient,
    *,
    target: date,
    start_before: date,
    max_days: int,
    complete_after_empty: int,
    now: Callable[[], datetime],
    report: Callable[[str], None] = lambda _line: None,
) -> tuple[Organization, BackfillOutcome, OrgSync]:
    """Walk backwards a day at a time from the stored cursor (or ``start_before``) towards ``target``."""
    org = client.organization()
    resolver_holder: dict[str, KeyResolver] = {}
    totals = OrgSync(org)

    def process(start: datetime, _end: datetime) -> int:
        resolver = resolver_holder.setdefault("r", KeyResolver(engine, client, org.id))
        day = start.date()
        records = client.claude_code_day(day)
        rows = records_to_rows(records, org_id=org.id, resolve_key=resolver, day=day)
        store_day(engine, org.id, day, rows, resolver.take_resolved(), now())
        totals.days_done.append(day)
        totals.records += len(records)
        totals.rows += len(rows.usage)
        totals.unresolved_keys |= rows.unresolved_keys
        report(f"{org.name} {day}: {len(records)} records")
        return len(records)

    with hold_lock(engine, f"backfill:{TOOL}:{org.id}"):
        outcome = run_backfill(
            engine,
            provider=TOOL,
            org_id=org.id,
            target=target,
            start_cursor=utc_midnight(start_before),
            max_windows=max_days,
            complete_after_empty=complete_after_empty,
            process=process,
            now=now,
        )
    if "r" in resolver_holder:
        totals.clashes = resolver_holder["r"].clashes
    return org, outcome, totals
