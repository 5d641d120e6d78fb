"""Wording shared by the answers: tool names, changes, freshness, shares, a text sparkline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from bot.formatting import format_share, format_tokens, format_usd
from bot.sources import tool_freshness, tool_of_source
from providers import registry
from storage.analytics.status import SyncStatus

_SPARKS = "▁▂▃▄▅▆▇█"


def tool_name(tool: str) -> str:
    return registry.tool_title(tool)


def change(percent: float | None, what: str) -> str:
    """'▲ 18% vs previous 30 days'; empty when the change is hidden (under 3%) or not comparable."""
    if percent is None:
        return ""
    arrow = "▲" if percent > 0 else "▼"
    return f"{arrow} {abs(percent):.1f}% vs {what}".replace(".0%", "%")


def money(value: Decimal | float) -> str:
    """Whole dollars with separators up to a million ($1,284), cents below $1,000, compact above ($2.4M)."""
    number = float(value)
    if abs(number) >= 1_000_000:
        return format_usd(value)
    if abs(number) >= 1_000:
        return f"{'-' if number < 0 else ''}${abs(number):,.0f}"
    return format_usd(value)


def tokens(value: int | float) -> str:
    return format_tokens(value)


def pct(value: float) -> str:
    """'54%'; a share that is not zero but rounds to it reads '<1%'."""
    return format_share(value)


def short_day(day: date) -> str:
    return f"{day:%b} {day.day}"


def sparkline(values: Sequence[float]) -> str:
    """A text chart that renders everywhere (App Home, notifications): one character per value."""
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return _SPARKS[0] * len(values)
    return "".join(_SPARKS[min(len(_SPARKS) - 1, int(v / top * (len(_SPARKS) - 1) + 0.5))] for v in values)


def freshness_line(status: SyncStatus | None, configured: Sequence[str]) -> str:
    """'Data: Claude Code complete to Nov 24 · Cursor complete to Nov 25 14:00 UTC', for every configured tool
    and every tool with stored data, in the words ``bot.sources`` defines. With several orgs (or several
    providers of one tool), a tool is as fresh as its org furthest behind."""
    providers = status.providers if status else []
    tool_of = {p.provider: tool_of_source(p.provider) for p in providers}
    tools = list(configured) + sorted(set(tool_of.values()) - set(configured))
    parts = [f"{tool_name(tool)} {tool_freshness(tool, providers)}" for tool in tools]
    return "Data: " + " · ".join(parts) if parts else ""
