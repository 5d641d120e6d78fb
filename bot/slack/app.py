"""Building the Bolt app: one Web API client, the access middleware, and the listeners."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from sqlalchemy import Engine

from bot.settings import Settings
from bot.slack import listeners
from bot.slack.access import AccessPolicy, denial
from bot.slack.services import Services
from bot.slack.users import UserDirectory, UserLookupFailed

log = logging.getLogger(__name__)


def web_client(settings: Settings) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = WebClient(token=token, base_url=settings.slack_api_url)
    # Slack's proxy variables would route every call (and the tests' fake) through a proxy; use none.
    client.proxy = None
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=2))
    return client


def access_policy(settings: Settings) -> AccessPolicy:
    return AccessPolicy(
        domains=tuple(settings.email_domains),
        admins=frozenset(settings.admins),
        allow_guests=settings.allow_guests,
        people_visible_to_all=settings.people_visibility == "everyone",
    )


def create_app(settings: Settings, engine: Engine, *, client: WebClient | None = None) -> App:
    client = client or web_client(settings)
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = App(
        client=client,
        signing_secret=signing_secret,
        # Listeners (acks, quick replies) run here; answers go to their own pool below, so acks never queue
        # behind chart rendering.
        listener_executor=ThreadPoolExecutor(max_workers=max(4, settings.web_threads), thread_name_prefix="abacus"),
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


def _access_middleware(directory: UserDirectory, policy: AccessPolicy) -> Callable[..., Any]:
    """Resolve the asking user once per request and refuse anyone not on a company domain (fail closed)."""

    def middleware(context: Any, body: dict[str, Any], next: Callable[[], Any]) -> Any:
        user_id = context.user_id
        if not user_id:
            return next()  # url_verification, ssl_check: nothing user-specific to guard
        try:
            user = directory.get(user_id)
        except UserLookupFailed as exc:
            log.warning("refused %s: users.info failed (%s)", user_id, exc)
            return _refuse(body, "Abacus could not check who you are right now; please try again in a minute.")
        reason = denial(policy, user, context.team_id)
        if reason is not None:
            log.info("refused %s: %s", user_id, reason)
            return _refuse(body, reason)
        context["abacus_user"] = user
        context["abacus_admin"] = policy.is_admin(user)
        return next()

    return middleware


def _refuse(body: dict[str, Any], reason: str) -> BoltResponse:
    # For a slash command, a 200 with text is shown to the person privately; other requests are acked quietly.
    if body.get("command"):
        return BoltResponse(status=200, body=reason)
    return BoltResponse(status=200, body="")
