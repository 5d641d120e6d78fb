"""Sync health and gaps as every surface shows them: per provider, named and judged by the registry.

Storage stores usage per tool and org, and sync state per provider and org; these helpers hand the
registry's knowledge (which provider wrote an org's rows, how fresh each must be) to the storage queries,
so the CLI, Slack answers, digests and doctor all see the same providers under the same names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from charts.format import short_date
from providers import registry
from storage.analytics.gaps import STALE_AFTER_DAYS, ProviderGaps, find_gaps
from storage.analytics.status import ProviderStatus, SyncStatus, freshness_status, sync_status

# The two freshness words, the same in every answer, footer, digest and CLI report:
# "complete to" — everything the provider will report up to that moment has been fetched, so figures up to it
#   are final. A provider that reports whole days is complete to a day (the day before its sync watermark's
#   day); one with an hourly watermark (Cursor) is complete to an hour in UTC, or to the whole previous day
#   when the watermark is at midnight.
# "latest data" — the newest day with any usage stored. That day can still grow until the provider is
#   complete past it (today so far, or a day the provider publishes late).
COMPLETE_TO = "complete to"
LATEST_DATA = "latest data"


def resolve_source(name: str | None) -> set[str] | None:
    """The sync-state names an operator means by ``name``: one provider by its id (``claude-enterprise``), every
    provider of a tool (``claude``), or one provider by an alias; None means all. An unknown name is a
    LookupError listing the choices."""
    if name is None:
        return None
    wanted = name.strip().lower()
    exact = [spec for spec in registry.providers() if spec.id == wanted]
    if exact:
        return {exact[0].state_key}
    try:
        tool = registry.tool(wanted)
    except LookupError:
        try:
            return {registry.provider(wanted).state_key}
        except LookupError:
            names = [s.id for s in registry.providers()] + [t.short for t in registry.tools()]
            raise LookupError(f"Unknown provider {name!r}; use one of: {', '.join(dict.fromkeys(names))}.") from None
    return {spec.state_key for spec in registry.providers_of(tool.id)}


def all_tools() -> tuple[str, ...]:
    """The ids of every registered tool, in registry order: the per-tool columns of tables and exports."""
    return tuple(t.id for t in registry.tools())


def source_title(state_key: str) -> str:
    """How people call the provider behind a sync-state name."""
    spec = registry.by_state_key(state_key)
    return spec.title if spec else registry.tool_title(state_key)


def tool_of_source(state_key: str) -> str:
    """The tool a sync-state provider feeds (the name itself when no provider is registered under it)."""
    spec = registry.by_state_key(state_key)
    return spec.tool.id if spec else state_key


def status_of(session: Session, *, now: datetime, sources: set[str] | None = None, max_keys: int = 50) -> SyncStatus:
    status = sync_status(
        session,
        now=now,
        rules={spec.state_key: spec.freshness for spec in registry.providers()},
        source_of=registry.state_key_of,
        max_keys=max_keys if sources is None else 10_000,
    )
    status = replace(status, providers=[_with_notes(session, p, now) for p in status.providers])
    if sources is None:
        return status
    keys = [k for k in status.unmapped_keys if registry.state_key_of(k.provider, k.org_id) in sources]
    return SyncStatus(
        now=status.now,
        providers=[p for p in status.providers if p.provider in sources],
        unmapped_keys=keys[:max_keys],
        unmapped_key_count=len(keys),
        unmapped_tokens=sum(k.tokens for k in keys),
        unmapped_cost_usd=sum((k.cost_usd for k in keys), Decimal(0)),
        unmapped_by_tool=dict(Counter(k.provider for k in keys)),
    )


def _with_notes(session: Session, p: ProviderStatus, now: datetime) -> ProviderStatus:
    """The provider's own lines about an org's stored data (say, computed against reported cost)."""
    spec = registry.by_state_key(p.provider)
    if spec is None or spec.status_notes is None or not p.org_id:
        return p
    return replace(p, notes=spec.status_notes(session, p.org_id, now))


def footer_status(session: Session, *, now: datetime) -> SyncStatus:
    """The sync states and newest days behind every answer's freshness line, without scanning the data."""
    return freshness_status(
        session,
        now=now,
        tools=all_tools(),
        rules={spec.state_key: spec.freshness for spec in registry.providers()},
        tool_of=tool_of_source,
    )


def gaps_of(
    session: Session, *, today: date, sources: set[str] | None = None, stale_after_days: int = STALE_AFTER_DAYS
) -> list[ProviderGaps]:
    found = find_gaps(session, today=today, stale_after_days=stale_after_days, source_of=registry.state_key_of)
    return found if sources is None else [g for g in found if g.provider in sources]


def hourly(state_key: str) -> bool:
    """Whether a provider's data is complete to an hour (a watermark) rather than to a day."""
    spec = registry.by_state_key(state_key)
    return bool(spec and spec.freshness.max_watermark_age is not None)


def complete_to(watermark: datetime | None, *, hourly_mark: bool) -> str | None:
    """'Nov 30', or 'Dec 1 19:00 UTC' for a provider with an hourly watermark inside a day; None before the
    first successful sync. See ``COMPLETE_TO``."""
    if watermark is None:
        return None
    mark = watermark.astimezone(UTC)
    if hourly_mark and (mark.hour or mark.minute):
        return f"{short_date(mark.date())} {mark:%H:%M} UTC"
    return short_date(mark.date() - timedelta(days=1))


def freshness_words(provider: ProviderStatus) -> str:
    """'complete to Nov 30 · latest data Dec 1' for one provider and org, as status answers say it."""
    parts = []
    complete = complete_to(provider.forward_watermark, hourly_mark=hourly(provider.provider))
    if complete:
        parts.append(f"{COMPLETE_TO} {complete}")
    if provider.newest_data_day is not None:
        parts.append(f"{LATEST_DATA} {short_date(provider.newest_data_day)}")
    return " · ".join(parts) if parts else "no data yet"


def tool_freshness(tool: str, providers: Sequence[ProviderStatus]) -> str:
    """One tool's freshness in an answer's footer: complete to the moment of its provider (or org) furthest
    behind; for data stored without any sync (an import), its latest data day."""
    mine = [p for p in providers if tool_of_source(p.provider) == tool]
    marks = [(p.forward_watermark, p.provider) for p in mine]
    if mine and all(m is not None for m, _ in marks):
        mark, provider = min(((m, p) for m, p in marks if m is not None), key=lambda pair: pair[0])
        return f"{COMPLETE_TO} {complete_to(mark, hourly_mark=hourly(provider))}"
    newest = [p.newest_data_day for p in mine if p.newest_data_day is not None]
    if newest:
        return f"{LATEST_DATA} {short_date(max(newest))} (not synced by Abacus)"
    return "not synced yet"
