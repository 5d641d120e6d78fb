"""Short commands start without what they do not use: `abacus --help` and `abacus stats` (run as a process
of their own, as an operator runs them) load neither matplotlib nor the Slack SDK nor Alembic's migration
machinery, nor any provider's HTTP client, jobs or price table, and still answer. Loading those would cost
several times the CPU of the answer itself.

The rule for providers: every command reads the registry, so each provider package (``providers.<name>``) and
the module its settings model is defined in (``providers.<name>.settings``) are loaded, beside
``providers.spec`` and ``providers.registry``; no other module under ``providers`` is (clients, jobs, sync,
rows, demo data, price tables, the HTTP and sync helpers), and neither is httpx nor genai_prices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from providers import registry
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.writes import upsert_usage
from tests.factories import usage

NEVER = ("matplotlib", "slack_sdk", "slack_bolt", "alembic", "httpx", "genai_prices")
# What of ``providers`` a short command may load: what the specs' data needs (see the module's docstring).
SPEC_DATA = {"providers", "providers.spec", "providers.registry"} | {
    module
    for spec in registry.providers()
    for module in (spec.settings.__module__, spec.settings.__module__.rpartition(".")[0])
}
# Runs the CLI as the console script does, then writes the names of every module it loaded to a file.
PROBE = """
import atexit, json, sys
atexit.register(lambda: open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules))))
from bot.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _run(tmp_path: Path, url: str, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    modules = tmp_path / "modules.json"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(modules), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    return done, set(json.loads(modules.read_text()))


def _loaded(modules: set[str]) -> list[str]:
    """What the command loaded that it should not have."""
    never = {m for m in modules if m.split(".")[0] in NEVER}
    providers = {m for m in modules if m.split(".")[0] == "providers" and m not in SPEC_DATA}
    return sorted(never | providers)


def test_each_provider_keeps_its_settings_in_its_settings_module() -> None:
    """The rule allows a provider's settings module because it holds only the settings model: a model defined
    in, say, its jobs module would let that module (and its client) through unnoticed."""
    for spec in registry.providers():
        package, _, module = spec.settings.__module__.rpartition(".")
        assert (package.split(".")[0], package.count("."), module) == ("providers", 1, "settings"), spec.id


@pytest.mark.parametrize("args", [("--help",), ("stats",), ("stats", "--json")])
def test_short_commands_load_no_charts_slack_migrations_or_provider_clients(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    url = f"sqlite:///{tmp_path / 'abacus.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine) as s:
        upsert_usage(s, [usage(), usage(actor="zoe@example.com", email="zoe@example.com")])
    engine.dispose()
    done, modules = _run(tmp_path, url, *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert _loaded(modules) == []
    if args == ("stats", "--json"):
        stats = json.loads(done.stdout)
        assert (stats["records"], stats["people"]) == (2, 2)
    elif args == ("stats",):
        assert "2 records" in done.stdout


def test_stats_on_a_database_without_a_schema_says_so_without_alembic(tmp_path: Path) -> None:
    done, modules = _run(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}", "stats")
    assert done.returncode == 0, done.stderr
    assert "abacus db migrate" in done.stdout + done.stderr
    assert _loaded(modules) == []
