"""Cursor jobs: settings in, one :class:`OrgResult` per configured team out.

Each team runs under its own lock (``sync:cursor:<org id>``), so two syncs of one team never overlap,
and one team failing never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from providers.cursor import sync as cursor_sync
from providers.cursor.client import TOOL, CursorClient, org_id_for_key
from providers.cursor.settings import CursorSettings
from providers.errors import ProviderError
from providers.http import ONE_TRY
from providers.pacing import RatePacer
from providers.spec import BackfillRequest, JobContext, OrgResult, Probe, ProviderKey, SyncRequest, select_keys
from storage.locks import hold_lock

log = logging.getLogger(__name__)

TITLE = "Cursor"

ClientFactory = Callable[[CursorSettings, ProviderKey], CursorClient]
Context = JobContext[CursorSettings]


def org_id_of(key: ProviderKey) -> str:
    return org_id_for_key(key.key.get_secret_value(), key.name if key.labelled else None)


def make_client(settings: CursorSettings, key: ProviderKey) -> CursorClient:
    return CursorClient(
        key.key.get_secret_value(),
        who=f"Cursor team {key.name}",
        base_url=settings.cursor_base_url,
        page_size=settings.cursor_page_size,
        pacer=RatePacer(settings.cursor_requests_per_minute, 60.0),
    )


def lock_name(org_id: str) -> str:
    return f"sync:{TOOL}:{org_id}"


@dataclass(frozen=True)
class CursorJobs:
    sync: Callable[[Context, SyncRequest], list[OrgResult]]
    backfill: Callable[[Context, BackfillRequest], list[OrgResult]]
    org_ids: Callable[[Context, str | None], list[str]]


def make_jobs(client_factory: ClientFactory = make_client) -> CursorJobs:
    """The Cursor jobs; tests pass a factory whose clients sleep on a fake clock."""

    def sync(ctx: Context, request: SyncRequest) -> list[OrgResult]:
        results = []
        for key in select_keys(ctx.settings.keys, request.org, TITLE):
            org_id = org_id_of(key)
            with hold_lock(ctx.engine, lock_name(org_id)):
                results.append(_run_sync(ctx, request, key, org_id, client_factory))
        return results

    def backfill(ctx: Context, request: BackfillRequest) -> list[OrgResult]:
        results = []
        for key in select_keys(ctx.settings.keys, request.org, TITLE):
            org_id = org_id_of(key)
            with hold_lock(ctx.engine, lock_name(org_id)):
                results.append(_run_backfill(ctx, request, key, org_id, client_factory))
        return results

    def org_ids(ctx: Context, org: str | None) -> list[str]:
        return [org_id_of(key) for key in select_keys(ctx.settings.keys, org, TITLE)]

    return CursorJobs(sync, backfill, org_ids)


def _failed(key: ProviderKey, org_id: str, exc: Exception) -> OrgResult:
    """Provider errors are already one sentence naming the team; anything else is a bug worth a traceback."""
    if isinstance(exc, ProviderError):
        message = str(exc)
    else:
        log.exception("Cursor team %s: unexpected failure", key.name)
        message = f"unexpected {type(exc).__name__}: {exc}"
    return OrgResult(org=key.name, org_id=org_id, ok=False, status="failed", message=message)


def _run_sync(ctx: Context, request: SyncRequest, key: ProviderKey, org_id: str, factory: ClientFactory) -> OrgResult:
    now = ctx.now()
    team_report = _prefixed(ctx, key)
    try:
        with factory(ctx.settings, key) as client:
            if request.start is None:
                result = cursor_sync.forward_sync(
                    ctx.engine,
                    client,
                    org_id,
                    now=now,
                    overlap=timedelta(hours=ctx.settings.cursor_overlap_hours),
                    report=team_report,
                )
            else:
                result = cursor_sync.range_sync(
                    ctx.engine,
                    client,
                    org_id,
                    first_day=request.start,
                    last_day=request.end or request.start,
                    now=now,
                    report=team_report,
                )
    except Exception as exc:
        return _failed(key, org_id, exc)
    return OrgResult(
        org=key.name,
        org_id=org_id,
        ok=True,
        records=result.stored,
        windows=len(result.days),
        status="synced",
        message=result.describe(),
        details={"events": result.events, "skipped": dict(result.skipped)},
    )


def _run_backfill(
    ctx: Context, request: BackfillRequest, key: ProviderKey, org_id: str, factory: ClientFactory
) -> OrgResult:
    team_report = _prefixed(ctx, key)
    try:
        with factory(ctx.settings, key) as client:
            if cursor_sync.needs_forward_sync(ctx.engine, org_id):
                # Backfill starts where forward sync first started; make that point exist first.
                cursor_sync.forward_sync(
                    ctx.engine,
                    client,
                    org_id,
                    now=ctx.now(),
                    overlap=timedelta(hours=ctx.settings.cursor_overlap_hours),
                    report=team_report,
                )
            outcome = cursor_sync.backfill(
                ctx.engine,
                client,
                org_id,
                target=request.target,
                max_days=request.max_windows or ctx.settings.cursor_backfill_days_per_run,
                complete_after_empty_days=ctx.settings.cursor_backfill_empty_days,
                now=ctx.now,
                report=team_report,
            )
    except Exception as exc:
        return _failed(key, org_id, exc)
    cursor = f"{outcome.cursor:%Y-%m-%d %H:%M} UTC" if outcome.cursor else "not started"
    message = (
        f"backfill {outcome.status}: {outcome.windows} day(s), {outcome.records} events; "
        f"everything from {cursor} on is stored"
    )
    if outcome.error:
        message = f"backfill failed after {outcome.windows} day(s): {outcome.error}"
    return OrgResult(
        org=key.name,
        org_id=org_id,
        ok=outcome.status != "failed",
        records=outcome.records,
        windows=outcome.windows,
        status=outcome.status,
        message=message,
        details={"cursor": outcome.cursor},
    )


def _prefixed(ctx: Context, key: ProviderKey) -> Callable[[str], None]:
    return lambda line: ctx.report(f"{key.name}: {line}")


def probe(settings: CursorSettings, key: ProviderKey, timeout: float) -> Probe:
    with CursorClient(
        key.key.get_secret_value(),
        who=f"Cursor ({key.name})",
        base_url=settings.cursor_base_url,
        timeout=timeout,
        policy=ONE_TRY,
    ) as client:
        members = client.members()
    return Probe(org_id_of(key), f"valid for a team of {len(members)}")


# The jobs the provider's spec runs, with real clients; tests make their own with a fake clock.
JOBS = make_jobs()
sync, backfill, org_ids = JOBS.sync, JOBS.backfill, JOBS.org_ids
