"""The doctor's Slack checks: the token (``auth.test``), its scopes, the signing secret, the clock against
Slack's, and the bot's membership of every digest channel. Short timeouts, no retries."""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot import doctor
from bot.doctor import DEFAULT_TIMEOUT, MAX_CLOCK_SKEW_SECONDS, REQUIRED_SCOPES, DoctorReport
from bot.jobs import utc_now
from bot.settings import Settings

_QUIET_SLACK_LOG = logging.getLogger("bot.doctor.slack_client")
_QUIET_SLACK_LOG.setLevel(logging.CRITICAL)


class SlackDoctor:
    def __init__(self, settings: Settings, client: WebClient | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        if client is None and settings.slack_bot_token is not None:
            client = _slack_client(settings, timeout)
        self.client = client

    def check(self, report: DoctorReport, settings: Settings, now: Callable[[], datetime]) -> bool:
        return _check_slack(report, settings, self.client, now)

    def check_channels(self, report: DoctorReport, channels: list[str]) -> None:
        if self.client is not None:
            _check_digest_channels(report, channels, self.client)


def run_doctor(
    settings: Settings,
    *,
    engine: Engine | None = None,
    slack_client: WebClient | None = None,
    now: Callable[[], datetime] = utc_now,
    timeout: float = DEFAULT_TIMEOUT,
) -> DoctorReport:
    """Every check of ``bot.doctor``, Slack's included (with ``slack_client``, or one made from the token)."""
    slack = SlackDoctor(settings, slack_client, timeout)
    return doctor.run_doctor(settings, engine=engine, slack=slack, now=now, timeout=timeout)


def _slack_client(settings: Settings, timeout: float) -> WebClient:
    assert settings.slack_bot_token is not None
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=max(1, int(timeout)),
        logger=_QUIET_SLACK_LOG,  # a failure is one of the doctor's lines, not an ERROR log (or a Sentry event)
    )
    client.proxy = None
    return client


def _check_slack(
    report: DoctorReport, settings: Settings, client: WebClient | None, now: Callable[[], datetime]
) -> bool:
    if settings.slack_bot_token is None or client is None:
        report.add(
            "slack token", "skip", "SLACK_BOT_TOKEN is not set: Slack is off.", "Set SLACK_BOT_TOKEN to use Slack."
        )
        return False
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        report.add(
            "slack signing secret",
            "fail",
            "Neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) is set: no request can be verified.",
            "Copy the Signing Secret from the app's Basic Information page into SLACK_SIGNING_SECRET.",
        )
    elif settings.slack_signing_secret is None:
        report.add("slack signing secret", "ok", "Socket Mode (SLACK_APP_TOKEN) needs no signing secret.")
    else:
        report.add("slack signing secret", "ok", "SLACK_SIGNING_SECRET is set.")
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        report.add(
            "slack token",
            "fail",
            f"auth.test refused the token ({error or 'unknown error'}).",
            "Reinstall the app and copy its Bot User OAuth Token (xoxb-...) into SLACK_BOT_TOKEN.",
        )
        return False
    except Exception as exc:  # network: timeouts, DNS, refused connections
        report.add(
            "slack token",
            "fail",
            f"Slack is unreachable ({type(exc).__name__}).",
            "Check the network path to Slack (and SLACK_API_URL).",
        )
        return False
    report.add("slack token", "ok", f"Valid for workspace {response.get('team') or response.get('team_id')}.")
    headers = {str(k).lower(): v for k, v in (response.headers or {}).items()}
    _check_scopes(report, _header(headers, "x-oauth-scopes"))
    _check_clock(report, _header(headers, "date"), now())
    return True


def _header(headers: dict[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, list):  # slack_sdk keeps repeated headers as lists
        value = ",".join(str(v) for v in value)
    return str(value) if value is not None else None


def _check_scopes(report: DoctorReport, header: str | None) -> None:
    if header is None:
        report.add("slack scopes", "warn", "Slack did not report the token's scopes.", None)
        return
    granted = {s.strip() for s in header.split(",") if s.strip()}
    missing = [s for s in REQUIRED_SCOPES if s not in granted]
    if missing:
        report.add(
            "slack scopes",
            "fail",
            f"The token lacks {', '.join(missing)}.",
            "Add the scopes from manifest.yml to the app (OAuth & Permissions) and reinstall it.",
        )
    else:
        report.add("slack scopes", "ok", "The token has every scope the features need.")


def _check_clock(report: DoctorReport, header: str | None, local: datetime) -> None:
    if header is None:
        report.add("clock", "skip", "No Date header to compare the clock with.")
        return
    try:
        remote = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        report.add("clock", "skip", f"Unreadable Date header {header!r}.")
        return
    if remote.tzinfo is None:
        remote = remote.replace(tzinfo=UTC)
    skew = (local - remote).total_seconds()
    if abs(skew) > MAX_CLOCK_SKEW_SECONDS:
        report.add(
            "clock",
            "warn",
            f"The local clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} Slack's.",
            "Enable NTP time sync on this host: Slack rejects requests signed more than 5 minutes off.",
        )
    else:
        report.add("clock", "ok", f"Within {MAX_CLOCK_SKEW_SECONDS} s of Slack's clock.")


def _check_digest_channels(report: DoctorReport, channels: list[str], client: WebClient) -> None:
    for channel in channels:
        try:
            info = client.conversations_info(channel=channel)
            member = bool(info["channel"].get("is_member"))
            reason = "the bot is not a member"
        except SlackApiError as exc:
            member = False
            reason = f"conversations.info failed ({exc.response.get('error')})"
        except Exception as exc:
            member = False
            reason = f"Slack is unreachable ({type(exc).__name__})"
        if member:
            report.add(f"digest channel {channel}", "ok", "The bot is a member.")
        else:
            report.add(
                f"digest channel {channel}",
                "fail",
                f"Digests cannot be posted: {reason}.",
                f"Invite the bot with `/invite @Abacus` in <#{channel}>, or `/abacus digest off` there.",
            )
