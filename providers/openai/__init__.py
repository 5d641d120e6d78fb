"""OpenAI from the organisation Admin API: Codex used with API keys, and every other use of the same keys.

Tokens per person, day and model come from the completions usage report; the API has no tool dimension, so
Codex on API keys and any other app using the organisation's keys are one tool here, named so people know.
Codex signed in with a ChatGPT plan is not in this API at all. Cost is never reported per person: it is
computed from a maintained price table (an estimate, marked "est."), and checked against the costs the API
reports for the whole organisation, which ``status`` shows beside it.
"""

from __future__ import annotations

from datetime import timedelta

from providers.openai.settings import STATE_KEY, OpenAISettings
from providers.spec import ProviderSpec, Tool, lazy
from storage.analytics.freshness import FreshnessRule

OPENAI = Tool(
    id="openai",
    title="OpenAI API (Codex)",
    short="openai",
    aliases=("codex", "openai-api", "gpt"),
    color="#10A37F",
    estimated_cost=True,
)


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
    sync=lazy("providers.openai.jobs", "sync"),
    backfill=lazy("providers.openai.jobs", "backfill"),
    org_ids=lazy("providers.openai.jobs", "org_ids"),
    probe=lazy("providers.openai.jobs", "probe"),
    secret_patterns=(r"sk-(?:admin|proj|svcacct)-[A-Za-z0-9_\-]{8,}",),
    backfill_takes_newest=True,
    demo=lazy("providers.openai.demo", "generate"),
    notes=(
        "Codex signed in with a ChatGPT plan (Plus, Pro, Business, Enterprise) is not in this API: only Codex "
        "and other apps using the organisation's API keys are.",
        "The API has no tool dimension: every use of the organisation's API keys counts, Codex or not.",
        "Cost is estimated from list prices (genai-prices); `abacus status` compares it with OpenAI's own costs.",
    ),
    status_notes=lazy("providers.openai.status", "status_notes"),
)
