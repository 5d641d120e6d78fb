"""Cursor jobs: settings in, one :class:`OrgResult` per configured team out.

Each team runs under its own lock (``sync:cursor:<org id>``), so two syncs of one team never overlap,
and one team failing never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.jobs import BackfillRequest, JobContext, OrgResult, ProviderJobs, SyncRequest, select_keys
from bot.settings import ProviderKey, Settings
from providers.cursor import sync as cursor_sync
from providers.cursor.client import TOOL, CursorClient, org_id_for_key
from providers.errors import ProviderError
from providers.pacing import RatePacer
from storage.locks import hold_lock

log = logging.getLogger(__name__)

TITLE = "Cursor"

ClientFactory = Callable[[Settings, ProviderKey], CursorClient]


def org_id_of(key: ProviderKey) -> str:
    return org_id_for_key(key.key.get_secret_value(), key.name if key.labelled else None)


def make_client(settings: Settings, key: ProviderKey) -> CursorClient:
    return CursorClient(
        key.key.get_secret_value(),
        who=f"Cursor team {key.name}",
        base_url=settings.cursor_base_url,
        page_size=settings.cursor_page_size,
        pacer=RatePacer(settings.cursor_requests_per_minute, 60.0),
    )


def lock_name(org_id: str) -> str:
    return f"sync:{TOOL}:{org_id}"


def _keys(settings: Settings) -> list[ProviderKey]:
    return settings.cursor_keys


def make_jobs(client_factory: ClientFactory = make_client) -> ProviderJobs:
    """The Cursor jobs; tests pass a factory whose clients sleep on a fake clock."""

    def sync(ctx: JobContext, request: SyncRequest) -> list[OrgResult]:
        results = []
        for key in select_keys(_keys(ctx.settings), request.org, TITLE):
            org_id = org_id_of(key)
            with hold_lock(ctx.engine, lock_name(org_id)):
                results.append(_run_sync(ctx, request, key, org_id, client_factory))
        return results

    def backfill(ctx: JobContext, request: BackfillRequest) -> list[OrgResult]:
        results = []
        for key in select_keys(_keys(ctx.settings), request.org, TITLE):
            org_id = org_id_of(key)
            with hold_lock(ctx.engine, lock_name(org_id)):
                results.append(_run_backfill(ctx, request, key, org_id, client_factory))
        return results

    def org_ids(ctx: JobContext, org: str | None) -> list[str]:
        return [org_id_of(key) for key in select_keys(_keys(ctx.settings), org, TITLE)]

    return ProviderJobs(
        name="cursor",
        tool=TOOL,
        title=TITLE,
        key_settings="CURSOR_ADMIN_KEY or CURSOR_ADMIN_KEYS",
        keys=_keys,
        sync=sync,
        backfill=backfill,
        org_ids=org_ids,
    )


def _failed(key: ProviderKey, org_id: str, exc: Exception) -> OrgResult:
    """Provider errors are already one sentence naming the team; anything else is a bug worth a traceback."""
    if isinstance(exc, ProviderError):
        message = str(exc)
    else:
        log.exception("Cursor team %s: unexpected failure", key.name)
        message = f"unexpected {type(exc).__name__}: {exc}"
    return OrgResult(org=key.name, org_id=org_id, ok=False, status="failed", message=message)


def _run_sync(
    ctx: JobContext, request: SyncRequest, key: ProviderKey, org_id: str, factory: ClientFactory
) -> OrgResult:
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
    ctx: JobContext, request: BackfillRequest, key: ProviderKey, org_id: str, factory: ClientFactory
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


def _prefixed(ctx: JobContext, key: ProviderKey) -> Callable[[str], None]:
    return lambda line: ctx.report(f"{key.name}: {line}")


JOBS = make_jobs()
