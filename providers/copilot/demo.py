"""GitHub Copilot's part of `abacus demo`: about half the demo's people on Copilot, and one login nobody mapped.

The records are made in the documented report shape and go through the same parsing and rows as a sync, so
the demo shows exactly what a sync would store: credits as cost, Copilot CLI tokens only, activity.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from providers.copilot.rows import activity_records, parse_day, usage_records
from providers.copilot.settings import SETTLING_DAYS, STATE_KEY
from providers.copilot.sync import DAY
from providers.spec import DemoRequest
from providers.sync_engine import utc_midnight
from storage.copilot_activity import replace_day
from storage.db import transaction
from storage.mappings import remember_identities
from storage.sync_state import record_attempt, record_success
from storage.writes import upsert_usage

DEMO_ORG = f"{STATE_KEY}:demo"
# A login whose owner nobody told Abacus about: `abacus mappings` lists it, `/abacus map` offers it.
DEMO_UNMAPPED_LOGIN = "octo-contractor"
MODELS = ("claude-sonnet-4.5", "gpt-5", "gemini-2.5-pro")


def _login(email: str) -> str:
    return email.split("@")[0].replace(".", "-")


def _record(rng: random.Random, day: date, login: str, user_id: int, scale: float) -> dict[str, Any]:
    interactions = int(rng.randint(2, 40) * scale)
    row: dict[str, Any] = {
        "day": day.isoformat(),
        "user_id": user_id,
        "user_login": login,
        "user_initiated_interaction_count": interactions,
        "code_generation_activity_count": int(rng.randint(10, 150) * scale),
        "code_acceptance_activity_count": int(rng.randint(3, 60) * scale),
        "loc_suggested_to_add_sum": int(rng.randint(50, 900) * scale),
        "loc_suggested_to_delete_sum": int(rng.randint(0, 100) * scale),
        "loc_added_sum": int(rng.randint(20, 700) * scale),
        "loc_deleted_sum": int(rng.randint(0, 200) * scale),
        # Quarter credits, as GitHub reports fractional credits; completions alone cost none.
        "ai_credits_used": Decimal(int(rng.randint(0, 1_600) * scale)) / 4,
        "used_chat": interactions > 0,
        "totals_by_model_feature": [
            {"model": model, "feature": "chat_panel_agent_mode", "user_initiated_interaction_count": rng.randint(1, 9)}
            for model in rng.sample(MODELS, rng.randint(1, 2))
        ],
    }
    if rng.random() < 0.3:
        row["totals_by_cli"] = {
            "session_count": rng.randint(1, 4),
            "request_count": rng.randint(3, 30),
            "token_usage": {
                "prompt_tokens_sum": rng.randint(5_000, 90_000),
                "output_tokens_sum": rng.randint(500, 9_000),
            },
        }
    return row


def generate(request: DemoRequest) -> int:
    """Write the demo's Copilot usage and activity (one transaction) and its sync state; returns usage rows."""
    rng = random.Random(request.seed * 7_919 + 17)  # noqa: S311 - demo data, not security
    users = [(email, _login(email), 1_000 + n) for n, email in enumerate(request.emails) if n % 2 == 0]
    emails = {login: email for email, login, _id in users}
    users.append(("", DEMO_UNMAPPED_LOGIN, 999))
    # Reports are final three days after the day: the newest days are still settling (and not there yet).
    last = request.end - timedelta(days=1)
    written = 0
    with transaction(request.engine) as session:
        day = request.start
        while day <= last:
            weekday = day.weekday() < 5
            records = [
                _record(rng, day, login, user_id, 3.0 if n == 0 else 1.0)
                for n, (_email, login, user_id) in enumerate(users)
                if rng.random() < (0.8 if weekday else 0.3)
            ]
            parsed = parse_day(records, day)
            usage = usage_records(parsed, day=day, org_id=DEMO_ORG, identities=emails)
            upsert_usage(session, usage)
            replace_day(session, DEMO_ORG, day, activity_records(parsed, day=day, org_id=DEMO_ORG, identities=emails))
            written += len(usage)
            day += timedelta(days=1)
        remember_identities(session, source=STATE_KEY, org_id=DEMO_ORG, emails=emails, by="demo", now=request.now)
    record_attempt(request.engine, STATE_KEY, DEMO_ORG, request.now)
    # As a sync leaves it: the days older than the settling window are final.
    final = request.now.date() - timedelta(days=SETTLING_DAYS)
    record_success(request.engine, STATE_KEY, DEMO_ORG, request.now, forward_watermark=utc_midnight(final + DAY))
    return written
