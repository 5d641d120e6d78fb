"""Claude Enterprise Analytics jobs: settings -> one paced client per organisation -> sync, one result each."""

from __future__ import annotations

from datetime import UTC, datetime

from providers.claude_enterprise.client import EARLIEST_DAY, EnterpriseClient
from providers.claude_enterprise.settings import EnterpriseSettings
from providers.claude_enterprise.sync import (
    BACKFILL_WINDOW_DAYS,
    EnterpriseSync,
    backfill_org,
    org_id_for_key,
    sync_org,
)
from providers.http import ONE_TRY
from providers.pacing import RatePacer
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

TITLE = "Claude Code (Enterprise)"
Context = JobContext[EnterpriseSettings]


def org_id_of(key: ProviderKey) -> str:
    return org_id_for_key(key.key.get_secret_value(), key.name if key.labelled else None)


def client_for(settings: EnterpriseSettings, key: ProviderKey) -> EnterpriseClient:
    return EnterpriseClient(
        key.key.get_secret_value(),
        who=f"Claude Enterprise org {key.name!r}",
        base_url=settings.anthropic_base_url,
        pacer=RatePacer(settings.claude_enterprise_requests_per_minute, 60.0),
    )


def _summary(outcome: EnterpriseSync) -> str:
    parts = [f"{len(outcome.days_done)} day(s), {outcome.rows} usage row(s), {outcome.activity_rows} activity row(s)"]
    if outcome.days_not_ready:
        newest = outcome.latest_available_day
        parts.append(
            f"{len(outcome.days_not_ready)} recent day(s) not published yet"
            + (f" (newest available: {newest})" if newest else "")
        )
    if outcome.unattributed:
        parts.append(f"{len(outcome.unattributed)} deleted user(s) kept unattributed")
    if outcome.error is not None:
        parts.append(f"stopped: {outcome.error}")
    return "; ".join(parts)


def _details(outcome: EnterpriseSync) -> dict[str, object]:
    return {
        "days": [d.isoformat() for d in outcome.days_done],
        "days_not_ready": [d.isoformat() for d in outcome.days_not_ready],
        "rows": outcome.rows,
        "activity_rows": outcome.activity_rows,
        "data_refreshed_at": outcome.refreshed_at.isoformat() if outcome.refreshed_at else None,
    }


def sync(ctx: Context, request: SyncRequest) -> list[OrgResult]:
    settings = ctx.settings
    today = ctx.now().date()
    days = [day for day in request.days(today, settings.claude_enterprise_lookback_days) if day >= EARLIEST_DAY]

    def one(key: ProviderKey) -> OrgResult:
        org_id = org_id_of(key)
        with client_for(settings, key) as client:
            outcome = sync_org(ctx.engine, client, org_id, days, now=ctx.now, report=ctx.report)
        return OrgResult.synced(
            key.name,
            org_id,
            error=outcome.error,
            records=outcome.rows,
            days=len(outcome.days_done),
            message=_summary(outcome),
            details=_details(outcome),
        )

    return each_org(settings.keys, request.org, TITLE, org_id_of, one)


def backfill(ctx: Context, request: BackfillRequest) -> list[OrgResult]:
    settings = ctx.settings
    today = ctx.now().date()
    start_before = request.start_before(today, settings.claude_enterprise_lookback_days)
    days_per_run = request.max_windows or settings.claude_enterprise_backfill_days_per_run
    windows = max(1, -(-days_per_run // BACKFILL_WINDOW_DAYS))

    def one(key: ProviderKey) -> OrgResult:
        org_id = org_id_of(key)
        with client_for(settings, key) as client:
            outcome, totals = backfill_org(
                ctx.engine,
                client,
                org_id,
                target=request.target,
                start_before=start_before,
                max_windows=windows,
                # The API holds no data before its first day, so emptiness is no sign of the end.
                complete_after_empty=10_000,
                now=ctx.now,
                report=ctx.report,
            )
        return OrgResult.backfilled(
            key.name,
            org_id,
            outcome,
            records=totals.rows,
            done=f"{totals.rows} usage row(s) over {outcome.windows} week(s)",
            details=_details(totals),
        )

    return each_org(settings.keys, request.org, TITLE, org_id_of, one)


def org_ids(ctx: Context, org: str | None) -> list[str]:
    return [org_id_of(key) for key in select_keys(ctx.settings.keys, org, TITLE)]


def probe(settings: EnterpriseSettings, key: ProviderKey, timeout: float) -> Probe:
    with EnterpriseClient(
        key.key.get_secret_value(),
        who=f"Claude Enterprise ({key.name})",
        base_url=settings.anthropic_base_url,
        retry=ONE_TRY,
        timeout=timeout,
    ) as client:
        organization = client.check(datetime.now(UTC).date())
    return Probe(org_id_of(key), f"valid (read:analytics) for organisation {organization or 'unknown'}")
