"""Where a person stands among active people by tokens per active day (the original's percentile, 7.7)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from storage.analytics.common import P, in_range, sum_tokens

# People with fewer active days in the period are not ranked: one busy day says little.
MIN_ACTIVE_DAYS = 2


@dataclass(frozen=True, slots=True)
class Percentile:
    """``value`` 0..100 (100 = the heaviest user); None when the person is not ranked (under 2 active days).
    ``rank``: 1 for the heaviest user, ties share the better rank (so two people can both be 3rd); None
    when not ranked. Answers say "3rd of 40 active people" from ``rank`` and ``population``."""

    value: int | None
    population: int
    tokens_per_active_day: int
    rank: int | None = None


def percentile_rank(values: Mapping[str, float], who: str) -> int | None:
    """The original formula ``round((N - 1 - index) / (N - 1) * 100)`` over values sorted descending, with
    one fix (W15): tied values share the best index, so equal usage gives an equal percentile instead of one
    that depends on sort order. A single ranked person is at 100; someone not in ``values`` gets None."""
    if who not in values:
        return None
    n = len(values)
    if n == 1:
        return 100
    index = sum(1 for v in values.values() if v > values[who])
    return max(0, min(100, round((n - 1 - index) / (n - 1) * 100)))


def rank_of(values: Mapping[str, float], who: str) -> int | None:
    """1 + how many people have a strictly higher value (ties share the better rank); None if not ranked."""
    if who not in values:
        return None
    return 1 + sum(1 for v in values.values() if v > values[who])


def tokens_per_active_day(session: Session, start: date, end: date) -> dict[str, float]:
    """Everyone with at least two active days in ``start..end``, and their tokens per active day."""
    stmt = (
        select(P.email, sum_tokens(P), func.count(distinct(P.date)))
        .where(in_range(start, end, P), P.email != "")
        .group_by(P.email)
        .having(func.count(distinct(P.date)) >= MIN_ACTIVE_DAYS)
    )
    return {email: int(tokens) / int(days) for email, tokens, days in session.execute(stmt)}


def user_percentile(session: Session, email: str, start: date, end: date) -> Percentile:
    values = tokens_per_active_day(session, start, end)
    return Percentile(
        value=percentile_rank(values, email),
        population=len(values),
        tokens_per_active_day=round(values.get(email, 0)),
        rank=rank_of(values, email),
    )
