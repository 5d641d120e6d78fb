"""Cursor's Auto mode is stored as "(default)" (the normaliser's name, pinned in test_model_names) and shown
as "Auto" on every surface: the models answer, the overview, the models chart, the CLI report, exports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, select

from bot.answers.team import models_blocks
from bot.chart_inputs import model_bars
from bot.periods import Period
from charts.bars import model_chart
from storage.analytics.exports import usage_csv
from storage.analytics.models_breakdown import model_breakdown
from storage.analytics.top_users import top_users
from storage.db import transaction
from storage.models import Usage
from storage.writes import upsert_usage
from tests.factories import usage

DAY = date(2026, 11, 20)


def test_auto_is_shown_as_auto_and_stored_as_default(engine: Engine) -> None:
    rows = [
        usage(tool="cursor", raw_model="auto", event_key="a", cost_usd=Decimal("3.00")),
        usage(tool="cursor", raw_model="claude-4.5-sonnet", event_key="b", cost_usd=Decimal("1.00"), input_tokens=10),
    ]
    with transaction(engine) as s:
        upsert_usage(s, rows)
    with transaction(engine) as s:
        stored = set(s.scalars(select(Usage.model)))
        breakdown = model_breakdown(s, DAY, DAY)
        top = top_users(s, DAY, DAY, rank_by="cost")
        csv = usage_csv(s, DAY, DAY, view="models")
    assert stored == {"(default)", "sonnet-4.5"}
    assert [m.model for m in breakdown.models] == ["Auto", "sonnet-4.5"]
    assert top.users[0].favourite_model == "Auto"
    assert ",Auto," in csv and "(default)" not in csv
    text = str(models_blocks(breakdown, Period(DAY, DAY, "Nov 20"), tool=None, freshness=""))
    assert "Auto" in text and "(default)" not in text
    chart = model_chart(model_bars(breakdown), period_label="Nov 20", total=float(breakdown.total_tokens))
    assert "Auto " in chart.alt_text and "(default)" not in chart.alt_text
