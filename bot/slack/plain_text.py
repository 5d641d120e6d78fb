"""Block Kit answers as plain text, for `abacus ask` and for logs (pure)."""

from __future__ import annotations

import re
from typing import Any

_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")


def _mrkdwn(text: str) -> str:
    text = _LINK.sub(r"\2", text)
    return text.replace("*", "").replace("`", "").replace("_", " ").replace("&amp;", "&").strip()


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        return _mrkdwn(str(obj.get("text", "")))
    return ""


def blocks_to_text(blocks: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines += [_text(block.get("text")).upper(), ""]
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
        return str(cell.get("text", ""))
    return _mrkdwn(str(cell.get("text", "")))


def notification_text(blocks: list[dict[str, Any]]) -> str:
    """The one line a notification (and a screen reader) shows: the title and the first line of the answer."""
    title = next((_text(b.get("text")) for b in blocks if b.get("type") == "header"), "")
    first = next((_text(b.get("text")) for b in blocks if b.get("type") == "section" and b.get("text")), "")
    first_line = first.splitlines()[0] if first else ""
    return " — ".join(part for part in (title, first_line) if part)[:300]
