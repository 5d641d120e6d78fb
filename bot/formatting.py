"""Number formatting shared by the CLI, Slack answers and digests (the original's rules)."""

from __future__ import annotations

from charts.format import tokens as format_tokens
from charts.format import usd as format_usd

__all__ = ["format_tokens", "format_usd"]
