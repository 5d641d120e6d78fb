"""Errors a person can act on: one sentence that says what went wrong and what to do."""

from __future__ import annotations


class AbacusError(Exception):
    """Shown to the operator as one line, with a non-zero exit; never a traceback."""

    exit_code = 1


class ConfigError(AbacusError):
    exit_code = 78  # EX_CONFIG


class DatabaseUnavailable(AbacusError):
    exit_code = 69  # EX_UNAVAILABLE
