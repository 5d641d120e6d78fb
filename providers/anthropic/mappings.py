"""Mapping API keys to the people who created them, from each Anthropic org's users and keys.

Shared by `abacus mappings sync` and the daily scheduled job. Mappings an admin made by hand are never
overwritten by what the provider's directory says; key names shared by several people are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from providers.anthropic.jobs import TITLE, client_for
from providers.anthropic.settings import AnthropicSettings
from providers.anthropic.sync import KeyDirectory
from providers.errors import ProviderError
from providers.spec import JobContext, select_keys, utc_now
from storage.db import transaction
from storage.mappings import CLAUDE_CODE, set_mapping
from storage.models import IdentityMapping

# Mappings an admin made by hand are never overwritten by what the provider's directory says.
MANUAL_METHODS = {"slack", "cli"}


@dataclass(frozen=True, slots=True)
class MappingSyncResult:
    org: str
    ok: bool
    org_id: str = ""
    created: int = 0
    updated: int = 0
    kept: int = 0
    clashes: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""


def sync_mappings(
    settings: AnthropicSettings, engine: Engine, *, org: str | None = None, now: Callable[[], datetime] = utc_now
) -> list[MappingSyncResult]:
    """One result per configured Anthropic org (or the one named); an org that fails does not stop the rest."""
    keys = select_keys(settings.keys, org, TITLE) if settings.keys else []
    results = []
    for key in keys:
        with client_for(settings, key) as client:
            try:
                organization = client.organization()
                directory = KeyDirectory.fetch(client)
            except ProviderError as exc:
                results.append(MappingSyncResult(key.name, ok=False, error=str(exc)))
                continue
        created = updated = kept = 0
        with transaction(engine) as session:
            existing = {
                m.external_id: m
                for m in session.scalars(
                    select(IdentityMapping).where(
                        IdentityMapping.source == CLAUDE_CODE, IdentityMapping.org_id == organization.id
                    )
                )
            }
            for name, email in sorted(directory.emails.items()):
                current = existing.get(name)
                if current is not None and (current.method in MANUAL_METHODS or current.email == email):
                    kept += 1
                    continue
                set_mapping(
                    session,
                    source=CLAUDE_CODE,
                    org_id=organization.id,
                    external_id=name,
                    email=email,
                    method="provider_api",
                    by="anthropic-api",
                    now=now(),
                )
                if current is None:
                    created += 1
                else:
                    updated += 1
        results.append(
            MappingSyncResult(
                key.name,
                ok=True,
                org_id=organization.id,
                created=created,
                updated=updated,
                kept=kept,
                clashes=dict(directory.clashes),
            )
        )
    return results


def mappings_job(ctx: JobContext[AnthropicSettings]) -> tuple[int, str | None]:
    """The scheduled API key mappings sync: mappings made or changed, and what failed (None when nothing did)."""
    results = sync_mappings(ctx.settings, ctx.engine, now=ctx.now)
    failed = [f"{r.org}: {r.error}" for r in results if not r.ok]
    return sum(r.created + r.updated for r in results), "; ".join(failed) or None
