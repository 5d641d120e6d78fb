"""The channel digest (daily or weekly) and the `/abacus digest ...` replies, as Block Kit (pure).

The digest leads with the period's cost and its change against a baseline (the trailing 7-day average
for a day, the week before for a week), then who and what, anything unusual, how fresh the data is,
and unattributed spend. People are named only when the privacy setting lets everyone see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from bot.answers.blocks import Block, context, escape, header, section
from bot.answers.common import change, money, pct, short_day, tokens, tool_name
from bot.answers.team import unattributed_line
from bot.formatting import cost_notes, est
from bot.sources import COMPLETE_TO
from storage.analytics.common import percent_change
from storage.analytics.models_breakdown import ModelBreakdown
from storage.analytics.overview import NO_SUBSCRIPTION, PeriodTotals, SubscriptionUsage, ToolSplit, UnattributedUsage
from storage.analytics.team_usage import TeamSpike
from storage.analytics.top_users import TopUsers
from storage.analytics.unusual import UnusualSpend
from storage.digests import Subscription

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
INVITE_HINT = "Invite me first with `/invite @Abacus`, then run the command again."


@dataclass(frozen=True, slots=True)
class DigestFacts:
    """Everything a digest says, gathered from storage for one period."""

    cadence: str  # daily | weekly
    start: date
    end: date
    totals: PeriodTotals
    baseline_cost_usd: Decimal | None  # what the period is compared with; None: no history
    tools: list[ToolSplit]
    models: ModelBreakdown
    top: TopUsers | None  # None when people may not be named in channels
    unusual: list[UnusualSpend]
    unusual_factor: float
    unattributed: UnattributedUsage
    freshness: str
    # Tools whose data is complete only to a day before ``end``: their numbers for the period may still grow.
    incomplete: dict[str, date] = field(default_factory=dict)
    # Teams far above their usual day (daily digests), and where the channel-visible budgets stand.
    team_spikes: list[TeamSpike] = field(default_factory=list)
    budget_lines: list[str] = field(default_factory=list)
    subscription: SubscriptionUsage = NO_SUBSCRIPTION  # subscription-seat usage within ``totals``


def period_title(cadence: str, start: date, end: date) -> str:
    if cadence == "weekly":
        return f"Week of {short_day(start)} – {short_day(end)} {end.year}"
    return f"{WEEKDAYS[end.weekday()]} {short_day(end)}"


def _name(email: str) -> str:
    return escape(email.split("@")[0])


def digest_blocks(facts: DigestFacts, *, late_note: str | None = None) -> list[Block]:
    t = facts.totals
    title = f"AI coding costs · {period_title(facts.cadence, facts.start, facts.end)}"
    when = "that week" if facts.cadence == "weekly" else "that day"
    baseline_name = "the week before" if facts.cadence == "weekly" else "the 7-day average"
    blocks: list[Block] = [header(title)]
    if t.total_tokens == 0:
        blocks.append(section(f"No AI coding usage was recorded {when}."))
    else:
        lead = f"*{money(t.cost_usd)}* {when} · {tokens(t.total_tokens)} tokens"
        if facts.baseline_cost_usd is not None:
            moved = change(percent_change(t.cost_usd, facts.baseline_cost_usd), baseline_name)
            lead += f" · {moved}" if moved else f" · about the same as {baseline_name}"
        lead += f" · {t.active_users} active {'person' if t.active_users == 1 else 'people'}"
        lines = [lead]
        if facts.tools:
            lines.append(
                " · ".join(
                    f"{tool_name(s.tool)} {money(s.cost_usd)}{est(s.tool)} ({pct(_share(s.cost_usd, t.cost_usd))})"
                    for s in facts.tools
                )
            )
        if facts.top is not None and facts.top.users:
            lines.append("Top: " + " · ".join(f"{_name(u.email)} {money(u.cost_usd)}" for u in facts.top.users[:5]))
        elif facts.top is None:
            lines.append("Named rankings are visible to Abacus admins only.")
        unusual = _unusual_line(facts)
        if unusual:
            lines.append(unusual)
        if facts.team_spikes:
            lines.append(
                "Teams above their usual day: "
                + " · ".join(
                    f"{escape(s.name)} {money(s.cost_usd)} ({s.ratio:.1f}× usual {money(s.usual_usd)})"
                    for s in facts.team_spikes[:3]
                )
            )
        models = _models_line(facts.models)
        if models:
            lines.append(models)
        blocks.append(section("\n".join(lines)))
    budgets = "Budgets: " + " · ".join(facts.budget_lines) if facts.budget_lines else ""
    unattributed = unattributed_line(facts.unattributed, period=when, included=True)
    costs = cost_notes(
        tools=[s.tool for s in facts.tools if s.cost_usd],
        total_usd=t.cost_usd,
        subscription_usd=facts.subscription.cost_usd,
        money=money,
    )
    notes = [budgets, *costs, facts.freshness, _incomplete_line(facts), unattributed, late_note or ""]
    blocks += [context(n) for n in notes if n]
    return blocks


def _incomplete_line(facts: DigestFacts) -> str:
    if not facts.incomplete:
        return ""
    parts = [f"{tool_name(t)} {COMPLETE_TO} {short_day(d)} only" for t, d in sorted(facts.incomplete.items())]
    return (
        f"Not final yet: {' · '.join(parts)}, so these numbers may still grow as late data arrives "
        "(the chart hatches the projected part)."
    )


def _share(part: Decimal, whole: Decimal) -> float:
    return float(part / whole * 100) if whole else 0.0


def _unusual_line(facts: DigestFacts) -> str:
    if not facts.unusual:
        return ""
    factor = f"{facts.unusual_factor:g}×"
    if facts.top is None:
        count = len(facts.unusual)
        who = "1 person" if count == 1 else f"{count} people"
        return f"Unusual: {who} above {factor} their usual daily spend"
    parts = [
        f"{_name(u.email)} at {u.ratio:.1f}× their usual daily spend ({money(u.cost_usd)} on {short_day(u.date)})"
        for u in facts.unusual[:3]
    ]
    more = f" and {len(facts.unusual) - 3} more" if len(facts.unusual) > 3 else ""
    return "Unusual: " + " · ".join(parts) + more


def _models_line(models: ModelBreakdown) -> str:
    if not models.models:
        return ""
    shown = sorted(models.models, key=lambda m: (-m.cost_usd, m.model))[:4]
    parts = [f"{escape(m.model)} {pct(m.cost_pct)}" for m in shown]
    rest = 100.0 - sum(m.cost_pct for m in shown)
    if len(models.models) > len(shown) or models.other_models:
        parts.append(f"other {pct(max(rest, 0.0))}")
    return "Models: " + " · ".join(parts)


# --- /abacus digest replies ------------------------------------------------------------------------------


def schedule_text(sub: Subscription) -> str:
    if sub.cadence == "weekly":
        day = WEEKDAYS[sub.weekday or 0]
        return f"weekly on {day}s at {sub.local_time} ({sub.timezone}), for the last full week"
    return f"daily at {sub.local_time} ({sub.timezone}), for the day before"


def subscribed_blocks(sub: Subscription) -> list[Block]:
    return [
        section(
            f":white_check_mark: <#{sub.channel_id}> gets the {sub.cadence} AI coding digest {schedule_text(sub)}."
        ),
        context("`/abacus digest list` shows every digest · `/abacus digest off` stops this channel's digests."),
    ]


def subscriptions_blocks(subs: Sequence[Subscription]) -> list[Block]:
    if not subs:
        return [section("No channel gets a digest yet. In a channel: `/abacus digest here daily 09:00`.")]
    lines = [f"• <#{s.channel_id}>: {schedule_text(s)}" for s in subs]
    return [header("Digests"), section("\n".join(lines))]


def stopped_blocks(channel_id: str, count: int) -> list[Block]:
    if not count:
        return [section(f"<#{channel_id}> has no digest to stop.")]
    what = "digest" if count == 1 else f"{count} digests"
    return [section(f"Stopped the {what} in <#{channel_id}>.")]


def not_in_channel_blocks() -> list[Block]:
    return [section(f"I'm not a member of this channel, so I can't post digests here. {INVITE_HINT}")]


def disabled_note(sub: Subscription, error: str) -> str:
    """The DM to the admin who set a digest up, when Slack no longer lets Abacus post there."""
    reasons = {
        "not_in_channel": "I'm no longer a member of that channel",
        "channel_not_found": "the channel no longer exists (or I can't see it)",
        "is_archived": "the channel was archived",
    }
    why = reasons.get(error, f"Slack refused the post (`{escape(error)}`)")
    return (
        f"I stopped the {sub.cadence} AI coding digest in <#{sub.channel_id}>: {why}. "
        f"To get it back, `/invite @Abacus` there and run `/abacus digest here {sub.cadence}` again."
    )
