"""OpenAI's part of `abacus demo`: some of the demo's people run Codex on the organisation's API keys.

The usage and cost buckets are made in the documented report shape and go through the same parsing, pricing
and storing as a sync (:func:`usage_by_day`, :func:`costs_by_day`, :func:`store_days`), so the demo shows
exactly what a sync would store: tokens split into uncached and cached input, cost from the list-price table,
one service-account key that no person is tied to, and the organisation's reported cost a little above the
computed one (the reported figure also covers embeddings, files and tools), which `status` reconciles.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from providers.openai.rows import costs_by_day, usage_by_day
from providers.openai.sync import DAY, STATE_KEY, USER_SOURCE, store_days
from providers.spec import DemoRequest
from providers.sync_engine import utc_midnight
from storage.db import transaction
from storage.mappings import remember_identities
from storage.sync_state import record_attempt, record_success

DEMO_ORG = f"{STATE_KEY}:demo"
# A service-account key (a CI job running Codex): usage with no user, listed by `abacus mappings`.
DEMO_UNMAPPED_KEY = "key_demo_ci_codex"
# Codex's default model, the general model and a small reasoning model, most used first.
MODELS = ("gpt-5-codex", "gpt-5", "o4-mini")
# What the organisation is billed beyond its completions (embeddings, file search, tools), as a share of the
# computed cost: the reconciliation in `status` shows this as a small positive difference.
NOT_COMPLETIONS = Decimal("0.023")


def _user_id(n: int) -> str:
    return f"user-demo{n:04d}"


def _result(rng: random.Random, model: str, scale: float, who: dict[str, str | None]) -> dict[str, Any]:
    total = int(rng.lognormvariate(13.0, 0.6) * scale)
    # Codex re-sends its context every turn, so most input is cached; reasoning output is a small share.
    cached = int(total * rng.uniform(0.55, 0.85))
    output = int(total * rng.uniform(0.02, 0.06))
    uncached = total - cached - output
    return {
        "object": "organization.usage.completions.result",
        **who,
        "model": model,
        "input_tokens": uncached + cached,
        "input_cached_tokens": cached,
        "output_tokens": output,
        "num_model_requests": max(1, total // 40_000),
        "project_id": None,
        "batch": None,
    }


def _bucket(day: date, results: list[dict[str, Any]]) -> dict[str, Any]:
    start = int(datetime.combine(day, time(), tzinfo=UTC).timestamp())
    return {"object": "bucket", "start_time": start, "end_time": start + 86_400, "results": results}


def generate(request: DemoRequest) -> int:
    """Write the demo's OpenAI usage, reported costs and sync state; returns usage rows."""
    rng = random.Random(request.seed * 104_729 + 29)  # noqa: S311 - demo data, not security
    # Every third person, starting with the heavy user, also runs Codex on an API key.
    people = [(_user_id(n), email) for n, email in enumerate(request.emails) if n % 3 == 0]
    emails = dict(people)
    usage_buckets = []
    day = request.start
    while day <= request.end:
        weekday = day.weekday() < 5
        results = []
        for n, (user_id, _email) in enumerate(people):
            if rng.random() < (0.7 if weekday else 0.1):
                for model in rng.sample(MODELS[:2], 1) + ([MODELS[2]] if rng.random() < 0.25 else []):
                    results.append(_result(rng, model, 4.0 if n == 0 else 1.0, {"user_id": user_id}))
        # The CI job's key runs every night, lighter at weekends (fewer merges to review): no day is empty,
        # so the only holes `gaps` reports are the ones meant.
        ci = {"api_key_id": DEMO_UNMAPPED_KEY, "user_id": None}
        results.append(_result(rng, MODELS[0], 1.5 if weekday else 0.4, ci))
        usage_buckets.append(_bucket(day, results))
        day += DAY
    days = usage_by_day(usage_buckets, org_id=DEMO_ORG, emails=emails, keys={})
    cost_buckets = []
    for day, usage in sorted(days.items()):
        computed = sum((r.cost_usd for r in usage.records), Decimal(0))
        extra = computed * NOT_COMPLETIONS * Decimal(str(rng.uniform(0.5, 1.5)))
        line = {
            "object": "organization.costs.result",
            "amount": {"value": float(round(computed + extra, 6)), "currency": "usd"},
        }
        cost_buckets.append(_bucket(day, [{**line, "line_item": "completions", "project_id": None}]))
    cost_values = costs_by_day(cost_buckets)
    store_days(request.engine, DEMO_ORG, {d: (u, cost_values.get(d)) for d, u in days.items()}, request.now)
    with transaction(request.engine) as session:
        remember_identities(session, source=USER_SOURCE, org_id=DEMO_ORG, emails=emails, by="demo", now=request.now)
    record_attempt(request.engine, STATE_KEY, DEMO_ORG, request.now)
    # As a sync leaves it: complete to the end of the newest whole day written.
    record_success(request.engine, STATE_KEY, DEMO_ORG, request.now, forward_watermark=utc_midnight(request.end + DAY))
    return sum(len(u.records) for u in days.values())
