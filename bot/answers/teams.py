"""`/abacus team NAME`, `/abacus top teams` and the team management answers (pure block builders).

A team below the privacy floor is shown as counts only: how many members, how many were active. The
wording says why, so nobody reads a missing number as missing data.
"""

from __future__ import annotations

from decimal import Decimal

from bot.answers.blocks import Block, context, escape, header, more_of, section
from bot.answers.common import change, money, pct, tokens, tool_name
from bot.formatting import cost_notes, est
from bot.periods import Period
from storage.analytics.team_usage import TeamRanking, TeamUsage
from storage.teams import Team


def _scope(tool: str | None) -> str:
    return f" · {tool_name(tool)}" if tool else ""


def _people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


def floor_note(min_people: int) -> str:
    return (
        f"Teams with fewer than {min_people} active people are shown as counts only, to keep individual spend private."
    )


def team_blocks(
    name: str,
    usage: TeamUsage,
    period: Period,
    *,
    tool: str | None,
    named: bool,
    min_people: int,
    freshness: str,
) -> list[Block]:
    title = f"Team {name} · {period.label}{_scope(tool)}"
    tail = [context(freshness)] if freshness else []
    if usage.members == 0:
        return [header(title), section(f"Team {escape(name)} has no members yet."), *tail]
    if usage.counts_only:
        lead = f"{_people(usage.members)} in the team · {usage.active_people} active in this period"
        return [header(title), section(lead), context(floor_note(min_people)), *tail]
    trend = change(usage.cost_change_pct, f"previous {period.days} days")
    lines = [
        f"*{money(usage.cost_usd)}*" + (f" ({trend})" if trend else "") + f" · {tokens(usage.tokens)} tokens",
        f"{usage.active_people} of {usage.members} members active · "
        f"{money(usage.cost_usd / usage.active_people)} per active person",
    ]
    if len(usage.cost_by_tool) > 1:
        lines.append(
            " · ".join(
                f"{tool_name(t)} {money(c)}{est(t)} ({pct(float(c / usage.cost_usd * 100) if usage.cost_usd else 0)})"
                for t, c in sorted(usage.cost_by_tool.items(), key=lambda i: -i[1])
            )
        )
    blocks = [header(title), section("\n".join(lines))]
    if usage.models:
        blocks.append(section("*Models*  " + " · ".join(f"{escape(m.model)} {pct(m.token_pct)}" for m in usage.models)))
    if named and usage.top_people:
        blocks.append(
            section(
                "*Top people*  "
                + " · ".join(f"{escape(p.email.split('@')[0])} {money(p.cost_usd)}" for p in usage.top_people)
            )
        )
    elif not named:
        blocks.append(context("Named people are visible to Abacus admins only."))
    if len(usage.cost_by_tool) > 1:
        blocks += [
            context(n)
            for n in cost_notes(
                tools=[t for t, c in usage.cost_by_tool.items() if c],
                total_usd=usage.cost_usd,
                subscription_usd=Decimal(0),  # a team's seat share is not computed
                money=money,
            )
        ]
    return blocks + tail


def top_teams_blocks(
    ranking: TeamRanking, period: Period, *, tool: str | None, limit: int, freshness: str
) -> list[Block]:
    by_tokens = ranking.rank_by == "tokens"
    title = f"Top teams by {ranking.rank_by} · {period.label}{_scope(tool)}"
    tail = [context(freshness)] if freshness else []
    if not ranking.teams and not ranking.small:
        return [
            header("Teams"),
            section(
                "No teams yet. Admins: `/abacus team sync @group` follows a Slack user group, "
                "`/abacus team add NAME @person…` defines one."
            ),
        ]
    blocks = [header(title)]
    if ranking.teams:
        lines = []
        for t in ranking.teams[:limit]:
            trend = change(t.change_pct, "before")
            amount, per_person = (
                (tokens(t.tokens), tokens(t.tokens_per_person))
                if by_tokens
                else (money(t.cost_usd), money(t.cost_per_person))
            )
            lines.append(
                f"{t.rank}. *{escape(t.name)}*  *{amount}* ({pct(t.share_pct)})"
                + (f" {trend}" if trend else "")
                + f" · {t.active_people} of {t.members} active · {per_person} per active person"
            )
        hidden = len(ranking.teams) - len(lines)
        if hidden:
            every = f"`/abacus top teams {len(ranking.teams)}`"
            lines.append(f"…and {hidden} more team{'' if hidden == 1 else 's'} — {every} lists every one")
        whole = tokens(ranking.company_tokens) + " tokens" if by_tokens else money(ranking.company_cost_usd)
        blocks.append(section("\n".join(lines), more=more_of("team", "teams")))
        blocks.append(
            context(
                f"Shares (%) are of the company's {whole} ({period.label}{_scope(tool)}, unattributed "
                "included); someone in two teams counts in both."
            )
        )
    else:
        blocks.append(section("No team had enough active people in this period to be ranked."))
    if ranking.small:
        counts = " · ".join(f"{escape(s.name)} ({s.active_people} of {s.members} active)" for s in ranking.small[:20])
        blocks.append(context(f"Not ranked: {counts}. " + floor_note(ranking.min_people)))
    return blocks + tail


def team_list_blocks(teams: list[Team]) -> list[Block]:
    if not teams:
        return [
            section(
                "No teams yet. Admins: `/abacus team sync @group` follows a Slack user group, "
                "`/abacus team add NAME @person…` defines one, `abacus teams import FILE` loads a CSV."
            )
        ]
    origin = {"slack": "Slack user group", "admin": "defined in Slack", "csv": "imported from CSV"}
    lines = [
        f"*{escape(t.name)}* · {_people(len(t.members))} · {escape(origin.get(t.source, t.source))}" for t in teams[:50]
    ]
    blocks = [header(f"Teams ({len(teams)})"), section("\n".join(lines))]
    if len(teams) > 50:
        blocks.append(context(f"{len(teams) - 50} more not listed; `abacus teams list` shows them all."))
    return blocks


def team_changed_blocks(team: Team, what: str, *, unknown: list[str] | None = None) -> list[Block]:
    """After add / remove / sync: what the team looks like now."""
    blocks = [section(f"Team *{escape(team.name)}* {what}: now {_people(len(team.members))}.")]
    if unknown:
        blocks.append(context("Left out (Slack shares no email for them): " + ", ".join(unknown)))
    if team.source == "slack":
        blocks.append(context("It follows the Slack user group and is refreshed daily."))
    return blocks
