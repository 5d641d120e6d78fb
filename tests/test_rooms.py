"""The rooms of the code and the one-way arrows between them, checked on every module's imports.

bot -> providers -> storage, and bot -> charts. Inside bot: the Slack room (bot/slack/) reaches data only
through the use cases; the use cases (bot/usecases/) know neither Slack nor the command line; Slack's
libraries load only in bot/slack/ and the web entry (bot/web.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SLACK_LIBRARIES = {"slack_sdk", "slack_bolt"}


def imports(path: Path) -> list[str]:
    """Every module a file imports, wherever the import stands (top level, in a function, or for types)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0]
    names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    return names


def modules(room: str) -> list[Path]:
    found = sorted((ROOT / room).rglob("*.py"))
    assert found, f"no modules under {room}"
    return found


def within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def offending(room: str, *forbidden: str) -> dict[str, list[str]]:
    bad = {}
    for path in modules(room):
        wrong = [n for n in imports(path) if within(n, *forbidden)]
        if wrong:
            bad[str(path.relative_to(ROOT))] = wrong
    return bad


def test_charts_import_nothing_of_ours_and_never_pyplot() -> None:
    assert offending("charts", "bot", "storage", "providers", "matplotlib.pyplot") == {}


def test_storage_knows_no_bot_no_providers_no_slack() -> None:
    assert offending("storage", "bot", "providers", "charts", "click", "rich", *SLACK_LIBRARIES) == {}


def test_providers_know_no_bot_no_charts_no_slack() -> None:
    assert offending("providers", "bot", "charts", "click", "rich", *SLACK_LIBRARIES) == {}


def test_use_cases_know_neither_slack_nor_the_command_line() -> None:
    assert offending("bot/usecases", "bot.slack", "bot.commands", "bot.cli", "click", "rich", *SLACK_LIBRARIES) == {}


def test_the_pure_answers_know_no_slack_library_and_no_use_case() -> None:
    assert offending("bot/answers", "bot.slack", "bot.usecases", "bot.commands", *SLACK_LIBRARIES) == {}


def test_slack_reaches_data_only_through_the_use_cases() -> None:
    assert offending("bot/slack", "storage", "bot.commands", "click") == {}


@pytest.mark.parametrize("library", sorted(SLACK_LIBRARIES))
def test_slack_libraries_load_only_in_the_slack_room_and_the_web_entry(library: str) -> None:
    outside = [
        path
        for room in ("bot", "providers", "storage", "charts")
        for path in modules(room)
        if not within(".".join(path.relative_to(ROOT).with_suffix("").parts), "bot.slack", "bot.web")
    ]
    bad = {str(p.relative_to(ROOT)): [n for n in imports(p) if within(n, library)] for p in outside}
    assert {p: names for p, names in bad.items() if names} == {}
