"""`abacus ask`: any /abacus command through the same pipeline as Slack, answered as text."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli_support import AppContext, console, pass_app
from bot.errors import AbacusError
from bot.slack.access import denial
from bot.slack.app import access_policy
from bot.slack.command_text import parse
from bot.slack.plain_text import blocks_to_text
from bot.slack.services import Services
from bot.slack.users import SlackUser


@click.command("ask")
@click.argument("text")
@click.option("--as", "as_email", required=True, metavar="EMAIL", help="Answer as this person would be answered.")
@click.option(
    "--png-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save the answer's charts here (PNG).",
)
@pass_app
def ask_command(app: AppContext, text: str, as_email: str, png_dir: Path | None) -> None:
    """Ask what you would ask in Slack, e.g. `abacus ask "top 10 30d" --as you@example.com`."""
    settings = app.settings
    email = as_email.strip().lower()
    asker = SlackUser(id="cli", email=email, name=email.split("@")[0], team_id="", tz=settings.timezone)
    policy = access_policy(settings)
    reason = denial(policy, asker, None)
    if reason is not None:
        raise AbacusError(f"Slack would refuse {email}: {reason}")
    services = Services(settings=settings, engine=app.engine, directory=None, policy=policy)
    answer = services.answer(parse(text), asker, is_admin=policy.is_admin(asker))
    if answer.public:
        console.print("[dim](in Slack this answer would be posted in the channel)[/dim]")
    console.print(blocks_to_text(answer.blocks), end="")
    if not answer.charts:
        return
    if png_dir is None:
        console.print(f"[dim]{len(answer.charts)} chart(s): add --png-dir DIR to save them.[/dim]")
        return
    png_dir.mkdir(parents=True, exist_ok=True)
    for chart in answer.charts:
        path = png_dir / chart.filename
        path.write_bytes(chart.png)
        console.print(f"Chart: {path} ({chart.alt_text[:120]})")
