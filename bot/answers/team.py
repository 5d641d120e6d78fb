"""`/abacus top`, `/abacus models` and `/abacus overview`: the team's usage."""

from __future__ import annotations

from bot.answers.blocks import Block, context, escape, header, more_of, section
from bot.answers.common import change, money, pct, tokens, tool_name
from bot.formatting import cost_notes, est, token_shares, unattributed_words
from bot.periods import Period
from providers import registry
from providers.registry import counts_tokens
from storage.analytics.models_breakdown import ModelBreakdown
from storage.analytics.overview import Overview, UnattributedUsage
from storage.analytics.top_users import TopUsers

MAP_HINT = "admins: `/abacus map` or `abacus mappings set KEY EMAIL`"
MORE_PEOPLE = more_of("person", "people", " — `/abacus table` or `/abacus export team` for everyone")
MORE_MODELS = more_of("model", "models", " — `/abacus export usage` lists every model")


def unattributed_line(u: UnattributedUsage, *, period: str, included: bool) -> str:
    """Usage of API keys nobody is mapped to, with the period it covers and whether the totals above hold it
    (the overview and digest totals do; people's totals and rankings do not)."""
    if not u.cost_usd and not u.tokens:
        return ""
    words = unattributed_words(
        period=period,
        cost_usd=u.cost_usd,
        tokens=u.tokens,
        keys_by_tool=u.keys_by_tool,
        keys=u.keys,
        money=money,
        count=tokens,
    )
    where = "included in the totals above" if included else "not in the people's total"
    return f"{words}, {where} — {MAP_HINT}"


def people_total_lead(top: TopUsers, period: Period) -> str:
    """The people's total, saying what it leaves out: '40 active people · $2,561 in the last 30 days
    (excludes $57 unattributed; all usage $2,618)'."""
    by_cost = top.rank_by == "cost"
    total = money(top.total_cost_usd) if by_cost else f"{tokens(top.total_tokens)} tokens"
    lead = f"{top.people} active {'person' if top.people == 1 else 'people'} · {total} · {period.label}"
    u = top.unattributed
    left_out = u.cost_usd if by_cost else u.tokens
    if left_out:
        if by_cost:
            lead += f" (excludes {money(u.cost_usd)} unattributed; all usage {money(top.total_cost_usd + u.cost_usd)})"
        else:
            lead += (
                f" (excludes {tokens(u.tokens)} unattributed tokens; all usage {tokens(top.total_tokens + u.tokens)})"
            )
    return lead


def _scope(tool: str | None) -> str:
    return f" · {tool_name(tool)}" if tool else ""


def top_blocks(top: TopUsers, period: Period, *, tool: str | None, named: bool, freshness: str) -> list[Block]:
    metric = "cost" if top.rank_by == "cost" else "tokens"
    ranked = f"Top {len(top.users)}" + (f" of {top.people}" if top.people > len(top.users) else "")
    title = f"{ranked} by {metric} · {period.label}{_scope(tool)}"
    if not top.users:
        return [
            header(f"Top users · {period.label}{_scope(tool)}"),
            section("No usage recorded in this period."),
            *([context(freshness)] if freshness else []),
        ]
    blocks = [header(title)]
    lead = people_total_lead(top, period)
    if not named:
        return [
            *blocks,
            section(lead + "\nNamed rankings are visible to Abacus admins only (ABACUS_PEOPLE_VISIBILITY)."),
            *([context(freshness)] if freshness else []),
        ]
    lines = []
    for u in top.users:
        value = money(u.cost_usd) if metric == "cost" else tokens(u.tokens)
        split = " · ".join(
            [f"{tool_name(t)} {pct(share)}" for t, share in token_shares(u.tokens_by_tool)]
            + [f"{tool_name(t)} {money(c)}" for t, c in u.cost_by_tool.items() if not counts_tokens(t) and c]
        )
        other = tokens(u.tokens) + " tokens" if metric == "cost" else money(u.cost_usd)
        lines.append(
            f"{u.rank}. {escape(u.email)}  *{value}* ({pct(u.share_pct)}) · {other} · {split}"
            f" · {escape(u.favourite_model)}"
        )
    shares = f"Shares (%) are of the people's total {metric}."
    blocks.append(section(lead + "\n" + "\n".join(lines), more=MORE_PEOPLE))
    notes = (
        cost_notes(  # the chart splits each person's cost by tool
            tools=[t for u in top.users for t, c in u.cost_by_tool.items() if c],
            total_usd=top.total_cost_usd,
            subscription_usd=top.subscription.cost_usd,
            money=money,
        )
        if metric == "cost"
        else []
    )
    extra = [shares, *notes, unattributed_line(top.unattributed, period=period.label, included=False), freshness]
    blocks += [context(line) for line in extra if line]
    return blocks


def models_blocks(breakdown: ModelBreakdown, period: Period, *, tool: str | None, freshness: str) -> list[Block]:
    title = f"Models · {period.label}{_scope(tool)}"
    if not breakdown.models:
        return [
            header(title),
            section("No usage recorded in this period."),
            *([context(freshness)] if freshness else []),
        ]
    lines = []
    for m in breakdown.models[:10]:
        tools = " · ".join(
            f"{tool_name(t)} {tokens(v)}" for t, v in sorted(m.tokens_by_tool.items(), key=lambda i: -i[1])
        )
        if not m.tokens_by_tool:  # counted only in another unit (credits): its cost, no token figures
            lines.append(f"*{escape(m.model)}*  {money(m.cost_usd)} ({pct(m.cost_pct)} of cost)")
            continue
        lines.append(
            f"*{escape(m.model)}*  {money(m.cost_usd)} ({pct(m.cost_pct)} of cost) · {tokens(m.tokens)} tokens "
            f"({pct(m.token_pct)}) · {tools}"
        )
    shown = len(breakdown.models[:10])
    rest = len(breakdown.models) - shown + breakdown.other_models
    lead = f"{money(breakdown.total_cost_usd)} · {tokens(breakdown.total_tokens)} tokens across {shown + rest} models"
    blocks = [header(title), section(lead + "\n" + "\n".join(lines), more=MORE_MODELS)]
    notes = cost_notes(
        tools=[t for m in breakdown.models for t, c in m.cost_by_tool.items() if c],
        total_usd=breakdown.total_cost_usd,
        subscription_usd=breakdown.subscription.cost_usd,
        money=money,
    )
    blocks += [context(n) for n in notes]
    if rest:
        blocks.append(
            context(
                f"…and {rest} more smaller model{'' if rest == 1 else 's'} — `/abacus export usage` lists every "
                "model; shares are of the full total."
            )
        )
    if freshness:
        blocks.append(context(freshness))
    return blocks


def overview_blocks(
    ov: Overview,
    period: Period,
    *,
    tool: str | None,
    models: ModelBreakdown,
    top: TopUsers | None,
    freshness: str,
) -> list[Block]:
    cur = ov.current
    title = f"AI coding usage · {period.label}{_scope(tool)}"
    if cur.total_tokens == 0:
        return [
            header(title),
            section("No usage recorded in this period."),
            *([context(freshness)] if freshness else []),
        ]
    what = f"previous {period.days} days"
    cost_trend, token_trend = change(ov.changes.cost_usd, what), change(ov.changes.total_tokens, "before")
    lead = f"*{money(cur.cost_usd)}*" + (f" ({cost_trend})" if cost_trend else "")
    lead += f" · {tokens(cur.total_tokens)} tokens" + (f" ({token_trend})" if token_trend else "")
    people = f"{cur.active_users} active people"
    people_change = change(ov.changes.active_users, "before")
    lines = [
        lead,
        people
        + (f" ({people_change})" if people_change else "")
        + f" · {money(cur.avg_cost_per_user)} and {tokens(cur.avg_tokens_per_user)} tokens per person"
        + f" · {tokens(cur.avg_tokens_per_day)} tokens per day",
    ]
    if len(ov.tools) > 1 or not tool:
        lines.append(
            " · ".join(
                f"{tool_name(t.tool)} {money(t.cost_usd)}{est(t.tool)} "
                f"({_measure(t.tool, t.token_pct)}, {t.users} people)"
                for t in ov.tools
            )
        )
    lines.append(f"Input + output {tokens(cur.billable_tokens)} · cache hit ratio {pct(cur.cache_hit_ratio * 100)}")
    blocks = [header(title), section("\n".join(lines))]
    if models.models:
        blocks.append(
            section("*Models*  " + " · ".join(f"{escape(m.model)} {pct(m.token_pct)}" for m in models.models[:5]))
        )
    if top is not None and top.users:
        blocks.append(
            section(
                "*Top people*  "
                + " · ".join(f"{escape(u.email.split('@')[0])} {money(u.cost_usd)}" for u in top.users[:5])
            )
        )
    elif top is None:
        blocks.append(context(f"{cur.active_users} people active; named rankings are visible to admins only."))
    notes = cost_notes(
        tools=[t.tool for t in ov.tools if t.cost_usd],
        total_usd=cur.cost_usd,
        subscription_usd=ov.subscription.cost_usd,
        money=money,
    )
    extra = [*notes, unattributed_line(ov.unattributed, period=period.label, included=True), freshness]
    blocks += [context(line) for line in extra if line]
    return blocks


def _measure(tool: str, token_pct: float) -> str:
    """A tool's part of the tokens, or, for a tool not counted in tokens, what it is counted in instead."""
    return f"{pct(token_pct)} of tokens" if counts_tokens(tool) else registry.tool_unit(tool)
