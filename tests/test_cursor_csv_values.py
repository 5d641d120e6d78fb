"""`abacus import cursor-csv` with values the database cannot hold, costs with separators, and personal
exports whose User column is a placeholder: through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from storage.db import make_engine, transaction
from storage.models import Usage, UsageDaily
from tests.test_cursor_csv import V3_TEAM, write

HEADER = (
    "Date,User,Kind,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost\n"
)
GOOD = "2025-12-01T10:00:00.000Z,ann@example.com,Included,auto,1,2,3,4,10,0.01\n"
MAX_BIGINT = 2**63 - 1


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def database(
    db_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    url = db_url_factory()
    monkeypatch.setenv("DATABASE_URL", url)
    assert run(capsys, "db", "migrate")[0] == 0
    return url


def _stored(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    engine = make_engine(url)
    try:
        with transaction(engine) as s:
            usage = sorted(
                tuple(r)
                for r in s.execute(select(Usage.event_key, Usage.email, Usage.input_tokens, Usage.cost_usd)).all()
            )
            daily = sorted(tuple(r) for r in s.execute(select(UsageDaily.email, UsageDaily.cost_usd)).all())
    finally:
        engine.dispose()
    return usage, daily


def _row(tokens: str = "1,2,3,4,10", cost: str = "0.01", user: str = "ann@example.com", model: str = "auto") -> str:
    return f"2025-12-01T09:00:00.000Z,{user},Included,{model},{tokens},{cost}\n"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (_row(tokens=f"1,{2**63},3,4,10"), "Input (w/o Cache Write) 9223372036854775808 is more than the database"),
        (_row(tokens=f'"{2**64:,}",2,3,4,10'), "Input (w/ Cache Write) 18,446,744,073,709,551,616 is more than"),
        (_row(tokens="1,2,99999999999999999999,4,10"), "Cache Read 99999999999999999999 is more than the database"),
        (_row(cost="1000000000000"), "Cost '1000000000000' is more than the database can store"),
        (_row(cost='"$1,234,567,890,123.00"'), "is more than the database can store"),
        (_row(cost="0.0000001"), "Cost '0.0000001' has more than six decimals"),
        (_row(cost="0.1234567"), "would store 0.123457"),
        (_row(user="ann\x00@example.com"), "NUL character"),
        (_row(model="au\x00to"), "NUL character"),
        ("2025-12-01T09:00:00.000Z,ann@example.com,Incl\x00uded,auto,1,2,3,4,10,0.01\n", "NUL character"),
        (_row(user="a" * 250 + "@example.com"), "User cell is longer than the 255 characters"),
        (_row(model="m" * 256), "Model cell is longer than the 255 characters"),
        (_row(cost='"1,234"'), "ambiguous Cost '1,234'"),
        (_row(cost='"1,23.4"'), "unreadable Cost '1,23.4'"),
        (_row(cost="1e3"), "unreadable Cost '1e3'"),
        # Each cell fits, but together they pass what a day's rollup can hold.
        (_row(tokens=f"0,{MAX_BIGINT - 2},0,0,{MAX_BIGINT - 2}") + _row(tokens="0,1,0,0,1"), "add up to more than"),
        (_row(cost="999999999999") + _row(cost="1"), "add up to more than"),
    ],
    ids=[
        "tokens-past-bigint",
        "tokens-past-bigint-with-separators",
        "tokens-past-64-bits",
        "cost-13-integer-digits",
        "cost-13-digits-with-separators",
        "cost-7th-decimal",
        "cost-rounded",
        "nul-in-user",
        "nul-in-model",
        "nul-in-an-unused-cell",
        "user-too-long",
        "model-too-long",
        "cost-ambiguous",
        "cost-bad-grouping",
        "cost-exponent",
        "tokens-sum-past-bigint",
        "cost-sum-past-numeric",
    ],
)
def test_a_value_the_database_cannot_hold_is_refused_with_its_line_and_nothing_is_stored(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, problem: str
) -> None:
    assert run(capsys, "import", "cursor-csv", str(write(tmp_path, V3_TEAM, name="before.csv")))[0] == 0
    before = _stored(database)
    # The bad row comes after a good one, and rows are written in batches as the file is read.
    path = write(tmp_path, HEADER + GOOD + row)
    bad_line = 3 if row.count("\n") == 1 else 4
    code, out, err = run(capsys, "import", "cursor-csv", str(path))
    assert code == 65 and out == "", err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"line {bad_line}: " in err and problem in err and "Nothing was imported" in err
    assert _stored(database) == before


def test_the_largest_values_the_columns_hold_are_stored_exactly(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Twelve digits before the point are accepted. (SQLite keeps money as a REAL, exact to about 15
    # significant digits, so the micro-dollars of such an amount are exact on PostgreSQL only.)
    text = HEADER + _row(tokens=f"0,{MAX_BIGINT},0,0,{MAX_BIGINT}", cost='"$999,999,999,999.5"')
    code, out, err = run(capsys, "import", "cursor-csv", str(write(tmp_path, text)), "--json")
    assert code == 0, err
    assert json.loads(out)["imported"] == 1
    [(_key, email, tokens, cost)], daily = _stored(database)
    assert (email, tokens, cost) == ("ann@example.com", MAX_BIGINT, Decimal("999999999999.5"))
    assert daily == [("ann@example.com", Decimal("999999999999.5"))]


@pytest.mark.parametrize(
    ("cell", "dollars"),
    [
        ('"1.234,56"', "1234.56"),
        ('"1,234.56"', "1234.56"),
        ('"0,12"', "0.12"),
        ('"$1,234.56"', "1234.56"),
        ('"$1.234,56"', "1234.56"),
        ('"1,234,567"', "1234567"),
        ('"1.234.567,5"', "1234567.5"),
        ('"12,5"', "12.5"),
        ('"0,123"', "0.123"),
        ("1.234", "1.234"),  # one point is a decimal point, as in every export (0.003)
        ('"0.1000000"', "0.1"),  # zeros past the sixth decimal change nothing
        ("-$0.50", "-0.5"),
    ],
)
def test_costs_with_separators_are_read_as_the_one_number_they_can_mean(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], cell: str, dollars: str
) -> None:
    code, _out, err = run(capsys, "import", "cursor-csv", str(write(tmp_path, HEADER + _row(cost=cell))), "--json")
    assert code == 0, err
    [(_key, _email, _tokens, cost)], _daily = _stored(database)
    assert cost == Decimal(dollars)


PERSONAL_WITH_PLACEHOLDER = (
    "Date,User,Kind,Model,Max Mode,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,"
    "Total Tokens,Cost\n"
    '"2025-12-02T01:46:34.592Z","You","Included","auto","No","22783","2263","683776","3314","712136","0.03"\n'
    '"2025-12-01T01:00:00.000Z","You","On-Demand","composer-1","No","10","20","30","40","100","0.003"\n'
)


def test_a_personal_export_whose_user_column_says_you_belongs_to_the_user_given(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, PERSONAL_WITH_PLACEHOLDER)
    code, out, err = run(capsys, "import", "cursor-csv", str(path))
    assert code == 65 and out == "" and err.count("\n") == 1
    assert "line 2: this is a personal export (the User cell says 'You', not an email)" in err
    assert "pass --user EMAIL to say whose usage it is" in err
    assert _stored(database) == ([], [])
    code, out, err = run(capsys, "import", "cursor-csv", str(path), "--user", "Me@Example.com", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["imported"] == 2 and payload["users"] == 1
    usage, daily = _stored(database)
    assert {row[1] for row in usage} == {"me@example.com"} and {row[0] for row in daily} == {"me@example.com"}
    assert "you" not in {row[0] for row in daily}


def test_the_same_hint_for_a_personal_export_without_a_user_column(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_column = PERSONAL_WITH_PLACEHOLDER.replace("User,", "", 1).replace('"You",', "")
    code, _, err = run(capsys, "import", "cursor-csv", str(write(tmp_path, no_column)))
    assert code == 65 and "line 1: this is a personal export (no User column)" in err
    assert "pass --user EMAIL to say whose usage it is" in err
