"""Parsing `/abacus ...` text into a request (pure: no Slack, no database).

Words may come in any order after the sub-command; anything not understood is reported back with the
command's usage, never silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from providers import registry

# Any number of days is read as a period (so `99999d` gets the period's own "out of range" answer).
PERIOD = re.compile(r"^(\d+d|mtd|last-month|ytd|\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})$")


def tool_words() -> dict[str, str]:
    """Every word people may type for a tool (its id, its short word, its aliases) -> the tool id."""
    words: dict[str, str] = {}
    for tool in registry.tools():
        for word in (tool.short, tool.id, *tool.aliases):
            words.setdefault(word.lower(), tool.id)
    return words


def _tool_choice() -> str:
    return "|".join(t.short for t in registry.tools())


def usage(command: str) -> str:
    """The one-line usage of a command, with the registered tools' words."""
    return USAGE.get(command, USAGE["help"]).replace("[claude|cursor]", f"[{_tool_choice()}]")


MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
EMAIL = re.compile(r"^<?(?:mailto:)?([^\s<>|@]+@[^\s<>|@]+\.[^\s<>|@]+?)(?:\|[^>]*)?>?$")

USAGE = {
    "help": "/abacus help",
    "me": "/abacus me [period]",
    "user": "/abacus user <@person|email> [period]",
    "top": (
        "/abacus top [N] [period] [claude|cursor] [by cost|tokens]"
        " · /abacus top teams [period] [claude|cursor] [by cost|tokens]"
    ),
    "models": "/abacus models [period] [claude|cursor]",
    "overview": "/abacus overview [period] [claude|cursor] [share]",
    "team": "/abacus team NAME [period] [claude|cursor] | team list | team sync [@group] | "
    "team add NAME @person… | team remove NAME [@person…]",
    "gaps": "/abacus gaps [claude|cursor]",
    "status": "/abacus status",
    "table": "/abacus table [period] [claude|cursor] [sort tokens|cost|days|avg|last|…] [asc|desc]",
    "export": "/abacus export usage|team [period] [claude|cursor] [models|tools]",
    "map": "/abacus map [KEY <@person|email>]",
    "unmap": "/abacus unmap KEY",
    "budget": "/abacus budget set org|team NAME|person @someone $AMOUNT monthly|weekly [claude|cursor] [#channel] | "
    "budget list | budget off org|team NAME|person @someone [monthly|weekly] [claude|cursor]",
    "digest": "/abacus digest here daily [HH:MM] [timezone] | here weekly [weekday] [HH:MM] [timezone] | list | off",
}
CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALIASES = {
    "": "help",
    "?": "help",
    "-h": "help",
    "--help": "help",
    "dashboard": "overview",
    "team-table": "table",
    "pivot": "table",
    "csv": "export",
}
# `sort` words of `/abacus table`, to the team table's sort keys.
SORT_WORDS = {
    "tokens": "total_tokens",
    "cost": "total_cost",
    "input": "input_tokens",
    "output": "output_tokens",
    "days": "days_active",
    "active": "days_active",
    "avg": "avg_tokens_per_day",
    "average": "avg_tokens_per_day",
    "first": "first_active",
    "last": "last_active",
    "email": "email",
    "name": "email",
}
EXPORTS = ("usage", "team")


def sort_words() -> dict[str, str]:
    """`sort` words of `/abacus table` -> team table sort keys; every tool word sorts by that tool's tokens."""
    return SORT_WORDS | {word: f"{tool}_tokens" for word, tool in tool_words().items()}


def _sort_choices() -> tuple[str, ...]:
    return ("tokens", "cost", *(t.short for t in registry.tools()), "days", "avg", "first", "last", "email")


TOOL_COMMANDS = ("top", "models", "overview", "gaps", "table", "export", "team")
# A Slack user-group mention as an escaped slash command sends it: <!subteam^S0123|@backend>.
SUBTEAM = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|@?([^>]*))?>$")
TEAM_ACTIONS = ("list", "sync", "add", "remove")
CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
AMOUNT = re.compile(r"^\$?(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?$")


@dataclass(frozen=True, slots=True)
class AbacusRequest:
    command: str
    period: str | None = None
    tool: str | None = None
    limit: int | None = None
    by: str = "cost"
    target_user_id: str | None = None
    target_email: str | None = None
    key: str | None = None  # an API key name, for map / unmap
    share: bool = False
    # digest: action here | list | off; cadence daily | weekly; local time HH:MM; weekday 0 = Monday
    action: str | None = None
    cadence: str | None = None
    local_time: str | None = None
    weekday: int | None = None
    timezone: str | None = None
    # table: sort key and direction; export: what (usage | team) and the usage view (models | tools)
    sort: str | None = None
    ascending: bool | None = None
    export: str | None = None
    view: str | None = None
    # teams: `top teams`; `team NAME`; team actions list | sync | add | remove with their people or group
    teams: bool = False
    team_name: str | None = None
    member_ids: tuple[str, ...] = ()
    member_emails: tuple[str, ...] = ()
    usergroup_id: str | None = None
    usergroup_handle: str | None = None
    # budget: scope org | team | person, the team name or email, the amount in dollars, the alert channel
    budget_scope: str | None = None
    budget_target: str | None = None
    amount: Decimal | None = None
    alert_channel: str | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def usage(self) -> str:
        return usage(self.command)


def unescape(text: str) -> str:
    """Slack's three entities back to characters (``&lt;`` ``&gt;`` ``&amp;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse(text: str) -> AbacusRequest:
    # Slack sends what was typed with &, < and > as entities and its own markup (mentions, channels, links)
    # as <...>: a word with no raw < is plain typing, so `a&amp;b` is the key or name `a&b`.
    words = [word if "<" in word else unescape(word) for word in text.strip().split()]
    head = words[0].lower() if words else ""
    head = ALIASES.get(head, head)
    if PERIOD.match(head):  # `/abacus 7d` is the team overview for that period
        return _parse_args("overview", words)
    if head not in USAGE:
        return AbacusRequest("unknown", problems=(f"I don't know `{words[0]}`.",))
    if head == "digest":
        return _parse_digest(words[1:])
    if head == "team":
        return _parse_team(words[1:])
    if head == "budget":
        return _parse_budget(words[1:])
    return _parse_args(head, words[1:])


def _parse_digest(words: list[str]) -> AbacusRequest:
    """`here daily [HH:MM] [tz]`, `here weekly [weekday] [HH:MM] [tz]`, `list`, `off [daily|weekly]`."""
    action = words[0].lower() if words else ""
    if action not in ("here", "list", "off"):
        said = f"`{words[0]}` is not a digest action." if words else "Say what to do with digests."
        return AbacusRequest("digest", problems=(f"{said} Use `here`, `list` or `off`.",))
    values: dict[str, object] = {"action": action}
    problems: list[str] = []
    rest = words[1:]
    if action == "list":
        problems += [f"I don't understand `{w}` here." for w in rest]
    elif action == "off":
        for word in rest:
            if word.lower() in ("daily", "weekly") and "cadence" not in values:
                values["cadence"] = word.lower()
            else:
                problems.append(f"I don't understand `{word}` here.")
    else:
        cadence = rest[0].lower() if rest else ""
        if cadence not in ("daily", "weekly"):
            problems.append("Say `daily` or `weekly` after `here`.")
        else:
            values["cadence"] = cadence
            problems += _digest_schedule(cadence, rest[1:], values)
    return AbacusRequest("digest", problems=tuple(problems), **values)  # type: ignore[arg-type]


def _parse_team(words: list[str]) -> AbacusRequest:
    """`team` alone (or with a period) is the company overview, as before teams existed; `team NAME ...`
    is one team; `list`, `sync`, `add` and `remove` manage teams."""
    first = words[0].lower() if words else ""
    if not words or PERIOD.match(first) or first in tool_words():
        return _parse_args("overview", words)
    if first not in TEAM_ACTIONS:
        try:
            name = _team_name(words[0])
        except ValueError as exc:
            return AbacusRequest("team", problems=(str(exc),))
        found = _parse_args("team", words[1:])
        return AbacusRequest("team", period=found.period, tool=found.tool, team_name=name, problems=found.problems)
    values: dict[str, object] = {"action": first}
    problems: list[str] = []
    rest = words[1:]
    if first == "list":
        problems += [f"I don't understand `{w}` here." for w in rest]
    elif first == "sync":
        for word in rest:
            if "usergroup" in values:
                problems.append(f"I don't understand `{word}` here: sync one group at a time.")
            elif match := SUBTEAM.match(word):
                values["usergroup"] = True
                values["usergroup_id"] = match.group(1)
                values["usergroup_handle"] = (match.group(2) or "").lstrip("@").lower() or None
            else:
                values["usergroup"] = True
                values["usergroup_handle"] = word.lstrip("@").lower()
    else:
        if not rest:
            problems.append(f"Say which team to {first}: `/abacus team {first} NAME @person`.")
        else:
            try:
                values["team_name"] = _team_name(rest[0])
            except ValueError as exc:
                problems.append(str(exc))
            ids, emails = [], []
            for word in rest[1:]:
                if match := MENTION.match(word):
                    ids.append(match.group(1))
                elif match := EMAIL.match(word):
                    emails.append(match.group(1).lower())
                else:
                    problems.append(f"`{word}` is not a person: mention them (`@dana`) or give their email.")
            values["member_ids"], values["member_emails"] = tuple(ids), tuple(emails)
            if first == "add" and not ids and not emails:
                problems.append("Say who to add: mention them (`@dana`) or give their emails.")
    values.pop("usergroup", None)
    return AbacusRequest("team", problems=tuple(problems), **values)  # type: ignore[arg-type]


def _parse_budget(words: list[str]) -> AbacusRequest:
    """`set SCOPE $AMOUNT CADENCE [tool] [#channel]`, `list`, `off SCOPE [cadence] [tool]`; SCOPE is `org`,
    `team NAME` or `person @someone|email`."""
    action = words[0].lower() if words else ""
    if action not in ("set", "list", "off"):
        said = f"`{words[0]}` is not a budget action." if words else "Say what to do with budgets."
        return AbacusRequest("budget", problems=(f"{said} Use `set`, `list` or `off`.",))
    values: dict[str, object] = {"action": action}
    problems: list[str] = []
    rest = words[1:]
    if action == "list":
        problems += [f"I don't understand `{w}` here." for w in rest]
        return AbacusRequest("budget", problems=tuple(problems), action="list")
    scope = rest[0].lower() if rest else ""
    if scope == "org":
        values["budget_scope"], rest = "org", rest[1:]
    elif scope in ("team", "person") and len(rest) >= 2:
        values["budget_scope"] = scope
        if scope == "team":
            try:
                values["budget_target"] = _team_name(rest[1])
            except ValueError as exc:
                problems.append(str(exc))
        elif match := MENTION.match(rest[1]):
            values["target_user_id"] = match.group(1)
        elif match := EMAIL.match(rest[1]):
            values["budget_target"] = match.group(1).lower()
        else:
            problems.append(f"`{rest[1]}` is not a person: mention them (`@dana`) or give their email.")
        rest = rest[2:]
    else:
        problems.append("Say whose budget: `org`, `team NAME` or `person @someone`.")
        rest = []
    for word in rest:
        lowered = word.lower()
        if lowered in ("monthly", "weekly") and "cadence" not in values:
            values["cadence"] = lowered
        elif lowered in tool_words() and "tool" not in values:
            values["tool"] = tool_words()[lowered]
        elif action == "set" and (match := AMOUNT.match(word)) and "amount" not in values:
            values["amount"] = Decimal(match.group(1).replace(",", "") + (match.group(2) or ""))
        elif action == "set" and (match := CHANNEL.match(word)) and "alert_channel" not in values:
            values["alert_channel"] = match.group(1)
        else:
            problems.append(f"I don't understand `{word}` here.")
    if action == "set" and "budget_scope" in values:
        if not values.get("amount"):
            problems.append("Say the amount in dollars, e.g. `$5000`.")
        if "cadence" not in values:
            problems.append("Say `monthly` or `weekly`.")
    return AbacusRequest("budget", problems=tuple(problems), **values)  # type: ignore[arg-type]


def _team_name(word: str) -> str:
    """Team names look like Slack handles; ``team list`` and friends are commands, not names."""
    name = word.strip().lstrip("@").lower()
    if SUBTEAM.match(word.strip()):
        raise ValueError("Name the team with a word (`backend`); to follow a Slack group use `team sync @group`.")
    if not re.match(r"^[a-z0-9][a-z0-9._-]{0,63}$", name) or name in TEAM_ACTIONS or PERIOD.match(name):
        raise ValueError(f"`{word}` cannot be a team name: use letters, digits, `.`, `_` or `-` (like a Slack handle).")
    return name


def _digest_schedule(cadence: str, words: list[str], values: dict[str, object]) -> list[str]:
    problems = []
    for word in words:
        lowered = word.lower()
        weekday = next(
            (i for i, name in enumerate(WEEKDAY_NAMES) if len(lowered) >= 3 and name.startswith(lowered)), None
        )
        if (match := CLOCK.match(word)) and "local_time" not in values:
            hours, minutes = int(match.group(1)), int(match.group(2))
            if hours > 23 or minutes > 59:
                problems.append(f"`{word}` is not a time of day: use HH:MM, 24-hour (e.g. `09:00`).")
            values["local_time"] = f"{hours:02d}:{minutes:02d}"
        elif weekday is not None and cadence == "weekly" and "weekday" not in values:
            values["weekday"] = weekday
        elif ("/" in word or lowered == "utc") and "timezone" not in values:
            name = "UTC" if lowered == "utc" else word
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                problems.append(f"`{word}` is not a timezone I know: use an IANA name such as `Europe/Vienna`.")
            values["timezone"] = name
        else:
            problems.append(f"I don't understand `{word}` here.")
    return problems


def _parse_args(command: str, words: list[str]) -> AbacusRequest:
    values: dict[str, object] = {}
    problems: list[str] = []
    expect_by = expect_sort = False
    for word in words:
        lowered = word.lower()
        if expect_sort:
            expect_sort = False
            if lowered in sort_words():
                values["sort"] = sort_words()[lowered]
            else:
                problems.append(f"I can't sort by `{word}`: use {', '.join(f'`{w}`' for w in _sort_choices())}.")
            continue
        if expect_by:
            expect_by = False
            if lowered in ("cost", "tokens"):
                values["by"] = lowered
                continue
            problems.append(f"`by` takes `cost` or `tokens`, not `{word}`.")
            continue
        if PERIOD.match(lowered) and command not in ("gaps", "status", "help") and "period" not in values:
            values["period"] = lowered
        elif lowered in tool_words() and command in TOOL_COMMANDS and "tool" not in values:
            values["tool"] = tool_words()[lowered]
        elif command == "top" and lowered.isdigit() and "limit" not in values:
            values["limit"] = int(lowered)
        elif command == "top" and lowered == "by":
            expect_by = True
        elif command == "top" and lowered in ("cost", "tokens"):
            values["by"] = lowered
        elif command == "table" and lowered == "sort" and "sort" not in values:
            expect_sort = True
        elif command == "table" and lowered in ("asc", "desc") and "ascending" not in values:
            values["ascending"] = lowered == "asc"
        elif command == "export" and lowered in EXPORTS and "export" not in values:
            values["export"] = lowered
        elif command == "export" and lowered in ("models", "tools") and "view" not in values:
            values["view"] = lowered
        elif command == "top" and lowered == "teams" and "teams" not in values:
            values["teams"] = True
        elif command == "overview" and lowered in ("share", "public", "post"):
            values["share"] = True
        elif command in ("map", "unmap") and "key" not in values and not MENTION.match(word) and "@" not in word:
            values["key"] = word
        elif command in ("user", "map") and "target" not in values and (match := MENTION.match(word)):
            values["target"] = True
            values["target_user_id"] = match.group(1)
        elif command in ("user", "map") and "target" not in values and (match := EMAIL.match(word)):
            values["target"] = True
            values["target_email"] = match.group(1).lower()
        else:
            problems.append(f"I don't understand `{word}` here.")
    if expect_by:
        problems.append("`by` takes `cost` or `tokens`.")
    if expect_sort:
        problems.append(f"Say what to sort by: {', '.join(f'`{w}`' for w in _sort_choices())}.")
    if command == "export" and "export" not in values:
        problems.append("Say what to export: `usage` or `team`.")
    if command == "export" and values.get("export") == "team" and "view" in values:
        problems.append("`models` and `tools` are views of the usage export, not of the team export.")
    if command == "user" and "target" not in values:
        problems.append("Say whose usage: mention them (`@dana`) or give their email.")
    if command == "map" and ("key" in values) != ("target" in values):
        problems.append(
            "Give both the API key and the person (`/abacus map deploy-bot @dana`), or nothing for the form."
        )
    if command == "unmap" and "key" not in values:
        problems.append("Say which API key to unmap.")
    limit = values.get("limit")
    if isinstance(limit, int) and not 1 <= limit <= 50:
        problems.append("N must be between 1 and 50.")
    values.pop("target", None)
    return AbacusRequest(command, problems=tuple(problems), **values)  # type: ignore[arg-type]
