"""`abacus doctor`: check every dependency once and say, per line, what is wrong and how to fix it."""

from __future__ import annotations

import click

from bot.cli_support import AppContext, console, emit_json, json_option, pass_app, styled

MARKS = {
    "ok": ("ok  ", "green"),
    "warn": ("warn", "yellow"),
    "fail": ("FAIL", "red"),
    "skip": ("skip", "dim"),
}


@click.command("doctor")
@json_option
@pass_app
def doctor_command(app: AppContext, as_json: bool) -> int:
    """Check the database, Slack, provider keys, the scheduler and the clock; exit 1 if something needed fails."""
    from bot.slack.doctor import run_doctor  # Slack's libraries load only for the commands that use them

    # The doctor connects by itself, so an unreachable database is one of its lines, not a crash.
    report = run_doctor(app.settings)
    if as_json:
        emit_json({"ok": report.ok, "checks": report.checks})
    else:
        for check in report.checks:
            fix = (f" → {check.fix}", "dim") if check.fix and check.state != "ok" else ""
            console.print(styled(MARKS[check.state], f" {check.name}: {check.detail}", fix))
        console.print("All needed checks passed." if report.ok else "Something needed is wrong (see FAIL above).")
    return 0 if report.ok else 1
