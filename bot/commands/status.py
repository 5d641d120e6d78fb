"""`abacus status`: sync health per provider and org, backfill progress, and unmapped API keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from bot.cli_support import AppContext, console, emit_json, json_option, pass_app, styled, to_jsonable
from bot.formatting import ALL_TIME, format_tokens, format_usd, unattributed_words
from bot.jobs import job_title, utc_now
from bot.report_support import read_session, resolve_sources
from bot.sources import freshness_words, source_title, status_of
from providers import registry
from storage.analytics.status import ProviderStatus
from storage.job_runs import JobRunSummary, last_runs


@click.command("status")
@click.argument("provider", required=False)
@json_option
@pass_app
def status_command(app: AppContext, provider: str | None, as_json: bool) -> None:
    """Last attempt and success, newest complete day, lag, backfill and errors per provider and org."""
    sources = resolve_sources(provider)
    now = utc_now()
    with read_session(app) as s:
        status = status_of(s, now=now, sources=sources)
        jobs = last_runs(s)
    if as_json:
        payload = to_jsonable(status)
        for item, p in zip(payload["providers"], status.providers, strict=True):
            del item["watermark_age"]
            item["watermark_age_seconds"] = p.watermark_age.total_seconds() if p.watermark_age else None
        payload["jobs"] = to_jsonable(jobs)
        emit_json(payload)
        return
    if not status.providers:
        console.print("No provider has synced or stored data yet: configure a key (see `abacus config`).")
    else:
        # One line per provider and org (not a table), so it stays readable in logs and narrow terminals.
        console.print(f"Sync status at {now:%Y-%m-%d %H:%M} UTC", style="bold")
        for p in status.providers:
            org = f" · org {p.org_id}" if p.org_id else ""
            line = styled(
                f"{source_title(p.provider)}{org}: ",
                _state(p),
                f" · {freshness_words(p)} · "
                f"last success {_when(p.last_success_at, now)} · last attempt {_when(p.last_attempt_at, now)} · "
                f"backfill {_backfill(p)}",
            )
            console.print(line)
            if p.failing:
                console.print(f"  Last error at {p.last_error_at:%Y-%m-%d %H:%M}: {p.last_error}", style="red")
            for note in p.notes:
                console.print(f"  {note}", markup=False, highlight=False)
    _print_jobs(jobs, now)
    if status.unmapped_key_count:
        words = unattributed_words(
            period=ALL_TIME,
            cost_usd=status.unmapped_cost_usd,
            tokens=status.unmapped_tokens,
            keys_by_tool=status.unmapped_by_tool,
            keys=status.unmapped_key_count,
            money=format_usd,
            count=format_tokens,
        )
        console.print(f"{words}. Map them to people so their usage counts: `abacus mappings`.", markup=False)
        for k in status.unmapped_keys[:10]:
            note = f" (mapped to {k.mapped_to}, not re-attributed yet)" if k.mapped_to else ""
            console.print(
                f"  {registry.tool_title(k.provider)} {k.org_id or ''} {k.key}: {format_tokens(k.tokens)} tokens, "
                f"{format_usd(k.cost_usd)}, last seen {k.last_seen}{note}"
            )


def _state(p: ProviderStatus) -> Text:
    labels = {
        "up_to_date": ("up to date", "green"),
        "behind": ("behind", "yellow"),
        "never_synced": ("never synced", ""),
    }
    text = styled(labels[p.freshness])
    if p.freshness == "behind" and p.days_behind:
        text.append(f" ({p.days_behind} day{'s' if p.days_behind != 1 else ''})")
    if p.failing:
        text.append(" ")
        text.append("failing", style="red")
    return text


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{moment:%Y-%m-%d %H:%M} ({_age(now - moment)} ago)"


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def _backfill(p: ProviderStatus) -> str:
    b = p.backfill
    parts: dict[str, Any] = {"complete": "complete", "not_started": "not started"}
    if b.state in parts:
        return str(parts[b.state])
    done = f" {b.percent:.0f}%" if b.percent is not None else ""
    return f"at {b.reached}{done}, {b.days_remaining} days to {b.target}"


def _print_jobs(jobs: list[JobRunSummary], now: datetime) -> None:
    if not jobs:
        console.print("Scheduled jobs: none has run yet (`abacus scheduler`, or `abacus serve --with-scheduler`).")
        return
    table = Table(title="Scheduled jobs (last run)", title_justify="left")
    for column in ("Job", "Started", "Finished", "Outcome", "Rows", "Error"):
        table.add_column(column)
    for run in jobs:
        outcome = Text(run.status, style={"ok": "green", "failed": "red"}.get(run.status, ""))
        table.add_row(
            job_title(run.job_id),
            _when(run.started_at, now),
            f"{run.finished_at:%Y-%m-%d %H:%M}" if run.finished_at else "-",
            outcome,
            f"{run.rows:,}",
            (run.error or "")[:80],
        )
    console.print(table)
