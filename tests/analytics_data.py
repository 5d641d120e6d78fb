"""A small fixed dataset for the analytics tests, with every expected number worked out by hand.

Current period: 2026-11-01..2026-11-07 (7 days); previous period: 2026-10-25..2026-10-31.

| # | tool        | day   | who          | model      | in     | cw   | cr   | out  | tokens | cost  |
|---|-------------|-------|--------------|------------|--------|------|------|------|--------|-------|
| 1 | claude_code | 11-01 | dana         | sonnet-4.5 | 1,000  |      | 3,000| 1,000| 5,000  | 2.00  |
| 2 | claude_code | 11-02 | dana         | opus-4.5   | 2,000  |      | 6,000| 2,000| 10,000 | 5.00  |
| 3 | cursor      | 11-02 | dana         | gpt-5      | 500    |      |      | 500  | 1,000  | 0.50  |
| 4 | cursor      | 11-03 | bob          | gpt-5      | 4,000  | 1,000|      | 1,000| 6,000  | 1.00  |
| 5 | cursor      | 11-05 | bob          | sonnet-4.5 | 2,000  |      |      |      | 2,000  | 0.40  |
| 6 | claude_code | 11-04 | key "ci-key" | sonnet-4.5 | 3,000  |      |      |      | 3,000  | 1.50  |
| 7 | claude_code | 11-07 | erin         | sonnet-4.5 | 1,000  |      |      |      | 1,000  | 3.00  |
| 8 | claude_code | 10-30 | dana         | sonnet-4.5 | 10,000 |      |      |      | 10,000 | 4.00  |
| 9 | cursor      | 10-31 | bob          | gpt-5      | 10,000 |      |      |      | 10,000 | 6.00  |
|10 | claude_code | 09-01 | dana         | sonnet-4.5 | 50,000 |      |      |      | 50,000 | 20.00 |
|11 | claude_code | 11-20 | dana         | sonnet-4.5 | 100    |      |      |      | 100    | 0.01  |

Current period: 28,000 tokens, $13.40, 3 people (dana, bob, erin); unattributed 3,000 tokens, $1.50.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from storage.db import transaction
from storage.writes import ActivityRecord, UsageRecord, upsert_activity, upsert_usage

DANA, BOB, ERIN = "dana@example.com", "bob@example.com", "erin@example.com"
START, END = date(2026, 11, 1), date(2026, 11, 7)
SONNET, OPUS, GPT5 = "claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "gpt-5"


def _row(
    tool: str,
    day: date,
    email: str,
    raw_model: str,
    inp: int,
    cost: str,
    *,
    cw: int = 0,
    cr: int = 0,
    out: int = 0,
    event: str = "",
    actor: str | None = None,
) -> UsageRecord:
    return UsageRecord(
        tool=tool,
        date=day,
        actor=actor or email,
        actor_type="api_key" if actor else "user",
        email=email,
        org_id="org-1",
        raw_model=raw_model,
        event_key=event,
        input_tokens=inp,
        cache_write_tokens=cw,
        cache_read_tokens=cr,
        output_tokens=out,
        cost_usd=Decimal(cost),
    )


ROWS = [
    _row("claude_code", date(2026, 11, 1), DANA, SONNET, 1_000, "2.00", cr=3_000, out=1_000),
    _row("claude_code", date(2026, 11, 2), DANA, OPUS, 2_000, "5.00", cr=6_000, out=2_000),
    _row("cursor", date(2026, 11, 2), DANA, GPT5, 500, "0.50", out=500, event="e1"),
    _row("cursor", date(2026, 11, 3), BOB, GPT5, 4_000, "1.00", cw=1_000, out=1_000, event="e2"),
    _row("cursor", date(2026, 11, 5), BOB, SONNET, 2_000, "0.40", event="e3"),
    _row("claude_code", date(2026, 11, 4), "", SONNET, 3_000, "1.50", actor="ci-key"),
    _row("claude_code", date(2026, 11, 7), ERIN, SONNET, 1_000, "3.00"),
    _row("claude_code", date(2026, 10, 30), DANA, SONNET, 10_000, "4.00"),
    _row("cursor", date(2026, 10, 31), BOB, GPT5, 10_000, "6.00", event="e4"),
    _row("claude_code", date(2026, 9, 1), DANA, SONNET, 50_000, "20.00"),
    _row("claude_code", date(2026, 11, 20), DANA, SONNET, 100, "0.01"),
]

ACTIVITY = [
    ActivityRecord(
        date=date(2026, 11, 1),
        actor=DANA,
        email=DANA,
        org_id="org-1",
        sessions=3,
        lines_added=100,
        lines_removed=20,
        commits=2,
        pull_requests=1,
        tool_accepted=9,
        tool_rejected=1,
    ),
    ActivityRecord(
        date=date(2026, 11, 2),
        actor=DANA,
        email=DANA,
        org_id="org-1",
        sessions=2,
        lines_added=50,
        lines_removed=5,
        commits=1,
        tool_accepted=3,
        tool_rejected=3,
    ),
    # Outside the period: must not count.
    ActivityRecord(date=date(2026, 10, 30), actor=DANA, email=DANA, org_id="org-1", sessions=10, commits=7),
]


def load(engine: Engine) -> None:
    with transaction(engine) as session:
        upsert_usage(session, ROWS)
        upsert_activity(session, ACTIVITY)
