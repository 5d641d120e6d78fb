"""A synthetic organisation written through the real write path (``upsert_usage``), so the daily rollup is
built exactly as a sync would build it. Used by `abacus demo` and by the benchmarks (``benchmarks/``), which
are not an installed package and so import it from here.

Deterministic for a given seed. People are busier on weekdays; about 70% use Claude Code and 50% Cursor,
with one or two models a day. ``generate`` writes the bare version the benchmarks measure (Cursor as one
row per person, day and model: the analytics read only the rollup, whose size is what matters).
``generate_demo`` writes what a newcomer should see: named people, one heavy user, Cursor as individual
events, an API key nobody is mapped to, a two-day hole in the Cursor data and sync states, so every answer
(freshness lines, gaps, status, unmapped usage) has something real to say.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from providers import registry
from providers.spec import DemoRequest
from storage.budgets import budget_period, set_budget, spend
from storage.db import transaction
from storage.sync_state import record_attempt, record_success
from storage.teams import replace_members
from storage.writes import ActivityRecord, UsageRecord, upsert_activity, upsert_usage

CLAUDE_MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001")
CURSOR_MODELS = ("gpt-5", "claude-4.5-sonnet", "composer-1", "auto")
# The real shape measured at a 2,000-person company: a busy Cursor team spreads a day over ~6.5 of these.
CURSOR_MODELS_REAL = (
    *CURSOR_MODELS,
    "gpt-5-codex", "claude-4.5-opus", "claude-4.5-haiku", "gemini-2.5-pro", "grok-code-fast-1", "o3",
    "gpt-5-mini", "claude-4-sonnet",
)  # fmt: skip
# Real shape: Cursor models per active person-day (mean 6.5) and events per active person-day (mean ~80).
REAL_MODELS_PER_DAY = (4, 5, 6, 7, 8, 9)
REAL_EVENTS_PER_DAY = 80

# List prices in US$ per million tokens (input, cache write, cache read, output), so the demo's cost shares
# differ from its token shares as real ones do. Anthropic: its published rates (cache write 1.25x input,
# cache read 0.1x input). The Cursor-side models at their providers' list prices as of late 2025 (GPT-5 and
# Cursor's Composer 1: $1.25 in, $0.125 cached, $10 out; Auto: $1.25 in, $0.25 cached, $6 out; no separate
# cache-write rate, so it is the input rate). Demo figures only: real costs come from the providers' APIs.
DEMO_PRICES: dict[str, tuple[str, str, str, str]] = {
    "claude-opus-4-5-20251101": ("5", "6.25", "0.50", "25"),
    "claude-sonnet-4-5-20250929": ("3", "3.75", "0.30", "15"),
    "claude-haiku-4-5-20251001": ("1", "1.25", "0.10", "5"),
    "claude-4.5-sonnet": ("3", "3.75", "0.30", "15"),
    "gpt-5": ("1.25", "1.25", "0.125", "10"),
    "composer-1": ("1.25", "1.25", "0.125", "10"),
    "auto": ("1.25", "1.25", "0.25", "6"),
}
# What the benchmarks' organisation pays for any model: one flat rate, as before prices mattered.
FLAT_PRICE_PER_TOKEN = Decimal("0.0000012")
# The demo team that has a budget, and the share of it spent (the budget is set below the team's spend so
# far this period, so `budget list` shows a crossing).
DEMO_TEAM = "platform"
DEMO_BUDGET_SPENT = Decimal("1.08")
DEMO_BUDGET_CHANNEL = "C0DEMOBUDGET"  # where its alerts would go: a made-up channel id
# The demo's spike: one person's day at this many times their usual, on the dearest model, on the last day.
DEMO_SPIKE_FACTOR = 8
DEMO_SPIKE_MIN_USD = Decimal(40)  # and at least this much, so it clears the alerts' dollar floor

DEMO_DOMAIN = "example.com"
DEMO_CLAUDE_ORG = "org_demo"
DEMO_CURSOR_ORG = "cursor:default"
# People on claude.ai Enterprise seats: their Claude Code usage comes from the Enterprise Analytics API.
DEMO_ENTERPRISE_ORG = "claude-enterprise:default"
DEMO_UNMAPPED_KEY = "ci-release-bot"
_FIRST = (
    "ada", "grace", "alan", "edsger", "barbara", "donald", "margaret", "ken", "frances", "john",
    "radia", "linus", "katherine", "dennis", "sophie", "tim", "hedy", "guido", "anita", "bjarne",
)  # fmt: skip
_LAST = (
    "lovelace", "hopper", "turing", "dijkstra", "liskov", "knuth", "hamilton", "thompson", "allen",
    "backus", "perlman", "torvalds", "johnson", "ritchie", "wilson", "berners", "lamarr", "rossum",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Generated:
    people: int
    days: int
    usage_rows: int
    activity_rows: int


@dataclass(frozen=True, slots=True)
class _Person:
    email: str
    claude_code: bool
    cursor: bool
    intensity: float  # median tokens per active day, heavy-tailed across people
    weekday_rate: float = 0.7
    enterprise_seat: bool = False  # Claude Code through a claude.ai Enterprise seat (the demo: every third person)
    cache_read: float = 0.8  # the share of a day's tokens that are cache reads: habits differ per person
    output: float = 0.05  # the share that is output


@dataclass(frozen=True, slots=True)
class _Shape:
    """What distinguishes the demo organisation from the benchmark one."""

    claude_org: str = ""
    cursor_org: str = ""
    cursor_events: bool = False  # one row per event (as a sync stores them) instead of per (day, model)
    cursor_gap: frozenset[date] = frozenset()  # days with no Cursor data at all
    unmapped_key: str = ""  # a Claude Code API key whose usage nobody is tied to
    enterprise_org: str = ""  # where the Claude Code usage of people on Enterprise seats is stored
    priced: bool = False  # cost from DEMO_PRICES per model and token kind, rather than one flat rate
    spike: tuple[str, date] | None = None  # (email, day): that person's day is DEMO_SPIKE_FACTOR times usual
    real: bool = False  # a real company's shape: nearly everyone on Cursor, ~6.5 models and ~80 events a day


def generate(
    engine: Engine,
    *,
    people: int,
    days: int,
    end: date,
    seed: int = 7,
    chunk_days: int = 15,
    real: bool = False,
    events: bool = False,
) -> Generated:
    """The benchmarks' organisation: ``person00000@example.com``…, rows per (person, day, model).

    ``real`` is the shape measured at a real 2,000-person company: 98% of people on Cursor, each
    active Cursor day spread over 4–9 models (mean 6.5) with ~80 events, so 2,000 people x 365 days make
    ~2.9M rollup rows. Cursor is still written one ``usage`` row per (person, day, model) carrying the
    tokens of that model's events (the rollup, which is all the analytics read, has the same rows and sums
    either way; only its ``records`` counts differ); ``events`` writes the ~80 events one row each, as a
    sync stores them (about 12 times the rows: slow to generate at full size).
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    profiles = [_profile(rng, i, real=real) for i in range(people)]
    shape = _Shape(real=real, cursor_events=events and real)
    return _write(engine, rng, profiles, days=days, end=end, chunk_days=chunk_days, shape=shape)


def generate_demo(engine: Engine, *, people: int, days: int, end: date, now: datetime, seed: int = 7) -> Generated:
    """The demo organisation ending on ``end`` (normally yesterday), with sync states as of ``now``.

    Person 0 is the heavy user (about ten times the median, active every weekday); ``DEMO_UNMAPPED_KEY``
    spends on weekdays without an owner; Cursor has no data 12 and 11 days before ``end`` (when the
    period is long enough), which `abacus gaps` reports.
    """
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    profiles = [_profile(rng, i, named=True) for i in range(people)]
    if profiles:
        heavy = profiles[0]
        intensity = max(heavy.intensity, 1.0) * 10 + 4_000_000
        profiles[0] = replace(heavy, claude_code=True, cursor=True, intensity=intensity, weekday_rate=0.97)
    gap = frozenset({end - timedelta(days=12), end - timedelta(days=11)}) if days > 20 else frozenset()
    # The spike is the busiest API-billed Claude Code user after the heavy one: a day that is out of the
    # ordinary for someone whose ordinary is already visible.
    billed = [p for p in profiles[1:] if p.claude_code and not p.enterprise_seat]
    spiker = max(billed, key=lambda p: p.intensity, default=None)
    shape = _Shape(
        DEMO_CLAUDE_ORG,
        DEMO_CURSOR_ORG,
        True,
        gap,
        DEMO_UNMAPPED_KEY,
        DEMO_ENTERPRISE_ORG,
        priced=True,
        spike=(spiker.email, end) if spiker else None,
    )
    made = _write(engine, rng, profiles, days=days, end=end, chunk_days=31, shape=shape)
    # Claude Code is complete to `end` (its data lags a day); Enterprise seats publish a day later; Cursor
    # synced up to the last full hour.
    claude_mark = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    cursor_mark = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    for provider, org, mark in (
        ("claude_code", DEMO_CLAUDE_ORG, claude_mark),
        ("claude-enterprise", DEMO_ENTERPRISE_ORG, claude_mark),
        ("cursor", DEMO_CURSOR_ORG, cursor_mark),
    ):
        record_attempt(engine, provider, org, now)
        record_success(engine, provider, org, now, forward_watermark=mark)
    # Other tools draw their own part through the registry, from the same people.
    request = DemoRequest(engine, [p.email for p in profiles], end - timedelta(days=days - 1), end, now, seed)
    extra = sum(spec.demo(request) for spec in registry.providers() if spec.demo is not None)
    # The budget last, so the share of it spent counts every tool's usage.
    team = [p.email for p in profiles[::4]] + ([spiker.email] if spiker else [])
    _team_and_budget(engine, list(dict.fromkeys(team)), end=end, now=now)
    return replace(made, usage_rows=made.usage_rows + extra)


def demo_people(people: int, seed: int = 7) -> list[str]:
    """The demo's emails in generation order (index 0 is the heavy user), without touching a database."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    return [_profile(rng, i, named=True).email for i in range(people)]


def _write(
    engine: Engine, rng: random.Random, profiles: list[_Person], *, days: int, end: date, chunk_days: int, shape: _Shape
) -> Generated:
    start = end - timedelta(days=days - 1)
    usage_rows = activity_rows = 0
    day = start
    while day <= end:
        last = min(day + timedelta(days=chunk_days - 1), end)
        usage: list[UsageRecord] = []
        activity: list[ActivityRecord] = []
        for current in _days(day, last):
            for person in profiles:
                u, a = _person_day(rng, person, current, shape)
                usage.extend(u)
                activity.extend(a)
            if shape.unmapped_key and current.weekday() < 5:
                usage.append(_unmapped(rng, current, shape))
            if shape.priced:
                usage.extend(_someone_every_day(rng, profiles, current, usage, shape))
        with transaction(engine) as session:
            upsert_usage(session, usage)
            upsert_activity(session, activity)
        usage_rows += len(usage)
        activity_rows += len(activity)
        day = last + timedelta(days=1)
    return Generated(len(profiles), days, usage_rows, activity_rows)


def _profile(rng: random.Random, index: int, *, named: bool = False, real: bool = False) -> _Person:
    uses_cc = rng.random() < 0.7
    uses_cursor = rng.random() < (0.98 if real else 0.5) or not uses_cc
    intensity = rng.lognormvariate(13.5, 1.0)
    if not named:
        return _Person(f"person{index:05d}@example.com", uses_cc, uses_cursor, intensity)
    # Every (first, last) pair once before any repeats with a number: index -> (i mod F, (i mod F + i div F) mod L)
    # is one-to-one below F * L because F >= L.
    pairs = len(_FIRST) * len(_LAST)
    first = _FIRST[index % len(_FIRST)]
    last = _LAST[(index % len(_FIRST) + (index % pairs) // len(_FIRST)) % len(_LAST)]
    suffix = "" if index < pairs else str(index // pairs + 1)
    email = f"{first}.{last}{suffix}@{DEMO_DOMAIN}"
    # Cache habits differ: long agent sessions re-read their context (up to ~92% cache reads), short
    # one-off questions barely do (~40%).
    cache_read = rng.uniform(0.4, 0.92)
    output = rng.uniform(0.02, 0.08)
    return _Person(
        email, uses_cc, uses_cursor, intensity, enterprise_seat=index % 3 == 1, cache_read=cache_read, output=output
    )


def _days(first: date, last: date) -> Iterator[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


def _person_day(
    rng: random.Random, p: _Person, day: date, shape: _Shape
) -> tuple[list[UsageRecord], list[ActivityRecord]]:
    active = rng.random() < (p.weekday_rate if day.weekday() < 5 else 0.15)
    spike = shape.spike == (p.email, day)
    if not active and not spike:
        return [], []
    usage: list[UsageRecord] = []
    activity: list[ActivityRecord] = []
    if p.claude_code:
        seat = bool(shape.enterprise_org) and p.enterprise_seat
        org = shape.enterprise_org if seat else shape.claude_org
        models = rng.sample(CLAUDE_MODELS, rng.choice((1, 1, 2)))
        for model in [CLAUDE_MODELS[1]] if spike else models:
            if spike:  # a long agent run on the dearest model: the day stands out in cost even more than tokens
                scale = max(DEMO_SPIKE_FACTOR, float(DEMO_SPIKE_MIN_USD / _cost_of(p, model, p.intensity)))
                row = _record(rng, "claude_code", day, p, model, "", org, scale=scale, priced=True, middle=True)
            else:
                row = _record(rng, "claude_code", day, p, model, "", org, priced=shape.priced)
            usage.append(replace(row, customer_type="subscription") if seat else row)
        activity.append(
            ActivityRecord(
                date=day,
                actor=p.email,
                org_id=org,
                email=p.email,
                customer_type="subscription" if seat else "",
                sessions=rng.randint(1, 8),
                lines_added=rng.randint(0, 800),
                lines_removed=rng.randint(0, 300),
                commits=rng.randint(0, 5),
                pull_requests=rng.randint(0, 2),
                tool_accepted=rng.randint(0, 40),
                tool_rejected=rng.randint(0, 10),
            )
        )
    if not active:
        return usage, activity
    if p.cursor and day not in shape.cursor_gap and shape.real:
        models = rng.sample(CURSOR_MODELS_REAL, rng.choice(REAL_MODELS_PER_DAY))
        for model in models:
            if shape.cursor_events:
                count = max(1, round(rng.gauss(REAL_EVENTS_PER_DAY / len(models), 2)))
                usage.extend(_cursor_events(rng, day, p, model, shape.cursor_org, count, len(models)))
            else:
                share = 1 / len(models)
                usage.append(_record(rng, "cursor", day, p, model, f"{p.email}:{day}:{model}", scale=share))
    elif p.cursor and day not in shape.cursor_gap:
        for model in rng.sample(CURSOR_MODELS, rng.choice((1, 2))):
            if shape.cursor_events:
                usage.extend(_cursor_events(rng, day, p, model, shape.cursor_org, priced=shape.priced))
            else:
                usage.append(_record(rng, "cursor", day, p, model, f"{p.email}:{day}:{model}", priced=shape.priced))
    return usage, activity


def _record(
    rng: random.Random,
    tool: str,
    day: date,
    p: _Person,
    model: str,
    event_key: str,
    org_id: str = "",
    scale: float = 1,
    *,
    priced: bool = False,
    middle: bool = False,
) -> UsageRecord:
    """``middle``: the person's usual day exactly (no random spread), so a spike is its stated multiple."""
    total = int(p.intensity * scale * (1.0 if middle else rng.uniform(0.3, 1.7)))
    cache_read = int(total * p.cache_read)
    output = int(total * p.output)
    cache_write = int(total * 0.05)
    uncached = total - cache_read - output - cache_write
    cost = _cost_of(p, model, total) if priced else Decimal(total) * FLAT_PRICE_PER_TOKEN
    return UsageRecord(
        tool=tool,
        date=day,
        actor=p.email,
        org_id=org_id,
        email=p.email,
        raw_model=model,
        event_key=event_key,
        input_tokens=uncached,
        cache_write_tokens=cache_write,
        cache_read_tokens=cache_read,
        output_tokens=output,
        cost_usd=cost.quantize(Decimal("0.000001")),
    )


def _cost_of(p: _Person, model: str, total: float) -> Decimal:
    """What ``total`` tokens of ``p``'s usual mix (cache reads, output, cache writes, the rest uncached input)
    cost on ``model`` at ``DEMO_PRICES``."""
    cache_read, output, cache_write = int(total * p.cache_read), int(total * p.output), int(total * 0.05)
    counts = (int(total) - cache_read - output - cache_write, cache_write, cache_read, output)
    prices = [Decimal(v) for v in DEMO_PRICES.get(model, DEMO_PRICES["claude-sonnet-4-5-20250929"])]
    return sum((Decimal(n) * price for n, price in zip(counts, prices, strict=True)), Decimal(0)) / 1_000_000


def _cursor_events(
    rng: random.Random,
    day: date,
    p: _Person,
    model: str,
    org_id: str,
    count: int = 0,
    models: int = 1,
    *,
    priced: bool = False,
) -> list[UsageRecord]:
    """A few events spread over the working day, keyed like a sync keys them (a hash of what they say)."""
    spread = count > 0  # the real shape: many events a day, so milliseconds apart too
    count = count or rng.randint(1, 4)
    events = []
    for _ in range(count):
        at = datetime.combine(day, time(rng.randint(7, 19), rng.randint(0, 59), rng.randint(0, 59)), tzinfo=UTC)
        ms = int(at.timestamp() * 1000) + (rng.randint(0, 999) if spread else 0)
        row = _record(rng, "cursor", day, p, model, "", org_id, scale=1 / count / models, priced=priced)
        key = hashlib.sha256(f"{ms}|{p.email}|{model}|{row.total_tokens}".encode()).hexdigest()[:32]
        events.append(replace(row, event_key=key, event_ts_ms=ms, kind="Included in Business", max_mode=False))
    return events


def _someone_every_day(
    rng: random.Random, profiles: list[_Person], day: date, written: list[UsageRecord], shape: _Shape
) -> list[UsageRecord]:
    """A light day from one person for each source that would otherwise have no row at all that day (a
    quiet weekend in a small organisation), so the only hole `gaps` and the charts show is the one meant."""
    seen = {(r.tool, r.org_id) for r in written if r.date == day}
    sources = [
        ("claude_code", shape.claude_org, [p for p in profiles if p.claude_code and not p.enterprise_seat]),
        ("claude_code", shape.enterprise_org, [p for p in profiles if p.claude_code and p.enterprise_seat]),
        ("cursor", shape.cursor_org, [] if day in shape.cursor_gap else [p for p in profiles if p.cursor]),
    ]
    rows = []
    for tool, org, people in sources:
        if (tool, org) in seen or not people:
            continue
        person = rng.choice(people)
        model = rng.choice(CLAUDE_MODELS if tool == "claude_code" else CURSOR_MODELS)
        key = f"{person.email}:{day}:{model}:quiet" if tool == "cursor" else ""
        row = _record(rng, tool, day, person, model, key, org, scale=0.2, priced=True)
        if org == shape.enterprise_org:
            row = replace(row, customer_type="subscription")
        rows.append(row)
    return rows


def _unmapped(rng: random.Random, day: date, shape: _Shape) -> UsageRecord:
    """Usage through an API key (a CI job) that no identity mapping ties to a person."""
    bot = _Person(shape.unmapped_key, True, False, 2_500_000)
    row = _record(rng, "claude_code", day, bot, CLAUDE_MODELS[0], "", shape.claude_org, priced=shape.priced)
    return replace(row, actor_type="api_key", email="")


def _team_and_budget(engine: Engine, members: list[str], *, end: date, now: datetime) -> None:
    """The team ``DEMO_TEAM`` (every fourth person, the heavy user and the spike among them) with a budget
    set a little below what it has spent so far this month (this week early in a month), so `team`,
    `top teams`, `budget list` and the digest have something real to say."""
    if not members:
        return
    replace_members(engine, DEMO_TEAM, members, source="admin", by="abacus demo", now=now)
    cadence = "monthly" if end.day >= 7 else "weekly"
    period = budget_period(cadence, end)
    with transaction(engine) as session:
        spent = spend(session, period.start, end, emails=members)
    if spent <= 0:
        return
    amount = max((spent / DEMO_BUDGET_SPENT).quantize(Decimal("1")), Decimal(1))
    set_budget(
        engine,
        scope="team",
        target=DEMO_TEAM,
        cadence=cadence,
        tool="",
        amount_usd=amount,
        channel_id=DEMO_BUDGET_CHANNEL,
        created_by="abacus demo",
        now=now,
    )
