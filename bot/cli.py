"""The `abacus` command line: everything an operator needs, each read command also as `--json`.

Commands live in ``bot/commands/``, one module per command or group; this module only assembles them and
turns every failure an operator can cause into one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import sys

import click

from bot.cli_support import AppContext
from bot.commands import (
    ask,
    config,
    db,
    demo,
    digest,
    doctor,
    gaps,
    import_csv,
    mappings,
    report,
    scheduler,
    serve,
    stats,
    status,
    sync,
    teams,
)
from bot.errors import AbacusError
from bot.observability import bound, capture_exception


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="abacus", prog_name="abacus")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Abacus: Claude Code and Cursor usage, costs and people, answered in Slack.

    Settings come from the environment or a .env file; `abacus config` shows them.
    """
    app = AppContext()
    ctx.obj = app
    ctx.call_on_close(app.close)


cli.add_command(config.config_command)
cli.add_command(db.db_group)
cli.add_command(stats.stats_command)
cli.add_command(mappings.mappings_group)
cli.add_command(import_csv.import_group)
sync.register(cli)
cli.add_command(report.report_group)
cli.add_command(gaps.gaps_command)
cli.add_command(status.status_command)
cli.add_command(ask.ask_command)
cli.add_command(serve.serve_command)
cli.add_command(scheduler.scheduler_command)
cli.add_command(digest.digest_group)
cli.add_command(demo.demo_command)
cli.add_command(doctor.doctor_command)
cli.add_command(teams.teams_group)


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
