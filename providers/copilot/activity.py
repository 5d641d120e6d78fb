"""What a person did in GitHub Copilot beyond credits and tokens: one line of their profile."""

from __future__ import annotations

from datetime import date
from typing import Any

from storage import copilot_activity


def activity(session: Any, email: str, start: date, end: date) -> str | None:
    a = copilot_activity.totals(session, start, end, email)
    if not (a.interactions or a.code_generations or a.lines_added or a.cli_sessions):
        return None
    accepted = f" ({a.code_acceptances / a.code_generations:.0%} accepted)" if a.code_generations else ""
    return (
        f"GitHub Copilot: {a.interactions:,} prompts · {a.code_generations:,} suggestions{accepted} · "
        f"{a.lines_added:,} lines added · {a.cli_sessions:,} CLI sessions · {a.credits:,.2f} credits"
    )
