"""Database-wide figures for ``abacus stats``: what is stored, for whom, over which dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import IdentityMapping, UsageDaily

_D = UsageDaily


_TOTAL_TOKENS = _D.input_tokens + _D.cache_write_tokens + _D.cache_read_tokens + _D.output_tokens


@dataclass(frozen=True, slots=True)
class ToolStats:
    tool: str
    records: int
    total_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True, slots=True)
class UserTotal:
    email: str
    records: int
    total_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True, slots=True)
class Unattributed:
    records: int
    total_tokens: int
    cost_usd: Decimal
    keys: int  # identities (API keys, logins) with unattributed usage, each counted once per tool and org
    keys_by_tool: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stats:
    records: int
    total_tokens: int
    total_cost_usd: Decimal
    by_tool: list[ToolStats]
    top_users: list[UserTotal]
    first_date: date | None
    last_date: date | None
    mappings: int
    unattributed: Unattributed
    people: int


def collect_stats(session: Session, *, top: int = 10) -> Stats:
    """Totals from the daily rollup (never a scan of raw events), zeros on an empty database."""
    tokens = func.coalesce(func.sum(_TOTAL_TOKENS), 0)
    cost = func.coalesce(func.sum(_D.cost_usd), 0)
    records = func.coalesce(func.sum(_D.records), 0)

    total_records, total_tokens, total_cost, first, last = session.execute(
        select(records, tokens, cost, func.min(_D.date), func.max(_D.date))
    ).one()
    by_tool = [
        ToolStats(tool, int(n), int(t), Decimal(c))
        for tool, n, t, c in session.execute(
            select(_D.tool, records, tokens, cost).group_by(_D.tool).order_by(tokens.desc(), _D.tool)
        )
    ]
    top_users = [
        UserTotal(email, int(n), int(t), Decimal(c))
        for email, n, t, c in session.execute(
            select(_D.email, records, tokens, cost)
            .where(_D.email != "")
            .group_by(_D.email)
            .order_by(tokens.desc(), _D.email)
            .limit(top)
        )
    ]
    people = session.scalar(select(func.count(func.distinct(_D.email))).where(_D.email != "")) or 0
    u_records, u_tokens, u_cost = session.execute(select(records, tokens, cost).where(_D.email == "")).one()
    identity = func.count(func.distinct(_D.org_id + ":" + _D.actor))
    u_by_tool = {
        str(tool): int(n)
        for tool, n in session.execute(select(_D.tool, identity).where(_D.email == "").group_by(_D.tool))
    }
    mappings = session.scalar(select(func.count()).select_from(IdentityMapping)) or 0
    return Stats(
        records=int(total_records),
        total_tokens=int(total_tokens),
        total_cost_usd=Decimal(total_cost),
        by_tool=by_tool,
        top_users=top_users,
        first_date=first,
        last_date=last,
        mappings=int(mappings),
        unattributed=Unattributed(int(u_records), int(u_tokens), Decimal(u_cost), sum(u_by_tool.values()), u_by_tool),
        people=int(people),
    )
