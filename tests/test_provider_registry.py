"""The proof that a provider is one package plus one registry line: a tests-only provider, registered in one
line, shows up in every surface (sync, overview, top, table, exports, status, gaps, doctor, config, digest,
charts and the scheduler) with no other edit anywhere."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import Field, SecretStr

from bot.chart_inputs import describe_tools
from bot.cli import main
from bot.scheduler import scheduled_jobs
from bot.settings import Settings
from charts.style import color_for, series_name
from providers import registry
from providers.spec import (
    BackfillRequest,
    JobContext,
    OrgResult,
    Probe,
    ProviderKey,
    ProviderSettings,
    ProviderSpec,
    SyncRequest,
    Tool,
    parse_provider_keys,
    secret_value,
)
from storage.analytics.status import FreshnessRule
from storage.db import transaction
from storage.sync_state import record_attempt, record_success
from storage.writes import UsageRecord, upsert_usage

TODAY = datetime.now(UTC).date()
# Usage on three of the last four days: one missing day in between, for gaps.
DAYS = [TODAY - timedelta(days=4), TODAY - timedelta(days=3), TODAY - timedelta(days=1)]
QUILL = Tool(id="quill", title="Quill", short="quill", aliases=("quill-ai",), color="#14B8A6")


class QuillSettings(ProviderSettings):
    quill_key: SecretStr | None = Field(None, alias="QUILL_KEY")
    quill_keys: SecretStr | None = Field(None, alias="QUILL_KEYS")
    quill_sync_hours: int = Field(4, ge=1, alias="ABACUS_QUILL_SYNC_HOURS")

    @property
    def keys(self) -> list[ProviderKey]:
        return parse_provider_keys(secret_value(self.quill_keys), secret_value(self.quill_key))


def _sync(ctx: JobContext[QuillSettings], request: SyncRequest) -> list[OrgResult]:
    results = []
    for key in ctx.settings.keys:
        org_id = f"quill:{key.name}"
        record_attempt(ctx.engine, "quill", org_id, ctx.now())
        with transaction(ctx.engine) as session:
            written = upsert_usage(
                session,
                [
                    UsageRecord(
                        tool="quill",
                        date=day,
                        org_id=org_id,
                        actor="dana@acme.com",
                        email="dana@acme.com",
                        raw_model="quill-large",
                        input_tokens=1_000 * (n + 1),
                        output_tokens=500,
                        cost_usd=Decimal("1.25"),
                    )
                    for n, day in enumerate(DAYS)
                ],
            )
        midnight = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
        record_success(ctx.engine, "quill", org_id, ctx.now(), forward_watermark=midnight)
        results.append(OrgResult(key.name, org_id, ok=True, records=written.rows, message="stored"))
    return results


def _backfill(_ctx: JobContext[QuillSettings], _request: BackfillRequest) -> list[OrgResult]:
    return []


def _probe(_settings: QuillSettings, key: ProviderKey, _timeout: float) -> Probe:
    return Probe(f"quill:{key.name}", "valid for the Quill workspace")


QUILL_SPEC = ProviderSpec(
    id="quill",
    title="Quill (test API)",
    tool=QUILL,
    aliases=(),
    state_key="quill",
    org_prefix="quill:",
    settings=QuillSettings,
    key_settings="QUILL_KEY or QUILL_KEYS",
    key_hint="a Quill key in QUILL_KEYS",
    freshness=FreshnessRule(max_complete_day_lag=1, max_success_age=timedelta(hours=5)),
    sync_every=lambda s: timedelta(hours=s.quill_sync_hours),
    sync=_sync,
    backfill=_backfill,
    org_ids=lambda ctx, _org: [f"quill:{k.name}" for k in ctx.settings.keys],
    probe=_probe,
    secret_patterns=(r"qk_[A-Za-z0-9]{12,}",),
)


@pytest.fixture
def quill(
    db_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[..., tuple[int, str]]]:
    monkeypatch.setenv("DATABASE_URL", db_url_factory())
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", "acme.com")
    monkeypatch.setenv("QUILL_KEYS", "main=qk_abcdefghijklmnop")

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        out, _err = capsys.readouterr()
        return code, out

    with registry.registered(QUILL_SPEC):  # the one registry line
        assert run("db", "migrate")[0] == 0
        code, out = run("sync", "--days", "5")
        assert code == 0, out
        yield run


def test_the_new_tool_is_in_every_answer(quill: Callable[..., tuple[int, str]], tmp_path: Path) -> None:
    code, overview = quill("ask", "overview 7d", "--as", "dana@acme.com", "--png-dir", str(tmp_path))
    assert code == 0 and "Quill" in overview and "$3.75" in overview
    code, top = quill("ask", "top 5 7d quill", "--as", "dana@acme.com")
    assert code == 0 and "dana@acme.com" in top and "Quill" in top
    code, table = quill("ask", "table 7d sort quill", "--as", "dana@acme.com")
    assert code == 0 and "Quill" in table and "sorted by Quill tokens" in table


def test_the_new_tool_is_in_the_exports_and_reports(quill: Callable[..., tuple[int, str]], tmp_path: Path) -> None:
    team_file, usage_file = tmp_path / "team.csv", tmp_path / "usage.csv"
    assert quill("report", "team", "--period", "7d", "--csv", str(team_file))[0] == 0
    header, dana = list(csv.reader(io.StringIO(team_file.read_text())))
    assert header[3:7] == ["claude_code_tokens", "cursor_tokens", "copilot_tokens", "quill_tokens"]
    assert dana[header.index("quill_tokens")] == str(1_000 + 2_000 + 3_000 + 3 * 500)
    assert quill("report", "overview", "--period", "7d", "--csv", str(usage_file))[0] == 0
    assert ",quill," in usage_file.read_text()
    code, out = quill("report", "overview", "--period", "7d", "--tool", "quill")
    assert code == 0 and "$3.75" in out


def test_the_new_provider_is_in_status_gaps_doctor_config_and_the_scheduler(
    quill: Callable[..., tuple[int, str]],
) -> None:
    code, out = quill("status", "quill", "--json")
    [status] = json.loads(out)["providers"]
    assert code == 0 and (status["provider"], status["org_id"]) == ("quill", "quill:main")
    assert status["freshness"] == "up_to_date"
    code, out = quill("status")
    assert "Quill (test API) · org quill:main: up to date" in out
    code, out = quill("gaps", "quill", "--json")
    [gaps] = json.loads(out)["providers"]
    missing = (TODAY - timedelta(days=2)).isoformat()
    assert gaps["missing_days"] == 1 and gaps["gaps"][0]["first"] == missing
    code, out = quill("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["quill key main"]["state"] == "ok"
    assert "Valid for the Quill workspace" in checks["quill key main"]["detail"]
    code, out = quill("config", "--json")
    config = json.loads(out)
    assert config["settings"]["QUILL_KEYS"] == "main (hidden)" and config["settings"]["ABACUS_QUILL_SYNC_HOURS"] == 4
    assert config["features"]["quill"] == {"ready": True, "missing": [], "providers": {"quill": True}}
    assert "qk_abcdefghijklmnop" not in out
    jobs = {job.id: job for job in scheduled_jobs(Settings())}
    assert jobs["quill_sync"].name == "Quill (test API) forward sync" and "quill_backfill" in jobs


def test_the_new_tool_is_in_the_digest_and_the_charts(quill: Callable[..., tuple[int, str]], tmp_path: Path) -> None:
    png = tmp_path / "digest.png"
    day = (TODAY - timedelta(days=1)).isoformat()
    code, out = quill("digest", "preview", "--date", day, "--png", str(png))
    assert code == 0 and "Quill" in out and png.read_bytes().startswith(b"\x89PNG")
    describe_tools()
    assert (series_name("quill"), color_for("quill")) == ("Quill", "#14B8A6")


def test_without_the_registry_line_the_tool_is_unknown() -> None:
    assert "quill" not in [t.id for t in registry.tools()]
    with pytest.raises(LookupError, match="Unknown provider 'quill'"):
        registry.provider("quill")
