"""The shared wording: shares never read as 0%, one rank phrase, and list answers that say what they left out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.answers.blocks import MAX_SECTION
from bot.answers.common import pct
from bot.answers.team import models_blocks, top_blocks
from bot.formatting import format_share, ordinal, standing
from bot.periods import Period
from charts.bars import top_users_chart
from charts.data import Bar
from storage.analytics.models_breakdown import ModelBreakdown, ModelUsage
from storage.analytics.overview import UnattributedUsage
from storage.analytics.top_users import TopUser, TopUsers

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30), "last 30 days")


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(0.0, 0, "0%"), (0.3, 0, "<1%"), (0.5, 0, "0%"), (0.6, 0, "1%"), (54.4, 0, "54%"), (0.04, 1, "<0.1%")],
)
def test_a_share_that_is_not_zero_never_reads_as_zero(value: float, decimals: int, expected: str) -> None:
    # 0.5 rounds half to even as Python does; only values under half the smallest unit read "<".
    assert format_share(value, decimals) == expected
    if decimals == 0:
        assert pct(value) == expected


@pytest.mark.parametrize(
    ("number", "expected"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (21, "21st")]
)
def test_ordinal(number: int, expected: str) -> None:
    assert ordinal(number) == expected


def test_standing_reads_well_at_both_ends() -> None:
    assert standing(1, 40) == "1st of 40 active people (top 3%)"
    assert standing(3, 40) == "3rd of 40 active people (top 8%)"
    assert standing(10, 40) == "10th of 40 active people (top 25%)"
    assert standing(11, 40) == "11th of 40 active people"  # no "top 28%": only the top quarter is said
    assert standing(37, 40) == "37th of 40 active people"  # never "top 92%"
    assert standing(1, 3) == "1st of 3 active people"  # too few people for a percentage


def _people(count: int) -> TopUsers:
    users = [
        TopUser(
            rank=i,
            email=f"person.with.a.rather.long.name.number{i:03d}@engineering.example.com",
            tokens=1_000_000 - i,
            cost_usd=Decimal(1000 - i),
            tokens_by_tool={"claude_code": 600_000, "cursor": 400_000 - i},
            cost_by_tool={"claude_code": Decimal(600), "cursor": Decimal(400 - i)},
            favourite_model="sonnet-4.5",
            last_active=date(2026, 11, 30),
            share_pct=0.2,
        )
        for i in range(1, count + 1)
    ]
    return TopUsers("cost", users, 120, 10**8, Decimal(100_000), UnattributedUsage(5_000_000, Decimal(57), 1))


def test_top_50_shows_what_fits_and_says_how_many_more_and_where() -> None:
    blocks = top_blocks(_people(50), PERIOD, tool=None, named=True, freshness="")
    assert blocks[0]["text"]["text"] == "Top 50 of 120 by cost · last 30 days"
    text = blocks[1]["text"]["text"]
    assert len(text) <= MAX_SECTION
    shown = sum(1 for line in text.split("\n") if line.split(".")[0].isdigit())
    assert 10 < shown < 50
    assert text.endswith(f"…and {50 - shown} more people — `/abacus table` or `/abacus export team` for everyone")
    assert "\n" + str(shown) + ". person" in text and f"{shown + 1}. person" not in text  # whole people only
    assert "(<1%)" in text  # a 0.2% share
    lead = text.split("\n")[0]
    assert lead == "120 active people · $100,000 · last 30 days (excludes $57.00 unattributed; all usage $100,057)"


def test_the_top_chart_says_how_many_it_draws_of_how_many() -> None:
    bars = [Bar(f"p{i}", {"claude_code": 100.0 - i}) for i in range(50)]
    chart = top_users_chart(bars, period_label="last 30 days", metric="cost", total=5_000, of=50)
    assert chart.alt_text.startswith("Top 12 of 50 by cost · last 30 days.")
    few = top_users_chart(bars[:3], period_label="last 30 days", metric="cost", total=300, of=3)
    assert few.alt_text.startswith("Top 3 by cost · last 30 days.")


def test_models_with_long_names_say_how_many_more() -> None:
    models = [
        ModelUsage(
            model=f"an-extraordinarily-long-custom-model-name-from-a-gateway-{i:02d}-" + "x" * 150,
            tokens=1000 - i,
            cost_usd=Decimal(10),
            token_pct=10.0,
            cost_pct=10.0,
            tokens_by_tool={"cursor": 1000 - i},
            cost_by_tool={"cursor": Decimal(10)},
        )
        for i in range(30)
    ]
    breakdown = ModelBreakdown(models, 30_000, Decimal(300), 0)
    blocks = models_blocks(breakdown, PERIOD, tool=None, freshness="")
    text = blocks[1]["text"]["text"]
    assert len(text) <= MAX_SECTION and text.count("\n*an-extraordinarily") == 10
    assert blocks[2]["elements"][0]["text"].startswith("…and 20 more smaller models — `/abacus export usage`")


def test_top_teams_shares_are_of_the_company_and_say_how_many_teams_are_left_out() -> None:
    from bot.answers.teams import top_teams_blocks
    from storage.analytics.team_usage import TeamRank, TeamRanking

    teams = [TeamRank(i, f"team-{i}", 5, 4, Decimal(100 - i), 1_000, 1.0, None, Decimal(25), 250) for i in range(1, 15)]
    ranking = TeamRanking("cost", teams, [], 3, Decimal(5_000), 90_000)
    blocks = top_teams_blocks(ranking, PERIOD, tool=None, limit=10, freshness="")
    text = blocks[1]["text"]["text"]
    assert text.count("*team-") == 10 and text.endswith("…and 4 more teams — `/abacus top teams 14` lists every one")
    note = blocks[2]["elements"][0]["text"]
    assert note.startswith("Shares (%) are of the company's $5,000 (last 30 days, unattributed included)")


def test_the_top_chart_says_its_total_is_the_peoples() -> None:
    from bot.formatting import PEOPLE_TOTAL

    chart = top_users_chart(
        [Bar("dana", {"claude_code": 10.0})], period_label="7d", metric="cost", total=10, total_label=PEOPLE_TOTAL
    )
    assert "$10.00 people's total (unattributed usage excluded)" in chart.alt_text
