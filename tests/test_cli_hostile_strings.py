"""Hostile strings: key names, models, emails and errors holding rich markup or spreadsheet formulas are data,
never markup. Every command that prints them exits 0 and prints them literally (SQLite and PostgreSQL), the
CSV exports neutralise formula-like text cells and keep numbers as numbers, and `abacus ask` answers admin
commands (the `map` form as text) without a traceback."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from bot import cli_support
from bot.answers.plain_text import blocks_to_text, mrkdwn_to_text
from bot.cli import main
from storage.analytics.exports import text_cell
from storage.db import make_engine, transaction
from storage.mappings import CLAUDE_CODE, set_mapping
from storage.migrate import upgrade
from storage.model_names import normalize_model_name
from storage.models import SyncState
from storage.teams import replace_members
from storage.writes import UsageRecord, upsert_usage

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 14, tzinfo=UTC)
DAY = date(2026, 11, 24)
HOSTILE = ("[/red]", "[bold]x[/bold]", "[link=http://x]y[/link]", '=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)")
FORMULAS = ('=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)")
EMAILS = tuple(f"{h.lower()}@acme.com" for h in HOSTILE)
# Model names are stored normalised (lowercased, suffixes such as `(...)` or `[/...]` cut): `[bold]x`, `=hyperlink`.
MODELS = tuple(m for m in (normalize_model_name(h) for h in HOSTILE) if m)
MAPPED_KEY, MAPPED_TO = "[bold]mapped[/bold]", "[/red]@acme.com"
ERROR = "HTTP 500: [/red] broke [bold]it"
ADMIN = "admin@acme.com"


def _records() -> list[UsageRecord]:
    rows = []
    for i, name in enumerate(HOSTILE):
        # An unmapped API key with a hostile name and model, and a person with a hostile email and model.
        rows.append(
            UsageRecord(
                tool="claude_code",
                date=DAY,
                actor=name,
                actor_type="api_key",
                org_id="org-[/red]",
                raw_model=name,
                input_tokens=1_000 + i,
                cost_usd=Decimal("1.25"),
            )
        )
        rows.append(
            UsageRecord(
                tool="cursor",
                date=DAY,
                actor=EMAILS[i],
                email=EMAILS[i],
                org_id="cursor:default",
                raw_model=name,
                input_tokens=2_000 + i,
                event_key=f"e{i}",
                # A refund: the export must keep a negative amount a number.
                cost_usd=Decimal("-0.50") if name == "+1" else Decimal("2.00"),
            )
        )
    rows.append(
        UsageRecord(
            tool="claude_code",
            date=DAY,
            actor=MAPPED_KEY,
            actor_type="api_key",
            org_id="org-[/red]",
            raw_model="claude-sonnet-4-5",
            input_tokens=500,
            cost_usd=Decimal("0.75"),
        )
    )
    return rows


@pytest.fixture
def hostile(db_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = db_url_factory()
    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine) as s:
        upsert_usage(s, _records())
        set_mapping(
            s,
            source=CLAUDE_CODE,
            org_id="org-[/red]",
            external_id=MAPPED_KEY,
            email=MAPPED_TO,
            method="cli",
            by="[bold]cli",
            now=NOW,
        )
        s.add(
            SyncState(
                provider="claude_code",
                org_id="org-[/red]",
                forward_watermark=datetime(2026, 11, 24, tzinfo=UTC),
                last_success_at=datetime(2026, 11, 24, 12, tzinfo=UTC),
                last_attempt_at=datetime(2026, 11, 25, 12, tzinfo=UTC),
                last_error=ERROR,
                last_error_at=datetime(2026, 11, 25, 12, tzinfo=UTC),
            )
        )
    replace_members(engine, "-2", EMAILS, source="csv", by="cli", now=NOW)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "acme.com")
    monkeypatch.setenv("ABACUS_ADMINS", ADMIN)
    # Wide enough that no table cell wraps, so each name must appear whole.
    monkeypatch.setattr(cli_support.console, "_width", 400)
    with time_machine.travel(NOW, tick=False):
        yield url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, f"abacus {' '.join(args)} exited {code}: {err}"
    assert "Traceback" not in out + err
    return out


def assert_literal(out: str, names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in out]
    assert not missing, f"not printed literally: {missing}\n{out}"


PERIOD = ("--period", "2026-11-01..2026-11-24")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("status",), (*HOSTILE, "org-[/red]", ERROR)),
        (("stats", "--top", "20"), EMAILS),
        (("mappings",), (*HOSTILE, MAPPED_KEY, MAPPED_TO, "[bold]cli", "org-[/red]")),
        (("report", "overview", *PERIOD), ("2026-11-01 to 2026-11-24",)),
        (("report", "top", "-n", "20", *PERIOD), (*EMAILS, *MODELS)),
        (("report", "user", EMAILS[1], *PERIOD), (EMAILS[1], MODELS[0])),
        (("report", "user", EMAILS[2], *PERIOD), (EMAILS[2], MODELS[1])),
        (("report", "models", *PERIOD), MODELS),
        (("report", "team", *PERIOD), EMAILS),
        (("report", "trends", *PERIOD), ("2026-11-24",)),
        (("gaps",), ("org-[/red]",)),
        (("teams", "list"), ("-2 (csv, 7 people)", *EMAILS)),
        (
            ("digest", "preview", "--date", "2026-11-24"),
            ("Top: [/red] $2.75", "[link=http://x]y[/link] $2.00", *MODELS[:3]),
        ),
    ],
)
def test_every_command_prints_hostile_names_literally(
    hostile: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], names: tuple[str, ...]
) -> None:
    out = run(capsys, *args)
    assert_literal(out, names)


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("top 20 30d", EMAILS),
        ("models 30d", MODELS),
        ("table 30d", EMAILS),
        ("user [bold]x[/bold]@acme.com 30d", ("[BOLD]X[/BOLD] AI CODING USAGE", "Top model: [bold]x (100%)")),
        ("team list", ("-2 · 7 people",)),
        ("status", ("(org-[/red])", ERROR, "POST /jobs/<job> from a cron")),
    ],
)
def test_ask_prints_hostile_names_literally(
    hostile: str, capsys: pytest.CaptureFixture[str], question: str, names: tuple[str, ...]
) -> None:
    out = run(capsys, "ask", question, "--as", ADMIN)
    assert_literal(out, names)


def test_ask_map_as_an_admin_shows_the_form_as_text(hostile: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "ask", "map", "--as", ADMIN)
    assert "MAP AN API KEY" in out and "7 API keys carry $8.75 of unattributed usage" in out
    assert "API key: Search keys" in out and "Person in Slack (optional): a person in Slack" in out
    assert "…or their email (optional): an email address" in out and "[Map key] · [Cancel]" in out
    # Every unmapped key is a choice (the largest first, preselected), each name exactly as stored.
    choices = [line for line in out.splitlines() if line.startswith("  (")]
    assert len(choices) == len(HOSTILE) and choices[0].startswith("  (x) ")
    assert_literal("\n".join(choices), HOSTILE)
    assert MAPPED_KEY not in out
    # Someone else is told it is for admins, without a traceback.
    assert "Only Abacus admins can map API keys" in run(capsys, "ask", "map", "--as", "dana@acme.com")


def test_ask_maps_a_key_by_text_and_answers_budget_and_digest_commands(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(capsys, "ask", "map +1 dana@acme.com", "--as", ADMIN)
    assert "Mapped +1 → dana@acme.com" in out
    assert "+1" not in run(capsys, "ask", "map", "--as", ADMIN).split("API key:")[1]
    assert "No budgets yet" in run(capsys, "ask", "budget list", "--as", ADMIN)
    assert "No channel gets a digest yet" in run(capsys, "ask", "digest list", "--as", ADMIN)
    # Set-up needs a channel and Slack to check the bot is in it: said in one sentence, not "set up from Slack".
    out = run(capsys, "ask", "budget set org $500 monthly", "--as", ADMIN)
    assert "Say which channel gets the alerts" in out
    out = run(capsys, "ask", "budget set org $500 monthly", "--as", ADMIN, "--channel", "C1")
    assert "checks that I'm a member of #C1" in out and "SLACK_BOT_TOKEN" in out
    out = run(capsys, "ask", "digest off", "--as", ADMIN, "--channel", "C1")
    assert "C1" in out
    assert "Only Abacus admins can manage budgets" in run(capsys, "ask", "budget list", "--as", "dana@acme.com")


def test_ask_failure_is_one_line(
    hostile: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.usecases import top

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went [/red] away\nsecond line")

    monkeypatch.setattr(top, "top_users", broken)
    code = main(["ask", "top 5", "--as", ADMIN])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err == "abacus: Answering 'top 5' failed: RuntimeError: the database went [/red] away second line\n"


def _csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


def test_csv_exports_neutralise_formulas_and_keep_numbers(
    hostile: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    team, models = tmp_path / "team.csv", tmp_path / "models.csv"
    run(capsys, "report", "team", *PERIOD, "--csv", str(team))
    run(capsys, "report", "models", *PERIOD, "--csv", str(models))
    rows = _csv(team)
    emails = {r[0] for r in rows[1:]}
    assert emails == {text_cell(e) for e in EMAILS}
    assert {'\'=hyperlink("http://x")@acme.com', "'+1@acme.com", "'-2+3@acme.com", "'@sum(a1)@acme.com"} <= emails
    assert "[/red]@acme.com" in emails  # not formula-like: unchanged
    refund = next(r for r in rows if r[0] == "'+1@acme.com")
    assert refund[1] == "2004" and refund[2] == "-0.500000"  # numbers stay numbers, the negative one too
    model_rows = _csv(models)
    names = {r[1] for r in model_rows[1:]}
    assert names == {text_cell(m) for m in MODELS} | {"unknown", "claude-sonnet-4-5"}
    assert {"'=hyperlink", "'+1", "'-2+3", "'@sum", "[bold]x", "[link=http://x]y"} <= names
    assert all(not n.startswith(("=", "+", "-", "@")) for n in names)
    assert any(r[5] == "-0.500000" and r[1] == "'+1" for r in model_rows)
    # `/abacus export`, the same files through ask.
    out = run(capsys, "ask", "export team 2026-11-01..2026-11-24", "--as", ADMIN, "--png-dir", str(tmp_path / "dm"))
    assert "File: " in out
    assert _csv(tmp_path / "dm" / "team_2026-11-01_to_2026-11-24.csv") == rows


def test_text_cell_follows_owasp() -> None:
    for value in ("=1+2", "+1", "-2", "@x", "\tx", "\rx"):
        assert text_cell(value) == "'" + value
    assert text_cell("dana@acme.com") == "dana@acme.com" and text_cell("") == "" and text_cell(None) == ""


def test_mrkdwn_is_rendered_faithfully() -> None:
    assert mrkdwn_to_text("Set *ANTHROPIC_ADMIN_KEY* [N] and `my_*key*`") == "Set ANTHROPIC_ADMIN_KEY [N] and my_*key*"
    assert mrkdwn_to_text("_italic_ ~gone~ 2*3*4 a_b_c") == "italic gone 2*3*4 a_b_c"
    assert mrkdwn_to_text("<https://x.test|the docs> <@U1> <#C1|general> <!here> &lt;b&gt; &amp;") == (
        "the docs @U1 #general @here <b> &"
    )
    assert mrkdwn_to_text("<mailto:a@b.test|a@b.test> <https://x.test> POST /jobs/<job>") == (
        "a@b.test https://x.test POST /jobs/<job>"
    )
    header = {"type": "header", "text": {"type": "plain_text", "text": "Team *a_b* &amp; [x]"}}
    assert blocks_to_text([header]) == "TEAM *A_B* &AMP; [X]\n"


def test_subprocess_status_and_ask_print_names_literally(hostile: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ABACUS_", "DATABASE_URL"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=hostile,
        ABACUS_EMAIL_DOMAINS="acme.com",
        ABACUS_ADMINS=ADMIN,
        COLUMNS="400",
    )
    if "ABACUS_TEST_DATABASE_URL" in os.environ:
        env["ABACUS_TEST_DATABASE_URL"] = os.environ["ABACUS_TEST_DATABASE_URL"]
    for args in (
        ["status"],
        ["mappings"],
        ["ask", "map", "--as", ADMIN],
        ["ask", "models 2026-11-01..2026-11-30", "--as", ADMIN],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        assert_literal(done.stdout, HOSTILE if args[0] != "ask" or args[1] == "map" else MODELS)


def test_ask_sets_budgets_and_digests_up_with_slack(
    hostile: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes.slack_server import BOT_USER, FakeSlack

    slack = FakeSlack()
    try:
        slack.channel_members["C1"] = {BOT_USER}
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        out = run(capsys, "ask", "budget set org $500 monthly", "--as", ADMIN, "--channel", "C1")
        assert "Budget set:" in out and "Alerts go to #C1" in out
        assert "$500" in run(capsys, "ask", "budget list", "--as", ADMIN)
        out = run(capsys, "ask", "budget set org $9 weekly", "--as", ADMIN, "--channel", "C2")
        assert "I'm not a member of #C2" in out
        assert "C1" in run(capsys, "ask", "digest here daily 09:00", "--as", ADMIN, "--channel", "C1")
        assert "C1" in run(capsys, "ask", "digest list", "--as", ADMIN)
    finally:
        slack.close()
