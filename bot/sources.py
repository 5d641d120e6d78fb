"""Sync health and gaps as every surface shows them: per provider, named and judged by the registry.

Storage stores usage per tool and org, and sync state per provider and org; these helpers hand the
registry's knowledge (which provider wrote an org's rows, how fresh each must be) to the storage queries,
so the CLI, Slack answers, digests and doctor all see the same providers under the same names.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from providers import registry
from storage.analytics.gaps import STALE_AFTER_DAYS, ProviderGaps, find_gaps
from storage.analytics.status import ProviderStatus, SyncStatus, freshness_status, sync_status


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
