"""Copilot jobs: settings -> one client per organisation (or the enterprise) -> sync, one result each."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from providers.copilot.client import CopilotClient
from providers.copilot.settings import SETTLING_DAYS, STATE_KEY, CopilotSettings, Scope
from providers.copilot.sync import CopilotSync, backfill_org, earliest_day, sync_org
from providers.http import ONE_TRY
from providers.spec import (
    BackfillRequest,
    JobContext,
    OrgResult,
    Probe,
    ProviderKey,
    SyncRequest,
    each_org,
    select_keys,
)
from providers.sync_engine import DAY
from storage.db import transaction
from storage.sync_state import get_state

TITLE = "GitHub Copilot"
# A forward sync that finds its watermark older than its window catches up from there, but at most this far.
MAX_CATCH_UP_DAYS = 28
Context = JobContext[CopilotSettings]


def client_for(settings: CopilotSettings, key: ProviderKey, scope: Scope) -> CopilotClient:
    return CopilotClient(
        key.key.get_secret_value(),
        who=f"GitHub Copilot {scope.title}",
        scope_path=scope.path,
        base_url=settings.github_api_url,
    )


def _summary(outcome: CopilotSync) -> str:
    parts = [f"{len(outcome.days_done)} day(s), {outcome.rows} person-day(s), {outcome.activity_rows} activity row(s)"]
    if outcome.days_without_report:
        parts.append(f"{len(outcome.days_without_report)} day(s) without a report yet")
    if outcome.unmapped:
        parts.append(f"{len(outcome.unmapped)} GitHub login(s) not mapped to an email (abacus mappings)")
    if outcome.emails_from_seats:
        parts.append(f"{outcome.emails_from_seats} email(s) learnt from seats")
    if outcome.error is not None:
        parts.append(f"stopped: {outcome.error}")
    return "; ".join(parts)


def _details(outcome: CopilotSync) -> dict[str, object]:
    return {
        "days": [d.isoformat() for d in outcome.days_done],
        "days_without_report": [d.isoformat() for d in outcome.days_without_report],
        "rows": outcome.rows,
        "activity_rows": outcome.activity_rows,
        "unmapped_logins": sorted(outcome.unmapped),
    }


def _forward_days(ctx: Context, scope: Scope, today: date) -> list[date]:
    """The settling window (yesterday and the days before it), reaching back to the watermark if it is older."""
    start = today - timedelta(days=ctx.settings.copilot_lookback_days)
    with transaction(ctx.engine) as session:
        watermark = get_state(session, STATE_KEY, scope.org_id).forward_watermark
    if watermark is not None:
        start = min(start, max(watermark.date(), today - timedelta(days=MAX_CATCH_UP_DAYS)))
    return [start + timedelta(days=i) for i in range((today - start).days)]


def sync(ctx: Context, request: SyncRequest) -> list[OrgResult]:
    settings = ctx.settings
    today = ctx.now().date()

    def one(key: ProviderKey) -> OrgResult:
        scope = settings.scope(key.name)
        if request.start is None:
            days = _forward_days(ctx, scope, today)
        else:
            end = request.end or request.start
            days = [request.start + timedelta(days=i) for i in range((end - request.start).days + 1)]
        # Today's report never exists yet; asking for it would only cost a request.
        days = [day for day in days if day < today]
        with client_for(settings, key, scope) as client:
            outcome = sync_org(ctx.engine, client, scope, days, now=ctx.now, report=ctx.report)
        return OrgResult.synced(
            key.name,
            scope.org_id,
            error=outcome.error,
            records=outcome.rows,
            days=len(outcome.days_done),
            message=_summary(outcome),
            details=_details(outcome),
        )

    return each_org(settings.keys, request.org, TITLE, lambda key: settings.scope(key.name).org_id, one)


def backfill(ctx: Context, request: BackfillRequest) -> list[OrgResult]:
    settings = ctx.settings
    today = ctx.now().date()
    # The forward sync owns the settling window; a backfill starts just below it.
    start_before = today - timedelta(days=settings.copilot_lookback_days)
    if request.newest is not None:
        start_before = min(start_before, request.newest + DAY)
    max_windows = request.max_windows or settings.copilot_backfill_days_per_run

    def one(key: ProviderKey) -> OrgResult:
        scope = settings.scope(key.name)
        with client_for(settings, key, scope) as client:
            outcome, totals = backfill_org(
                ctx.engine,
                client,
                scope,
                target=max(request.target, earliest_day(scope)),
                start_before=start_before,
                max_windows=max_windows,
                now=ctx.now,
                report=ctx.report,
            )
        return OrgResult.backfilled(
            key.name,
            scope.org_id,
            outcome,
            records=totals.rows,
            done=f"{totals.rows} person-day(s) over {outcome.windows} day(s)",
            details=_details(totals),
        )

    return each_org(settings.keys, request.org, TITLE, lambda key: settings.scope(key.name).org_id, one)


def org_ids(ctx: Context, org: str | None) -> list[str]:
    return [ctx.settings.scope(key.name).org_id for key in select_keys(ctx.settings.keys, org, TITLE)]


def probe(settings: CopilotSettings, key: ProviderKey, timeout: float) -> Probe:
    scope = settings.scope(key.name)
    day = datetime.now(UTC).date() - timedelta(days=SETTLING_DAYS)
    with CopilotClient(
        key.key.get_secret_value(),
        who=f"GitHub Copilot {scope.title}",
        scope_path=scope.path,
        base_url=settings.github_api_url,
        retry=ONE_TRY,
        timeout=timeout,
    ) as client:
        has_report = client.check(day)
    found = f"a report for {day}" if has_report else f"no report for {day} yet"
    return Probe(scope.org_id, f"reads the Copilot usage reports of {scope.title} ({found})")
