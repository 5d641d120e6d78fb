"""GitHub Copilot: the documented samples parse exactly; syncs against the fake GitHub API over real HTTP,
on SQLite and PostgreSQL: exact totals, idempotent re-syncs, settling days, expiring download links, rate
limits with and without retry-after, seats paged by Link header, unmapped logins and a garbage day."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from providers.copilot.client import CopilotClient, parse_report_file
from providers.copilot.rows import parse_day, seat_emails, usage_records
from providers.copilot.settings import CopilotSettings, Scope
from providers.copilot.sync import sync_org
from providers.errors import AuthError, ProviderError, RateLimited
from providers.http import RetryPolicy
from storage.db import transaction
from storage.mappings import set_mapping, unmapped_keys
from storage.models import CopilotActivity, Usage, UsageDaily
from tests.fakes.github_copilot_server import FakeGitHub, record

FIXTURES = Path(__file__).parent / "fixtures" / "copilot"
TOKEN = "ghp_acmeCopilotMetricsToken0123456789"
TODAY = date(2026, 10, 25)
D1, D2, D3 = date(2026, 10, 20), date(2026, 10, 21), date(2026, 10, 22)
ACME = Scope("acme", enterprise=False)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def now() -> datetime:
    return datetime(2026, 10, 25, 6, 0, tzinfo=UTC)


# -- the documented samples -------------------------------------------------------------------------------


def test_the_documented_record_parses_to_credits_as_cost_cli_tokens_and_activity() -> None:
    sample = fixture("users-1-day-record.json")
    users = parse_day([sample], D1)
    octocat = users["octocat"]
    [row] = usage_records(users, day=D1, org_id="copilot:acme", identities={})
    # 12.5 credits x $0.01; tokens only from Copilot CLI (prompt -> input, output -> output), no cache split.
    assert row.cost_usd == Decimal("0.125000")
    assert (row.input_tokens, row.cache_write_tokens, row.cache_read_tokens, row.output_tokens) == (38_000, 0, 0, 5_000)
    assert (row.actor, row.actor_type, row.email, row.raw_model) == ("octocat", "login", "", "copilot")
    assert octocat.counters == {
        "interactions": 42,
        "code_generations": 130,
        "code_acceptances": 61,
        "lines_suggested_added": 900,
        "lines_suggested_deleted": 0,
        "lines_added": 640,
        "lines_deleted": 120,
    }
    assert (octocat.cli_sessions, octocat.cli_requests) == (2, 9)
    assert octocat.models == {"claude-sonnet-4.5": {"interactions": 30, "code_generations": 0, "code_acceptances": 0}}
    assert octocat.flags == {"used_chat", "used_agent", "used_cli", "used_copilot_code_review_passive"}


def test_the_record_reads_the_same_as_an_ndjson_line_and_inside_a_json_array() -> None:
    sample = (FIXTURES / "users-1-day-record.json").read_text()
    line = json.dumps(json.loads(sample)).encode() + b"\n"
    array = b"[" + sample.encode() + b"]"
    assert parse_report_file(line + line, what="part") == parse_report_file(
        b"[" + sample.encode() + b"," + sample.encode() + b"]", what="part"
    )
    assert parse_report_file(array, what="part")[0]["ai_credits_used"] == Decimal("12.5")
    assert parse_report_file(b"", what="part") == []


def test_the_documented_report_envelope_and_seats_have_the_fields_the_client_reads() -> None:
    report = fixture("report.json")
    assert len(report["download_links"]) == 2 and report["report_day"] == "2026-10-20"
    seats = fixture("seats.json")
    assert seats["total_seats"] == 2 and seats["seats"][0]["assignee"]["login"] == "octocat"
    # The documented seat has no email (GitHub usually gives none): the login stays unmapped.
    assert seat_emails(seats["seats"]) == {}
    seats["seats"][0]["assignee"]["email"] = "Octo.Cat@Acme.com"
    assert seat_emails(seats["seats"]) == {"octocat": "octo.cat@acme.com"}


def test_a_record_without_credits_or_cli_is_a_day_with_no_cost_and_no_tokens() -> None:
    users = parse_day([record(D1, "Dana", 7, interactions=3)], D1)
    [row] = usage_records(users, day=D1, org_id="copilot:acme", identities={"dana": "dana@acme.com"})
    assert (row.total_tokens, row.cost_usd, row.email, row.actor) == (0, Decimal(0), "dana@acme.com", "dana")


def test_two_records_of_one_login_in_a_day_are_summed_not_stored_twice() -> None:
    users = parse_day(
        [record(D1, "dana", 7, credits=1.5, cli=(10, 1)), record(D1, "DANA", 7, credits=Decimal("2.25"), cli=(5, 2))],
        D1,
    )
    [row] = usage_records(users, day=D1, org_id="copilot:e", identities={})
    assert (row.cost_usd, row.input_tokens, row.output_tokens) == (Decimal("0.037500"), 15, 3)


def _bad(**changes: Any) -> dict[str, Any]:
    row = record(D1, "dana", 7, credits=2, cli=(10, 1))
    row.update(changes)
    return row


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ("not a record", "record 1"),
        (_bad(day="2026-10-19"), "day of record 1"),
        (_bad(user_login=None), "user_login"),
        (_bad(user_login="x" * 3_000), "user_login"),
        (_bad(user_login="a\nb"), "user_login"),
        (_bad(user_id="7"), "user_id"),
        (_bad(ai_credits_used=-1), "ai_credits_used"),
        (_bad(ai_credits_used=None), "ai_credits_used"),
        (_bad(ai_credits_used="12"), "ai_credits_used"),
        (_bad(ai_credits_used=Decimal("Infinity")), "ai_credits_used"),
        (_bad(ai_credits_used=Decimal("1e15")), "ai_credits_used"),
        (_bad(code_acceptance_activity_count=2.5), "code_acceptance_activity_count"),
        (_bad(loc_added_sum=2**63), "loc_added_sum"),
        (_bad(user_initiated_interaction_count=None), "user_initiated_interaction_count"),
        (_bad(totals_by_cli=[]), "totals_by_cli"),
        (_bad(totals_by_cli={"token_usage": {"prompt_tokens_sum": -5, "output_tokens_sum": 0}}), "prompt_tokens_sum"),
        (_bad(totals_by_model_feature=[{"model": None}]), "model"),
    ],
)
def test_garbage_records_are_refused_naming_the_day_and_the_field(bad: Any, field: str) -> None:
    with pytest.raises(ProviderError) as raised:
        parse_day([bad], D1)
    message = str(raised.value)
    assert "2026-10-20" in message and field in message and "nothing was stored" in message
    assert len(message) < 400


def test_settings_read_orgs_or_the_enterprise_and_never_store_a_position() -> None:
    settings = CopilotSettings.model_validate({"COPILOT_TOKEN": TOKEN, "COPILOT_ORGS": "Acme, beta,acme2, Acme"})
    assert [k.name for k in settings.keys] == ["Acme", "beta", "acme2"]
    assert [s.org_id for s in settings.scopes] == ["copilot:acme", "copilot:beta", "copilot:acme2"]
    both = CopilotSettings.model_validate(
        {"COPILOT_TOKEN": TOKEN, "COPILOT_ORGS": "acme", "COPILOT_ENTERPRISE": "acme-corp"}
    )
    assert [(s.path, s.org_id) for s in both.scopes] == [("/enterprises/acme-corp", "copilot:enterprise:acme-corp")]
    assert CopilotSettings.model_validate({"COPILOT_ORGS": "acme"}).keys == []
    assert TOKEN in settings.secrets()


# -- syncing against the fake ---------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub(TOKEN)
    yield server
    server.close()


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client(fake: FakeGitHub, sleep: Sleeps | None = None, scope: Scope = ACME, token: str = TOKEN) -> CopilotClient:
    return CopilotClient(
        token, who=f"GitHub Copilot {scope.title}", scope_path=scope.path, base_url=fake.url, sleep=sleep or Sleeps()
    )


def sync(engine: Engine, fake: FakeGitHub, days: list[date], sleep: Sleeps | None = None, scope: Scope = ACME) -> Any:
    with client(fake, sleep, scope) as c:
        return sync_org(engine, c, scope, days, now=now)


def totals(engine: Engine, org_id: str = "copilot:acme") -> tuple[int, int, Decimal, int]:
    with transaction(engine) as session:
        tokens = Usage.input_tokens + Usage.cache_write_tokens + Usage.cache_read_tokens + Usage.output_tokens
        rows, total, cost = session.execute(
            select(func.count(), func.coalesce(func.sum(tokens), 0), func.coalesce(func.sum(Usage.cost_usd), 0)).where(
                Usage.tool == "copilot", Usage.org_id == org_id
            )
        ).one()
        rolled = session.scalar(
            select(func.coalesce(func.sum(UsageDaily.cost_usd), 0)).where(UsageDaily.tool == "copilot")
        )
        activity = session.scalar(select(func.coalesce(func.sum(CopilotActivity.interactions), 0))) or 0
    assert Decimal(str(rolled)) == Decimal(str(cost))  # the rollup always agrees with the facts
    return int(rows), int(total), Decimal(str(cost)), int(activity)


def acme(fake: FakeGitHub) -> Any:
    org = fake.org("acme")
    org.add(record(D1, "dana", 1, credits=Decimal("120.5"), interactions=10, cli=(38_000, 5_000), models={"gpt-5": 4}))
    org.add(record(D1, "bob", 2, credits=40, interactions=5))
    org.add(record(D1, "octocat", 3, credits=Decimal("0.25")))  # nobody maps it: kept, unattributed
    org.add(record(D2, "dana", 1, credits=10, cli=(100, 10), interactions=2))
    org.add_seat("dana", 1, "Dana@Acme.com")
    org.add_seat("bob", 2, "bob@acme.com")
    org.add_seat("octocat", 3, None)
    return org


def test_a_sync_stores_the_fakes_totals_exactly_and_a_resync_changes_nothing(engine: Engine, fake: FakeGitHub) -> None:
    acme(fake)
    first = sync(engine, fake, [D1, D2, D3])
    assert first.error is None and first.days_done == [D1, D2] and first.days_without_report == [D3]
    # 120.5 + 40 + 0.25 + 10 credits = $1.7075; tokens: only Copilot CLI's 38,000 + 5,000 + 100 + 10.
    expected = (4, 43_110, Decimal("1.7075"), 17)
    assert totals(engine) == expected
    assert first.unmapped == {"octocat"} and first.emails_from_seats == 2
    assert fake.downloads_with_token == 0 and len(fake.downloads()) == 4  # two parts per report
    again = sync(engine, fake, [D1, D2, D3])
    assert again.error is None and totals(engine) == expected
    with transaction(engine) as session:
        emails = dict(session.execute(select(Usage.actor, Usage.email).where(Usage.date == D1)).all())
    assert emails == {"dana": "dana@acme.com", "bob": "bob@acme.com", "octocat": ""}


def test_a_day_still_settling_is_replaced_by_its_new_figures_not_added_to(engine: Engine, fake: FakeGitHub) -> None:
    org = acme(fake)
    sync(engine, fake, [D1, D2])
    # GitHub finalises D2 later: dana's credits grow and a late user appears; bob's record of D1 disappears.
    org.set_day(D2, [record(D2, "dana", 1, credits=15, cli=(100, 10)), record(D2, "erin", 9, credits=1)])
    org.set_day(D1, [r for r in org.days[D1] if r["user_login"] != "bob"])
    sync(engine, fake, [D1, D2])
    assert totals(engine)[:3] == (4, 43_110, Decimal("1.3675"))


def test_a_day_without_a_report_leaves_what_was_stored(engine: Engine, fake: FakeGitHub) -> None:
    org = acme(fake)
    sync(engine, fake, [D1, D2])
    del org.days[D2]  # 204 for D2 now
    outcome = sync(engine, fake, [D1, D2])
    assert outcome.error is None and outcome.days_without_report == [D2]
    assert totals(engine)[2] == Decimal("1.7075")


def test_the_json_array_variant_of_a_report_file_gives_the_same_rows(engine: Engine, fake: FakeGitHub) -> None:
    org = acme(fake)
    org.as_array.add(D1)
    sync(engine, fake, [D1, D2])
    assert totals(engine)[:3] == (4, 43_110, Decimal("1.7075"))


def test_expired_download_links_are_requested_again_within_a_bound(engine: Engine, fake: FakeGitHub) -> None:
    acme(fake)
    fake.expire_next_reports(1)
    outcome = sync(engine, fake, [D1])
    assert outcome.error is None and totals(engine)[2] == Decimal("1.6075")
    assert len(fake.report_requests()) == 2  # the first links had expired: the report was asked for again

    fake.expire_next_reports(100)
    before = len(fake.report_requests())
    failed = sync(engine, fake, [D1])
    assert failed.error is not None and "kept expiring" in str(failed.error)
    assert len(fake.report_requests()) - before == 4  # bounded: the first try and three renewals
    assert totals(engine)[2] == Decimal("1.6075")  # nothing stored was lost


def test_a_429_with_retry_after_waits_as_told(engine: Engine, fake: FakeGitHub) -> None:
    acme(fake)
    fake.limit(429, retry_after=7)
    sleeps = Sleeps()
    assert sync(engine, fake, [D1], sleeps).error is None
    assert sleeps.calls == [7.0] and totals(engine)[2] == Decimal("1.6075")


def test_a_secondary_limit_403_without_retry_after_waits_for_the_reset(engine: Engine, fake: FakeGitHub) -> None:
    acme(fake)
    fake.limit(403, reset_in=30)
    fake.limit(429, reset_in=30)
    sleeps = Sleeps()
    assert sync(engine, fake, [D1], sleeps).error is None
    assert len(sleeps.calls) == 2 and all(25 <= s <= 31 for s in sleeps.calls)


def test_a_rate_limit_that_outlasts_the_budget_fails_and_keeps_the_stored_days(
    engine: Engine, fake: FakeGitHub
) -> None:
    acme(fake)
    sync(engine, fake, [D1])
    for _ in range(10):
        fake.limit(429, retry_after=1)
    with client(fake) as c:
        c._retry = RetryPolicy(max_attempts=3)
        outcome = sync_org(engine, c, ACME, [D1], now=now)
    assert isinstance(outcome.error, RateLimited) and "next run will retry" in str(outcome.error)
    assert totals(engine)[2] == Decimal("1.6075")


def test_a_refusal_is_not_mistaken_for_a_rate_limit_and_names_the_fix(engine: Engine, fake: FakeGitHub) -> None:
    acme(fake).policy_enabled = False
    outcome = sync(engine, fake, [D1])
    assert isinstance(outcome.error, AuthError)
    assert "Copilot usage metrics" in str(outcome.error) and TOKEN not in str(outcome.error)
    with client(fake, token="ghp_wrong") as c, pytest.raises(AuthError, match="401"):
        c.users_day(D1)


def test_seats_are_read_page_by_page_through_the_link_header(engine: Engine, fake: FakeGitHub) -> None:
    org = fake.org("acme")
    for n in range(150):
        org.add_seat(f"dev{n}", 100 + n, f"dev{n}@acme.com" if n % 2 else None)
        org.add(record(D1, f"dev{n}", 100 + n, credits=1))
    outcome = sync(engine, fake, [D1])
    seat_pages = [r for r in fake.requests if r.path.endswith("/copilot/billing/seats")]
    assert len(seat_pages) == 2 and seat_pages[1].query.get("page") == "2"
    assert outcome.emails_from_seats == 75 and len(outcome.unmapped) == 75


def test_unreadable_seats_are_noted_and_the_usage_still_stored(engine: Engine, fake: FakeGitHub) -> None:
    acme(fake).seats_readable = False
    outcome = sync(engine, fake, [D1])
    assert outcome.error is None and "not readable" in (outcome.seats_note or "")
    assert outcome.unmapped == {"dana", "bob", "octocat"} and totals(engine)[2] == Decimal("1.6075")


def test_unmapped_logins_are_listed_and_mapping_one_moves_its_history(engine: Engine, fake: FakeGitHub) -> None:
    org = acme(fake)
    org.add(record(D2, "octocat", 3, credits=3, interactions=4))
    sync(engine, fake, [D1, D2])
    with transaction(engine) as session:
        [unmapped] = unmapped_keys(session, None)
        assert (unmapped.key_name, unmapped.tool, unmapped.org_id) == ("octocat", "copilot", "copilot:acme")
        assert unmapped.cost_usd == Decimal("0.0325")
        assert unmapped_keys(session, "claude_code") == []  # Claude Code's own list is unchanged
        moved = set_mapping(
            session,
            source="copilot",
            org_id="copilot:acme",
            external_id="octocat",
            email="octo@acme.com",
            method="cli",
            by="test",
            now=now(),
        )
    assert moved is not None and moved.rows == 2 and moved.cost_usd == Decimal("0.0325")
    with transaction(engine) as session:
        assert unmapped_keys(session, None) == []
        person = session.scalar(
            select(func.sum(UsageDaily.cost_usd)).where(
                UsageDaily.email == "octo@acme.com", UsageDaily.tool == "copilot"
            )
        )
        activity = session.scalar(
            select(func.sum(CopilotActivity.interactions)).where(CopilotActivity.email == "octo@acme.com")
        )
    assert Decimal(str(person)) == Decimal("0.0325") and activity == 4
    # The next sync keeps the admin's mapping.
    sync(engine, fake, [D1, D2])
    with transaction(engine) as session:
        assert unmapped_keys(session, None) == []


def test_a_garbage_day_fails_loudly_and_loses_nothing_while_other_days_are_written(
    engine: Engine, fake: FakeGitHub
) -> None:
    org = acme(fake)
    sync(engine, fake, [D1, D2])
    org.set_day(D1, [*org.days[D1], {**record(D1, "mallory", 66), "loc_added_sum": "lots"}])
    org.set_day(D2, [record(D2, "dana", 1, credits=50)])
    outcome = sync(engine, fake, [D1, D2])
    assert outcome.error is not None and "loc_added_sum of mallory" in str(outcome.error)
    assert outcome.days_done == [D2]
    with transaction(engine) as session:
        d1 = session.scalar(select(func.sum(Usage.cost_usd)).where(Usage.date == D1, Usage.tool == "copilot"))
        d2 = session.scalar(select(func.sum(Usage.cost_usd)).where(Usage.date == D2, Usage.tool == "copilot"))
    assert Decimal(str(d1)) == Decimal("1.6075") and Decimal(str(d2)) == Decimal("0.5")


def test_enterprise_reports_are_read_under_the_enterprise_path(engine: Engine, fake: FakeGitHub) -> None:
    corp = fake.enterprise("acme-corp")
    corp.add(record(D1, "dana", 1, credits=10))
    corp.add(record(D1, "dana", 1, credits=5))  # the same person in two of its organisations
    scope = Scope("acme-corp", enterprise=True)
    outcome = sync(engine, fake, [D1], scope=scope)
    assert outcome.error is None
    assert totals(engine, "copilot:enterprise:acme-corp")[:3] == (1, 0, Decimal("0.15"))


def test_a_login_an_admin_unmapped_is_not_mapped_again_from_the_seats(engine: Engine, fake: FakeGitHub) -> None:
    acme(fake)
    sync(engine, fake, [D1])
    with transaction(engine) as session:
        assert "bob" not in {k.key_name for k in unmapped_keys(session, "copilot")}  # its seat gave the email
        moved = set_mapping(
            session,
            source="copilot",
            org_id="copilot:acme",
            external_id="bob",
            email="",
            method="cli",
            by="cli",
            now=datetime(2026, 10, 23, tzinfo=UTC),
        )
        assert moved is not None and moved.rows == 1
    sync(engine, fake, [D1])  # the seat still names bob's email; the admin's choice stands
    with transaction(engine) as session:
        assert "bob" in {k.key_name for k in unmapped_keys(session, "copilot")}
