"""The providers Abacus can sync, by command-line name."""

from __future__ import annotations

from bot.jobs import ProviderJobs, anthropic, cursor

PROVIDERS: dict[str, ProviderJobs] = {"anthropic": anthropic.JOBS, "cursor": cursor.JOBS}

# Other names people use for the same provider.
ALIASES = {"claude_code": "anthropic", "claude-code": "anthropic", "claude": "anthropic"}


def resolve(name: str) -> ProviderJobs:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in PROVIDERS:
        raise LookupError(f"Unknown provider {name!r}; use one of: {', '.join(PROVIDERS)}.")
    return PROVIDERS[key]
