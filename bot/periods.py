"""Reporting periods people type ("7d", "mtd", "2026-11-01..2026-11-30") turned into inclusive date ranges.

"Today" is the date in the reporting timezone (a setting, or a Slack user's own zone); the resulting dates
are used as provider UTC days, the way the data is stored. One rule for "N days" everywhere: today and
the N - 1 days before it (the original used N days in the UI but N + 1 on the server, W15).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_PERIOD = "30d"
MAX_DAYS = 3_660  # ten years: anything longer is a typo
PERIOD_HELP = "7d, 30d, 90d (any Nd), mtd, last-month, ytd or YYYY-MM-DD..YYYY-MM-DD"

# Dates an explicit range may name: well inside the calendar, so the previous period (for comparisons) and
# the day after the end always exist; a date outside is a typo, answered like any other bad period.
EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)

_DAYS = re.compile(r"^(\d+)d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PeriodError(ValueError):
    """A period that cannot be understood; the message says what would have been accepted."""


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date
    label: str  # for titles and answers: "last 30 days", "November 2026"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def today_in(zone: ZoneInfo, now: datetime) -> date:
    """The calendar date in ``zone`` at the aware instant ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone).date()


def parse_period(text: str | None, *, today: date) -> Period:
    """Resolve ``text`` relative to ``today``; None or blank means the default (last 30 days)."""
    raw = (text or DEFAULT_PERIOD).strip().lower()
    if match := _DAYS.match(raw):
        digits = match.group(1)
        days = int(digits) if len(digits) <= 6 else MAX_DAYS + 1  # no int() of a thousand digits
        if not 1 <= days <= MAX_DAYS:
            raise PeriodError(f"Period {text!r} is out of range: use between 1d and {MAX_DAYS}d.")
        label = "today" if days == 1 else f"last {days} days"
        return Period(today - timedelta(days=days - 1), today, label)
    if raw == "mtd":
        return Period(today.replace(day=1), today, f"{today:%B %Y} to date")
    if raw == "last-month":
        end = today.replace(day=1) - timedelta(days=1)
        return Period(end.replace(day=1), end, f"{end:%B %Y}")
    if raw == "ytd":
        return Period(date(today.year, 1, 1), today, f"{today.year} to date")
    if ".." in raw:
        return _explicit_range(raw, text or "")
    raise PeriodError(f"Unknown period {text!r}: use {PERIOD_HELP}.")


def _explicit_range(raw: str, original: str) -> Period:
    first, _, last = raw.partition("..")
    start, end = _strict_date(first, original), _strict_date(last, original)
    if start < EARLIEST or end > LATEST:
        raise PeriodError(
            f"Period {original!r} is outside the dates Abacus answers for: use dates from {EARLIEST} to {LATEST}."
        )
    if start > end:
        raise PeriodError(f"Period {original!r} ends before it starts: put the earlier date first.")
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError(f"Period {original!r} is longer than {MAX_DAYS} days: pick a shorter range.")
    label = f"{start.isoformat()} to {end.isoformat()}" if start != end else start.isoformat()
    return Period(start, end, label)


def _strict_date(text: str, original: str) -> date:
    if not _DATE.match(text):
        raise PeriodError(f"Invalid date {text!r} in period {original!r}: use YYYY-MM-DD..YYYY-MM-DD.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"{text!r} in period {original!r} is not a real calendar date.") from None
