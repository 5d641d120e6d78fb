"""Charts that tell the truth: a day inside a data gap is shaded "no data" (not drawn as no usage), a week
the period cuts short says how many days it holds and the running week is projected, a view across New
Year names the years, and titles carry the filter. The series come from real databases through
``trends``; the PNGs these tests render were looked at when the drawing was written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from bot import chart_inputs
from charts.bars import model_chart, top_users_chart
from charts.daily import daily_usage_chart, digest_chart
from charts.data import Bar, StackedDay
from charts.format import usd_for
from storage.analytics.trends import trends
from storage.db import transaction
from storage.writes import UsageRecord, upsert_usage
from tests.factories import usage


def tokens(n: int, **kw: object) -> dict[str, object]:
    return {"input_tokens": n, "cache_write_tokens": 0, "cache_read_tokens": 0, "output_tokens": 0, **kw}


def cursor(day: date, n: int = 500) -> UsageRecord:
    return usage(tool="cursor", date=day, event_key=f"c{day}", cost_usd=Decimal("0.10"), **tokens(n))


def test_a_gap_is_missing_not_zero_and_the_chart_says_so(engine: Engine) -> None:
    # Claude Code every day of November except the 10th to the 13th; Cursor from the 8th only.
    days = [date(2026, 11, d) for d in range(1, 21)]
    rows = [usage(date=d, **tokens(1_000)) for d in days if not 10 <= d.day <= 13]
    rows += [cursor(d) for d in days if d.day >= 8]
    with transaction(engine) as s:
        upsert_usage(s, rows)
    with transaction(engine) as s:
        series = trends(s, date(2026, 11, 1), date(2026, 11, 20), now=datetime(2026, 11, 21, 12, tzinfo=UTC))
    missing = {p.date.day: p.missing for p in series.points if p.missing}
    assert missing == {
        **{d: ("cursor",) for d in range(1, 8)},  # before Cursor's first data: unknown, not zero
        **{d: ("claude_code",) for d in range(10, 14)},  # the gap `gaps` reports
    }
    chart = daily_usage_chart(chart_inputs.trend_days(series), period_label="Nov 1 – Nov 20")
    assert "11 days without data (shaded, not zero usage)" in chart.alt_text
    # The same numbers with nothing known to be missing draw a different picture.
    plain = [StackedDay(d.date, d.values) for d in chart_inputs.trend_days(series)]
    assert daily_usage_chart(plain, period_label="Nov 1 – Nov 20").png != chart.png
    assert "without data" not in daily_usage_chart(plain, period_label="Nov 1 – Nov 20").alt_text


def test_a_team_view_marks_company_gaps_but_not_a_quiet_day(engine: Engine) -> None:
    # Dana is quiet on the 3rd while Bob works: a zero for Dana's team, not missing data.
    rows = [usage(date=date(2026, 11, d), **tokens(1_000)) for d in (1, 2, 4)]
    rows += [
        usage(date=date(2026, 11, d), actor="bob@example.com", email="bob@example.com", **tokens(10)) for d in (3,)
    ]
    with transaction(engine) as s:
        upsert_usage(s, rows)
    with transaction(engine) as s:
        team = trends(
            s,
            date(2026, 11, 1),
            date(2026, 11, 4),
            now=datetime(2026, 11, 6, tzinfo=UTC),
            emails={"dana@example.com"},
        )
    assert [p.total for p in team.points] == [1_000, 1_000, 0, 1_000]
    assert [p.missing for p in team.points] == [()] * 4


def test_weeks_cut_short_say_so_and_the_running_week_is_projected(engine: Engine) -> None:
    # Data every day from Wed 2026-07-01; the view starts on a Thursday and ends today, Wednesday 2026-11-25.
    start, today = date(2026, 7, 2), date(2026, 11, 25)
    rows = [
        usage(date=date(2026, 7, 1) + timedelta(days=n), **tokens(700))
        for n in range((today - date(2026, 7, 1)).days + 1)
    ]
    with transaction(engine) as s:
        upsert_usage(s, rows)
    with transaction(engine) as s:
        series = trends(s, start, today, now=datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert series.granularity == "week"
    first, last = series.points[0], series.points[-1]
    assert (first.date, first.days, first.projected) == (date(2026, 6, 29), 4, {})  # Thu-Sun of its week
    assert (last.date, last.days) == (date(2026, 11, 23), 3)  # Mon-Wed so far
    # Mon and Tue complete (700 each), today 700 by noon projected to 1,400: 2,800 over 3 days, 6,533 for 7.
    assert last.actual == {"claude_code": 2_100} and last.projected == {"claude_code": round(2_800 * 7 / 3)}
    assert all(p.days == 7 for p in series.points[1:-1])
    chart = daily_usage_chart(chart_inputs.trend_days(series), period_label="Jul 2 – Nov 25", granularity="week")
    assert "week of Jun 29 holds 4 of 7 days" in chart.alt_text
    assert "week of Nov 23 holds 3 of 7 days" in chart.alt_text
    assert "1 week(s) not complete yet, projected part hatched" in chart.alt_text


def test_a_period_that_ended_in_the_past_is_not_projected_to_a_full_week(engine: Engine) -> None:
    with transaction(engine) as s:
        upsert_usage(s, [usage(date=date(2026, 5, 1) + timedelta(days=n), **tokens(100)) for n in range(120)])
    with transaction(engine) as s:
        series = trends(s, date(2026, 5, 1), date(2026, 8, 5), now=datetime(2026, 11, 25, 12, tzinfo=UTC))
    last = series.points[-1]
    assert (last.date, last.days, last.projected) == (date(2026, 8, 3), 3, {})


def test_weeks_across_new_year_name_the_years_and_weeks_before_the_data_are_not_zero(engine: Engine) -> None:
    # Claude Code from 2025-11-03; the view covers 180 days back from 2026-02-01.
    first = date(2025, 11, 3)
    with transaction(engine) as s:
        upsert_usage(s, [usage(date=first + timedelta(days=n), **tokens(50)) for n in range(91)])
    with transaction(engine) as s:
        series = trends(s, date(2025, 8, 6), date(2026, 2, 1), now=datetime(2026, 2, 2, 12, tzinfo=UTC))
    assert series.granularity == "week"
    before = [p for p in series.points if p.date < date(2025, 11, 3)]
    assert before and all(p.missing == ("claude_code",) and p.total == 0 for p in before)
    assert not any(p.missing for p in series.points if p.date >= date(2025, 11, 3))
    chart = daily_usage_chart(chart_inputs.trend_days(series), period_label="last 180 days", granularity="week")
    assert f"{len(before)} weeks with days without data" in chart.alt_text
    assert "busiest week of Nov 3 2025 with" in chart.alt_text  # every week holds the same 350 tokens
    same_year = [StackedDay(d.date.replace(year=2030), d.values) for d in chart_inputs.trend_days(series)[-10:]]
    assert " 2030 " not in daily_usage_chart(same_year, period_label="p", granularity="week").alt_text


def test_titles_carry_the_filter_and_money_has_one_format() -> None:
    chart_inputs.describe_tools()
    day = StackedDay(date(2026, 11, 2), {"cursor": 5.0})
    assert daily_usage_chart([day], period_label="last 7 days", scope=chart_inputs.scope("cursor")).alt_text.startswith(
        "Daily AI coding usage · Cursor · last 7 days."
    )
    team = chart_inputs.scope("claude_code", "Platform")
    assert team == "team Platform · Claude Code"
    assert model_chart([Bar("m", {"cursor": 1.0})], period_label="p", total=1, scope="Cursor").alt_text.startswith(
        "Models by tokens · Cursor · p."
    )
    people = [Bar("dana", {"claude_code": 3_104.2}), Bar("bob", {"cursor": 920.37})]
    top = top_users_chart(people, period_label="p", metric="cost", total=4_024.57, scope="Cursor")
    assert top.alt_text == (
        "Top 2 by cost · Cursor · p. Horizontal bar chart, $4,025 in total. dana $3,104 (77%); bob $920 (23%)."
    )
    assert (
        usd_for(99)(12.5) == "$12.50" and usd_for(250_000)(920.37) == "$920.37" and usd_for(250_000)(3_100) == "$3.1K"
    )


def test_the_cost_chart_marks_the_estimated_cost_in_its_legend() -> None:
    chart_inputs.describe_tools()
    bars = [Bar("dana", {"claude_code": 10.0})]
    by_cost = top_users_chart(bars, period_label="p", metric="cost", total=10)
    by_tokens = top_users_chart(bars, period_label="p", metric="tokens", total=10)
    from charts.style import cost_series_name

    assert cost_series_name("claude_code") == "Claude Code (est.)" and cost_series_name("cursor") == "Cursor"
    # A single tool still gets a legend on a cost chart, to carry the "est.".
    assert (
        by_cost.png != top_users_chart([Bar("dana", {"cursor": 10.0})], period_label="p", metric="cost", total=10).png
    )
    assert by_tokens.png


def test_the_digest_chart_picks_out_its_day_and_draws_cost() -> None:
    chart_inputs.describe_tools()
    days = [
        StackedDay(
            date(2026, 11, d), {"claude_code": 1_000.0 * d}, cost=float(d), missing=("claude_code",) if d == 5 else ()
        )
        for d in range(1, 11)
    ]
    for d in (5,):
        days[d - 1] = StackedDay(date(2026, 11, d), {"claude_code": 0.0}, missing=("claude_code",))
    plain = digest_chart(days, period_label="Nov 1 – Nov 10")
    chart = digest_chart(
        days,
        period_label="Nov 1 – Nov 10",
        reported=(date(2026, 11, 9), date(2026, 11, 9)),
        reported_label="Nov 9",
        with_cost=True,
    )
    assert chart.alt_text.startswith("Tokens and cost per day · Nov 1 – Nov 10.")
    assert "Nov 9 highlighted" in chart.alt_text and "1 day without data" in chart.alt_text
    assert chart.png != plain.png and chart.height == 420


def test_a_persons_chart_shades_the_company_gap_not_their_quiet_day(engine: Engine) -> None:
    from charts.personal import personal_trend_chart
    from storage.analytics.profile import user_profile

    # Cursor has no data at all on the 3rd (a gap); Dana simply does not use Claude Code on the 4th.
    rows = [cursor(date(2026, 11, d)) for d in (1, 2, 4, 5)]
    rows += [usage(date=date(2026, 11, d), **tokens(1_000)) for d in (1, 2, 3, 5)]
    rows += [usage(date=date(2026, 11, 4), actor="bob@example.com", email="bob@example.com", **tokens(10))]
    with transaction(engine) as s:
        upsert_usage(s, rows)
    with transaction(engine) as s:
        profile = user_profile(s, "dana@example.com", date(2026, 11, 1), date(2026, 11, 5))
    assert [d.missing for d in profile.daily] == [(), (), ("cursor",), (), ()]
    chart = personal_trend_chart(chart_inputs.personal_days(profile), period_label="Nov 1 – Nov 5", who="Dana's")
    assert "1 day without data (shaded, not zero usage)" in chart.alt_text


def test_a_week_with_some_days_missing_says_so_rather_than_no_data() -> None:
    chart_inputs.describe_tools()
    monday = date(2026, 3, 2)
    weeks = [StackedDay(monday + timedelta(weeks=i), {"cursor": 100.0}) for i in range(4)]
    weeks[1] = StackedDay(weeks[1].date, {"cursor": 40.0}, missing=("cursor",))
    partly = daily_usage_chart(weeks, period_label="p", granularity="week")
    weeks[1] = StackedDay(weeks[1].date, {"cursor": 0.0}, missing=("cursor",))
    wholly = daily_usage_chart(weeks, period_label="p", granularity="week")
    assert partly.png != wholly.png
    assert "1 week with days without data" in partly.alt_text and "1 week with days without data" in wholly.alt_text


def test_charts_of_tokens_leave_out_a_tool_counted_in_credits_and_cost_charts_keep_it(engine: Engine) -> None:
    """GitHub Copilot reports a few real tokens (its CLI) but is counted in AI credits: stacked beside tools
    billed by the token it would look nearly unused, so charts of tokens leave it out and say so; charts of
    cost add its dollars like any tool's."""
    from charts.personal import personal_trend_chart
    from storage.analytics.profile import user_profile
    from storage.analytics.top_users import top_users

    days = [date(2026, 11, d) for d in range(2, 7)]
    rows = [usage(date=d, cost_usd=Decimal("1.00"), **tokens(10_000)) for d in days]
    rows += [
        usage(tool="copilot", org_id="copilot:acme", date=d, raw_model="", cost_usd=Decimal("3.00"), **tokens(500))
        for d in days
    ]
    with transaction(engine) as s:
        upsert_usage(s, rows)
    with transaction(engine) as s:
        series = trends(s, days[0], days[-1], now=datetime(2026, 11, 7, 12, tzinfo=UTC))
        by_cost = top_users(s, days[0], days[-1], rank_by="cost")
        by_tokens = top_users(s, days[0], days[-1], rank_by="tokens")
        profile = user_profile(s, "dana@example.com", days[0], days[-1])
    assert profile is not None

    daily = daily_usage_chart(chart_inputs.trend_days(series), period_label="Nov 2 – Nov 6")
    # 50K Claude Code tokens drawn, not 52.5K with Copilot's CLI tokens stacked on top as "5%".
    assert "50K tokens in total" in daily.alt_text and "GitHub Copilot not drawn (AI credits)" in daily.alt_text
    assert "GitHub Copilot 5%" not in daily.alt_text
    digest = digest_chart(chart_inputs.trend_days(series), period_label="Nov 2 – Nov 6", with_cost=True)
    assert "GitHub Copilot not drawn (AI credits)" in digest.alt_text

    tokens_bars = top_users_chart(
        chart_inputs.top_user_bars(by_tokens), period_label="p", metric="tokens", total=float(by_tokens.total_tokens)
    )
    assert (
        "GitHub Copilot not drawn (AI credits)" in tokens_bars.alt_text
        and "dana@example.com 50K" in tokens_bars.alt_text
    )
    cost_bars = top_users_chart(
        chart_inputs.top_user_bars(by_cost), period_label="p", metric="cost", total=float(by_cost.total_cost_usd)
    )
    # Cost: $1 of Claude Code and $3 of Copilot credits a day, all of it drawn.
    assert "dana@example.com $20.00" in cost_bars.alt_text and "not drawn" not in cost_bars.alt_text

    personal = personal_trend_chart(chart_inputs.personal_days(profile), period_label="p", who="Dana's")
    assert "50K tokens and $20.00" in personal.alt_text and "GitHub Copilot not drawn" in personal.alt_text
    # Without Copilot's tokens the bars are the same as a chart that never had them: only the note differs.
    plain = [
        StackedDay(d.date, {"claude_code": d.values["claude_code"]}, cost=d.cost)
        for d in chart_inputs.trend_days(series)
    ]
    assert daily_usage_chart(plain, period_label="Nov 2 – Nov 6").alt_text in daily.alt_text


def test_a_tokens_chart_of_only_credits_says_why_it_is_empty() -> None:
    chart_inputs.describe_tools()
    bars = [Bar("dana", {"copilot": 500.0}), Bar("erin", {"copilot": 200.0})]
    chart = top_users_chart(bars, period_label="p", metric="tokens", total=700)
    assert chart.alt_text == "Top 2 by tokens · p: no token usage; GitHub Copilot not drawn (AI credits)."
