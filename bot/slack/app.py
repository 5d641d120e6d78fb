"""Building the Bolt app: one Web API client, the access middleware, and the listeners."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.middleware.authorization import SingleTeamAuthorization
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.webhook import WebhookClient
from sqlalchemy import Engine

from bot.access import AccessPolicy, access_policy, denial
from bot.settings import Settings
from bot.slack import listeners
from bot.slack.services import Services
from bot.slack.users import UserDirectory, UserLookupFailed, UserLookupRateLimited, UserLookupSlow

log = logging.getLogger(__name__)


def web_client(settings: Settings) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = WebClient(token=token, base_url=settings.slack_api_url)
    # Slack's proxy variables would route every call (and the tests' fake) through a proxy; use none.
    client.proxy = None
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=2))
    return client


def create_app(
    settings: Settings, engine: Engine, *, client: WebClient | None = None, verify_token: bool = True
) -> App:
    """``verify_token=False`` skips Bolt's ``auth.test`` at construction (which raises when Slack is down or
    rejects the token); `abacus serve` passes it and calls :func:`check_slack_in_background` instead."""
    client = client or web_client(settings)
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = App(
        client=client,
        signing_secret=signing_secret,
        # Listeners (acks, quick replies) run here; answers go to their own pool below, so acks never queue
        # behind chart rendering.
        listener_executor=ThreadPoolExecutor(max_workers=max(4, settings.web_threads), thread_name_prefix="abacus"),
        token_verification_enabled=verify_token,
    )
    # Queries, chart rendering and uploads run on these threads after the ack. Rendering is CPU-bound Python, so
    # more threads only fight over the GIL (and with the acks): on 2 cores, 200 commands 20 at a time, 2 threads
    # instead of 8 cut the ack p99 from 1.8 s to 0.95 s and the answer p50 from 6.6 s to 3.4 s
    # (benchmarks/slack_load.py). More throughput comes from more worker processes (WEB_CONCURRENCY).
    answers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="abacus-answer")
    directory = UserDirectory(client, settings.user_cache_seconds)
    policy = access_policy(settings)
    app.use(_access_middleware(directory, policy))
    services = Services(settings=settings, engine=engine, directory=directory, policy=policy, client=client)
    listeners.register(app, services, answers)
    return app


class SlackCheck:
    """``auth.test`` on a background thread until Slack answers it, so `abacus serve` starts (and serves
    /healthz and the cron route) when Slack is unreachable or rejects the token. The first failure is
    logged as one line; retries back off to every 5 minutes and are quiet; a later success is logged. On
    success the result is handed to Bolt's authorization middleware, which would otherwise call
    ``auth.test`` itself before the ack of the first request."""

    def __init__(self, app: App, client: WebClient, *, first_delay: float = 0.0, max_delay: float = 300.0) -> None:
        self._app = app
        # No retry handlers and a quiet logger: one attempt, one outcome, one line from us.
        self._client = WebClient(
            token=client.token, base_url=client.base_url, timeout=10, retry_handlers=[], logger=_QUIET
        )
        self._client.proxy = client.proxy
        self._first_delay = first_delay
        self._max_delay = max_delay
        self.ok = threading.Event()
        self._stop = threading.Event()

    def start(self) -> SlackCheck:
        threading.Thread(target=self._run, name="abacus-slack-check", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        delay, failed = self._first_delay, False
        while not self._stop.wait(delay):
            problem = self.attempt()
            if problem is None:
                if failed:
                    log.info("Slack answers auth.test again; the Slack app is up")
                return
            if not failed:
                log.warning("%s; serving /healthz and /jobs anyway, retrying auth.test in the background", problem)
            failed = True
            delay = min(self._max_delay, max(5.0, delay * 2))

    def attempt(self) -> str | None:
        """One auth.test: None when Slack accepted the token, else the problem as a sentence."""
        try:
            result = self._client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
            if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"):
                return f"Slack rejected SLACK_BOT_TOKEN ({error}): the Slack app will not work until it is fixed"
            return f"Slack answered auth.test with {error}"
        except Exception as exc:  # unreachable, refused, timed out, TLS
            reason = getattr(exc, "reason", None) or exc
            return f"Slack is unreachable at {self._client.base_url} ({reason})"
        for middleware in self._app._middleware_list:  # Bolt keeps no public handle on it
            if isinstance(middleware, SingleTeamAuthorization):
                middleware.auth_test_result = result
        self.ok.set()
        return None


_QUIET = logging.getLogger("bot.slack.check.sdk")
_QUIET.setLevel(logging.CRITICAL)
_QUIET.propagate = False


# The most an ack waits for Slack to say who is asking (users.info), when that is not cached. Slash commands
# do not wait at all (they are acked first and checked after); interactions and events are answered in
# their ack (modal errors, select options), so they wait this long at most and are refused when Slack is
# slower or rate-limited (fail closed).
PRE_ACK_BUDGET_SECONDS = 1.0


def _access_middleware(directory: UserDirectory, policy: AccessPolicy) -> Callable[..., Any]:
    """Resolve the asking user once per request and refuse anyone not on a company domain (fail closed).

    The ack never waits on a rate-limited Slack: a slash command from someone not in the cache is acked at
    once, with ``context["abacus_admit"]`` left for the listener to call after the ack; it looks the person
    up and returns the refusal to send through the response_url, or None when they may ask. Nobody gets
    data before that check has passed."""

    def admit(context: Any, user: Any) -> str | None:
        reason = denial(policy, user, context.team_id)
        if reason is not None:
            log.info("refused %s: %s", user.id, reason)
            return reason
        context["abacus_user"] = user
        context["abacus_admin"] = policy.is_admin(user)
        return None

    def admit_after_ack(context: Any) -> str | None:
        try:
            user = directory.get(context.user_id)
        except UserLookupFailed as exc:
            log.warning("refused %s: users.info failed (%s)", context.user_id, exc)
            return lookup_failure_text(exc)
        return admit(context, user)

    def middleware(context: Any, body: dict[str, Any], next: Callable[[], Any]) -> Any:
        user_id = context.user_id
        if not user_id:
            return next()  # url_verification, ssl_check: nothing user-specific to guard
        context["abacus_user"] = None
        context["abacus_admin"] = False
        if body.get("command"):
            cached = directory.cached(user_id)
            if cached is None:
                context["abacus_admit"] = lambda: admit_after_ack(context)
                return next()
            reason = admit(context, cached)
            if reason is not None:
                return _refuse(body, reason)
            context["abacus_admit"] = lambda: None
            return next()
        try:
            user = directory.get_within(user_id, PRE_ACK_BUDGET_SECONDS)
        except UserLookupFailed as exc:
            log.warning("refused %s: users.info failed (%s)", user_id, exc)
            return _refuse(body, lookup_failure_text(exc))
        reason = admit(context, user)
        if reason is not None:
            return _refuse(body, reason)
        return next()

    return middleware


def lookup_failure_text(exc: UserLookupFailed) -> str:
    if isinstance(exc, UserLookupRateLimited):
        wait = exc.retry_after
        return f"Slack is rate-limiting Abacus right now, so it cannot check who you are; try again in {wait} s."
    if isinstance(exc, UserLookupSlow):
        return "Slack is slow to say who you are right now; try again in a few seconds."
    return "Abacus could not check who you are right now; please try again in a minute."


def _refuse(body: dict[str, Any], reason: str) -> BoltResponse:
    # For a slash command, a 200 with text is shown to the person privately; other requests are acked
    # quietly, and told why through their response_url when they have one (message buttons).
    if body.get("command"):
        return BoltResponse(status=200, body=reason)
    url = body.get("response_url")
    if isinstance(url, str) and url:
        threading.Thread(target=_tell, args=(url, reason), daemon=True, name="abacus-refusal").start()
    return BoltResponse(status=200, body="")


def _tell(url: str, text: str) -> None:
    try:
        WebhookClient(url, proxy=None).send(text=text, response_type="ephemeral", replace_original=False)
    except Exception:  # best effort: the request was refused either way
        log.warning("could not post a refusal to its response_url", exc_info=True)


def run_socket_mode(settings: Settings, engine: Engine, app_token: str) -> None:
    """Serve over Socket Mode (``app_token``: SLACK_APP_TOKEN) until the process stops."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(create_app(settings, engine), app_token).start()
