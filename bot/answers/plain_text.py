"""Block Kit answers (and modals) as plain text, for `abacus ask` and for logs (pure).

Rendering is faithful: only real mrkdwn markers are removed (`*bold*`, `_italic_`, `~strike~` by Slack's
word-boundary rules, code quotes, `<link|label>` and mentions), and Slack's escapes `&lt;` `&gt;` `&amp;` are
undone. Everything else, brackets, underscores inside words and asterisks inside code, is kept exactly, so
data (key names, models, emails) reads as it is stored. `plain_text` objects are printed as they are.
"""

from __future__ import annotations

import re
from typing import Any

from bot.answers.blocks import MAX_SECTION, cut, escape

_SLACK_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")
# Inline code and code blocks: their content is literal (Slack formats nothing inside them).
_CODE = re.compile(r"```(.+?)```|`([^`\n]+)`", re.DOTALL)
# <https://x|label>, <mailto:a@b|a@b>, <https://x>, <@U123>, <@U123|name>, <#C123|general>, <!here>,
# <!subteam^S123|@backend>, <!date^1700000000^{date}|fallback>.
# Anything else in angle brackets (`POST /jobs/<job>`) is text.
_ANGLE = re.compile(r"<([@#!]|(?=[a-z][a-z0-9+.-]*:))([^<>|\s]+)(?:\|([^<>]*))?>")
# Emphasis opens after start/space/punctuation and before a non-space, and closes the other way round, as
# in Slack: `ANTHROPIC_ADMIN_KEY` and `2*3*4` are not emphasis.
_EMPHASIS = {
    marker: re.compile(
        rf"(?<![\w{re.escape(marker)}]){re.escape(marker)}(?=\S)(.+?)(?<=\S){re.escape(marker)}(?![\w{re.escape(marker)}])"
    )
    for marker in "*_~"
}


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _angle(match: re.Match[str]) -> str:
    sigil, target, label = match.group(1), match.group(2), match.group(3)
    if label:
        return label if sigil != "#" else f"#{label}"
    if sigil == "!":
        return "@" + target.split("^")[0]
    if sigil in ("@", "#"):
        return sigil + target
    return target.removeprefix("mailto:")


def _prose(text: str) -> str:
    text = _ANGLE.sub(_angle, text)
    for pattern in _EMPHASIS.values():
        text = pattern.sub(r"\1", text)
    return _unescape(text)


def mrkdwn_to_text(text: str) -> str:
    """Slack mrkdwn as the words it shows, without its markers."""
    parts: list[str] = []
    pos = 0
    for match in _CODE.finditer(text):
        parts.append(_prose(text[pos : match.start()]))
        code = match.group(1) if match.group(1) is not None else match.group(2)
        parts.append(_unescape(code))
        pos = match.end()
    parts.append(_prose(text[pos:]))
    return "".join(parts).strip()


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        raw = str(obj.get("text", ""))
        return raw.strip() if obj.get("type") == "plain_text" else mrkdwn_to_text(raw)
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
            lines += [_text(e) for e in block.get("elements", []) if e.get("type") in ("mrkdwn", "plain_text")]
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "image":
            lines.append(f"[chart: {block.get('alt_text', '')}]")
        elif kind == "table":
            for row in block.get("rows", []):
                lines.append(" | ".join(_cell(c) for c in row))
        elif kind == "input":
            lines += _input_lines(block)
    return "\n".join(line for line in lines if line is not None).strip() + "\n"


def _cell(cell: dict[str, Any]) -> str:
    if cell.get("type") == "raw_text":
        return str(cell.get("text", ""))
    return mrkdwn_to_text(str(cell.get("text", "")))


def _option(option: dict[str, Any]) -> str:
    description = _text(option.get("description"))
    return _text(option.get("text")) + (f" ({description})" if description else "")


def _input_lines(block: dict[str, Any]) -> list[str]:
    """An input field: its label, what it takes, its choices (marking the preselected one) and its hint."""
    element = block.get("element", {})
    kind = str(element.get("type", ""))
    label = _text(block.get("label")) + ("" if not block.get("optional") else " (optional)")
    takes = {
        "users_select": "a person in Slack",
        "conversations_select": "a conversation",
        "channels_select": "a channel",
        "email_text_input": "an email address",
        "plain_text_input": "text",
        "number_input": "a number",
    }.get(kind, _text(element.get("placeholder")) or kind.replace("_", " "))
    lines = [f"{label}: {takes}"]
    initial = element.get("initial_option")
    options = element.get("options", [])
    if options:
        for option in options:
            chosen = initial is not None and option.get("value") == initial.get("value")
            lines.append(f"  {'(x)' if chosen else '( )'} {_option(option)}")
    elif initial:
        lines.append(f"  (x) {_option(initial)}")
    if block.get("hint"):
        lines.append(f"  {_text(block['hint'])}")
    return lines


def modal_to_text(view: dict[str, Any]) -> str:
    """A modal as text: its title, its blocks (fields with their choices) and its buttons."""
    title = _text(view.get("title")).upper()
    buttons = " · ".join(f"[{_text(view[b])}]" for b in ("submit", "close") if view.get(b))
    body = blocks_to_text(view.get("blocks", [])).rstrip("\n")
    return "\n".join(part for part in (title, "", body, "", buttons) if part is not None).strip() + "\n"


def notification_text(blocks: list[dict[str, Any]]) -> str:
    """The one line a notification (and a screen reader) shows: the title and the first line of the answer.
    It is a message's ``text``, which Slack reads as mrkdwn too: headers (plain text) are escaped here and
    sections stay escaped (formatting marks dropped, entities kept), so a name in them notifies nobody there
    either."""
    title = next((_slack_text(b.get("text")) for b in blocks if b.get("type") == "header"), "")
    first = next((_slack_text(b.get("text")) for b in blocks if b.get("type") == "section" and b.get("text")), "")
    first_line = first.splitlines()[0] if first else ""
    return cut(" — ".join(part for part in (title, first_line) if part), 300)


def _slack_text(obj: Any) -> str:
    """A text object as mrkdwn-safe plain words: plain text escaped, mrkdwn without its formatting marks."""
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "plain_text":
        return escape(str(obj.get("text", "")), limit=MAX_SECTION)
    text = _SLACK_LINK.sub(r"\2", str(obj.get("text", "")))
    return text.replace("*", "").replace("`", "").replace("_", " ").strip()
