"""`abacus scheduler`: the scheduled jobs (syncs, backfills, mappings, digests) in their own process."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

import click

from bot.cli_support import AppContext, console, pass_app
from bot.observability import configure_logging


@click.command("scheduler")
@pass_app
def scheduler_command(app: AppContext) -> None:
    """Run the scheduled jobs until stopped (SIGTERM or Ctrl-C). Several may run: one leads, the rest wait."""
    from bot.scheduler import AbacusScheduler

    configure_logging(app.settings, logging.INFO)
    scheduler = AbacusScheduler(app.settings, app.engine, background=False)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        if scheduler.running:
            # Let a running job finish its current step; the leader lock is released on the way out.
            scheduler.shutdown(wait=False)
        else:
            # Not started yet, or starting: shutting down would do nothing and the scheduler would then block
            # for good, so leave as Ctrl-C does. A process manager stops processes it has only just started.
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        for job in scheduler.jobs:
            # click.echo, not rich: triggers print as `cron[hour='3', minute='30']`, which rich reads as markup.
            click.echo(f"{job.id}: {job.trigger} (misfire grace {job.misfire_grace_time} s)")
        sys.stdout.flush()  # before the scheduler blocks: a process manager's log shows the schedule at once
        if not scheduler.jobs:
            console.print("No jobs: configure a provider key or SLACK_BOT_TOKEN (see `abacus config`).")
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
