"""`/abacus help` and the README list every command the parser knows, with the usage the parser prints, and
describe freshness in the words the answers use."""

from __future__ import annotations

import json
from pathlib import Path

from bot.answers.blocks import ADMIN_HELP_LINES, HELP_LINES, MAX_SECTION, help_blocks
from bot.command_text import USAGE, usage

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_help_lists_every_command_with_its_usage() -> None:
    listed = [c for c, _ in HELP_LINES] + [c for c, _ in ADMIN_HELP_LINES]
    assert sorted(listed) == sorted(c for c in USAGE if c != "help")
    everyone = json.dumps(help_blocks(is_admin=False), ensure_ascii=False)
    admin = json.dumps(help_blocks(is_admin=True), ensure_ascii=False)
    for command, _ in HELP_LINES:
        assert usage(command) in everyone, command
    for command, _ in ADMIN_HELP_LINES:
        assert usage(command) not in everyone and usage(command) in admin, command
    for block in help_blocks(is_admin=True):
        assert len(block.get("text", {}).get("text", "")) <= MAX_SECTION


def test_readme_lists_every_command_in_the_answers_words() -> None:
    for command in USAGE:
        assert f"`/abacus {command}" in README, command
    status_row = next(line for line in README.splitlines() if line.startswith("| `/abacus status`"))
    assert "complete to" in status_row and "latest data" in status_row
    assert "complete to, latest data" in dict(HELP_LINES)["status"]
    assert "Auto" in dict(HELP_LINES)["models"] and "**Auto**" in README
