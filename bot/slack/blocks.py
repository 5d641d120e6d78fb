"""Block Kit building blocks shared by every answer (pure functions: data in, JSON-able dicts out)."""

from __future__ import annotations

from typing import Any

from bot.slack.command_text import usage

Block = dict[str, Any]


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150], "emoji": True}}


def section(markdown: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": markdown[:3000]}}


def fields(*markdown: str) -> Block:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": m[:2000]} for m in markdown[:10]]}


def context(*markdown: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": m[:3000]} for m in markdown[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def help_blocks(*, is_admin: bool) -> list[Block]:
    lines = [
        f"`{usage('me')}` your own usage: cost, tokens, models, activity and trend",
        f"`{usage('overview')}` the team dashboard (`/abacus 7d` works too)",
        f"`{usage('top')}` who uses the most",
        f"`{usage('user')}` someone's usage",
        "`/abacus team NAME [period]` a team's usage · `/abacus top teams [period]` teams ranked · `/abacus team list`",
        f"`{usage('models')}` which models, and what they cost",
        f"`{usage('table')}` everyone's numbers in one table",
        f"`{usage('export')}` a CSV to your DM",
        f"`{usage('gaps')}` days with missing data",
        f"`{usage('status')}` how fresh the data is",
    ]
    blocks = [
        header("Abacus: AI coding usage, in Slack"),
        section("\n".join(lines)),
        context(
            "*period*: `7d` · `30d` (default) · `90d` · `mtd` · `last-month` · `ytd` · `2026-10-01..2026-10-31`",
            "Examples: `/abacus me 7d` · `/abacus top 10 cursor by tokens` · `/abacus models mtd`",
        ),
    ]
    if is_admin:
        blocks.append(
            context(
                "You are an Abacus admin: `/abacus map` maps API keys to people · "
                "`/abacus digest here daily 09:00` posts a daily digest in a channel (`/abacus digest list`, `off`) · "
                "`/abacus team sync @group` follows a Slack user group · "
                "`/abacus team add NAME @person…` defines a team · "
                "`/abacus budget set org $5000 monthly` alerts this channel at 50/80/100% (`budget list`, `off`)."
            )
        )
    return blocks


def problem_blocks(problems: tuple[str, ...] | list[str], usage: str) -> list[Block]:
    return [section("\n".join(problems) + f"\nTry `{usage}`, or `/abacus help` for everything I can answer.")]
