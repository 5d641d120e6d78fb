"""Where a person stands among active people by tokens per active day (the original's percentile, 7.7)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import BigInteger, Date, case, cast, distinct, func, literal, literal_column, select
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


# PostgreSQL: active days as bits of bigint words, one bit per day of the period (63 per word, never the
# sign bit), or-ed per person and counted here. Up to this many words; longer periods count distinct days.
_MAX_DAY_WORDS = 24


def tokens_per_active_day(session: Session, start: date, end: date) -> dict[str, float]:
    """Everyone with at least two active days in ``start..end``, and their tokens per active day."""
    days = (end - start).days + 1
    words = -(-days // _DAY_BITS)
    if session.get_bind().dialect.name == "postgresql" and 0 < words <= _MAX_DAY_WORDS:
        return _by_day_bits(session, start, end, words)
    stmt = (
        select(P.email, sum_tokens(P), func.count(distinct(P.date)))
        .where(in_range(start, end, P), P.email != "")
        .group_by(P.email)
        .having(func.count(distinct(P.date)) >= MIN_ACTIVE_DAYS)
    )
    return {email: int(tokens) / int(days) for email, tokens, days in session.execute(stmt)}


_DAY_BITS = 63


def _by_day_bits(session: Session, start: date, end: date, words: int) -> dict[str, float]:
    """:func:`tokens_per_active_day` without ``count(DISTINCT date)``, which sorts every person-day row of
    the period (a person has a row per tool and org each day) and spills to disk with PostgreSQL's default
    ``work_mem`` at a few thousand people. Or-ing each row's day bit into a few words per person is one
    hashed pass over the rows, as small as the number of people."""
    offset = P.date - literal(start, Date())  # PostgreSQL: date - date is a whole number of days
    bits = [
        func.bit_or(
            case(
                (
                    offset.between(word * _DAY_BITS, word * _DAY_BITS + _DAY_BITS - 1),
                    literal_column("1::bigint").op("<<")(offset - word * _DAY_BITS),
                ),
                else_=literal_column("0::bigint"),
            )
        )
        for word in range(words)
    ]
    stmt = (
        select(P.email, cast(sum_tokens(P), BigInteger), *bits)
        .where(in_range(start, end, P), P.email != "")
        .group_by(P.email)
    )
    values: dict[str, float] = {}
    for email, tokens, *masks in session.execute(stmt):
        active = sum(int(mask).bit_count() for mask in masks)
        if active >= MIN_ACTIVE_DAYS:
            values[email] = int(tokens) / active
    return values


def user_percentile(session: Session, email: str, start: date, end: date) -> Percentile:
    values = tokens_per_active_day(session, start, end)
    return Percentile(
        value=percentile_rank(values, email),
        population=len(values),
        tokens_per_active_day=round(values.get(email, 0)),
        rank=rank_of(values, email),
    )
