"""`/abacus me`, `/abacus user` and the App Home: one person's usage."""

from __future__ import annotations

from collections.abc import Sequence

from bot.answers.blocks import Block, context, escape, header, section
from bot.answers.common import change, money, pct, sparkline, tokens, tool_name
from bot.formatting import cost_notes, standing, token_shares, uncounted_costs
from bot.periods import Period
from storage.analytics.profile import UserProfile


def profile_blocks(
    profile: UserProfile, period: Period, *, whose: str, freshness: str, tool_activity: Sequence[str] = ()
) -> list[Block]:
    """``whose``: "Your" for the asker, or the person's name; ``tool_activity``: other tools' activity lines."""
    s = profile.summary
    title = f"{whose} AI coding usage · {period.label}"
    if not s.active_days and not profile.lifetime.first_day:
        nobody = "You have" if whose == "Your" else f"{escape(whose)} has"
        return [
            header(title),
            section(f"{nobody} no AI coding usage recorded yet."),
            *([context(freshness)] if freshness else []),
        ]
    if not s.active_days:
        last = profile.lifetime
        return [
            header(title),
            section(
                f"No usage in this period. Lifetime: {money(last.cost_usd)} · {tokens(last.tokens)} tokens"
                + (f" since {last.first_day:%b %Y}" if last.first_day else "")
                + ". Try a longer period, e.g. `/abacus me 90d`."
            ),
            *([context(freshness)] if freshness else []),
        ]
    what = f"previous {period.days} days"
    lead = f"*{money(s.cost_usd)}* · {tokens(s.tokens)} tokens · {s.active_days} active day" + (
        "s" if s.active_days != 1 else ""
    )
    trend = change(profile.cost_change, what)
    lines = [lead + (f"    {trend}" if trend else "")]
    # Tools not counted in tokens (credits) are shown by their cost, never as a sliver of the tokens.
    uncounted = uncounted_costs(m.cost_by_tool for m in profile.models.models)
    split = " · ".join(
        [f"{tool_name(t)} {pct(share)}" for t, share in token_shares(s.tokens_by_tool)]
        + [f"{tool_name(t)} {money(c)}" for t, c in uncounted.items()]
    )
    top_model = profile.models.top_model
    if top_model:
        split += f"     Top model: {escape(top_model.model)} ({pct(top_model.token_pct)})"
    lines.append(split)
    a = profile.activity
    if a.sessions or a.lines_added or a.commits:
        activity = f"Claude Code: {a.sessions:,} sessions · {a.lines_added:,} lines added · {a.commits:,} commits"
        activity += f" · {a.pull_requests:,} PRs"
        if a.accept_rate is not None:
            activity += f" · {a.accept_rate:.0f}% edits accepted"
        lines.append(activity)
    lines += [escape(line) for line in tool_activity]
    p = profile.percentile
    if p.rank is not None and p.population >= 5:
        lines.append(f"{standing(p.rank, p.population)} by tokens per active day.")
    lines.append(
        f"Avg {tokens(s.avg_tokens_per_active_day)} tokens and {money(s.avg_cost_per_active_day)} per active day"
        + (f" · cache reads {pct(s.cache_read_tokens / s.tokens * 100)} of tokens" if s.tokens else "")
    )
    blocks = [header(title), section("\n".join(lines))]
    blocks += [
        context(n)
        for n in cost_notes(
            tools=uncounted, total_usd=s.cost_usd, subscription_usd=profile.models.subscription.cost_usd, money=money
        )
    ]
    if len(profile.models.models) > 1:
        models = " · ".join(f"{escape(m.model)} {money(m.cost_usd)}" for m in profile.models.models[:5])
        blocks.append(context(f"Models: {models}"))
    daily = [sum(d.tokens.values()) for d in profile.daily]
    if len(daily) > 1:
        blocks.append(context(f"`{sparkline(daily[-31:])}` daily tokens"))
    if freshness:
        blocks.append(context(freshness))
    return blocks


# The Home tab cannot show a private image, so the full chart is one click away, in the person's DM.
HOME_CHART_ACTION = "home_send_chart"


def home_view(profile: UserProfile | None, period: Period, *, name: str, freshness: str) -> dict[str, object]:
    blocks: list[Block] = [header(f"Hi {name} 👋"), context(f"Your AI coding usage · {period.label}")]
    if profile is None:
        blocks.append(section("Abacus has no usage recorded for you yet."))
    else:
        blocks += profile_blocks(profile, period, whose="Your", freshness=freshness)[1:]
    if profile is not None and profile.summary.tokens:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": HOME_CHART_ACTION,
                        "text": {"type": "plain_text", "text": "Send me the chart"},
                        "value": "30d",
                    }
                ],
            }
        )
    blocks.append(context("`/abacus me 7d` (or `90d`, `mtd`…) for other periods · `/abacus help` for everything else."))
    return {"type": "home", "blocks": blocks}
