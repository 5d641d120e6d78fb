"""Block Kit building blocks shared by every answer (pure functions: data in, JSON-able dicts out)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.command_text import usage

Block = dict[str, Any]

# Slack's limits (Block Kit reference): longer texts make Slack refuse the whole message or view.
MAX_SECTION = 3_000  # a section's text, a context element
MAX_FIELD = 2_000  # a section field
MAX_HEADER = 150  # a header's plain text
MAX_NAME = 200  # what is shown of one name (key, model, email, team...): enough for any real one

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SPLIT_ENTITY = re.compile(r"&[a-z]{0,3}$")


def escape(text: object, *, limit: int = MAX_NAME) -> str:
    """Text that came from outside (an API key, model, email, display, team or org name, an error), made
    safe to show in mrkdwn: ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;`` and ``&gt;`` (Slack's formatting
    reference), so ``<!channel>``, ``<@U123>`` or ``<https://evil|label>`` show as those characters and
    notify nobody, link nowhere; line breaks and other control characters become spaces (a name is one line,
    and cannot fake lines of its own); and past ``limit`` characters it is shortened at a word boundary.

    The one place outside text is escaped: every block builder calls it for each such string it shows in
    mrkdwn (plain_text objects, option texts and raw_text cells show text literally and need no escaping)."""
    flat = _CONTROL.sub(" ", str(text))
    if len(flat) > limit:
        flat = cut(flat, limit - 1) + "…"
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: object, limit: int) -> str:
    """Outside text for a plain_text object: one line, at most ``limit`` characters (cut at a word)."""
    flat = _CONTROL.sub(" ", str(text))
    return flat if len(flat) <= limit else cut(flat, limit - 1) + "…"


def cut(text: str, limit: int) -> str:
    """The longest start of ``text`` within ``limit`` characters that ends at a word boundary (a single
    word longer than that is cut, but never inside an ``&amp;`` entity)."""
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    space = max(head.rfind(" "), head.rfind("\n"))
    if space > 0:
        return text[:space].rstrip()
    return _SPLIT_ENTITY.sub("", text[:limit])


More = Callable[[int], str]


def more_of(singular: str, plural: str, where: str = "") -> More:
    """What a list answer says for the lines that did not fit: '…and 12 more people — `/abacus table`…'."""
    return lambda n: f"\n…and {n} more {singular if n == 1 else plural}{where}"


def fit(markdown: str, limit: int = MAX_SECTION, *, more: More | None = None) -> str:
    """``markdown`` if it fits in ``limit`` characters; else as many whole lines as fit and "…and N more
    lines" (or what ``more`` says for N dropped lines: one line per list item, so N items), cutting at a word
    boundary ("…and N more words") only when not even the first line fits."""
    if len(markdown) <= limit:
        return markdown
    tail = more or _more_lines
    lines = markdown.split("\n")
    keep, length = 0, -1
    for count in range(1, len(lines)):  # keep ``count`` whole lines, drop the rest (at least one)
        length += len(lines[count - 1]) + 1
        if length + len(tail(len(lines) - count)) > limit:
            break  # keeping a line more only grows the text
        keep = count
    if keep:
        return "\n".join(lines[:keep]) + tail(len(lines) - keep)
    first, rest = lines[0], len(lines) - 1
    rest_text = f" and {rest} more line{'s' if rest != 1 else ''}" if rest else ""
    head = cut(first, limit - len(rest_text) - 24)  # room for " …and 99999 more words"
    words = len(first[len(head) :].split()) or 1
    return f"{head} …and {words} more word{'s' if words != 1 else ''}{rest_text}"


def _more_lines(count: int) -> str:
    return f"\n…and {count} more line{'s' if count != 1 else ''}"


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": plain(text, MAX_HEADER), "emoji": True}}


def section(markdown: str, *, more: More | None = None) -> Block:
    """A mrkdwn section; past Slack's 3,000 characters it keeps whole lines and says how many more (``more``
    words it for a list: one item per line)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": fit(markdown, more=more)}}


def fields(*markdown: str) -> Block:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": fit(m, MAX_FIELD)} for m in markdown[:10]]}


def context(*markdown: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": fit(m)} for m in markdown[:10]]}


def divider() -> Block:
    return {"type": "divider"}


# What each command answers, in the words its answer uses; the README's command table says the same.
HELP_LINES = (
    ("me", "your own usage: cost, tokens, models, activity, where you stand and your daily chart"),
    ("overview", "the team dashboard (`/abacus 7d` works too)"),
    ("top", "who uses the most, with their share of the people's total; teams ranked"),
    ("user", "someone's usage, as `me` shows yours"),
    ("team", "a team's usage; the teams; admins define or follow them"),
    ("models", "cost and tokens per model (Cursor's Auto included), with the split per tool"),
    ("table", "everyone's numbers in one table"),
    ("export", "a CSV to your DM"),
    ("gaps", "gaps in the data: days with no data, per provider"),
    ("status", "how fresh the data is (complete to, latest data), per provider"),
)
ADMIN_HELP_LINES = (
    ("map", "tie an API key to a person"),
    ("unmap", "undo a mapping"),
    ("digest", "post a daily or weekly digest in a channel"),
    ("budget", "alert a channel at 50/80/100% of a budget"),
)


def help_blocks(*, is_admin: bool) -> list[Block]:
    lines = [f"`{usage(command)}` {what}" for command, what in HELP_LINES]
    blocks = [
        header("Abacus: AI coding usage, in Slack"),
        section("\n".join(lines)),
        context(
            "*period*: `7d` · `30d` (default) · `90d` · `mtd` · `last-month` · `ytd` · `2026-10-01..2026-10-31`",
            "Examples: `/abacus me 7d` · `/abacus top 10 cursor by tokens` · `/abacus models mtd`",
        ),
    ]
    if is_admin:
        admin = [f"`{usage(command)}` {what}" for command, what in ADMIN_HELP_LINES]
        blocks.append(section("*You are an Abacus admin:*\n" + "\n".join(admin)))
    return blocks


def problem_blocks(problems: tuple[str, ...] | list[str], usage: str) -> list[Block]:
    """Problems quote what the asker typed (a mention, a link, ``&``): shown as data."""
    said = "\n".join(escape(p, limit=500) for p in problems)
    return [section(said + f"\nTry `{usage}`, or `/abacus help` for everything I can answer.")]
