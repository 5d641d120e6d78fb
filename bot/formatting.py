"""Number formatting shared by the CLI, Slack answers and digests (the original's rules)."""

from __future__ import annotations

from decimal import Decimal

_TOKEN_UNITS = ((10**18, "Qi"), (10**15, "Q"), (10**12, "T"), (10**9, "B"), (10**6, "M"))


def format_tokens(value: int | float | Decimal) -> str:
    """12_345_678 -> '12.3M'; thousands get no decimal ('999K', and 999_999 -> '1000K')."""
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        return "0"
    sign = "-" if number < 0 else ""
    number = abs(number)
    if number >= 1e21:
        return f"{sign}999Qi+"
    for size, unit in _TOKEN_UNITS:
        if number >= size:
            return f"{sign}{number / size:.1f}{unit}"
    if number >= 1_000:
        return f"{sign}{number / 1_000:.0f}K"
    return f"{sign}{number:.0f}"


def format_usd(value: int | float | Decimal) -> str:
    """Dollars: '$1.2K' style above a thousand, cents below."""
    number = float(value)
    if number != number:
        return "$0.00"
    sign = "-" if number < 0 else ""
    number = abs(number)
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if number >= size:
            return f"{sign}${number / size:.1f}{unit}"
    return f"{sign}${number:,.2f}"
