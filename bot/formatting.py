"""Number formatting and the few phrases shared by the CLI, Slack answers and digests, so every surface
says the same thing the same way (the original's number rules; shares, ranks and cost notes)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from charts.format import share as format_share
from charts.format import tokens as format_tokens
from charts.format import usd as format_usd
from providers import registry

__all__ = [
    "PEOPLE_TOTAL",
    "cost_notes",
    "est",
    "format_share",
    "format_tokens",
    "format_usd",
    "identities",
    "ordinal",
    "standing",
    "token_shares",
    "uncounted_costs",
]

# What the top chart's total is when unattributed usage exists: the people's, as the answers' lead says.
PEOPLE_TOTAL = "people's total (unattributed usage excluded)"
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


def est(tool: str) -> str:
    """' est.' after the cost of a tool whose provider estimates it (Claude Code), else nothing."""
    return " est." if registry.cost_is_estimated(tool) else ""


def token_shares(tokens_by_tool: Mapping[str, int]) -> list[tuple[str, float]]:
    """Each tool's share of the tokens, largest first, among tools counted in tokens only: a tool that bills in
    credits and reports tokens for a few uses would otherwise show as nearly unused (its cost is shown
    instead, and :func:`cost_notes` says why)."""
    counted = {t: v for t, v in tokens_by_tool.items() if registry.counts_tokens(t)}
    total = sum(counted.values())
    return [(t, v / total * 100) for t, v in sorted(counted.items(), key=lambda i: -i[1])] if total else []


def uncounted_costs(cost_by_tool_rows: Iterable[Mapping[str, Decimal]]) -> dict[str, Decimal]:
    """The cost of each tool not counted in tokens, summed over rows' ``cost_by_tool`` (a person's models):
    what a split by tool shows for those tools instead of a share of the tokens."""
    costs: dict[str, Decimal] = {}
    for row in cost_by_tool_rows:
        for tool, cost in row.items():
            if cost and not registry.counts_tokens(tool):
                costs[tool] = costs.get(tool, Decimal(0)) + cost
    return costs


def identity_word(tool: str) -> str:
    """What a tool calls an identity of it that is not an email: "API key", "GitHub login"."""
    return next((t.identity for t in registry.tools() if t.id == tool), "API key")


def identities(keys_by_tool: Mapping[str, int], total: int) -> str:
    """Unmapped identities by what each tool calls them: "2 API keys and 1 GitHub login"."""
    counts: dict[str, int] = {}
    for tool, count in keys_by_tool.items():
        word = identity_word(tool)
        counts[word] = counts.get(word, 0) + count
    counts = counts or {"API key": total}
    return " and ".join(f"{n} {word}{'' if n == 1 else 's'}" for word, n in counts.items())


# The period of figures over every stored day, as status and stats show unattributed usage.
ALL_TIME = "all time, all stored data"


def unattributed_words(
    *,
    period: str,
    cost_usd: Decimal,
    tokens: int,
    keys_by_tool: Mapping[str, int],
    keys: int,
    money: Callable[[Decimal], str],
    count: Callable[[int], str],
) -> str:
    """Usage nobody is tied to, worded once for Slack and the CLI (each passes its own number formats):
    "Unattributed (all time): $372.46 · 198.0M tokens from 2 API keys and 1 GitHub login"."""
    return f"Unattributed ({period}): {money(cost_usd)} · {count(tokens)} tokens from {identities(keys_by_tool, keys)}"


def cost_notes(
    *,
    tools: Iterable[str],
    total_usd: Decimal,
    subscription_usd: Decimal,
    money: Callable[[Decimal], str],
) -> list[str]:
    """The footnotes of a cost, worded once for every surface: which tools' cost is an estimate (when a cost
    split by tool is shown for them), and how much of ``total_usd`` is subscription-seat usage rather than
    usage billed as it happens (only when there is some)."""
    from providers import registry

    notes = []
    seen = list(dict.fromkeys(tools))
    estimated = [registry.tool_title(t) for t in seen if registry.cost_is_estimated(t)]
    if estimated:
        notes.append(f"est.: {' and '.join(estimated)} cost is an estimate at list prices, not an invoice.")
    for tool in registry.partial_token_tools():
        if tool.id in seen:
            notes.append(f"{tool.title}: {tool.measure}; it is left out of token shares, its cost is in every total.")
    if subscription_usd > 0:
        notes.append(
            f"Of the {money(total_usd)}, {money(subscription_usd)} is usage on subscription seats (such as Claude "
            f"Enterprise: paid per seat, valued here at list prices) and {money(total_usd - subscription_usd)} "
            "is billed by usage."
        )
    return notes
