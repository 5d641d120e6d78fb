"""The `abacus` command line: everything an operator needs, each read command also as `--json`.

Commands live in ``bot/commands/``, one module per command or group; this module only assembles them and
turns every failure an operator can cause into one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import importlib
import sys

import click

from bot.errors import AbacusError
from bot.observability import bound, capture_exception

# Every command, by name: the module that defines it, the object's name there, and its one-line help for
# `abacus --help`. Commands are imported only when run (or asked for their own help), so the CLI starts
# without loading matplotlib, the Slack SDK or the database driver it does not need; a test keeps the
# one-line help equal to each command's own.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ask": ("bot.commands.ask", "ask_command", "Ask what you would ask in Slack, e.g."),
    "backfill": (
        "bot.commands.sync",
        "backfill_group",
        "Walk a provider's history backwards to a target day, resumably, a bounded chunk per run.",
    ),
    "config": (
        "bot.commands.config",
        "config_command",
        "Show the effective settings (secrets masked) and what each feature still needs.",
    ),
    "db": ("bot.commands.db", "db_group", "Database schema: create and upgrade it."),
    "demo": (
        "bot.commands.demo",
        "demo_command",
        "Fill a demo database with a made-up organisation and show what Abacus answers about it.",
    ),
    "digest": (
        "bot.commands.digest",
        "digest_group",
        "Channel digests (set them up in Slack with `/abacus digest here daily`).",
    ),
    "doctor": (
        "bot.commands.doctor",
        "doctor_command",
        "Check the database, Slack, provider keys, the scheduler and the clock; exit 1 if something needed fails.",
    ),
    "gaps": (
        "bot.commands.gaps",
        "gaps_command",
        "Missing days between the first and last day with data, per provider and org.",
    ),
    "import": ("bot.commands.import_csv", "import_group", "Import usage from exported files."),
    "mappings": (
        "bot.commands.mappings",
        "mappings_group",
        "List identity mappings (with origin and who mapped) and the API keys and logins still unmapped.",
    ),
    "report": (
        "bot.commands.report",
        "report_group",
        "Usage analytics: overview, top users, one person, models, trends, the team table.",
    ),
    "scheduler": (
        "bot.commands.scheduler",
        "scheduler_command",
        "Run the scheduled jobs until stopped (SIGTERM or Ctrl-C).",
    ),
    "serve": (
        "bot.commands.serve",
        "serve_command",
        "Run the Slack app: HTTP at /slack/events (+ /healthz), or Socket Mode when SLACK_APP_TOKEN is set.",
    ),
    "stats": (
        "bot.commands.stats",
        "stats_command",
        "What is stored: records, tokens and cost per tool, top users, date span, mappings.",
    ),
    "status": (
        "bot.commands.status",
        "status_command",
        "Last attempt and success, newest complete day, lag, backfill and errors per provider and org.",
    ),
    "sync": (
        "bot.commands.sync",
        "sync_group",
        "Fetch usage from every configured provider (default: the last 7 UTC days).",
    ),
    "teams": (
        "bot.commands.teams",
        "teams_group",
        "Teams: named sets of people for `/abacus team NAME` and `/abacus top teams`.",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use; its help lists them from :data:`COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _help = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        width = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, _shortened(short, width)) for name, (_m, _a, short) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _shortened(text: str, width: int) -> str:
    """``text`` within ``width`` characters, cut at a word with an ellipsis when it is longer."""
    if len(text) <= width:
        return text
    return text[: width - 3].rsplit(" ", 1)[0].rstrip(",;:") + "..."


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="abacus", prog_name="abacus")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Abacus: AI coding tool usage, costs and people, answered in Slack.

    Settings come from the environment or a .env file; `abacus config` shows them.
    """
    from bot.cli_support import AppContext

    app = AppContext()
    ctx.obj = app
    ctx.call_on_close(app.close)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure an operator can cause ends as one line on stderr and a non-zero exit."""
    return run(cli, argv)


def run(command: click.Command, argv: list[str] | None) -> int:
    args = sys.argv[1:] if argv is None else argv
    name = " ".join(a for a in args[:2] if not a.startswith("-")) or "abacus"
    try:
        with bound(command=name):
            result = command.main(args=argv, prog_name="abacus", standalone_mode=False)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "abacus"
        return _fail(f"{exc.format_message()} Run `{where} --help` for usage.", exc.exit_code)
    except click.Abort:
        return _fail("Aborted.", 130)
    except click.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code)
    except AbacusError as exc:
        return _fail(str(exc), exc.exit_code)
    except Exception as exc:
        # A bug, not an operator's mistake: report it (scrubbed) with the command's name, then crash as usual.
        capture_exception(exc, command=name)
        raise
    return result if isinstance(result, int) else 0


def _fail(message: str, code: int) -> int:
    click.echo(f"abacus: {message}", err=True)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
