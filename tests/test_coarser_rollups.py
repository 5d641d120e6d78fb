"""The coarser rollups (usage_person_daily, usage_model_daily) stay exactly the facts summed at their grain,
whatever writes the facts: syncs, CSV imports, re-imports of changed files, and API-key mappings that move
a key's whole history to a person (and back). Checked on SQLite and PostgreSQL after every step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, case, func, literal_column, select

from providers.cursor.client import to_ms
from providers.cursor.csv_import import import_cursor_csv
from storage.analytics.common import person_tool_sums, whole_months
from storage.db import transaction
from storage.mappings import set_mapping
from storage.models import Usage, UsageDaily, UsageModelDaily, UsagePersonDaily, UsagePersonMonthly
from storage.writes import upsert_usage
from tests.factories import usage
from tests.fakes.cursor_server import FakeClock, FakeCursorServer, api_event
from tests.test_cursor_csv import ORG, TEAM, _sync, clock, server, write

__all__ = ["clock", "server"]  # the Cursor fake's fixtures, used here too

SUMS = ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens", "cost_usd", "records")
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def _from_usage(grain: tuple[str, ...]) -> Any:
    """``usage`` summed at ``grain`` (the rollups' actor: the key name while unattributed, else '')."""
    u = Usage
    actor = case((u.email == "", u.actor), else_=literal_column("''")).label("actor")
    columns = {"date": u.date, "tool": u.tool, "org_id": u.org_id, "email": u.email, "actor": actor, "model": u.model}
    keys = [columns[name] for name in grain]
    sums = [func.sum(getattr(u, name)) for name in SUMS[:-1]]
    return select(*keys, *sums, func.count()).group_by(*keys)


def _table(model: Any, grain: tuple[str, ...]) -> Any:
    return select(*(getattr(model, name) for name in grain), *(getattr(model, name) for name in SUMS))


def _rows(engine: Engine, stmt: Any) -> set[tuple[Any, ...]]:
    with transaction(engine) as s:
        return {tuple(Decimal(str(v)) if isinstance(v, float | Decimal) else v for v in row) for row in s.execute(stmt)}


MONTHLY = ("month", "tool", "org_id", "email", "actor", *SUMS, "last_day")
GRAINS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "usage_daily": (UsageDaily, ("date", "tool", "org_id", "email", "actor", "model")),
    "usage_person_daily": (UsagePersonDaily, ("date", "tool", "org_id", "email", "actor")),
    "usage_model_daily": (UsageModelDaily, ("date", "tool", "model")),
}


def _monthly_from_usage(engine: Engine) -> set[tuple[Any, ...]]:
    """``usage`` summed per (month, tool, org, person or key), with each group's newest day."""
    months: dict[tuple[Any, ...], list[Any]] = {}
    for day, tool, org_id, email, actor, *sums in _rows(engine, _from_usage(GRAINS["usage_person_daily"][1])):
        key = (day.replace(day=1), tool, org_id, email, actor)
        row = months.setdefault(key, [0, 0, 0, 0, Decimal(0), 0, day])
        for i, value in enumerate(sums):
            row[i] += value
        row[-1] = max(row[-1], day)
    return {(*key, *row) for key, row in months.items()}


def assert_rollups_exact(engine: Engine) -> None:
    for name, (model, grain) in GRAINS.items():
        stored, recomputed = _rows(engine, _table(model, grain)), _rows(engine, _from_usage(grain))
        assert stored == recomputed, f"{name} differs from usage: {stored ^ recomputed}"
    monthly = _rows(engine, select(*(getattr(UsagePersonMonthly, c) for c in MONTHLY)))
    assert monthly == _monthly_from_usage(engine), f"usage_person_monthly: {monthly ^ _monthly_from_usage(engine)}"


def _each(days: tuple[date, ...], step: Callable[[date], None]) -> None:
    for day in days:
        step(day)


def test_every_rollup_is_the_facts_summed_after_syncs_imports_reimports_and_mapping_changes(
    engine: Engine, tmp_path: Path, server: FakeCursorServer, clock: FakeClock
) -> None:
    key = dict(tool="claude_code", actor="ci-bot", actor_type="api_key", email="", org_id="org-1")

    def claude_code_sync(day: date, scale: int) -> None:  # what the Claude Code sync writes per day
        with transaction(engine) as s:
            upsert_usage(
                s,
                [
                    usage(date=day, input_tokens=100 * scale),
                    usage(date=day, raw_model="claude-opus-4-5-20251101", cost_usd=Decimal("0.000001") * scale),
                    usage(date=day, actor="Eve@Example.com", email="Eve@Example.com", org_id="org-2"),
                    usage(date=day, **key, input_tokens=7 * scale),
                    usage(date=day, **{**key, "actor": "other-key"}),
                ],
            )

    def mapping(email: str) -> None:
        with transaction(engine) as s:
            set_mapping(
                s,
                source="claude_code",
                org_id="org-1",
                external_id="ci-bot",
                email=email,
                method="cli",
                by="t",
                now=NOW,
            )

    def sync_twice(day: date) -> None:
        claude_code_sync(day, 5)
        claude_code_sync(day, 6)

    first, second = date(2025, 12, 1), date(2025, 12, 2)
    server.add_team(
        "key_acme",
        events=[
            api_event(to_ms(datetime(2025, 12, 1, 9, tzinfo=UTC)), "dana@example.com", "gpt-5"),
            api_event(to_ms(datetime(2025, 12, 1, 10, tzinfo=UTC)), "dana@example.com", "claude-4.5-sonnet"),
            api_event(to_ms(datetime(2025, 12, 2, 11, tzinfo=UTC)), "zoe@example.com", "gpt-5"),
        ],
    )
    csv = write(tmp_path, TEAM)
    changed_text = TEAM.replace('"1,000","10","1,110","$0.12"', '"2,000","10","2,110","$0.24"')
    assert changed_text != TEAM
    changed = write(tmp_path, changed_text, name="b.csv")
    # Newest first across a month end and a year end, imported a row per batch: the import rolls up each
    # batch's finished days as it goes and sums each month once at the end.
    header, _rows = TEAM.split("\n", 1)
    month_end_rows = [
        f'"{stamp}","{who}","Included","gpt-5","No","{n}","0","{n * 10}","{n}","{n * 12}","${n / 100:.2f}"'
        for n, (stamp, who) in enumerate(
            [
                ("2026-01-01T00:00:01.000Z", "dana@example.com"),
                ("2025-12-31T23:59:59.000Z", "zoe@example.com"),
                ("2025-12-31T08:00:00.000Z", "dana@example.com"),
                ("2025-12-01T00:00:00.000Z", "zoe@example.com"),
                ("2025-11-30T23:00:00.000Z", "dana@example.com"),
                ("2025-11-29T10:00:00.000Z", "zoe@example.com"),
            ],
            start=1,
        )
    ]
    across_months = write(tmp_path, header + "\n" + "\n".join(month_end_rows) + "\n", name="months.csv")
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("Claude Code sync", lambda: _each((first, second), lambda d: claude_code_sync(d, 1))),
        ("Cursor sync", lambda: _each((first, second), lambda d: _sync(engine, server, clock, d))),
        ("CSV import", lambda: import_cursor_csv(engine, csv, org_id=ORG)),
        ("same CSV again", lambda: import_cursor_csv(engine, csv, org_id=ORG, batch_size=2)),
        ("changed CSV", lambda: import_cursor_csv(engine, changed, org_id=ORG)),
        (
            "CSV across month ends, a row a batch",
            lambda: import_cursor_csv(engine, across_months, org_id=ORG, batch_size=1),
        ),
        ("Claude Code re-sync with new figures", lambda: claude_code_sync(second, 3)),
        ("key mapped to a person", lambda: mapping("dana@example.com")),
        ("key re-mapped", lambda: mapping("eve@example.com")),
        ("Claude Code sync after the mapping", lambda: claude_code_sync(date(2025, 12, 3), 2)),
        ("Claude Code sync across a month end", lambda: _each((date(2025, 11, 30), date(2026, 1, 1)), sync_twice)),
        ("key unmapped", lambda: mapping("")),
    ]
    for what, step in steps:
        step()
        try:
            assert_rollups_exact(engine)
        except AssertionError as exc:
            raise AssertionError(f"after {what}: {exc}") from None
    with transaction(engine) as s:
        # Something real was checked: both tools, people, the key, several models.
        assert s.scalar(select(func.count(func.distinct(UsagePersonDaily.tool)))) == 2
        assert s.scalar(select(func.count()).select_from(UsagePersonDaily).where(UsagePersonDaily.actor == "ci-bot"))
        assert (s.scalar(select(func.count(func.distinct(UsageModelDaily.model)))) or 0) >= 4


def test_a_reattributed_key_moves_its_history_in_every_rollup(engine: Engine) -> None:
    key = dict(tool="claude_code", actor="ci-bot", actor_type="api_key", email="", org_id="org-1")
    with transaction(engine) as s:
        upsert_usage(s, [usage(date=date(2026, 11, d), **key) for d in (1, 2, 3)] + [usage(date=date(2026, 11, 2))])
    with transaction(engine) as s:
        set_mapping(s, source="claude_code", org_id="org-1", external_id="ci-bot", email="Ann@Example.com",
                    method="cli", by="t", now=NOW)  # fmt: skip
    assert_rollups_exact(engine)
    with transaction(engine) as s:
        for model in (UsageDaily, UsagePersonDaily):
            assert s.scalar(select(func.count()).select_from(model).where(model.actor == "ci-bot")) == 0
            assert s.scalar(select(func.count()).select_from(model).where(model.email == "ann@example.com")) == 3
        # Model-day rows do not carry people: the key's usage is still there, once.
        assert s.scalar(select(func.sum(UsageModelDaily.records))) == 4


def test_whole_months_and_edges() -> None:
    assert whole_months(date(2025, 11, 26), date(2026, 11, 25)) == (
        [date(2025, 12, 1), *(date(2026, m, 1) for m in range(1, 11))],
        [(date(2025, 11, 26), date(2025, 11, 30)), (date(2026, 11, 1), date(2026, 11, 25))],
    )
    assert whole_months(date(2026, 2, 1), date(2026, 2, 28)) == ([date(2026, 2, 1)], [])
    assert whole_months(date(2026, 2, 2), date(2026, 3, 30)) == ([], [(date(2026, 2, 2), date(2026, 3, 30))])
    assert whole_months(date(2025, 12, 1), date(2026, 1, 31)) == ([date(2025, 12, 1), date(2026, 1, 1)], [])


def test_periods_read_from_months_and_edges_add_up_like_the_days(engine: Engine) -> None:
    days = [date(2025, 11, 28) + timedelta(days=i) for i in range(0, 75, 3)]
    with transaction(engine) as s:
        micro = Decimal("0.000001")
        upsert_usage(s, [usage(date=d, input_tokens=i + 1, cost_usd=micro * i) for i, d in enumerate(days)])
        upsert_usage(s, [usage(date=d, tool="cursor", actor="zoe@example.com", email="zoe@example.com",
                               event_key=str(d), output_tokens=7) for d in days[::2]])  # fmt: skip
        upsert_usage(s, [usage(date=d, actor="ci-bot", actor_type="api_key", email="") for d in days[1::4]])
    periods = [(date(2025, 11, 1), date(2026, 2, 28)), (date(2025, 11, 29), date(2026, 1, 31)),
               (date(2025, 12, 1), date(2025, 12, 31)), (date(2025, 12, 5), date(2026, 2, 3)),
               (date(2026, 1, 1), date(2026, 3, 31))]  # fmt: skip
    for start, end in periods:
        with transaction(engine) as s:
            got = {(r.tool, r.email): r for r in person_tool_sums(s, start, end).rows}
            p = UsagePersonDaily
            want = s.execute(
                select(p.tool, p.email, func.sum(p.input_tokens), func.sum(p.output_tokens), func.sum(p.cost_usd),
                       func.max(p.date)).where(p.date.between(start, end)).group_by(p.tool, p.email)
            ).all()  # fmt: skip
        six = Decimal("0.000001")
        expected = {(t, e): (int(i), int(o), Decimal(str(c)).quantize(six), last) for t, e, i, o, c, last in want}
        assert {k: (r.input_tokens, r.output_tokens, r.cost_usd, r.last_day) for k, r in got.items()} == expected
        assert expected, (start, end)
