"""`abacus ask`: any /abacus command through the same pipeline as Slack, answered as text."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli_support import AppContext, console, pass_app
from bot.errors import AbacusError
from bot.observability import capture_exception


@click.command("ask")
@click.argument("text")
@click.option("--as", "as_email", required=True, metavar="EMAIL", help="Answer as this person would be answered.")
@click.option(
    "--channel",
    "channel_id",
    metavar="ID",
    help="Ask as if in this Slack channel (digest and budget set-up; checking membership needs SLACK_BOT_TOKEN).",
)
@click.option(
    "--png-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save the answer's charts (PNG) and export files here.",
)
@pass_app
def ask_command(app: AppContext, text: str, as_email: str, channel_id: str | None, png_dir: Path | None) -> None:
    """Ask what you would ask in Slack, e.g. `abacus ask "top 10 30d" --as you@example.com`."""
    from bot.slack.ask import ask  # Slack's libraries load only for this command

    settings, engine = app.settings, app.engine
    try:
        answer = ask(settings, engine, text, as_email, channel_id=channel_id)
    except AbacusError:
        raise
    except Exception as exc:
        # Slack would answer "something went wrong"; here it is one line on stderr, reported like any CLI bug.
        capture_exception(exc, command="ask")
        detail = " ".join(str(exc).split())[:300]
        raise AbacusError(f"Answering {text!r} failed: {type(exc).__name__}: {detail}") from None
    if answer.public:
        console.print("(in Slack this answer would be posted in the channel)", style="dim")
    # click.echo, not rich: the answer comes out exactly as composed (brackets, underscores, emoji codes).
    click.echo(answer.text, nl=False)
    saved = [*((c.filename, c.png, c.alt_text[:120]) for c in answer.charts)]
    saved += [(f.filename, f.content, f.title) for f in answer.files]
    if not saved:
        return
    if png_dir is None:
        console.print(f"{len(saved)} file(s): add --png-dir DIR to save them.", style="dim")
        return
    png_dir.mkdir(parents=True, exist_ok=True)
    for filename, content, about in saved:
        path = png_dir / filename
        path.write_bytes(content)
        console.print(f"{'Chart' if filename.endswith('.png') else 'File'}: {path} ({about})")
