"""Claude Code jobs: settings -> Anthropic clients -> providers.anthropic.sync, one result per org."""

from __future__ import annotations

from providers.anthropic.client import AnthropicClient
from providers.anthropic.settings import AnthropicSettings
from providers.anthropic.sync import OrgSync, backfill_org, sync_org
from providers.errors import ProviderError
from providers.http import ONE_TRY
from providers.spec import BackfillRequest, JobContext, OrgResult, Probe, ProviderKey, SyncRequest, select_keys

TITLE = "Claude Code"


def client_for(settings: AnthropicSettings, key: ProviderKey) -> AnthropicClient:
    return AnthropicClient(
        key.key.get_secret_value(), who=f"Claude Code org {key.name!r}", base_url=settings.anthropic_base_url
    )


def _details(sync: OrgSync) -> dict[str, object]:
    return {
        "organization": sync.org.name,
        "days": [d.isoformat() for d in sync.days_done],
        "records": sync.records,
        "rows": sync.rows,
        "unattributed_keys": sorted(sync.unresolved_keys),
        "key_name_clashes": sync.clashes,
    }


def _summary(sync: OrgSync) -> str:
    parts = [f"{len(sync.days_done)} day(s), {sync.records} record(s)"]
    if sync.unresolved_keys:
        parts.append(f"{len(sync.unresolved_keys)} API key(s) unattributed (map them: `abacus mappings`)")
    if sync.clashes:
        parts.append("key names shared by several people: " + ", ".join(sorted(sync.clashes)))
    if sync.error is not None:
        parts.append(f"stopped: {sync.error}")
    return "; ".join(parts)


def sync(ctx: JobContext[AnthropicSettings], request: SyncRequest) -> list[OrgResult]:
    settings = ctx.settings
    today = ctx.now().date()
    days = request.days(today, settings.claude_code_lookback_days)
    results = []
    for key in select_keys(settings.keys, request.org, TITLE):
        with client_for(settings, key) as client:
            try:
                outcome = sync_org(ctx.engine, client, days, now=ctx.now, report=ctx.report)
            except ProviderError as exc:  # the org itself could not be reached (bad key, outage)
                results.append(OrgResult.unreachable(key.name, "", exc))
                continue
        results.append(
            OrgResult.synced(
                key.name,
                outcome.org.id,
                error=outcome.error,
                records=outcome.records,
                days=len(outcome.days_done),
                message=_summary(outcome),
                details=_details(outcome),
            )
        )
    return results


def backfill(ctx: JobContext[AnthropicSettings], request: BackfillRequest) -> list[OrgResult]:
    settings = ctx.settings
    today = ctx.now().date()
    start_before = request.start_before(today, settings.claude_code_lookback_days)
    results = []
    for key in select_keys(settings.keys, request.org, TITLE):
        with client_for(settings, key) as client:
            try:
                org, outcome, totals = backfill_org(
                    ctx.engine,
                    client,
                    target=request.target,
                    start_before=start_before,
                    max_days=request.max_windows or settings.claude_code_backfill_days_per_run,
                    complete_after_empty=settings.claude_code_backfill_empty_days,
                    now=ctx.now,
                    report=ctx.report,
                )
            except ProviderError as exc:
                results.append(OrgResult.unreachable(key.name, "", exc))
                continue
        results.append(
            OrgResult.backfilled(
                key.name,
                org.id,
                outcome,
                records=outcome.records,
                done=f"{outcome.windows} day(s), {outcome.records} record(s)",
                details=_details(totals),
            )
        )
    return results


def org_ids(ctx: JobContext[AnthropicSettings], org: str | None) -> list[str]:
    ids = []
    for key in select_keys(ctx.settings.keys, org, TITLE):
        with client_for(ctx.settings, key) as client:
            ids.append(client.organization().id)
    return ids


def probe(settings: AnthropicSettings, key: ProviderKey, timeout: float) -> Probe:
    with AnthropicClient(
        key.key.get_secret_value(),
        who=f"Anthropic ({key.name})",
        base_url=settings.anthropic_base_url,
        timeout=timeout,
        policy=ONE_TRY,
    ) as client:
        org = client.organization()
    return Probe(org.id, f"valid for organisation {org.name or org.id}")
