"""What a provider declares about the freshness of its data, apart from the queries that judge it.

Each provider's spec carries a rule, and every command reads the specs, so the rule lives where importing it
does not also import the status queries and the tables they read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class FreshnessRule:
    """When a provider's data counts as up to date. Every limit that is set must hold.

    ``max_complete_day_lag``: the newest complete day is at least ``today - lag`` (UTC).
    ``max_success_age``: the last successful sync is at most this old.
    ``max_watermark_age``: the forward watermark is at most this far behind now.
    """

    max_complete_day_lag: int | None = None
    max_success_age: timedelta | None = None
    max_watermark_age: timedelta | None = None
