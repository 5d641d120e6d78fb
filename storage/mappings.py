"""Identity mappings (an API key name or another tool's login -> a person) and re-attribution of their usage.

An identity is any actor that is not an email (``actor_type`` other than ``user``): a Claude Code API key
name, a GitHub login. Mappings are kept per source, which is the tool id of the usage they attribute.

Changing a mapping moves that key's whole history: its usage and activity rows get the new email (or
go back to unattributed), and the daily rollup of every affected day is re-derived, in the caller's
transaction. Every change is written to ``identity_mapping_changes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, select, true, update
from sqlalchemy.orm import Session

from storage.copilot_activity import TOOL as COPILOT
from storage.copilot_activity import reattribute as reattribute_copilot_activity
from storage.models import ClaudeCodeActivity, IdentityMapping, IdentityMappingChange, Usage
from storage.writes import refresh_daily_rollup

CLAUDE_CODE = "claude_code"


@dataclass(frozen=True, slots=True)
class Reattribution:
    rows: int
    total_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True, slots=True)
class UnmappedKey:
    org_id: str
    key_name: str
    rows: int
    total_tokens: int
    cost_usd: Decimal
    first_date: date
    last_date: date
    tool: str = CLAUDE_CODE  # the tool whose usage the key carries (also its mappings' source)
    actor_type: str = "api_key"  # an API key, or another tool's own identity (a GitHub login)


# Actors that are people already (an email); every other actor type is an identity to be mapped.
PERSON = "user"


def load_mappings(session: Session, source: str, org_id: str) -> dict[str, str]:
    """external id -> email for one org; org-wide ('' org) mappings apply to every org."""
    rows = session.execute(
        select(IdentityMapping.external_id, IdentityMapping.email, IdentityMapping.org_id)
        .where(IdentityMapping.source == source, IdentityMapping.org_id.in_([org_id, ""]))
        .order_by(IdentityMapping.org_id)  # '' first, so an org-specific mapping wins
    )
    return {external_id: email for external_id, email, _org in rows}


def list_mappings(session: Session) -> list[IdentityMapping]:
    return list(session.scalars(select(IdentityMapping).order_by(IdentityMapping.source, IdentityMapping.external_id)))


def set_mapping(
    session: Session,
    *,
    source: str,
    org_id: str,
    external_id: str,
    email: str,
    method: str,
    by: str,
    now: datetime,
) -> Reattribution | None:
    """Create, change (or with ``email=""`` remove) a mapping and move the key's history with it.

    Returns what moved, or None when nothing changed (the mapping already said exactly that).
    """
    source = key_source(session, source, org_id, external_id)
    email = email.strip().lower()
    existing = session.scalar(
        select(IdentityMapping).where(
            IdentityMapping.source == source,
            IdentityMapping.org_id == org_id,
            IdentityMapping.external_id == external_id,
        )
    )
    if (existing.email if existing else "") == email:
        return None
    _write_mapping(session, existing, source, org_id, external_id, email, method, by, now)
    return _reattribute(session, source, org_id, external_id, email)


def removed_mappings(session: Session, source: str, org_id: str) -> set[str]:
    """Identities whose mapping was removed and not set again (their latest change left no email): a provider
    that fills in emails on its own must leave them unattributed, as the admin chose."""
    changes = session.execute(
        select(IdentityMappingChange.external_id, IdentityMappingChange.new_email)
        .where(IdentityMappingChange.source == source, IdentityMappingChange.org_id.in_([org_id, ""]))
        .order_by(IdentityMappingChange.id)  # the order they were made in, whatever clocks said
    )
    latest = {external_id: new_email for external_id, new_email in changes}
    return {external_id for external_id, email in latest.items() if not email}


def remember_identities(
    session: Session, *, source: str, org_id: str, emails: Mapping[str, str], by: str, now: datetime
) -> int:
    """Record what a provider says about its own user ids (id -> email), with the audit trail, in bulk.

    Unlike :func:`set_mapping` nothing is re-attributed: the provider's rows already carry these emails, and
    the mapping is kept only so a later row without an email (a deleted user) can still be attributed.
    Returns how many mappings were created or changed.
    """
    wanted = {external_id: email.strip().lower() for external_id, email in emails.items() if email.strip()}
    if not wanted:
        return 0
    existing: dict[str, IdentityMapping] = {}
    ids = sorted(wanted)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for mapping in session.scalars(
            select(IdentityMapping).where(
                IdentityMapping.source == source,
                IdentityMapping.org_id == org_id,
                IdentityMapping.external_id.in_(chunk),
            )
        ):
            existing[mapping.external_id] = mapping
    changed = 0
    for external_id, email in wanted.items():
        current = existing.get(external_id)
        if current is not None and current.email == email:
            continue
        _write_mapping(session, current, source, org_id, external_id, email, "provider_api", by, now)
        changed += 1
    return changed


def _write_mapping(
    session: Session,
    existing: IdentityMapping | None,
    source: str,
    org_id: str,
    external_id: str,
    email: str,
    method: str,
    by: str,
    now: datetime,
) -> None:
    """Create, change or (``email=""``) remove one mapping, and record the change in the audit trail."""
    old_email = existing.email if existing else ""
    if existing and not email:
        session.delete(existing)
    elif existing:
        existing.email, existing.method, existing.mapped_by, existing.updated_at = email, method, by, now
    else:
        session.add(
            IdentityMapping(
                source=source,
                org_id=org_id,
                external_id=external_id,
                email=email,
                method=method,
                mapped_by=by,
                created_at=now,
                updated_at=now,
            )
        )
    session.add(
        IdentityMappingChange(
            source=source,
            org_id=org_id,
            external_id=external_id,
            old_email=old_email,
            new_email=email,
            method=method,
            changed_by=by,
            changed_at=now,
        )
    )


def _reattribute(session: Session, tool: str, org_id: str, key_name: str, email: str) -> Reattribution:
    which = and_(Usage.tool == tool, Usage.actor_type != PERSON, Usage.actor == key_name)
    if org_id:
        which = and_(which, Usage.org_id == org_id)
    tokens = Usage.input_tokens + Usage.cache_write_tokens + Usage.cache_read_tokens + Usage.output_tokens
    count, total, cost = session.execute(
        select(func.count(), func.coalesce(func.sum(tokens), 0), func.coalesce(func.sum(Usage.cost_usd), 0)).where(
            which
        )
    ).one()
    days = {(tool, d) for (d,) in session.execute(select(Usage.date).where(which).distinct())}
    session.execute(update(Usage).where(which).values(email=email))
    if tool == CLAUDE_CODE:  # another tool's key of the same name is not this activity's actor
        activity = and_(ClaudeCodeActivity.actor_type == "api_key", ClaudeCodeActivity.actor == key_name)
        if org_id:
            activity = and_(activity, ClaudeCodeActivity.org_id == org_id)
        session.execute(update(ClaudeCodeActivity).where(activity).values(email=email))
    if tool == COPILOT:
        reattribute_copilot_activity(session, org_id, key_name, email)
    refresh_daily_rollup(session, days)
    return Reattribution(int(count), int(total), Decimal(cost))


def unmapped_keys(session: Session, tool: str | None = None) -> list[UnmappedKey]:
    """Identities (API keys, logins) whose usage is still unattributed, largest cost first; every tool's for None."""
    tokens = Usage.input_tokens + Usage.cache_write_tokens + Usage.cache_read_tokens + Usage.output_tokens
    rows = session.execute(
        select(
            Usage.org_id,
            Usage.actor,
            func.count(),
            func.sum(tokens),
            func.sum(Usage.cost_usd),
            func.min(Usage.date),
            func.max(Usage.date),
            Usage.tool,
            Usage.actor_type,
        )
        .where(Usage.tool == tool if tool else true(), Usage.actor_type != PERSON, Usage.email == "")
        .group_by(Usage.tool, Usage.actor_type, Usage.org_id, Usage.actor)
        .order_by(func.sum(Usage.cost_usd).desc(), Usage.actor)
    )
    return [
        UnmappedKey(org, name, int(n), int(t or 0), Decimal(c or 0), first, last, kind, actor_type)
        for org, name, n, t, c, first, last, kind, actor_type in rows
    ]


def key_source(session: Session, source: str, org_id: str, external_id: str) -> str:
    """The tool whose API key ``external_id`` of ``org_id`` is: ``source``, unless the key's usage says otherwise.

    Every provider stores its organisations under ids of its own (``openai:...``, ``claude-enterprise:...``),
    so an org and a key name identify one tool's key. Callers that know only the key and its org (the CLI,
    the Slack mapping) pass the default source and still map, say, an OpenAI key under the tool ``openai``.
    """
    if not org_id:
        return source
    tools = set(
        session.scalars(
            select(Usage.tool)
            .where(Usage.org_id == org_id, Usage.actor_type != PERSON, Usage.actor == external_id)
            .distinct()
        )
    )
    return tools.pop() if len(tools) == 1 else source


def current_mapping(session: Session, source: str, org_id: str, external_id: str) -> IdentityMapping | None:
    source = key_source(session, source, org_id, external_id)
    return session.scalar(
        select(IdentityMapping).where(
            IdentityMapping.source == source,
            IdentityMapping.org_id == org_id,
            IdentityMapping.external_id == external_id,
        )
    )


def key_orgs(session: Session, key_name: str, source: str | None = None) -> set[str]:
    """The organisations in which an API key name has usage or a mapping (of one tool, or of every tool)."""
    used = session.scalars(
        select(Usage.org_id)
        .where(Usage.tool == source if source else true(), Usage.actor_type != PERSON, Usage.actor == key_name)
        .distinct()
    )
    mapped = session.scalars(
        select(IdentityMapping.org_id).where(
            IdentityMapping.source == source if source else IdentityMapping.source.in_(_key_sources(session)),
            IdentityMapping.external_id == key_name,
        )
    )
    return set(used) | set(mapped)


def api_keys(session: Session, source: str | None = None) -> set[tuple[str, str]]:
    """Every (org, API key name) with usage or a mapping: what a key id from Slack is resolved against."""
    used = session.execute(
        select(Usage.org_id, Usage.actor)
        .where(Usage.tool == source if source else true(), Usage.actor_type != PERSON)
        .distinct()
    )
    mapped = session.execute(
        select(IdentityMapping.org_id, IdentityMapping.external_id).where(
            IdentityMapping.source == source if source else IdentityMapping.source.in_(_key_sources(session))
        )
    )
    return {(str(o), str(k)) for o, k in used} | {(str(o), str(k)) for o, k in mapped}


def _key_sources(session: Session) -> list[str]:
    """Mapping sources that hold identities to map (API keys, logins): the tool ids with such usage (never a
    provider's remembered user ids, which live under sources of their own)."""
    tools = set(session.scalars(select(Usage.tool).where(Usage.actor_type != PERSON).distinct()))
    return sorted(tools | {CLAUDE_CODE})
