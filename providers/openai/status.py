"""What `abacus status` says about an OpenAI organisation beyond sync health: the cost Abacus computed from
list prices against the cost OpenAI reports for the whole organisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from providers.openai import OPENAI
from providers.openai.settings import STATE_KEY
from storage.reported_costs import cost_check

# Days of computed against reported cost that `status` compares.
COST_CHECK_DAYS = 30


def usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def status_notes(session: Any, org_id: str, now: datetime) -> tuple[str, ...]:
    """Computed (price table) against reported (OpenAI's costs) for the last days both are stored for."""
    last = now.astimezone(UTC).date()
    first = last - timedelta(days=COST_CHECK_DAYS - 1)
    notes = []
    for check in cost_check(session, provider=STATE_KEY, tool=OPENAI.id, org_ids=[org_id], first=first, last=last):
        diff = check.difference_usd
        share = f" ({diff / check.reported_usd:+.1%})" if check.reported_usd else ""
        notes.append(
            f"Cost {check.first} to {check.last} ({check.days} days): computed {usd(check.computed_usd)} "
            f"from list prices, OpenAI reports {usd(check.reported_usd)} for the organisation; difference "
            f"{'+' if diff >= 0 else '-'}{usd(abs(diff))}{share}. The reported figure also covers usage "
            "that is not completions (embeddings, images, audio, tools) and any discounts."
        )
        if check.unpriced_tokens:
            notes.append(
                f"No price known for {', '.join(check.unpriced_models)}: {check.unpriced_tokens:,} tokens in those "
                "days are stored with no cost (their cost is missing from the computed figure, not zero)."
            )
    return tuple(notes)
