"""Axis and label formatting: K/M/B tokens and dollars, the same rules as the Slack answers."""

from __future__ import annotations

from datetime import date

_TOKEN_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"))


def tokens(value: float) -> str:
    """12_345_678 -> '12.3M'; thousands without decimals ('999K'), as the original abacus."""
    number = abs(float(value))
    sign = "-" if value < 0 else ""
    for size, unit in _TOKEN_UNITS:
        if number >= size:
            return f"{sign}{number / size:.1f}{unit}"
    if number >= 1_000:
        return f"{sign}{number / 1_000:.0f}K"
    return f"{sign}{number:.0f}"


def usd(value: float) -> str:
    number = abs(float(value))
    sign = "-" if value < 0 else ""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if number >= size:
            return f"{sign}${number / size:.1f}{unit}"
    return f"{sign}${number:,.2f}"


def usd_axis(value: float) -> str:
    """Dollars on an axis: no cents once the scale is above a few dollars."""
    if abs(value) >= 1_000 or value == 0:
        return usd(value).replace(".0K", "K").replace(".0M", "M") if value else "$0"
    return f"${value:,.0f}" if abs(value) >= 10 else f"${value:,.2f}"


def tokens_axis(value: float) -> str:
    return tokens(value).replace(".0M", "M").replace(".0B", "B").replace(".0T", "T")


def short_date(day: date) -> str:
    return f"{day:%b} {day.day}"


def percent(part: float, whole: float) -> str:
    return f"{round(part / whole * 100)}%" if whole else "0%"
