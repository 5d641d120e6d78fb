"""OpenAI jobs: settings -> one client per organisation -> sync or backfill, one result each."""

from __future__ import annotations

from providers.http import ONE_TRY
from providers.openai.client import OpenAIClient
from providers.openai.settings import OpenAISettings
from providers.openai.status import usd
from providers.openai.sync import BACKFILL_WINDOW_DAYS, OpenAISync, backfill_org, org_id_for_key, sync_org
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

TITLE = "OpenAI"
Context = JobContext[OpenAISettings]
# A backfill is complete after this many windows in a row (about three months) without any usage.
EMPTY_WINDOWS_TO_COMPLETE = 3


def org_id_of(key: ProviderKey) -> str:
    return org_id_for_key(key.key.get_secret_value(), key.name if key.labelled else None)


def client_for(settings: OpenAISettings, key: ProviderKey) -> OpenAIClient:
    return OpenAIClient(key.key.get_secret_value(), who=f"OpenAI org {key.name!r}", base_url=settings.openai_base_url)


def _summary(outcome: OpenAISync) -> str:
    parts = [
        f"{len(outcome.days_done)} day(s), {outcome.rows} usage row(s), computed cost {usd(outcome.cost_usd)} "
        f"(estimated at list prices) against {usd(outcome.reported_usd)} reported by OpenAI"
    ]
    if outcome.unpriced_models:
        parts.append(
            f"no price known for {', '.join(sorted(outcome.unpriced_models))}: "
            f"{outcome.unpriced_tokens:,} tokens stored without a cost"
        )
    if outcome.unmapped_keys:
        parts.append(f"{len(outcome.unmapped_keys)} API key(s) with no person kept unattributed (abacus mappings)")
    if outcome.unknown_users:
        parts.append(f"{len(outcome.unknown_users)} user id(s) with no known email kept unattributed")
    if outcome.error is not None:
        parts.append(f"stopped: {outcome.error}")
    return "; ".join(parts)


def _details(outcome: OpenAISync) -> dict[str, object]:
    return {
        "days": [d.isoformat() for d in outcome.days_done],
        "rows": outcome.rows,
        "computed_cost_usd": str(outcome.cost_usd),
        "reported_cost_usd": str(outcome.reported_usd),
        "unpriced_models": sorted(outcome.unpriced_models),
        "unpriced_tokens": outcome.unpriced_tokens,
        "unmapped_keys": sorted(outcome.unmapped_keys),
    }


def sync(ctx: Context, request: SyncRequest) -> list[OrgResult]:
    settings = ctx.settings
    today = ctx.now().date()
    days = request.days(today, settings.openai_lookback_days)

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
    start_before = request.start_before(today, settings.openai_lookback_days)
    days_per_run = request.max_windows or settings.openai_backfill_days_per_run
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
                complete_after_empty=EMPTY_WINDOWS_TO_COMPLETE,
                now=ctx.now,
                report=ctx.report,
            )
        return OrgResult.backfilled(
            key.name,
            org_id,
            outcome,
            records=totals.rows,
            done=f"{totals.rows} usage row(s) over {outcome.windows} window(s) of {BACKFILL_WINDOW_DAYS} days",
            details=_details(totals),
        )

    return each_org(settings.keys, request.org, TITLE, org_id_of, one)


def org_ids(ctx: Context, org: str | None) -> list[str]:
    return [org_id_of(key) for key in select_keys(ctx.settings.keys, org, TITLE)]


def probe(settings: OpenAISettings, key: ProviderKey, timeout: float) -> Probe:
    with OpenAIClient(
        key.key.get_secret_value(),
        who=f"OpenAI ({key.name})",
        base_url=settings.openai_base_url,
        retry=ONE_TRY,
        timeout=timeout,
    ) as client:
        client.check()
    return Probe(org_id_of(key), "valid Admin key (reads the organisation's usage, costs and users)")
