"""`abacus mappings`: which API keys (and other tools' logins) belong to whom, and moving their history."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from sqlalchemy import select

from bot.cli_support import AppContext, console, emit_json, json_option, pass_app, styled
from bot.errors import AbacusError
from bot.formatting import format_tokens, format_usd
from bot.jobs import utc_now
from providers import registry
from providers.anthropic import SPEC as ADMIN_API
from providers.anthropic.mappings import sync_mappings
from storage.db import transaction
from storage.mappings import CLAUDE_CODE, Reattribution, key_orgs, list_mappings, set_mapping, unmapped_keys
from storage.models import Usage


@click.group("mappings", invoke_without_command=True)
@json_option
@click.pass_context
def mappings_group(click_ctx: click.Context, as_json: bool) -> None:
    """List identity mappings (with origin and who mapped) and the API keys and logins still unmapped."""
    if click_ctx.invoked_subcommand is not None:
        return
    app = click_ctx.find_object(AppContext)
    assert app is not None
    with transaction(app.engine) as session:
        mappings = list_mappings(session)
        unmapped = unmapped_keys(session, None)
    if as_json:
        emit_json(
            {
                "mappings": [
                    {
                        "source": m.source,
                        "org_id": m.org_id,
                        "external_id": m.external_id,
                        "email": m.email,
                        "method": m.method,
                        "mapped_by": m.mapped_by,
                        "updated_at": m.updated_at,
                    }
                    for m in mappings
                ],
                "unmapped": unmapped,
            }
        )
        return
    table = Table(title=f"Identity mappings ({len(mappings)})", title_justify="left")
    for column in ("Source", "Org", "Key", "Email", "How", "By", "When"):
        table.add_column(column)
    for m in mappings:
        table.add_row(
            m.source, m.org_id or "all", m.external_id, m.email, m.method, m.mapped_by, m.updated_at.date().isoformat()
        )
    console.print(table)
    if not unmapped:
        console.print("No unmapped API keys or logins: all usage is attributed.")
        return
    keys = Table(title=f"Unmapped API keys and logins ({len(unmapped)})", title_justify="left")
    for column in ("Key", "Tool", "Org", "Tokens", "Cost", "First", "Last"):
        keys.add_column(column)
    for k in unmapped:
        keys.add_row(
            k.key_name,
            registry.tool_title(k.tool),
            k.org_id,
            format_tokens(k.total_tokens),
            format_usd(k.cost_usd),
            k.first_date.isoformat(),
            k.last_date.isoformat(),
        )
    console.print(keys)
    console.print(
        "Map one with `abacus mappings set KEY EMAIL` (another tool's login: add `--provider NAME`, "
        "e.g. `--provider copilot`), or in Slack with /abacus map."
    )


def _source(provider: str | None) -> str | None:
    """The mapping source of a provider: the tool whose usage its identities carry. Without one, a key of
    any tool (its organisation tells which; a key not seen yet is Claude Code's)."""
    if provider is None:
        return None
    try:
        return registry.provider(provider).tool.id
    except LookupError as exc:
        raise click.BadParameter(str(exc), param_hint="--provider") from None


def _stored_key(app: AppContext, key: str, source: str | None) -> str:
    """``key`` as the tool stores it: another tool's logins (GitHub's) are compared without letter case, so
    `Octocat` finds `octocat`; API keys are matched exactly, as `/abacus map` matches them."""
    if source is None or registry.tool(source).identity == "API key":
        return key
    with transaction(app.engine) as session:
        if key_orgs(session, key, source) or not key_orgs(session, key.lower(), source):
            return key
    return key.lower()


def _org_for_key(app: AppContext, key: str, org: str | None, source: str | None = None) -> str:
    """The org whose usage carries ``key``; '' (every org) for a key not seen yet."""
    if org is not None:
        return org
    with transaction(app.engine) as session:
        orgs = sorted(key_orgs(session, key, source))
    if len(orgs) > 1:
        raise AbacusError(f"API key {key!r} is used in several organisations ({', '.join(orgs)}); pass --org ORG_ID.")
    return orgs[0] if orgs else ""


def _moved(r: Reattribution) -> str:
    return f"{r.rows} row(s), {format_tokens(r.total_tokens)} tokens, {format_usd(r.cost_usd)}"


_PROVIDER_HELP = "Whose identity KEY is: a provider (`copilot` for a GitHub login); default: a Claude Code API key."


@mappings_group.command("set")
@click.argument("key")
@click.argument("email")
@click.option("--org", help="Organisation id, when the key name is used in several.")
@click.option("--provider", help=_PROVIDER_HELP)
@pass_app
def mappings_set(app: AppContext, key: str, email: str, org: str | None, provider: str | None) -> None:
    """Map API key (or login) KEY to EMAIL and move its whole history to that person."""
    email = email.strip().lower()
    domain = email.rpartition("@")[2]
    if "@" not in email or not domain:
        raise click.BadParameter(f"{email!r} is not an email address.", param_hint="EMAIL")
    allowed = app.settings.email_domains
    if allowed and domain not in allowed:
        raise AbacusError(f"{email} is not on the company domain ({', '.join(allowed)}); map keys to colleagues only.")
    source = _source(provider)
    key = _stored_key(app, key, source)
    org_id = _org_for_key(app, key, org, source)
    with transaction(app.engine) as session:
        moved = set_mapping(
            session,
            source=source or CLAUDE_CODE,
            org_id=org_id,
            external_id=key,
            email=email,
            method="cli",
            by="cli",
            now=utc_now(),
        )
    if moved is None:
        console.print(f"{key} is already mapped to {email}; nothing changed.")
        return
    console.print(f"Mapped {key} -> {email}; moved {_moved(moved)}.")


@mappings_group.command("unset")
@click.argument("key")
@click.option("--org", help="Organisation id, when the key name is used in several.")
@click.option("--provider", help=_PROVIDER_HELP)
@pass_app
def mappings_unset(app: AppContext, key: str, org: str | None, provider: str | None) -> None:
    """Remove KEY's mapping; its history goes back to unattributed."""
    source = _source(provider)
    key = _stored_key(app, key, source)
    org_id = _org_for_key(app, key, org, source)
    with transaction(app.engine) as session:
        moved = set_mapping(
            session,
            source=source or CLAUDE_CODE,
            org_id=org_id,
            external_id=key,
            email="",
            method="cli",
            by="cli",
            now=utc_now(),
        )
    if moved is None:
        raise AbacusError(f"API key {key!r} is not mapped; `abacus mappings` lists the mappings.")
    console.print(f"Unmapped {key}; {_moved(moved)} back to unattributed.")


@mappings_group.command("sync")
@click.option("--org", help="Only this organisation (its key label, or default / KEY_n).")
@json_option
@pass_app
def mappings_sync(app: AppContext, org: str | None, as_json: bool) -> None:
    """Map API keys to their creators from each Anthropic org's users and keys (manual mappings win)."""
    own = app.settings.provider(ADMIN_API)
    if not own.keys:
        raise AbacusError(f"{ADMIN_API.title} is not configured: set {ADMIN_API.key_settings}.")
    try:
        synced = sync_mappings(own, app.engine, org=org)
    except LookupError as exc:
        raise AbacusError(str(exc)) from None
    results: list[dict[str, Any]] = []
    for r in synced:
        if not r.ok:
            results.append({"org": r.org, "ok": False, "error": r.error})
            continue
        results.append(
            {
                "org": r.org,
                "org_id": r.org_id,
                "ok": True,
                "created": r.created,
                "updated": r.updated,
                "kept": r.kept,
                "clashes": r.clashes,
            }
        )
    failed = [r.org for r in synced if not r.ok]
    if as_json:
        emit_json({"ok": not failed, "results": results})
    else:
        for line in results:
            if not line["ok"]:
                console.print(styled(("FAILED", "red"), f" {line['org']}: {line['error']}"))
                continue
            console.print(
                f"{line['org']} ({line['org_id']}): {line['created']} created, {line['updated']} updated, "
                f"{line['kept']} unchanged"
            )
            for name, emails in line["clashes"].items():
                console.print(f"  key name {name!r} belongs to several people ({', '.join(emails)}): map it by hand")
    if failed:
        raise AbacusError(f"Mapping sync failed for {', '.join(failed)}.")


def _candidates(key: str, known: list[str]) -> list[str]:
    """Known people whose name appears in the key name (`dana-laptop` suggests dana@…): a typing aid."""
    lowered = key.lower()
    return [email for email in known if email.split("@")[0].lower() in lowered][:5]


@mappings_group.command("fix")
@pass_app
def mappings_fix(app: AppContext) -> None:
    """Walk through the unmapped API keys one by one and type who each belongs to."""
    with transaction(app.engine) as session:
        keys = unmapped_keys(session, None)
        known = sorted(set(session.scalars(select(Usage.email).where(Usage.email != "").distinct())))
    if not keys:
        console.print("No unmapped API keys or logins: all usage is attributed.")
        return
    allowed = app.settings.email_domains
    console.print(f"{len(keys)} unmapped API key(s) and login(s). Type an email, Enter to skip, q to stop.")
    for k in keys:
        hint = _candidates(k.key_name, known)
        console.print(
            styled(
                "\n",
                (k.key_name, "bold"),
                f" ({registry.tool_title(k.tool)}, {k.org_id}): {format_usd(k.cost_usd)}, "
                f"{format_tokens(k.total_tokens)} tokens, {k.first_date} to {k.last_date}"
                + (f"\n  maybe: {', '.join(hint)}" if hint else ""),
            )
        )
        while True:
            answer = click.prompt("  email", default="", show_default=False).strip().lower()
            if answer in ("q", "quit"):
                return
            if not answer or answer in ("s", "skip"):
                break
            domain = answer.rpartition("@")[2]
            if "@" not in answer or (allowed and domain not in allowed):
                console.print(f"  {answer!r} is not an email on {', '.join(allowed) or 'a company domain'}; again:")
                continue
            with transaction(app.engine) as session:
                moved = set_mapping(
                    session,
                    source=k.tool,
                    org_id=k.org_id,
                    external_id=k.key_name,
                    email=answer,
                    method="cli",
                    by="cli",
                    now=utc_now(),
                )
            if moved is not None:
                console.print(f"  mapped; moved {_moved(moved)}")
            break
