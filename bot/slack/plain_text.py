"""Block Kit answers as plain text, for `abacus ask` and for logs (pure)."""

from __future__ import annotations

import re
from typing import Any

from bot.slack.blocks import MAX_SECTION, cut, escape
from bot.slack.command_text import unescape  # for a terminal (never for Slack)

_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")


def _mrkdwn(text: str) -> str:
    """Formatting marks dropped; Slack's entities kept (the result is still mrkdwn-safe)."""
    text = _LINK.sub(r"\2", text)
    return text.replace("*", "").replace("`", "").replace("_", " ").strip()


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        if obj.get("type") == "plain_text":
            return escape(obj.get("text", ""), limit=MAX_SECTION)
        return _mrkdwn(str(obj.get("text", "")))
    return ""


def blocks_to_text(blocks: list[dict[str, Any]]) -> str:
    """For a terminal: the entities are shown as the characters they stand for."""
    return unescape(_blocks_text(blocks))


def _blocks_text(blocks: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            raw = str((block.get("text") or {}).get("text", ""))
            lines += [escape(raw.upper(), limit=MAX_SECTION), ""]
        elif kind == "section":
            if block.get("text"):
                lines.append(_text(block["text"]))
            lines += [_text(f) for f in block.get("fields", [])]
        elif kind == "context":
            lines += [_text(e) for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "image":
            lines.append(f"[chart: {block.get('alt_text', '')}]")
        elif kind == "table":
            for row in block.get("rows", []):
                lines.append(" | ".join(_cell(c) for c in row))
    return "\n".join(line for line in lines if line is not None).strip() + "\n"


def _cell(cell: dict[str, Any]) -> str:
    if cell.get("type") == "raw_text":
        return escape(cell.get("text", ""), limit=MAX_SECTION)
    return _mrkdwn(str(cell.get("text", "")))


def notification_text(blocks: list[dict[str, Any]]) -> str:
    """The one line a notification (and a screen reader) shows: the title and the first line of the answer.
    It is a message's ``text``, which Slack reads as mrkdwn too: headers (plain text) are escaped here and
    sections stay escaped, so a name in them notifies nobody there either."""
    title = next((_text(b.get("text")) for b in blocks if b.get("type") == "header"), "")
    first = next((_text(b.get("text")) for b in blocks if b.get("type") == "section" and b.get("text")), "")
    first_line = first.splitlines()[0] if first else ""
    return cut(" — ".join(part for part in (title, first_line) if part), 300)
