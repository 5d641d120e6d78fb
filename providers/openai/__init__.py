"""OpenAI from the organisation Admin API: Codex used with API keys, and every other use of the same keys.

Tokens per person, day and model come from the completions usage report; the API has no tool dimension, so
Codex on API keys and any other app using the organisation's keys are one tool here, named so people know.
Codex signed in with a ChatGPT plan is not in this API at all. Cost is never reported per person: it is
computed from a maintained price table (an estimate, marked "est."), and checked against the costs the API
reports for the whole organisation, which ``status`` shows beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from providers.http import ONE_TRY
from providers.openai import demo, jobs
from providers.openai.client import OpenAIClient
from providers.openai.settings import OpenAISettings
from providers.openai.sync import STATE_KEY
from providers.spec import Probe, ProviderKey, ProviderSpec, Tool
from storage.analytics.status import FreshnessRule
from storage.reported_costs import cost_check

OPENAI = Tool(
    id="openai",
    title="OpenAI API (Codex)",
    short="openai",
    aliases=("codex", "openai-api", "gpt"),
    color="#10A37F",
    estimated_cost=True,
)
# Days of computed against reported cost that `status` compares.
COST_CHECK_DAYS = 30


def _probe(settings: OpenAISettings, key: ProviderKey, timeout: float) -> Probe:
    with OpenAIClient(
        key.key.get_secret_value(),
        who=f"OpenAI ({key.name})",
        base_url=settings.openai_base_url,
        retry=ONE_TRY,
        timeout=timeout,
    ) as client:
        client.check()
    return Probe(jobs.org_id_of(key), "valid Admin key (reads the organisation's usage, costs and users)")


def _status_notes(session: Any, org_id: str, now: datetime) -> tuple[str, ...]:
    """Computed (price table) against reported (OpenAI's costs) for the last days both are stored for."""
    last = now.astimezone(UTC).date()
    first = last - timedelta(days=COST_CHECK_DAYS - 1)
    notes = []
    for check in cost_check(session, provider=STATE_KEY, tool=OPENAI.id, org_ids=[org_id], first=first, last=last):
        diff = check.difference_usd
        share = f" ({diff / check.reported_usd:+.1%})" if check.reported_usd else ""
        notes.append(
            f"Cost {check.first} to {check.last} ({check.days} days): computed {jobs.usd(check.computed_usd)} "
            f"from list prices, OpenAI reports {jobs.usd(check.reported_usd)} for the organisation; difference "
            f"{'+' if diff >= 0 else '-'}{jobs.usd(abs(diff))}{share}. The reported figure also covers usage "
            "that is not completions (embeddings, images, audio, tools) and any discounts."
        )
        if check.unpriced_tokens:
            notes.append(
                f"No price known for {', '.join(check.unpriced_models)}: {check.unpriced_tokens:,} tokens in those "
                "days are stored with no cost (their cost is missing from the computed figure, not zero)."
            )
    return tuple(notes)


SPEC = ProviderSpec(
    id="openai",
    title="OpenAI API (Codex and other API use)",
    tool=OPENAI,
    aliases=("codex", "openai-api"),
    state_key=STATE_KEY,
    org_prefix=f"{STATE_KEY}:",
    settings=OpenAISettings,
    key_settings="OPENAI_ADMIN_KEY or OPENAI_ADMIN_KEYS",
    key_hint="an OpenAI Admin key (sk-admin-..., made by an organisation Owner) in OPENAI_ADMIN_KEYS",
    # Syncs every few hours; OpenAI documents no freshness, and yesterday is complete once today has begun.
    freshness=FreshnessRule(max_complete_day_lag=1, max_success_age=timedelta(hours=7)),
    sync_every=lambda s: timedelta(hours=s.schedule_openai_sync_hours),
    sync=jobs.sync,
    backfill=jobs.backfill,
    org_ids=jobs.org_ids,
    probe=_probe,
    secret_patterns=(r"sk-(?:admin|proj|svcacct)-[A-Za-z0-9_\-]{8,}",),
    backfill_takes_newest=True,
    demo=demo.generate,
    notes=(
        "Codex signed in with a ChatGPT plan (Plus, Pro, Business, Enterprise) is not in this API: only Codex "
        "and other apps using the organisation's API keys are.",
        "The API has no tool dimension: every use of the organisation's API keys counts, Codex or not.",
        "Cost is estimated from list prices (genai-prices); `abacus status` compares it with OpenAI's own costs.",
    ),
    status_notes=_status_notes,
)
