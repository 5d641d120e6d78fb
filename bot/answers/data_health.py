"""`/abacus gaps` and `/abacus status`: is the data complete and fresh?"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.answers.blocks import Block, context, escape, header, section
from bot.answers.common import money, short_day, tokens
from bot.answers.team import MAP_HINT
from bot.formatting import ALL_TIME, unattributed_words
from bot.jobs import job_title
from bot.sources import freshness_words, source_title, tool_of_source
from providers import registry
from storage.analytics.gaps import ProviderGaps
from storage.analytics.status import SyncStatus
from storage.job_runs import JobRunSummary


def _org(org_id: str) -> str:
    return f" ({escape(org_id, limit=18)})" if org_id else ""


def gaps_blocks(
    results: Sequence[ProviderGaps],
    *,
    configured: Sequence[str],
    with_data: Sequence[str] = (),
    tools: Sequence[str] | None = None,
) -> list[Block]:
    """``with_data``: every tool with stored data, whatever was asked, so a tool left out by the filter is
    never called "not connected"; ``tools``: the tools asked about (None: all)."""
    blocks = [header("Gaps in the data")]
    if not results:
        return [*blocks, section("No data stored yet." + _not_configured(configured, with_data, tools))]
    lines = []
    for g in results:
        name = f"*{source_title(g.provider)}*{_org(g.org_id)}"
        if g.first_date is None:
            lines.append(f"{name}: no data yet.")
            continue
        span = f"{short_day(g.first_date)} {g.first_date.year} – {short_day(g.last_date or g.first_date)}"
        if not g.gaps:
            lines.append(f"{name}: no gaps · {g.days_with_data} days ({span})")
        else:
            runs = ", ".join(
                short_day(x.first_missing)
                if x.days == 1
                else f"{short_day(x.first_missing)}–{short_day(x.last_missing)}"
                for x in g.gaps[:8]
            )
            more = f" and {len(g.gaps) - 8} more" if len(g.gaps) > 8 else ""
            lines.append(f"{name}: {g.missing_days} of {g.expected_days} days missing ({span}): {runs}{more}")
        if g.stale:
            lines.append(
                f"    no data since {short_day(g.stale.last_data)} ({g.stale.days_without_data} days) although"
                f" the last sync succeeded on {short_day(g.stale.last_success)}: check the key and the team."
            )
    present = [*with_data, *(tool_of_source(g.provider) for g in results if g.first_date)]
    return [*blocks, section("\n".join(lines) + _not_configured(configured, present, tools))]


def _not_configured(configured: Sequence[str], present: Sequence[str] = (), only: Sequence[str] | None = None) -> str:
    """A line per tool (of ``only``, when given) that has neither a configured provider nor stored data,
    naming what to set."""
    lines = []
    for tool in registry.tools():
        if tool.id in configured or tool.id in present or (only is not None and tool.id not in only):
            continue
        hint = " or ".join(spec.key_settings.split(" or ")[0] for spec in registry.providers_of(tool.id))
        lines.append(f"\n{tool.title} is not connected yet: an admin can set {hint}.")
    return "".join(lines)


def _ago(now: datetime, when: datetime | None) -> str:
    if when is None:
        return "never"
    minutes = int((now - when).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


def status_blocks(
    status: SyncStatus, *, configured: Sequence[str], is_admin: bool, jobs: Sequence[JobRunSummary] = ()
) -> list[Block]:
    blocks = [header("Abacus status")]
    lines = []
    icons = {"up_to_date": "🟢", "behind": "🟡", "never_synced": "⚪"}
    for p in status.providers:
        icon = "🔴" if p.failing else icons[p.freshness]
        state = {
            "up_to_date": "up to date",
            "behind": f"behind by {p.days_behind} day(s)",
            "never_synced": "never synced",
        }[p.freshness]
        line = (
            f"{icon} *{source_title(p.provider)}*{_org(p.org_id)}: {state} · {freshness_words(p)}"
            f" · last success {_ago(status.now, p.last_success_at)}"
        )
        b = p.backfill
        if b.state == "complete":
            line += " · history complete"
        elif b.state == "in_progress" and b.reached:
            line += f" · history back to {short_day(b.reached)} {b.reached.year}"
            if b.percent is not None:
                line += f" ({b.percent:.0f}%)"
        lines.append(line)
        if p.failing and p.last_error:
            error = p.last_error if is_admin else "the last sync failed; admins can see why in `abacus status`"
            lines.append(f"    ⚠️ {escape(error, limit=300)}")
        lines.extend(f"    {escape(note, limit=400)}" for note in p.notes)
    if not lines:
        lines.append("Nothing synced yet.")
    text = "\n".join(lines) + _not_configured(configured, [tool_of_source(p.provider) for p in status.providers])
    blocks.append(section(text))
    if jobs:
        blocks.append(section(jobs_text(jobs, status.now, is_admin=is_admin)))
    if status.unmapped_key_count:
        blocks.append(
            context(
                unattributed_words(
                    period=ALL_TIME,
                    cost_usd=status.unmapped_cost_usd,
                    tokens=status.unmapped_tokens,
                    keys_by_tool=status.unmapped_by_tool,
                    keys=status.unmapped_key_count,
                    money=money,
                    count=tokens,
                )
                + f" (`/abacus overview` shows a period's) — {MAP_HINT}"
            )
        )
    return blocks


def jobs_text(jobs: Sequence[JobRunSummary], now: datetime, *, is_admin: bool) -> str:
    """The newest run of each scheduled job: when, how it ended, what it stored."""
    lines = ["*Scheduled jobs* (last run)"]
    for run in jobs:
        icon = {"ok": "✅", "failed": "❌", "running": "⏳"}.get(run.status, "•")
        line = f"{icon} {job_title(run.job_id)}: {_ago(now, run.started_at)}"
        if run.status == "running":
            line += ", still running"
        elif run.status == "ok":
            line += f" · {run.rows:,} rows"
        else:
            why = escape(run.error or "unknown error") if is_admin else "admins can see why in `abacus status`"
            line += f" · failed: {why}"
        lines.append(line)
    return "\n".join(lines)
