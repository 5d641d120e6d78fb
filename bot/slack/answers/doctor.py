"""The doctor's checks as blocks, appended to an admin's `/abacus status` (the same lines as `abacus doctor`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.doctor import Check
from bot.slack.blocks import Block, section

ICONS = {"ok": "✅", "warn": "⚠️", "fail": "❌", "skip": "➖"}
MAX_SECTION_CHARS = 2_900  # Slack refuses section text over 3,000 characters


def doctor_blocks(checks: Sequence[Check]) -> list[Block]:
    if not checks:
        return []
    lines = ["*Checks* (`abacus doctor`)"]
    for check in checks:
        fix = f" → {check.fix}" if check.fix and check.state != "ok" else ""
        lines.append(f"{ICONS[check.state]} {check.name}: {check.detail}{fix}")
    text = "\n".join(lines)
    if len(text) > MAX_SECTION_CHARS:
        text = text[: MAX_SECTION_CHARS - 1] + "…"
    return [section(text)]
