"""The doctor's checks as blocks, appended to an admin's `/abacus status` (the same lines as `abacus doctor`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.answers.blocks import Block, escape, section
from bot.doctor import Check

ICONS = {"ok": "✅", "warn": "⚠️", "fail": "❌", "skip": "➖"}


def doctor_blocks(checks: Sequence[Check]) -> list[Block]:
    if not checks:
        return []
    lines = ["*Checks* (`abacus doctor`)"]
    for check in checks:
        # A detail can quote what a provider or Slack said: shown as data. Fixes are Abacus's own wording
        # (one links the digest channel), so they stay mrkdwn.
        fix = f" → {check.fix}" if check.fix and check.state != "ok" else ""
        lines.append(f"{ICONS[check.state]} {escape(check.name)}: {escape(check.detail, limit=500)}{fix}")
    return [section("\n".join(lines))]  # section() shortens past Slack's 3,000 characters, by whole lines
