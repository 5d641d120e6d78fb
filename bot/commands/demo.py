"""`abacus demo`: a newcomer's first five minutes, with nothing configured.

It fills a separate SQLite file with a realistic organisation, then answers three questions exactly as
Slack would (``dispatch.answer`` + ``blocks_to_text``) and saves the charts, so the first thing anyone sees
is real output of the real pipeline rather than a screenshot. The real database is never used: the demo
builds its own settings (its own file, its own email domain) instead of reading the environment's.
"""

from __future__ import annotations

import shlex
import sqlite3
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from bot.access import SlackUser, access_policy
from bot.answers.plain_text import blocks_to_text
from bot.cli_support import console, styled
from bot.command_text import parse
from bot.demo_data import DEMO_CLAUDE_ORG, DEMO_DOMAIN, demo_people, generate_demo
from bot.digests import DuePeriod, compose_digest
from bot.errors import AbacusError
from bot.settings import Settings
from bot.usecases import dispatch
from bot.usecases.context import Context
from storage.db import make_engine
from storage.migrate import upgrade

DEFAULT_DATABASE = Path("abacus-demo.db")
DEFAULT_OUT = Path("abacus-demo")


@click.command("demo")
@click.option("--people", type=click.IntRange(1, 5_000), default=40, show_default=True, help="People in the org.")
@click.option("--days", type=click.IntRange(7, 730), default=90, show_default=True, help="Days of history.")
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same organisation.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Folder for the charts (PNG).",
)
@click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DATABASE,
    show_default=True,
    help="SQLite file for the demo data; replaced on every run.",
)
def demo_command(people: int, days: int, seed: int, out: Path, database: Path) -> None:
    """Fill a demo database with a made-up organisation and show what Abacus answers about it."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    end = now.date() - timedelta(days=1)
    database = database.resolve()
    _remove_database(database)
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        made = generate_demo(engine, people=people, days=days, end=end, now=now, seed=seed)
        console.print(
            styled(
                ("Demo organisation", "bold"),
                f" in {database}: {made.people} people x {made.days} days, "
                f"{made.usage_rows:,} usage rows, {made.activity_rows:,} Claude Code activity rows.\n",
            )
        )
        settings = Settings(
            _env_file=None,
            DATABASE_URL=url,
            ABACUS_EMAIL_DOMAINS=DEMO_DOMAIN,
            ABACUS_PEOPLE_VISIBILITY="everyone",
            ABACUS_TIMEZONE="UTC",
        )
        policy = access_policy(settings)
        emails = demo_people(people, seed)
        asker_email, heavy = emails[-1], emails[0]
        asker = SlackUser(id="demo", email=asker_email, name=asker_email.split("@")[0], team_id="", tz="UTC")
        ctx = Context(settings=settings, engine=engine, policy=policy, now=lambda: now, asker=asker)
        out.mkdir(parents=True, exist_ok=True)
        saved: list[Path] = []
        for text, show in (("overview 30d", True), ("top 5 30d", True), (f"user {heavy} 30d", True), ("models", False)):
            answer = dispatch.answer(ctx, parse(text))
            if show:
                console.rule(f"/abacus {text}")
                console.print(blocks_to_text(answer.blocks), end="")
                console.print()
            for chart in answer.charts:
                name = "user.png" if chart.filename == "usage.png" else chart.filename
                path = out / name
                path.write_bytes(chart.png)
                saved.append(path)
        # The daily digest for the last day, exactly as it would be posted: its unusual spender (the demo's
        # spike), the team above its usual day and the team budget past 100%.
        due = DuePeriod(
            end.isoformat(), end, end, datetime(end.year, end.month, end.day, 9, tzinfo=UTC) + timedelta(days=1)
        )
        message = compose_digest(settings, engine, "daily", due, now=now)
        console.rule("Daily digest")
        console.print(blocks_to_text(message.blocks), end="")
        console.print()
        digest = out / "digest.png"
        digest.write_bytes(message.chart.png)
        saved.append(digest)
    finally:
        engine.dispose()
    _next_steps(database, out, saved, asker_email, heavy, time.perf_counter() - started)


def _remove_database(database: Path) -> None:
    """Re-running replaces the demo: drop the file and SQLite's WAL/SHM companions. Only a demo database is
    ever replaced: pointing --database at real data (say `abacus.db`) is refused, not obeyed."""
    if database.is_dir():
        raise AbacusError(f"{database} is a directory; give --database a file path.")
    if database.exists() and database.stat().st_size and not _is_demo_database(database):
        raise AbacusError(
            f"{database} exists and is not an Abacus demo database; choose another --database or remove it yourself."
        )
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)


def _is_demo_database(database: Path) -> bool:
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT 1 FROM sync_state WHERE org_id = ?", (DEMO_CLAUDE_ORG,)).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def _next_steps(database: Path, out: Path, saved: list[Path], asker: str, heavy: str, took: float) -> None:
    env = shlex.quote(f"DATABASE_URL=sqlite:///{database}")
    # The way the reader started us (`.venv/bin/abacus` in the quick start), so the commands work as printed.
    abacus = shlex.quote(sys.argv[0]) if Path(sys.argv[0]).name == "abacus" else "abacus"
    domains = f"ABACUS_EMAIL_DOMAINS={DEMO_DOMAIN}"
    console.rule("Charts")
    for path in saved:
        console.print(f"  {path}")
    console.print(f"\nDone in {took:.1f} s. Try next (the demo data, as {asker} would be answered in Slack):\n")
    console.print(f'  {env} {domains} {abacus} ask "top 5 7d" --as {asker}')
    console.print(f'  {env} {domains} {abacus} ask "user {heavy} 90d" --as {asker} --png-dir {shlex.quote(str(out))}')
    console.print(f"  {env} {abacus} report models --period 90d")
    console.print(f"  {env} {abacus} gaps        # the two-day hole in the Cursor data")
    console.print(f"  {env} {abacus} status      # freshness, OpenAI's cost check, unmapped keys and logins")
    console.print(
        "\nConnect Slack: create the app from manifest.yml, set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and "
        "ABACUS_EMAIL_DOMAINS, then run `abacus serve` (README: The Slack app). Real data: set "
        "ANTHROPIC_ADMIN_KEY, ANTHROPIC_ANALYTICS_KEY, CURSOR_ADMIN_KEY, OPENAI_ADMIN_KEY and/or COPILOT_TOKEN with "
        "COPILOT_ORGS, `abacus db migrate`, `abacus sync`."
    )
