"""The providers Abacus knows. Adding one is one package under ``providers/`` and one line in ``_SPECS``.

Callers ask through the functions below (never by importing ``_SPECS``), so a provider registered later, such
as the tests' own, is seen everywhere at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from providers.anthropic import SPEC as ANTHROPIC
from providers.claude_enterprise import SPEC as CLAUDE_ENTERPRISE
from providers.copilot import SPEC as COPILOT
from providers.cursor import SPEC as CURSOR
from providers.openai import SPEC as OPENAI
from providers.spec import ProviderSpec, Tool

_SPECS: tuple[ProviderSpec[Any], ...] = (ANTHROPIC, CLAUDE_ENTERPRISE, CURSOR, OPENAI, COPILOT)


def providers() -> tuple[ProviderSpec[Any], ...]:
    return _SPECS


def tools() -> tuple[Tool, ...]:
    """Every tool some provider feeds, in registry order, each once."""
    seen: dict[str, Tool] = {}
    for spec in _SPECS:
        seen.setdefault(spec.tool.id, spec.tool)
    return tuple(seen.values())


def provider(name: str) -> ProviderSpec[Any]:
    """A provider by its command-line name or an alias, in any letter case."""
    wanted = name.strip().lower()
    for spec in _SPECS:
        if wanted == spec.id or wanted in spec.aliases:
            return spec
    raise LookupError(f"Unknown provider {name!r}; use one of: {', '.join(s.id for s in _SPECS)}.")


def tool(name: str) -> Tool:
    """A tool by its id, the word people type for it, or an alias, in any letter case."""
    wanted = name.strip().lower()
    for known in tools():
        if wanted in (known.id, known.short, *known.aliases):
            return known
    words = ", ".join(t.short for t in tools())
    raise LookupError(f"Unknown tool {name!r}; use one of: {words}.")


def tool_title(tool_id: str) -> str:
    """How people call a stored tool id; an id no provider knows any more is shown as it is."""
    return next((t.title for t in tools() if t.id == tool_id), tool_id)


def cost_is_estimated(tool_id: str) -> bool:
    return any(t.estimated_cost for t in tools() if t.id == tool_id)


def seat_tools() -> tuple[str, ...]:
    """Tools whose usage can be on subscription seats: the only ones the subscription split reads."""
    return tuple(t.id for t in tools() if t.subscription_seats)


def activity_lines(session: Any, email: str, start: date, end: date) -> list[str]:
    """What each tool's provider says a person did beyond tokens and cost (its activity), one line each."""
    lines = [spec.activity(session, email, start, end) for spec in _SPECS if spec.activity is not None]
    return [line for line in lines if line]


def token_tools() -> tuple[str, ...]:
    """Tools whose tokens are their whole usage: the only ones a comparison of tools by tokens may add up."""
    return tuple(t.id for t in tools() if t.counts_tokens)


def counts_tokens(tool_id: str) -> bool:
    """Whether a stored tool id is counted in tokens (an id no provider knows any more is taken to be)."""
    return all(t.counts_tokens for t in tools() if t.id == tool_id)


def uncounted_tools() -> tuple[str, ...]:
    """Tools counted in something other than tokens: left out of every token figure, never out of cost."""
    return tuple(t.id for t in tools() if not t.counts_tokens)


def tool_unit(tool_id: str) -> str:
    """What a stored tool's usage is counted in ("tokens", "AI credits")."""
    return next((t.unit for t in tools() if t.id == tool_id), "tokens")


def partial_token_tools() -> tuple[Tool, ...]:
    """Tools that measure in something other than tokens (credits, requests): named where tokens are compared."""
    return tuple(t for t in tools() if not t.counts_tokens)


def providers_of(tool_id: str) -> tuple[ProviderSpec[Any], ...]:
    return tuple(spec for spec in _SPECS if spec.tool.id == tool_id)


def source_of(tool_id: str, org_id: str) -> ProviderSpec[Any] | None:
    """The provider that wrote a tool's rows for an org: the one whose org prefix matches longest."""
    matching = [s for s in providers_of(tool_id) if org_id.startswith(s.org_prefix)]
    return max(matching, key=lambda s: len(s.org_prefix), default=None)


def state_key_of(tool_id: str, org_id: str) -> str:
    """The sync-state provider key of a (tool, org) pair of stored usage (the tool id when no provider claims it)."""
    spec = source_of(tool_id, org_id)
    return spec.state_key if spec else tool_id


def by_state_key(state_key: str) -> ProviderSpec[Any] | None:
    return next((s for s in _SPECS if s.state_key == state_key), None)


@contextmanager
def registered(spec: ProviderSpec[Any]) -> Iterator[None]:
    """Register ``spec`` for the duration of the block (the tests' own providers)."""
    global _SPECS
    before = _SPECS
    _SPECS = (*before, spec)
    try:
        yield
    finally:
        _SPECS = before
