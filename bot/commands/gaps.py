"""`abacus gaps`: days without data per provider and org, and providers that went quiet."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click
from rich.table import Table

from bot.cli_support import AppContext, console, emit_json, json_option, pass_app
from bot.jobs import utc_now
from bot.periods import today_in
from bot.report_support import read_session, resolve_sources
from bot.sources import gaps_of, source_title
from storage.analytics.gaps import STALE_AFTER_DAYS


@click.command("gaps")
@click.argument("provider", required=False)
@click.option(
    "--stale-after",
    type=click.IntRange(1, 365),
    default=STALE_AFTER_DAYS,
    show_default=True,
    help="Flag a provider whose newest data is older than this many days while its sync still succeeds.",
)
@json_option
@pass_app
def gaps_command(app: AppContext, provider: str | None, stale_after: int, as_json: bool) -> None:
    """Missing days between the first and last day with data, per provider and org."""
    sources = resolve_sources(provider)
    today = today_in(ZoneInfo("UTC"), utc_now())  # stored days are UTC days
    with read_session(app) as s:
        report = gaps_of(s, today=today, sources=sources, stale_after_days=stale_after)
    if as_json:
        emit_json(
            {
                "today": today,
                "providers": [
                    {
                        "provider": g.provider,
                        "org_id": g.org_id,
                        "first_date": g.first_date,
                        "last_date": g.last_date,
                        "days_with_data": g.days_with_data,
                        "expected_days": g.expected_days,
                        "missing_days": g.missing_days,
                        "gaps": [{"first": x.first_missing, "last": x.last_missing, "days": x.days} for x in g.gaps],
                        "stale": g.stale,
                    }
                    for g in report
                ],
            }
        )
        return
    if not report:
        console.print("No data found." + ("" if provider is None else f" (for {provider})"))
        return
    for g in report:
        org = f" · org {g.org_id}" if g.org_id else ""
        console.print(f"{source_title(g.provider)}{org}", style="bold")
        if g.first_date is None:
            console.print("  No data yet, although a sync state exists.")
            continue
        console.print(f"  Data from {g.first_date} to {g.last_date}: {g.days_with_data} of {g.expected_days} days.")
        if g.gaps:
            table = Table(show_header=True, box=None, padding=(0, 2))
            table.add_column("Missing from")
            table.add_column("to")
            table.add_column("Days", justify="right")
            for gap in g.gaps:
                table.add_row(str(gap.first_missing), str(gap.last_missing), str(gap.days))
            console.print(table)
            console.print(f"  Total missing days: {g.missing_days} of {g.expected_days} expected.")
        else:
            console.print("  No gaps found.")
        if g.stale:
            console.print(
                f"  No data for {g.stale.days_without_data} days (since {g.stale.last_data}) although the "
                f"sync last succeeded on {g.stale.last_success}: check the key's access and the team's "
                "activity.",
                style="yellow",
            )
