"""`abacus report`: the analytics answers Slack gives, on a terminal, as JSON, CSV or a PNG chart.

Each subcommand runs the use case's own query and chart (``bot.usecases``) that Slack's answer runs, so an
operator (and a test) sees the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from bot import chart_inputs
from bot.cli_support import AppContext, console, emit_json, pass_app, styled, to_jsonable
from bot.command_text import sort_words
from bot.errors import AbacusError
from bot.formatting import (
    cost_notes,
    est,
    format_share,
    format_tokens,
    format_usd,
    standing,
    token_shares,
    unattributed_words,
    uncounted_costs,
)
from bot.jobs import utc_now
from bot.periods import PERIOD_HELP, Period, PeriodError, parse_period, today_in
from bot.report_support import read_session, resolve_tool, tool_name, write_file
from bot.sources import LATEST_DATA, all_tools, footer_status, tool_freshness
from bot.usecases import models as uc_models
from bot.usecases import overview as uc_overview
from bot.usecases import person as uc_person
from bot.usecases import table as uc_table
from bot.usecases import top as uc_top
from charts.bars import top_users_chart
from charts.data import Chart
from charts.format import short_date
from providers.registry import activity_lines, counts_tokens, tool_unit
from storage.analytics.exports import team_csv, usage_csv
from storage.analytics.overview import PeriodTotals, SubscriptionUsage, UnattributedUsage
from storage.analytics.profile import find_person
from storage.analytics.team import SORT_KEYS, tool_sort_key

F = TypeVar("F", bound=Callable[..., Any])


class Request:
    """The parsed common options of a report: period, tool, output targets, and the clock."""

    def __init__(self, app: AppContext, period: str | None, tool: str | None) -> None:
        self.now = utc_now()
        self.today = today_in(ZoneInfo(app.settings.timezone), self.now)
        try:
            self.period: Period = parse_period(period, today=self.today)
        except PeriodError as exc:
            raise click.BadParameter(str(exc), param_hint="'--period'") from None
        self.tool = resolve_tool(tool)

    def period_json(self) -> dict[str, Any]:
        return {"start": self.period.start, "end": self.period.end, "label": self.period.label, "tool": self.tool}

    @property
    def heading(self) -> str:
        scope = f" · {tool_name(self.tool)}" if self.tool else ""
        p = self.period
        if p.label.startswith(p.start.isoformat()):  # an explicit range already names its dates
            return p.label + scope
        dates = f"{p.start} to {p.end}" if p.start != p.end else str(p.start)
        return f"{p.label} ({dates}){scope}"


def report_options(fn: F) -> F:
    for option in reversed(
        [
            click.option("--period", "-p", default=None, help=f"Period: {PERIOD_HELP}. Default: 30d."),
            click.option("--tool", "-t", default=None, help="Only one tool: anthropic (claude_code) or cursor."),
            click.option("--png", "png_path", default=None, metavar="FILE", help="Also write the chart to FILE."),
            click.option("--csv", "csv_path", default=None, metavar="FILE", help="Also write a CSV export to FILE."),
            click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text."),
        ]
    ):
        fn = option(fn)
    return fn


@click.group("report")
def report_group() -> None:
    """Usage analytics: overview, top users, one person, models, trends, the team table."""


def _outputs(
    chart: Callable[[], Chart] | None,
    png_path: str | None,
    csv_text: Callable[[], str] | None,
    csv_path: str | None,
) -> dict[str, Any]:
    """Render the chart and write the CSV only when asked for."""
    written: dict[str, Any] = {}
    if png_path and chart is not None:
        rendered = chart()
        write_file(png_path, rendered.png, "chart")
        written["png"] = {"path": png_path, "alt_text": rendered.alt_text}
    if csv_path and csv_text is not None:
        write_file(csv_path, csv_text(), "CSV export")
        written["csv"] = {"path": csv_path}
    return written


def _report_written(written: dict[str, Any]) -> None:
    if "png" in written:
        console.print(f"Chart written to {written['png']['path']} ({written['png']['alt_text']})")
    if "csv" in written:
        console.print(f"CSV written to {written['csv']['path']}")


def change(pct: float | None) -> str:
    if pct is None:
        return ""
    return f"▲ {pct:.1f}%" if pct > 0 else f"▼ {abs(pct):.1f}%"


def totals_json(t: PeriodTotals) -> dict[str, Any]:
    data = asdict(t)
    for name in ("total_tokens", "billable_tokens", "avg_tokens_per_day", "avg_tokens_per_user", "days"):
        data[name] = getattr(t, name)
    data["avg_cost_per_user"] = round(t.avg_cost_per_user, 6)
    data["cache_hit_ratio"] = round(t.cache_hit_ratio, 4)
    return data


@report_group.command("overview")
@report_options
@pass_app
def overview_command(
    app: AppContext, period: str | None, tool: str | None, png_path: str | None, csv_path: str | None, as_json: bool
) -> None:
    """Totals, averages, tool split and the change against the previous period."""
    req = Request(app, period, tool)
    p = req.period
    request = uc_overview.OverviewRequest(p, req.tool)
    with read_session(app) as s:
        result = uc_overview.totals(s, request)
        series = uc_overview.daily(s, request, now=req.now)
        csv_text = usage_csv(s, p.start, p.end, view="tools", tool=req.tool) if csv_path else ""
    written = _outputs(
        lambda: uc_overview.chart(series, p, req.tool),
        png_path,
        lambda: csv_text,
        csv_path,
    )
    if as_json:
        emit_json(
            {
                "period": req.period_json(),
                "current": totals_json(result.current),
                "previous": totals_json(result.previous),
                "changes": result.changes,
                "tools": result.tools,
                "unattributed": result.unattributed,
                "subscription": result.subscription,
                **written,
            }
        )
        return
    c = result.current
    console.print(f"AI coding usage · {req.heading}", style="bold")
    changes = ", ".join(
        f"{change(v)} {name}"
        for name, v in (("tokens", result.changes.total_tokens), ("cost", result.changes.cost_usd))
        if v is not None
    )
    console.print(
        f"{format_tokens(c.total_tokens)} tokens · {format_usd(c.cost_usd)} · {c.active_users:,} active people"
        + (f"   {changes} vs previous {p.days} days" if changes else "")
    )
    console.print(
        f"Per person: {format_tokens(c.avg_tokens_per_user)} tokens, {format_usd(c.avg_cost_per_user)} · "
        f"per day: {format_tokens(c.avg_tokens_per_day)} tokens · input + output: "
        f"{format_tokens(c.billable_tokens)} · cache hit {c.cache_hit_ratio:.0%}"
    )
    if result.tools:
        table = Table(title="By tool", title_justify="left")
        for column in ("Tool", "Tokens", "Share", "Cost", "People", "Of people"):
            table.add_column(column, justify="left" if column == "Tool" else "right")
        for t in result.tools:
            table.add_row(
                tool_name(t.tool),
                format_tokens(t.tokens),
                format_share(t.token_pct) if counts_tokens(t.tool) else tool_unit(t.tool),
                format_usd(t.cost_usd) + est(t.tool),
                f"{t.users:,}",
                format_share(t.user_pct),
            )
        console.print(table)
    _print_cost_notes([t.tool for t in result.tools if t.cost_usd], c.cost_usd, result.subscription)
    _print_unattributed(result.unattributed, p.label, included=True)
    _report_written(written)


def _print_cost_notes(tools: list[str], total: Decimal, subscription: SubscriptionUsage) -> None:
    for note in cost_notes(tools=tools, total_usd=total, subscription_usd=subscription.cost_usd, money=format_usd):
        console.print(note)


def _print_unattributed(un: UnattributedUsage, period: str, *, included: bool) -> None:
    """The same line as Slack's: the period it covers, and whether the totals above hold it."""
    if un.keys:
        where = "included in the totals above" if included else "not in the people's total"
        words = unattributed_words(
            period=period,
            cost_usd=un.cost_usd,
            tokens=un.tokens,
            keys_by_tool=un.keys_by_tool,
            keys=un.keys,
            money=format_usd,
            count=format_tokens,
        )
        console.print(f"{words}, {where}: see `abacus status` for the keys to map.", markup=False)


@report_group.command("top")
@report_options
@click.option(
    "--by", "rank_by", type=click.Choice(["cost", "tokens"]), default="cost", show_default=True, help="As in Slack."
)
@click.option("--limit", "-n", type=click.IntRange(1, 100), default=10, show_default=True)
@pass_app
def top_command(
    app: AppContext,
    period: str | None,
    tool: str | None,
    png_path: str | None,
    csv_path: str | None,
    as_json: bool,
    rank_by: str,
    limit: int,
) -> None:
    """People ranked by tokens or cost, with tool split, favourite model and last active day."""
    req = Request(app, period, tool)
    p = req.period
    request = uc_top.TopRequest(p, req.tool, limit, "cost" if rank_by == "cost" else "tokens")
    with read_session(app) as s:
        result = uc_top.people(s, request)
        csv_text = team_csv(uc_table.rows(s, _everyone(req), today=req.today)) if csv_path else ""
    written = _outputs(
        lambda: uc_top.chart(result, request),
        png_path,
        lambda: csv_text,
        csv_path,
    )
    if as_json:
        emit_json({"period": req.period_json(), **to_jsonable(result), **written})
        return
    un = result.unattributed
    left_out = (
        f" (people only: excludes {format_usd(un.cost_usd)} and {format_tokens(un.tokens)} tokens unattributed; "
        f"all usage {format_usd(result.total_cost_usd + un.cost_usd)}, "
        f"{format_tokens(result.total_tokens + un.tokens)} tokens)"
        if un.keys
        else ""
    )
    of_people = f" of {result.people:,}" if result.people > len(result.users) else ""
    console.print(
        styled(
            (f"Top {len(result.users)}{of_people} by {rank_by} · {req.heading}", "bold"),
            f" · {result.people:,} active people, {format_tokens(result.total_tokens)} tokens, "
            f"{format_usd(result.total_cost_usd)}{left_out}",
        )
    )
    if not result.users:
        console.print("No usage by people in this period.")
    else:
        table = Table()
        for column in ("#", "User", "Tokens", "Cost", "Share", "Tools", "Favourite model", "Last active"):
            table.add_column(column, justify="right" if column in ("#", "Tokens", "Cost", "Share") else "left")
        for u in result.users:
            tools = " · ".join(f"{tool_name(t)} {format_tokens(v)}" for t, v in u.tokens_by_tool.items())
            table.add_row(
                str(u.rank),
                u.email,
                format_tokens(u.tokens),
                format_usd(u.cost_usd),
                format_share(u.share_pct),
                tools,
                u.favourite_model,
                u.last_active.isoformat(),
            )
        console.print(table)
        console.print(f"Share: of the people's total {rank_by}.")
    if rank_by == "cost":
        _print_cost_notes([], result.total_cost_usd, result.subscription)
    _print_unattributed(un, p.label, included=False)
    _report_written(written)


@report_group.command("user")
@click.argument("who")
@report_options
@pass_app
def user_command(
    app: AppContext,
    who: str,
    period: str | None,
    tool: str | None,
    png_path: str | None,
    csv_path: str | None,
    as_json: bool,
) -> None:
    """One person (an email, or the part before the @): the period, models, lifetime, standing, activity."""
    req = Request(app, period, tool)
    p = req.period
    with read_session(app) as s:
        email = find_person(s, who)
        if email is None:
            raise AbacusError(f"Nobody called {who!r} has any usage: check the spelling, or see `abacus report top`.")
        profile = uc_person.profile_of(s, email, p, req.tool)
        tool_activity = activity_lines(s, email, p.start, p.end)
        csv_text = usage_csv(s, p.start, p.end, view="models", tool=req.tool, email=email) if csv_path else ""
    written = _outputs(
        lambda: uc_person.chart(profile, p, who=f"{email}'s"),
        png_path,
        lambda: csv_text,
        csv_path,
    )
    if as_json:
        payload = to_jsonable(profile)
        payload["summary"]["avg_tokens_per_active_day"] = profile.summary.avg_tokens_per_active_day
        payload["activity"]["accept_rate"] = profile.activity.accept_rate
        payload["tool_activity"] = tool_activity
        emit_json({"period": req.period_json(), **payload, **written})
        return
    sm = profile.summary
    console.print(f"{email} · {req.heading}", style="bold")
    line = f"{format_usd(sm.cost_usd)} · {format_tokens(sm.tokens)} tokens · {sm.active_days} active days"
    delta = change(profile.tokens_change)
    console.print(line + (f"   {delta} tokens vs previous {p.days} days" if delta else ""))
    if sm.tokens:
        uncounted = uncounted_costs(m.cost_by_tool for m in profile.models.models)
        split = " · ".join(
            [f"{tool_name(t)} {format_share(share)}" for t, share in token_shares(sm.tokens_by_tool)]
            + [f"{tool_name(t)} {format_usd(c)}" for t, c in uncounted.items()]
        )
        top_model = profile.models.top_model
        console.print(
            split
            + (f"     Top model: {top_model.model} ({format_share(top_model.token_pct)})" if top_model else "")
            + f" · {format_tokens(sm.avg_tokens_per_active_day)} tokens per active day"
        )
    a = profile.activity
    if a.sessions or a.lines_added or a.commits:
        rate = f" · {a.accept_rate:.0f}% edits accepted" if a.accept_rate is not None else ""
        console.print(
            f"Claude Code: {a.sessions:,} sessions · {a.lines_added:,} lines added · {a.commits:,} commits · "
            f"{a.pull_requests:,} PRs{rate}"
        )
    for activity in tool_activity:
        console.print(activity, markup=False)
    pct = profile.percentile
    if pct.rank is not None:
        console.print(f"{standing(pct.rank, pct.population)} by tokens per active day.")
    lt = profile.lifetime
    if lt.first_day:
        console.print(
            f"Since {lt.first_day}: {format_tokens(lt.tokens)} tokens, {format_usd(lt.cost_usd)}; mostly "
            f"{tool_name(lt.favourite_tool or '')}; record day {lt.record_day} ({format_tokens(lt.record_day_tokens)})."
        )
    if profile.models.models:
        table = Table(title="Models", title_justify="left")
        for column in ("Model", "Tokens", "Share", "Cost"):
            table.add_column(column, justify="left" if column == "Model" else "right")
        for m in profile.models.models:
            table.add_row(m.model, format_tokens(m.tokens), format_share(m.token_pct), format_usd(m.cost_usd))
        console.print(table)
    _print_cost_notes([], sm.cost_usd, profile.models.subscription)
    _report_written(written)


@report_group.command("models")
@report_options
@pass_app
def models_command(
    app: AppContext, period: str | None, tool: str | None, png_path: str | None, csv_path: str | None, as_json: bool
) -> None:
    """Tokens and cost per model, merged across tools, with the split per tool."""
    req = Request(app, period, tool)
    p = req.period
    with read_session(app) as s:
        result = uc_models.breakdown_of(s, uc_models.ModelsRequest(p, req.tool))
        csv_text = usage_csv(s, p.start, p.end, view="models", tool=req.tool) if csv_path else ""
    written = _outputs(
        lambda: uc_models.chart(result, p, tool=req.tool),
        png_path,
        lambda: csv_text,
        csv_path,
    )
    if as_json:
        emit_json({"period": req.period_json(), **to_jsonable(result), **written})
        return
    console.print(
        styled(
            (f"Models · {req.heading}", "bold"),
            f" · {format_tokens(result.total_tokens)} tokens, {format_usd(result.total_cost_usd)}",
        )
    )
    if not result.models:
        console.print("No usage in this period.")
    else:
        table = Table()
        for column in ("Model", "Tokens", "Share", "Cost", "Cost share", "Tools"):
            table.add_column(column, justify="left" if column in ("Model", "Tools") else "right")
        for m in result.models:
            tools = " · ".join(f"{tool_name(t)} {format_tokens(v)}" for t, v in m.tokens_by_tool.items())
            table.add_row(
                m.model,
                format_tokens(m.tokens),
                format_share(m.token_pct),
                format_usd(m.cost_usd),
                format_share(m.cost_pct),
                tools,
            )
        console.print(table)
        estimated = [t for m in result.models for t, c in m.cost_by_tool.items() if c]
        _print_cost_notes(estimated, result.total_cost_usd, result.subscription)
    _report_written(written)


@report_group.command("trends")
@report_options
@pass_app
def trends_command(
    app: AppContext, period: str | None, tool: str | None, png_path: str | None, csv_path: str | None, as_json: bool
) -> None:
    """Usage per day (per week above 90 days) and tool, incomplete days projected."""
    req = Request(app, period, tool)
    p = req.period
    with read_session(app) as s:
        result = uc_overview.daily(s, uc_overview.OverviewRequest(p, req.tool), now=req.now)
        status = footer_status(s, now=req.now)
        csv_text = usage_csv(s, p.start, p.end, view="tools", tool=req.tool) if csv_path else ""
    written = _outputs(
        lambda: uc_overview.chart(result, p, req.tool),
        png_path,
        lambda: csv_text,
        csv_path,
    )
    if as_json:
        emit_json({"period": req.period_json(), **to_jsonable(result), **written})
        return
    console.print(
        styled(
            (f"Usage per {result.granularity} · {req.heading}", "bold"),
            f" · {format_tokens(result.total_tokens)} tokens",
        )
    )
    table = Table()
    table.add_column("Week of" if result.granularity == "week" else "Day")
    for t in result.tools:
        table.add_column(tool_name(t), justify="right")
    table.add_column("Cost", justify="right")
    table.add_column("Note")
    for point in result.points:
        cells = []
        for t in result.tools:
            cell = format_tokens(point.actual.get(t, 0))
            if t in point.projected:
                cell += f" (→ {format_tokens(point.projected[t])})"
            cells.append(cell)
        table.add_row(
            point.date.isoformat(), *cells, format_usd(point.cost_usd), "incomplete" if point.incomplete else ""
        )
    console.print(table)
    words = {t: tool_freshness(t, status.providers) for t in result.last_data}
    freshness = " · ".join(
        f"{tool_name(t)} {words[t]}"
        + (f", {LATEST_DATA} {short_date(d)}" if d and not words[t].startswith(LATEST_DATA) else "")
        for t, d in result.last_data.items()
    )
    console.print(f"Data: {freshness}. Projected values in parentheses.")
    _report_written(written)


@report_group.command("team")
@report_options
@click.option(
    "--sort",
    "sort_by",
    type=click.Choice([*sort_words(), *SORT_KEYS, *(tool_sort_key(t) for t in all_tools())]),
    default="tokens",
    show_default=True,
    help="The words of Slack's `/abacus table sort …` (tokens, cost, claude, cursor, days, avg, first, last, email) "
    "or the column names (total_cost, …).",
)
@click.option("--asc", "ascending", is_flag=True, help="Sort ascending instead of descending.")
@click.option("--search", default=None, help="Only people whose email contains this text (any letter case).")
@click.option("--limit", "-n", type=click.IntRange(1, 10_000), default=500, show_default=True)
@pass_app
def team_command(
    app: AppContext,
    period: str | None,
    tool: str | None,
    png_path: str | None,
    csv_path: str | None,
    as_json: bool,
    sort_by: str,
    ascending: bool,
    search: str | None,
    limit: int,
) -> None:
    """One row per person: tokens per tool, cost, first and last active day, active days, average."""
    req = Request(app, period, tool)
    p = req.period
    sort_by = sort_words().get(sort_by, sort_by)
    request = uc_table.TableRequest(p, req.tool, sort_by, ascending, search, limit)
    with read_session(app) as s:
        table_data = uc_table.rows(s, request, today=req.today)
    total = float(sum(r.total_tokens for r in table_data.rows))
    written = _outputs(
        lambda: top_users_chart(
            chart_inputs.team_bars(table_data),
            period_label=p.label,
            total=total,
            of=table_data.total_count,
            scope=chart_inputs.scope(req.tool),
        ),
        png_path,
        lambda: team_csv(table_data),
        csv_path,
    )
    if as_json:
        emit_json({"period": req.period_json(), **to_jsonable(table_data), **written})
        return
    console.print(styled((f"Team · {req.heading}", "bold"), f" · {table_data.total_count:,} people"))
    table = Table()
    tool_columns = tuple(tool_name(t) for t in table_data.tools)
    columns = ("User", "Tokens", "Cost", *tool_columns, "Days active", "Avg/active day", "Last active")
    for column in columns:
        table.add_column(column, justify="left" if column in ("User", "Last active") else "right")
    for r in table_data.rows:
        table.add_row(
            r.email,
            format_tokens(r.total_tokens),
            format_usd(r.total_cost),
            *(format_tokens(r.tokens_by_tool[t]) for t in table_data.tools),
            str(r.days_active),
            format_tokens(r.avg_tokens_per_day),
            f"{r.last_active} ({_ago(r.days_since_last_active)})",
        )
    console.print(table)
    _report_written(written)


def _everyone(req: Request) -> uc_table.TableRequest:
    """The team table behind `--csv` of the other reports: the first 500 people by tokens."""
    return uc_table.TableRequest(req.period, req.tool, ascending=False, limit=500)


def _ago(days: int) -> str:
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
