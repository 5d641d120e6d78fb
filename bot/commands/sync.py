"""`abacus sync` and `abacus backfill`: fetch usage from the providers into the database."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.cli_support import AppContext, console, emit_json, json_option, pass_app, progress_console, styled
from bot.errors import AbacusError
from providers import registry
from providers.spec import BackfillRequest, JobContext, OrgResult, ProviderSpec, SyncRequest, utc_now
from storage.locks import LockHeld
from storage.sync_state import set_backfill_complete


class SomeOrgsFailed(AbacusError):
    exit_code = 1


class AlreadyRunning(AbacusError):
    exit_code = 75  # EX_TEMPFAIL: try again later


def parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_day(value)
    except ValueError:
        return _bad_day(value)


def _bad_day(value: str) -> date:
    raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-01-31.")


def sync_range(days: int | None, start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """--days N means today and the N-1 days before it (UTC); --from/--to are inclusive."""
    if start or end:
        if days is not None:
            raise click.UsageError("Use either --days or --from/--to, not both.")
        end = end or today
        start = start or end
        if start > end:
            raise click.UsageError(f"--from {start} is after --to {end}.")
        return start, end
    n = 7 if days is None else days
    return today - timedelta(days=n - 1), today


@contextmanager
def progress_reporter(total: int, label: str) -> Iterator[Callable[[str], None]]:
    """A progress bar on a terminal; plain lines otherwise (logs, CI, pipes)."""
    if not progress_console.is_terminal:
        yield lambda line: progress_console.print(line)
        return
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=progress_console, transient=True) as bar:
        task = bar.add_task(label, total=total)

        def step(line: str) -> None:
            bar.update(task, advance=1, description=f"{label}: {line}")

        yield step


def _finish(results: list[OrgResult], as_json: bool, verb: str) -> None:
    if as_json:
        emit_json({"ok": all(r.ok for r in results), "results": results})
    else:
        for r in results:
            mark = ("ok", "green") if r.ok else ("FAILED", "red")
            console.print(styled(mark, f" {r.org} ({r.org_id or 'org id unknown'}): {r.message}"))
    failed = [r.org for r in results if not r.ok]
    if failed:
        raise SomeOrgsFailed(f"{verb} failed for {', '.join(failed)}; see the messages above and `abacus status`.")


def _run_sync(app: AppContext, provider: ProviderSpec[Any], request: SyncRequest, as_json: bool, total: int) -> None:
    _require_configured(app, provider)
    with progress_reporter(total, f"{provider.title} sync") as report:
        ctx = JobContext(settings=app.settings.provider(provider), engine=app.engine, report=report)
        try:
            results = _guard(lambda: provider.sync(ctx, request))
        except LockHeld:
            raise AlreadyRunning(f"Another {provider.title} sync is running; try again when it has finished.") from None
    _finish(results, as_json, f"{provider.title} sync")


def _require_configured(app: AppContext, provider: ProviderSpec[Any]) -> None:
    if not app.settings.keys_of(provider):
        raise AbacusError(f"{provider.title} is not configured: set {provider.key_settings} (see `abacus config`).")


def _guard(call: Callable[[], list[OrgResult]]) -> list[OrgResult]:
    try:
        return call()
    except LookupError as exc:
        raise AbacusError(str(exc.args[0])) from None


sync_options = [
    click.option("--days", type=click.IntRange(1, 3660), help="Today and the N-1 days before it (UTC). Default 7."),
    click.option("--from", "start", callback=parse_day, metavar="YYYY-MM-DD", help="First UTC day, inclusive."),
    click.option("--to", "end", callback=parse_day, metavar="YYYY-MM-DD", help="Last UTC day, inclusive."),
    click.option("--org", help="Only this organisation (its key label, or default / KEY_n)."),
    json_option,
]


def _with_options(options: Sequence[Callable[[Any], Any]]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


@click.group("sync", invoke_without_command=True)
@_with_options(sync_options)
@click.pass_context
def sync_group(
    click_ctx: click.Context, days: int | None, start: date | None, end: date | None, org: str | None, as_json: bool
) -> None:
    """Fetch usage from every configured provider (default: the last 7 UTC days).

    `abacus sync PROVIDER` syncs one provider; re-syncing a range is safe (writes are idempotent).
    """
    if click_ctx.invoked_subcommand is not None:
        return
    app = click_ctx.find_object(AppContext)
    assert app is not None
    configured = app.settings.configured()
    if not configured:
        wanted = "; ".join(spec.key_settings for spec in registry.providers())
        raise AbacusError(f"No provider is configured: set one of {wanted} (see `abacus config`).")
    first, last = sync_range(days, start, end, utc_now().date())
    failures = []
    for provider in configured:
        try:
            _run_sync(app, provider, SyncRequest(first, last, org), as_json, (last - first).days + 1)
        except SomeOrgsFailed as exc:
            failures.append(str(exc))
    if failures:
        raise SomeOrgsFailed(" ".join(failures))


def _make_sync_command(provider: ProviderSpec[Any]) -> click.Command:
    @click.command(provider.id, help=f"Fetch {provider.title} usage (default: the last 7 UTC days).")
    @_with_options(sync_options)
    @pass_app
    def command(
        app: AppContext, days: int | None, start: date | None, end: date | None, org: str | None, as_json: bool
    ) -> None:
        first, last = sync_range(days, start, end, utc_now().date())
        _run_sync(app, provider, SyncRequest(first, last, org), as_json, (last - first).days + 1)

    return command


@click.group("backfill")
def backfill_group() -> None:
    """Walk a provider's history backwards to a target day, resumably, a bounded chunk per run."""


def _make_backfill_command(provider: ProviderSpec[Any]) -> click.Command:
    @click.command(provider.id, help=f"Backfill {provider.title} history back to --from.")
    @click.option("--from", "target", callback=parse_day, required=True, metavar="YYYY-MM-DD", help="Oldest day.")
    @click.option(
        "--to",
        "newest",
        callback=parse_day,
        metavar="YYYY-MM-DD",
        help="Newest day, when no backfill has run yet (default: just before the forward-sync window).",
    )
    @click.option("--max-days", type=click.IntRange(1, 3660), help="Days to process in this run (default: all).")
    @click.option("--org", help="Only this organisation (its key label, or default / KEY_n).")
    @json_option
    @pass_app
    def command(
        app: AppContext, target: date, newest: date | None, max_days: int | None, org: str | None, as_json: bool
    ) -> None:
        if newest is not None and newest < target:
            raise click.UsageError(f"--to {newest} is before --from {target}.")
        if newest is not None and not provider.backfill_takes_newest:
            raise click.UsageError(
                f"--to does not apply to {provider.title}: its backfill starts where its forward sync began."
            )
        _require_configured(app, provider)
        today = utc_now().date()
        budget = max_days or max(1, (today - target).days + 1)
        with progress_reporter(budget, f"{provider.title} backfill") as report:
            ctx = JobContext(settings=app.settings.provider(provider), engine=app.engine, report=report)
            try:
                results = _guard(lambda: provider.backfill(ctx, BackfillRequest(target, org, budget, newest)))
            except LockHeld:
                raise AlreadyRunning(f"Another {provider.title} backfill is running; try again later.") from None
        _finish(results, as_json, f"{provider.title} backfill")

    return command


def _make_flag_command(verb: str, complete: bool) -> click.Command:
    @click.command(verb)
    @click.argument("provider_name", metavar="PROVIDER")
    @click.option("--org", help="Only this organisation.")
    @pass_app
    def command(app: AppContext, provider_name: str, org: str | None) -> None:
        try:
            provider = registry.provider(provider_name)
        except LookupError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="PROVIDER") from None
        ctx = JobContext(settings=app.settings.provider(provider), engine=app.engine)
        try:
            org_ids = provider.org_ids(ctx, org)
        except LookupError as exc:
            raise AbacusError(str(exc.args[0])) from None
        for org_id in org_ids:
            set_backfill_complete(app.engine, provider.state_key, org_id, complete, ctx.now())
        state = "complete: scheduled backfills will skip it" if complete else "reset: the next backfill resumes"
        console.print(f"{provider.title} backfill marked {state} ({', '.join(org_ids) or 'no orgs'}).")

    command.help = (
        "Mark a provider's backfill complete, so scheduled runs stop."
        if complete
        else "Clear the complete flag, so backfill resumes from its cursor."
    )
    return command


# One sync and one backfill subcommand per registered provider.
for _provider in registry.providers():
    sync_group.add_command(_make_sync_command(_provider))
    backfill_group.add_command(_make_backfill_command(_provider))
backfill_group.add_command(_make_flag_command("complete", True))
backfill_group.add_command(_make_flag_command("reset", False))
