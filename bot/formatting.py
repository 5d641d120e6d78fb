"""Number formatting and the few phrases shared by the CLI, Slack answers and digests, so every surface
says the same thing the same way (the original's number rules; shares, ranks and cost notes)."""

from __future__ import annotations

import math

from charts.format import share as format_share
from charts.format import tokens as format_tokens
from charts.format import usd as format_usd

__all__ = [
    "CLAUDE_CODE_ESTIMATE_NOTE",
    "format_share",
    "format_tokens",
    "format_usd",
    "ordinal",
    "standing",
]

# Anthropic's Admin API reports Claude Code cost as an estimate at list prices (and Enterprise Analytics
# does the same for seats); Cursor reports what it charged. Worded once, shown wherever cost is split by tool.
CLAUDE_CODE_ESTIMATE_NOTE = "Claude Code cost is Anthropic's estimate at list prices (est.), not an invoice."
# A "top N%" is shown only when it flatters: within the top quarter.
FLATTERING_TOP_PCT = 25


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 102nd."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def standing(rank: int, population: int) -> str:
    """Where someone stands among ``population`` active people: '3rd of 40 active people', plus '(top 8%)'
    when that is within the top quarter. ``top`` is ``ceil(rank / population * 100)``, at least 1."""
    text = f"{ordinal(rank)} of {population:,} active {'person' if population == 1 else 'people'}"
    top = max(1, math.ceil(rank / population * 100)) if population else 100
    if population >= 4 and top <= FLATTERING_TOP_PCT:
        text += f" (top {top}%)"
    return text
