"""Axis and label formatting: K/M/B tokens and dollars, the same rules as the Slack answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

_TOKEN_UNITS = ((10**18, "Qi"), (10**15, "Q"), (10**12, "T"), (10**9, "B"), (10**6, "M"))


def tokens(value: float | Decimal) -> str:
    """12_345_678 -> '12.3M'; thousands get no decimal ('999K', and 999_999 -> '1000K'), as the original.

    The one rule for charts and text alike: the CLI, the Slack answers and the digests use it through
    ``bot.formatting`` (charts import nothing of the bot, so it lives here).
    """
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


def usd(value: float | Decimal) -> str:
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


def usd_for(largest: float) -> Callable[[float | Decimal], str]:
    """One money format for every figure of a chart, chosen by its largest figure, so "$3.1K" never stands
    beside "$920.37": cents while everything is under $100, whole dollars up to $100K, then K/M units."""
    if abs(largest) < 100:
        return lambda value: f"{'-' if float(value) < 0 else ''}${abs(float(value)):,.2f}"
    if abs(largest) < 100_000:
        return lambda value: f"{'-' if float(value) < 0 else ''}${abs(float(value)):,.0f}"
    return usd


def usd_axis(value: float) -> str:
    """Dollars on an axis: no cents once the scale is above a few dollars."""
    if abs(value) >= 1_000 or value == 0:
        return usd(value).replace(".0K", "K").replace(".0M", "M") if value else "$0"
    return f"${value:,.0f}" if abs(value) >= 10 else f"${value:,.2f}"


def tokens_axis(value: float) -> str:
    return tokens(value).replace(".0M", "M").replace(".0B", "B").replace(".0T", "T")


def short_date(day: date) -> str:
    return f"{day:%b} {day.day}"


def share(value: float, decimals: int = 0) -> str:
    """A percentage already computed: '54%', and '<1%' (or '<0.1%' with one decimal) for a share that is
    not zero but would round to it, so real usage never reads as none."""
    smallest = 10.0**-decimals
    if 0 < value < smallest / 2:
        return f"<{smallest:g}%"
    return f"{value:.{decimals}f}%"


def percent(part: float, whole: float) -> str:
    return share(part / whole * 100) if whole else "0%"
