"""`abacus digest preview`: exactly what a channel digest would post, as text, without posting."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from bot.answers.plain_text import blocks_to_text
from bot.cli_support import AppContext, console, pass_app
from bot.digests import compose_digest, latest_period, period_for_day
from bot.errors import AbacusError
from bot.jobs import utc_now
from bot.report_support import write_file
from storage.digests import list_subscriptions


@click.group("digest")
def digest_group() -> None:
    """Channel digests (set them up in Slack with `/abacus digest here daily`)."""


@digest_group.command("preview")
@click.option("--channel", help="A channel id with a digest: use its schedule (default: daily, ABACUS_TIMEZONE).")
@click.option("--weekly", is_flag=True, help="Preview the weekly digest instead of the daily one.")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day to report (weekly: any day of the week). Default: what would be posted now.",
)
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Also save the chart here.")
@pass_app
def digest_preview(app: AppContext, channel: str | None, weekly: bool, day: datetime | None, png: Path | None) -> None:
    """Show the digest as it would be posted (text of the blocks, and the chart's alt text)."""
    settings = app.settings
    cadence = "weekly" if weekly else "daily"
    local_time, weekday, timezone = "09:00", 0, settings.timezone
    if channel is not None:
        subs = [s for s in list_subscriptions(app.engine, channel_id=channel) if not weekly or s.cadence == "weekly"]
        if not subs:
            raise AbacusError(
                f"No {'weekly ' if weekly else ''}digest is set up for channel {channel}: "
                "run `/abacus digest here daily` there, or preview without --channel."
            )
        sub = next((s for s in subs if s.cadence == cadence), subs[0])
        cadence, local_time, weekday, timezone = sub.cadence, sub.local_time, sub.weekday or 0, sub.timezone
    now = utc_now()
    if day is not None:
        period = period_for_day(cadence, day.date())
    else:
        period = latest_period(cadence, local_time, weekday, ZoneInfo(timezone), now)
    message = compose_digest(settings, app.engine, cadence, period, now=now)
    where = f"in {channel}" if channel else "in a channel"
    console.print(f"Would post {where} ({cadence}, period {period.key}):", style="dim")
    # click.echo, not rich: the text must come out exactly as composed (brackets included).
    click.echo(blocks_to_text(message.blocks).rstrip("\n"))
    click.echo(f"[chart in the thread: {message.chart.alt_text}]")
    if png is not None:
        write_file(str(png), message.chart.png, "chart")
