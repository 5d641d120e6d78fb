"""`abacus demo`: a fresh machine reaches real answers and charts, without touching the real database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.demo_data import DEMO_UNMAPPED_KEY, demo_people
from providers.copilot.demo import DEMO_UNMAPPED_LOGIN
from providers.openai.demo import DEMO_UNMAPPED_KEY as DEMO_OPENAI_KEY
from storage.db import make_engine, transaction
from storage.mappings import unmapped_keys
from storage.models import ClaudeCodeActivity, SyncState, Usage

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_demo_fills_its_own_database_answers_and_draws(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "abacus.db"
    real.write_bytes(b"not touched")
    # Even a configured real database must be left alone.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{real}")
    for _ in range(2):  # re-running replaces the demo database instead of adding to it
        code = main(["demo", "--people", "6", "--days", "25", "--seed", "3", "--out", "charts"])
        out, err = capsys.readouterr()
        assert code == 0, err
    assert real.read_bytes() == b"not touched"

    database = tmp_path / "abacus-demo.db"
    assert database.is_file()
    engine = make_engine(f"sqlite:///{database}")
    with transaction(engine) as s:
        people = s.scalar(select(func.count(func.distinct(Usage.email))).where(Usage.email != ""))
        tools = set(s.scalars(select(Usage.tool).distinct()))
        activity = s.scalar(select(func.count()).select_from(ClaudeCodeActivity))
        states = set(s.scalars(select(SyncState.provider)))
        orgs = set(s.scalars(select(Usage.org_id).where(Usage.tool == "claude_code").distinct()))
        unmapped = [k.key_name for k in unmapped_keys(s, "claude_code")]
        others = {(k.tool, k.key_name, k.actor_type) for k in unmapped_keys(s, None) if k.tool != "claude_code"}
        openai_people = s.scalar(
            select(func.count(func.distinct(Usage.email))).where(Usage.tool == "openai", Usage.email != "")
        )
    engine.dispose()
    assert people == 6 and tools == {"claude_code", "cursor", "copilot", "openai"} and activity
    # Claude Code from both sources (API users and Enterprise seats), Cursor from its API; other tools draw
    # their own part through the registry: GitHub Copilot with one login nobody mapped, OpenAI (Codex on API
    # keys) for every third person with one service-account key nobody mapped.
    assert states == {"claude_code", "claude-enterprise", "cursor", "copilot", "openai"}
    assert orgs == {"org_demo", "claude-enterprise:default"}
    assert unmapped == [DEMO_UNMAPPED_KEY]
    assert others == {("copilot", DEMO_UNMAPPED_LOGIN, "login"), ("openai", DEMO_OPENAI_KEY, "api_key")}
    assert openai_people == 2
    stated = re.search(r"(\d[\d,]*) usage rows", out)
    assert stated is not None and int(stated.group(1).replace(",", "")) > 0

    heavy = demo_people(6, 3)[0]
    assert "AI CODING USAGE · LAST 30 DAYS" in out
    assert re.search(r"\$[\d,.]+ \(", out)  # the overview's cost with its change
    assert "TOP 5 OF 6 BY COST · LAST 30 DAYS" in out and f"1. {heavy}" in out
    title = heavy.split("@")[0].replace(".", " ").upper()
    assert f"{title} AI CODING USAGE" in out and re.search(r"\d+ active days", out)
    assert "Unattributed (last 30 days):" in out and "Data: Claude Code complete to" in out
    assert "DATABASE_URL=sqlite:///" in out and "abacus ask" in out

    # The daily digest of the last day: the demo's spike is an unusual spender, its team's budget is crossed.
    assert "AI CODING COSTS ·" in out and "Unusual:" in out and "their usual daily spend" in out
    assert re.search(r"Budgets: Team platform · (weekly|monthly): \$[\d,.]+ of \$[\d,.]+ \(108%\)", out)

    for name in ("daily", "top", "user", "models", "digest"):
        png = tmp_path / "charts" / f"{name}.png"
        assert png.read_bytes().startswith(PNG_SIGNATURE), name


def test_demo_never_replaces_a_database_that_is_not_its_own(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    real = tmp_path / "abacus.db"
    real.write_bytes(b"SQLite format 3\x00 real data")
    code = main(["demo", "--people", "2", "--days", "7", "--database", str(real)])
    _, err = capsys.readouterr()
    assert code != 0 and "not an Abacus demo database" in err
    assert real.read_bytes() == b"SQLite format 3\x00 real data"


def test_demo_refuses_a_directory_as_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "somewhere").mkdir()
    code = main(["demo", "--people", "2", "--days", "7", "--database", "somewhere"])
    _, err = capsys.readouterr()
    assert code != 0 and err.count("\n") == 1


def test_demo_people_are_distinct_at_any_size() -> None:
    for size in (1, 40, 360, 1_000):
        emails = demo_people(size)
        assert len(set(emails)) == size and all(e.endswith("@example.com") for e in emails)


def test_demo_numbers_are_believable(tmp_path: Path) -> None:
    """Models cost what they cost (so cost shares differ from token shares), cache habits differ per person,
    and the only hole in the data is the one meant."""
    from datetime import UTC, date, datetime

    from bot.demo_data import DEMO_TEAM, generate_demo
    from bot.sources import gaps_of
    from storage.analytics.models_breakdown import model_breakdown
    from storage.budgets import list_budgets
    from storage.migrate import upgrade
    from storage.teams import get_team

    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine)
    end = date(2026, 11, 30)
    generate_demo(engine, people=40, days=45, end=end, now=datetime(2026, 12, 1, 10, tzinfo=UTC))
    with transaction(engine) as s:
        models = {m.model: m for m in model_breakdown(s, date(2026, 11, 1), end).models}
        ratios = s.execute(
            select(
                Usage.email,
                func.sum(Usage.cache_read_tokens)
                * 1.0
                / func.sum(
                    Usage.input_tokens + Usage.cache_read_tokens + Usage.cache_write_tokens + Usage.output_tokens
                ),
            )
            .where(Usage.email != "")
            .group_by(Usage.email)
        ).all()
        gaps = {
            (g.provider, g.org_id): [(x.first_missing, x.last_missing) for x in g.gaps] for g in gaps_of(s, today=end)
        }
        team = get_team(s, DEMO_TEAM)
    engine_budgets = list_budgets(engine)
    engine.dispose()
    # Opus costs five times Haiku per token and more than Sonnet: cost per million tokens follows.
    per_million = {name: float(m.cost_usd) / m.tokens * 1e6 for name, m in models.items() if m.tokens}
    assert per_million["opus-4.5"] > per_million["sonnet-4.5"] > per_million["haiku-4.5"]
    assert per_million["haiku-4.5"] < 0.5 * per_million["opus-4.5"]
    assert "Auto" in models
    spread = [float(r) for _, r in ratios]
    assert max(spread) - min(spread) > 0.3  # someone near 90% cache reads, someone near 40%
    assert gaps == {
        ("claude_code", "org_demo"): [],
        ("claude-enterprise", "claude-enterprise:default"): [],
        ("cursor", "cursor:default"): [(date(2026, 11, 18), date(2026, 11, 19))],
        ("copilot", "copilot:demo"): [],
        ("openai", "openai:demo"): [],
    }
    assert team is not None and len(team.members) >= 10
    assert [(b.scope, b.target) for b in engine_budgets] == [("team", DEMO_TEAM)]


def test_demo_names_unmapped_identities_by_tool_on_every_surface(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two API keys (Claude Code's CI bot, OpenAI's service account) and one GitHub login: every surface that
    counts them says so in the same words, and `status` reconciles OpenAI's computed and reported cost."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--people", "6", "--days", "25", "--seed", "3", "--out", "charts"]) == 0
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'abacus-demo.db'}")
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "example.com")
    asker = demo_people(6, 3)[1]
    said = {}
    for name, args in (
        ("cli status", ["status"]),
        ("cli stats", ["stats"]),
        ("cli overview", ["report", "overview", "--period", "30d"]),
        ("slack status", ["ask", "status", "--as", asker]),
        ("slack overview", ["ask", "overview 30d", "--as", asker]),
        ("slack top", ["ask", "top 5 30d", "--as", asker]),
    ):
        capsys.readouterr()
        code = main(args)
        out, err = capsys.readouterr()
        assert code == 0, (name, err)
        said[name] = " ".join(out.split())  # the CLI's tables wrap long lines
    for name, text in said.items():
        assert "from 2 API keys and 1 GitHub login" in text, (name, text)
        assert "API key(s)" not in text and "login(s)" not in text, name
    all_time = "Unattributed (all time, all stored data): "
    assert all_time in said["cli status"] and all_time in said["cli stats"] and all_time in said["slack status"]
    # The same all-time figure in Slack and the CLI (under $1,000, so both surfaces format it alike).
    figure = re.search(re.escape(all_time) + r"(\$[\d,.]+ · [\d.]+[KMB]? tokens)", said["cli status"])
    assert figure is not None and f"{all_time}{figure.group(1)}" in said["slack status"]
    check = re.search(
        r"computed \$([\d,.]+) from list prices, OpenAI reports \$([\d,.]+) for the organisation; "
        r"difference -\$([\d,.]+) \((-\d+\.\d)%\)",
        said["cli status"],
    )
    assert check is not None, said["cli status"]
    computed, reported = (float(check.group(n).replace(",", "")) for n in (1, 2))
    # A small, believable difference: the reported figure also covers usage that is not completions.
    assert 0 < reported - computed < 0.05 * reported and -5 < float(check.group(4)) < 0
