"""Model-name normalisation, exactly as the original abacus applies it at write time.

The provider's raw string is always stored beside the normalised one, so these rules can change later
and be re-applied from ``raw_model`` without losing anything.
"""

from __future__ import annotations

import re
from functools import lru_cache

DEFAULT_MODEL = "(default)"

_DEFAULT_ALIASES = frozenset({"default", "auto", "unknown"})
# One trailing "(T)", "(HT)", "(Thinking)" or "[1m]" style suffix, with the whitespace around it.
_SUFFIX = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])\s*$")
_VER = r"(\d+(?:\.\d+)?)"
_FAMILY = r"([a-z]+)"
_DATE = r"\d{8}"

# (pattern, builder) in the order the original tries them; the first match wins.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"^claude-(\d+)-(\d+)-{_FAMILY}-{_DATE}$"), "{2}-{0}.{1}"),  # claude-3-5-haiku-20241022
    (re.compile(rf"^claude-{_FAMILY}-(\d+)-{_DATE}$"), "{0}-{1}"),  # claude-sonnet-4-20250514
    (re.compile(rf"^claude-{_FAMILY}-(\d+)-(\d+)-{_DATE}$"), "{0}-{1}.{2}"),  # claude-opus-4-5-20251101
    (re.compile(rf"^(\d+)-(\d+)-{_FAMILY}-{_DATE}$"), "{2}-{0}.{1}"),  # 3-5-sonnet-20241022
    (re.compile(rf"^claude-{_VER}-{_FAMILY}-high-thinking$"), "{1}-{0}"),  # claude-4.5-opus-high-thinking
    (re.compile(rf"^claude-{_VER}-{_FAMILY}-thinking$"), "{1}-{0}"),  # claude-4-sonnet-thinking
    (re.compile(rf"^claude-{_VER}-{_FAMILY}$"), "{1}-{0}"),  # claude-4.5-opus
    (re.compile(rf"^{_VER}-{_FAMILY}$"), "{1}-{0}"),  # 4-sonnet
)
_BARE_VERSION = re.compile(rf"^{_VER}$")


@lru_cache(maxsize=4096)  # a few dozen distinct names, normalised once per row on every write
def normalize_model_name(raw: str | None) -> str:
    """Map a provider's model string to the family-version form used in reports (``sonnet-4.5``).

    ``''`` and ``None`` come back as ``''``; default/auto/unknown and blank strings become ``(default)``;
    anything unrecognised passes through lowercased.
    """
    if not raw:
        return raw or ""
    name = raw.strip().lower()
    if not name or name in _DEFAULT_ALIASES:
        return DEFAULT_MODEL
    name = _SUFFIX.sub("", name, count=1)
    for pattern, template in _PATTERNS:
        match = pattern.match(name)
        if match:
            return template.format(*match.groups())
    bare = _BARE_VERSION.match(name)
    if bare:
        return f"sonnet-{bare.group(1)}"
    return name
