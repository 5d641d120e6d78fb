"""`abacus teams import FILE` and `abacus teams list`: teams defined outside Slack, and what is stored.

An import is all or nothing: the whole file is read and checked before anything is written, and each team
named in it ends up with exactly the people the file lists (re-importing a corrected file is the fix).
"""

from __future__ import annotations

import csv
from pathlib import Path

import click

from bot.cli_support import AppContext, console, emit_json, json_option, pass_app
from bot.errors import AbacusError
from bot.jobs import utc_now
from storage.db import transaction
from storage.teams import TeamNameError, list_teams, normalise_name, replace_members

TEAM_COLUMNS = ("team", "name", "handle")
EMAIL_COLUMNS = ("email", "member", "user")


class TeamFileError(AbacusError):
    exit_code = 65  # EX_DATAERR


def read_team_file(path: Path) -> dict[str, set[str]]:
    """Team name -> emails, from a CSV with a team column and an email column (header names above)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
        team_col = next((fields[c] for c in TEAM_COLUMNS if c in fields), None)
        email_col = next((fields[c] for c in EMAIL_COLUMNS if c in fields), None)
        if team_col is None or email_col is None:
            raise TeamFileError(f"{path} needs a header with `team` and `email` columns (e.g. `team,email`).")
        teams: dict[str, set[str]] = {}
        for row in reader:
            line = reader.line_num
            raw_team, email = (row.get(team_col) or "").strip(), (row.get(email_col) or "").strip().lower()
            if not raw_team and not email:
                continue
            try:
                name = normalise_name(raw_team)
            except TeamNameError as exc:
                raise TeamFileError(f"line {line}: {exc}".replace("`", "")) from None
            if email.count("@") != 1 or email.startswith("@") or email.endswith("@"):
                raise TeamFileError(f"line {line}: {email or '(empty)'} is not an email address; nothing imported.")
            teams.setdefault(name, set()).add(email)
    if not teams:
        raise TeamFileError(f"{path} lists no team members; nothing imported.")
    return teams


@click.group("teams")
def teams_group() -> None:
    """Teams: named sets of people for `/abacus team NAME` and `/abacus top teams`."""


@teams_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_app
def teams_import(app: AppContext, file: Path, as_json: bool) -> None:
    """Load teams from a CSV (columns team,email); each team listed gets exactly the people listed."""
    teams = read_team_file(file)
    with transaction(app.engine) as session:
        followed = {t.name for t in list_teams(session) if t.usergroup_id}
    clash = sorted(set(teams) & followed)
    if clash:
        raise TeamFileError(
            f"{', '.join(clash)} follow(s) a Slack user group and would be overwritten by its next sync; "
            "rename the team(s) in the file. Nothing imported."
        )
    now = utc_now()
    stored = [
        replace_members(app.engine, name, emails, source="csv", by="cli", now=now) for name, emails in teams.items()
    ]
    if as_json:
        emit_json({"teams": [{"name": t.name, "members": len(t.members)} for t in stored]})
        return
    for team in stored:
        console.print(f"{team.name}: {len(team.members)} people")
    console.print(f"Imported {len(stored)} team(s) from {file}.")


@teams_group.command("list")
@json_option
@pass_app
def teams_list(app: AppContext, as_json: bool) -> None:
    """Every team with its source and members."""
    with transaction(app.engine) as session:
        teams = list_teams(session)
    if as_json:
        emit_json({"teams": teams})
        return
    if not teams:
        console.print("No teams yet: `abacus teams import FILE`, or `/abacus team sync @group` in Slack.")
    for team in teams:
        console.print(f"{team.name} ({team.source}, {len(team.members)} people): {', '.join(team.members)}")
