"""Logs and error tracking: one line per event (plain or JSON), tagged with the request or job it belongs
to, and never carrying a secret.

Why redaction lives in the formatter and in Sentry's ``before_send``, not at each call site: a secret can
reach a log line by many paths (an exception message that quotes a URL or header, a library's debug
line), and one place that scrubs everything on the way out is the only rule that cannot be forgotten.
Two nets: the exact values of every secret setting, and anything shaped like a Slack token or a provider
token, so a key that is not configured here (pasted into a command, say) is caught too.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.settings import Settings


REDACTED = "[redacted]"
# xoxb-/xoxp-/xoxa-/xoxe- Slack tokens and xapp- app tokens, then whatever each provider's keys look like.
SLACK_TOKEN_PATTERNS = (r"xox[abpers]-[A-Za-z0-9-]+", r"xapp-[A-Za-z0-9-]+")


def token_pattern() -> re.Pattern[str]:
    from providers import registry  # here, so the CLI starts without loading every provider

    patterns = list(SLACK_TOKEN_PATTERNS)
    for spec in registry.providers():
        patterns.extend(p for p in spec.secret_patterns if p not in patterns)
    return _compiled(tuple(patterns))


@functools.cache
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + ")")


MIN_SECRET_CHARS = 6  # shorter "secrets" would redact ordinary words

_context: ContextVar[dict[str, str] | None] = ContextVar("abacus_log_context", default=None)
_secrets: set[str] = set()
_secrets_guard = threading.Lock()
_sentry_on = False


# --- secrets -----------------------------------------------------------------------------------------


def secret_values(settings: Settings) -> set[str]:
    """Every secret the settings hold: tokens, signing secret, provider keys, DSN, the database password."""
    values = {
        s.get_secret_value()
        for s in (
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.cron_secret,
            settings.sentry_dsn,
        )
        if s is not None
    }
    values |= settings.provider_secrets()
    password = _database_password(settings.database_url)
    if password:
        values.add(password)
    return {v for v in values if len(v) >= MIN_SECRET_CHARS}


def _database_password(url: str) -> str | None:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password
    except Exception:
        return None


def register_secrets(values: set[str]) -> None:
    with _secrets_guard:
        _secrets.update(values)


def redact(text: str) -> str:
    """``text`` with every known secret and every token-shaped string replaced."""
    with _secrets_guard:
        known = sorted(_secrets, key=len, reverse=True)  # longest first: a key inside a list of keys
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    return token_pattern().sub(REDACTED, text)


# --- context: which request or job a line belongs to -------------------------------------------------


def new_id() -> str:
    return uuid.uuid4().hex[:12]


@contextmanager
def bound(**fields: str) -> Iterator[dict[str, str]]:
    """Tag every log line (and Sentry event) inside the block, e.g. ``bound(request_id=..., command=...)``."""
    merged = {**(_context.get() or {}), **fields}
    token = _context.set(merged)
    try:
        if _sentry_on:
            import sentry_sdk

            with sentry_sdk.isolation_scope() as scope:
                for name, value in merged.items():
                    scope.set_tag(name, value)
                yield merged
        else:
            yield merged
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    return dict(_context.get() or {})


# --- logging -----------------------------------------------------------------------------------------


class _Formatter(logging.Formatter):
    """One line per event; tracebacks are folded into the same line (JSON) or follow it (plain)."""

    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        error = self.formatException(record.exc_info) if record.exc_info else None
        fields = current_context()
        when = datetime.fromtimestamp(record.created, UTC)
        if self.as_json:
            payload: dict[str, Any] = {
                "ts": when.isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": message,
                **fields,
            }
            if error:
                payload["error"] = error
            return redact(json.dumps(payload, ensure_ascii=False, default=str))
        tags = "".join(f" {k}={v}" for k, v in fields.items())
        line = f"{when:%Y-%m-%d %H:%M:%S} {record.levelname} {record.name}{tags}: {message}"
        if error:
            line += "\n" + error
        return redact(line)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(settings: Settings, level: int = logging.WARNING) -> None:
    """Install Abacus's one handler on the root logger (replacing an earlier one: idempotent)."""
    register_secrets(secret_values(settings))
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _StderrHandler):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(_Formatter(as_json=settings.log_format == "json"))
    root.addHandler(handler)
    root.setLevel(logging.getLevelName(settings.log_level.upper()) if settings.log_level else level)


def formatter(as_json: bool) -> logging.Formatter:
    """The formatter itself, for tests and for handlers of another process manager."""
    return _Formatter(as_json)


# --- Sentry ------------------------------------------------------------------------------------------


def init_sentry(settings: Settings, *, transport: Any = None) -> bool:
    """Start Sentry when SENTRY_DSN is set and sentry-sdk is installed (the optional ``[sentry]`` extra).

    Error log records (``log.exception`` in listeners and jobs) become events through Sentry's logging
    integration; every event passes :func:`scrub_event` first."""
    global _sentry_on
    if settings.sentry_dsn is None:
        return False
    try:
        import sentry_sdk
    except ImportError:
        logging.getLogger(__name__).warning(
            "SENTRY_DSN is set but sentry-sdk is not installed: pip install abacus[sentry]"
        )
        return False
    register_secrets(secret_values(settings))
    options: dict[str, Any] = {
        "dsn": settings.sentry_dsn.get_secret_value(),
        "before_send": scrub_event,
        "include_local_variables": False,  # locals hold keys and tokens
        "default_integrations": True,
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)
    _sentry_on = True
    return True


def sentry_enabled() -> bool:
    return _sentry_on


def shutdown_sentry() -> None:
    """Flush and stop error tracking (tests; a process exiting on purpose)."""
    global _sentry_on
    if not _sentry_on:
        return
    import sentry_sdk

    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.init(dsn=None)
    _sentry_on = False


def capture_exception(exc: BaseException, **tags: str) -> None:
    """Report an error that will not pass through a logger (the CLI's unexpected failures)."""
    if not _sentry_on:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        for name, value in {**current_context(), **tags}.items():
            scope.set_tag(name, value)
        sentry_sdk.capture_exception(exc)


def scrub_event(event: dict[str, Any], _hint: Any = None) -> dict[str, Any]:
    """Sentry's before_send: every string anywhere in the event, keys' values and messages alike, redacted."""
    scrubbed: dict[str, Any] = _scrub(event)
    return scrubbed


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub(v) for v in value)
    return value


def setup(settings: Settings) -> None:
    """What every process does once its settings are loaded: logging, then error tracking."""
    configure_logging(settings)
    init_sentry(settings)
