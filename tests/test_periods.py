from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.periods import PeriodError, parse_period, today_in

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        (None, date(2026, 10, 27), TODAY, "last 30 days"),
        ("7d", date(2026, 11, 19), TODAY, "last 7 days"),
        ("30D", date(2026, 10, 27), TODAY, "last 30 days"),
        ("90d", date(2026, 8, 28), TODAY, "last 90 days"),
        ("1d", TODAY, TODAY, "today"),
        ("mtd", date(2026, 11, 1), TODAY, "November 2026 to date"),
        ("last-month", date(2026, 10, 1), date(2026, 10, 31), "October 2026"),
        ("ytd", date(2026, 1, 1), TODAY, "2026 to date"),
        ("2026-02-01..2026-02-28", date(2026, 2, 1), date(2026, 2, 28), "2026-02-01 to 2026-02-28"),
        ("2026-02-01..2026-02-01", date(2026, 2, 1), date(2026, 2, 1), "2026-02-01"),
    ],
)
def test_periods(text: str | None, start: date, end: date, label: str) -> None:
    period = parse_period(text, today=TODAY)
    assert (period.start, period.end, period.label) == (start, end, label)


def test_last_month_in_january_is_december_and_days_count() -> None:
    period = parse_period("last-month", today=date(2027, 1, 3))
    assert (period.start, period.end, period.days) == (date(2026, 12, 1), date(2026, 12, 31), 31)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0d", "out of range"),
        ("99999d", "out of range"),
        ("fortnight", "Unknown period"),
        ("2026-02-30..2026-03-01", "not a real calendar date"),
        ("2026-2-1..2026-03-01", "use YYYY-MM-DD..YYYY-MM-DD"),
        ("2026-03-01..2026-02-01", "ends before it starts"),
        ("2000-01-01..2026-01-01", "longer than"),
        ("9999-12-31..9999-12-31", "outside the dates"),
        ("0001-01-01..0001-01-31", "outside the dates"),
        ("1999-12-31..2000-01-05", "outside the dates"),
        ("2999-12-31..3000-01-01", "outside the dates"),
        ("9" * 5000 + "d", "out of range"),
    ],
)
def test_invalid_periods_say_what_to_use(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text, today=TODAY)


def test_today_in_the_reporting_timezone() -> None:
    now = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert today_in(ZoneInfo("UTC"), now) == date(2026, 11, 25)
    assert today_in(ZoneInfo("Europe/Vienna"), now) == date(2026, 11, 26)
    assert today_in(ZoneInfo("America/Los_Angeles"), now) == date(2026, 11, 25)
    with pytest.raises(ValueError):
        today_in(ZoneInfo("UTC"), datetime(2026, 11, 25))


def test_the_calendar_edges_abacus_accepts() -> None:
    assert parse_period("2000-01-01..2000-01-01", today=TODAY).days == 1
    assert parse_period("2999-12-31..2999-12-31", today=TODAY).days == 1
