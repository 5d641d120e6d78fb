"""A share is computed once and rounded once, so the Slack answer, its chart, the CLI report and its JSON say
the same; a chart leaves nothing out unsaid; a cost line says when part of it is an estimate. Through the real
entry point, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import charts.bars
import charts.daily
import charts.personal
from bot.cli import main
from charts.bars import model_chart
from charts.data import Bar, Chart, PersonalDay, StackedDay
from charts.memo import forget
from charts.style import cost_total_name
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.writes import UsageRecord, upsert_usage

SMALL, BIG = "small@example.com", "big@example.com"
TODAY = date.today()
Run = Callable[..., tuple[int, str, str]]


def _usage(email: str, day: date, model: str, tokens: int, cost: str, event: str) -> UsageRecord:
    return UsageRecord(
        tool="cursor",
        date=day,
        actor=email,
        actor_type="user",
        email=email,
        org_id="org-1",
        raw_model=model,
        event_key=event,
        input_tokens=tokens,
        cache_write_tokens=0,
        cache_read_tokens=0,
        output_tokens=0,
        cost_usd=Decimal(cost),
    )


@pytest.fixture
def run(db_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    url = db_url_factory()
    engine = make_engine(url)
    upgrade(engine)
    day = TODAY - timedelta(days=2)
    # $132.86 of $3,838 is 3.46%: rounded to one decimal first (3.5) and then to a whole percent it read "4%",
    # while the chart, which rounded once, drew "3%".
    rows = [_usage(SMALL, day, "gpt-5", 1_000, "132.86", "s1")]
    # Nine models, so a chart of six must fold three into "other".
    for n in range(9):
        rows.append(_usage(BIG, day, f"model-{n}", 10_000 - n * 1_000, "411.46" if n < 8 else "413.46", f"b{n}"))
    with transaction(engine) as s:
        upsert_usage(s, rows)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "example.com")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_a_share_reads_the_same_in_the_answer_its_chart_and_the_report(run: Run, tmp_path: Path) -> None:
    code, out, err = run("ask", "top 5 7d", "--as", BIG, "--png-dir", str(tmp_path))
    assert code == 0, err
    assert "$3,838" in out
    assert f"{SMALL}  $132.86 (3%)" in out, out  # the message
    assert "(4%)" not in out

    code, out, err = run("report", "top", "--period", "7d", "--png", str(tmp_path / "top.png"))
    assert code == 0, err
    # The table, then the chart's alt text, which words the share from the same figure.
    assert " 3% " in out and "3.5%" not in out and "4%" not in out
    assert f"{SMALL} $133 (3%)" in out, out

    code, out, err = run("report", "top", "--period", "7d", "--json")
    assert code == 0, err
    small = next(u for u in json.loads(out)["users"] if u["email"] == SMALL)
    assert small["share_pct"] == pytest.approx(132.86 / 3838 * 100)  # unrounded: whoever reads it rounds once


def test_the_models_chart_folds_the_rest_into_an_other_bar_in_slack_and_the_cli(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[list[str]] = []
    real = charts.bars._bar_chart

    def record(bars: list[Bar], **kwargs: Any) -> Chart:
        drawn.append([b.label for b in bars])
        return real(bars, **kwargs)

    monkeypatch.setattr(charts.bars, "_bar_chart", record)
    forget()
    code, _out, err = run("ask", "models 7d", "--as", BIG, "--png-dir", str(tmp_path))
    assert code == 0, err
    forget()
    code, _out, err = run("report", "models", "--period", "7d", "--png", str(tmp_path / "cli.png"))
    assert code == 0, err
    # Ten models, six drawn by name: the other four are one bar, on both paths.
    assert len(drawn) == 2 and drawn[0] == drawn[1], drawn
    assert len(drawn[0]) == 7 and drawn[0][-1] == "4 other models", drawn
    assert (tmp_path / "models.png").read_bytes() == (tmp_path / "cli.png").read_bytes()


def test_model_chart_draws_every_model_it_is_given() -> None:
    from bot.chart_inputs import describe_tools

    describe_tools()
    bars = [Bar(f"m{n}", {"cursor": 100.0 - n}) for n in range(6)]
    bars += [Bar(f"credits{n}", {"copilot": 50.0}) for n in range(3)]
    chart = model_chart(bars, period_label="last 7 days", total=sum(b.values.get("cursor", 0.0) for b in bars))
    # The folded bar draws only tokens as tokens (no bar of AI credits), and the chart says what it left out.
    assert "GitHub Copilot not drawn (AI credits)" in chart.alt_text, chart.alt_text


@pytest.mark.parametrize(
    ("keys", "name"),
    [
        (["cursor"], "Cost"),
        (["claude_code"], "Cost (est.)"),
        (["claude_code", "cursor"], "Cost (incl. est.)"),
        (["cursor", "openai"], "Cost (incl. est.)"),
        (["claude_code", "openai"], "Cost (est.)"),
        ([], "Cost"),
    ],
)
def test_a_cost_line_says_when_part_of_it_is_an_estimate(keys: list[str], name: str) -> None:
    from bot.chart_inputs import describe_tools

    describe_tools()
    assert cost_total_name(keys) == name


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"claude_code": 1_000.0, "cursor": 500.0}, "Cost (incl. est.)"),
        ({"claude_code": 1_000.0}, "Cost (est.)"),
        ({"cursor": 500.0, "copilot": 20.0}, "Cost"),
    ],
)
def test_digest_and_personal_charts_name_their_cost_line_alike(
    values: dict[str, float], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.chart_inputs import describe_tools

    describe_tools()
    seen: list[list[str]] = []

    def legend(axes: object, handles: object, labels: list[str], **kwargs: object) -> None:
        seen.append(list(labels))

    monkeypatch.setattr(charts.daily, "legend", legend)
    monkeypatch.setattr(charts.personal, "legend", legend)
    day = TODAY - timedelta(days=1)
    total = sum(values.values())
    charts.daily.digest_chart(
        [StackedDay(day, values, cost=total / 100)], period_label=f"{name} {total}", with_cost=True
    )
    charts.personal.personal_trend_chart([PersonalDay(day, values, total / 100)], period_label=f"{name} {total}")
    assert len(seen) == 2 and all(labels[-1] == name or name in labels for labels in seen), seen
