"""Small builders for test data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from storage.writes import UsageRecord


def usage(**overrides: Any) -> UsageRecord:
    values: dict[str, Any] = {
        "tool": "claude_code",
        "date": date(2026, 11, 20),
        "actor": "dana@example.com",
        "email": "dana@example.com",
        "org_id": "org-1",
        "raw_model": "claude-sonnet-4-5-20250929",
        "input_tokens": 1_000,
        "cache_write_tokens": 100,
        "cache_read_tokens": 5_000,
        "output_tokens": 200,
        "cost_usd": Decimal("1.25"),
    }
    values.update(overrides)
    return UsageRecord(**values)
