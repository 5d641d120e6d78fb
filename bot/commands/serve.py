"""`abacus serve`: the Slack app over HTTP (gunicorn) or Socket Mode."""

from __future__ import annotations

import atexit
import logging
from typing import TYPE_CHECKING, Any

import click

from bot.cli_support import AppContext, console, pass_app
from bot.errors import ConfigError
from bot.observability import configure_logging
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.scheduler import AbacusScheduler


def _check_slack_settings(settings: Settings) -> None:
    missing = []
    if settings.slack_bot_token is None:
        missing.append("SLACK_BOT_TOKEN")
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
    if missing:
        raise ConfigError(f"Slack is not configured: set {' and '.join(missing)} (see README, 'Slack app').")


@click.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default: $PORT or 3000).")
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")  # noqa: S104
@click.option(
    "--with-scheduler/--without-scheduler",
    default=None,
    help="Also run the scheduled jobs in this process (default: on with SQLite, off with PostgreSQL).",
)
@pass_app
def serve_command(app: AppContext, port: int | None, host: str, with_scheduler: bool | None) -> None:
    """Run the Slack app: HTTP at /slack/events (+ /healthz), or Socket Mode when SLACK_APP_TOKEN is set."""
    settings = app.settings
    _check_slack_settings(settings)
    configure_logging(settings, logging.INFO)
    engine = app.engine  # proves the database is reachable before Slack traffic arrives
    if with_scheduler is None:
        # One process is the whole install with SQLite; PostgreSQL installs run `abacus scheduler` beside it.
        with_scheduler = engine.dialect.name == "sqlite"

    if settings.slack_app_token is not None:
        from bot.slack.app import run_socket_mode

        console.print("Abacus is connecting to Slack in Socket Mode.")
        if with_scheduler:
            start_background_scheduler(settings, engine)
        run_socket_mode(settings, engine, settings.slack_app_token.get_secret_value())
        return
    bind = f"{host}:{port or settings.port}"
    console.print(f"Abacus is listening on http://{bind}/slack/events")
    _Gunicorn(settings, bind, with_scheduler=with_scheduler).run()


def start_background_scheduler(settings: Settings, engine: Engine) -> AbacusScheduler:
    """The scheduler on a thread of this process, stopped (and its leader lock released) at exit. Every
    web worker may start one: the leader lock lets exactly one of them do the work."""
    from bot.scheduler import AbacusScheduler

    scheduler = AbacusScheduler(settings, engine, background=True)
    scheduler.start()
    atexit.register(scheduler.shutdown, wait=False)
    return scheduler


class _Gunicorn:
    """gunicorn, configured in code: threads for Bolt's after-ack work, one app per worker process."""

    def __init__(self, settings: Settings, bind: str, *, with_scheduler: bool = False) -> None:
        from gunicorn.app.base import BaseApplication

        outer = self

        class Application(BaseApplication):
            def load_config(self) -> None:
                options = {
                    "bind": bind,
                    "workers": settings.web_workers,
                    "threads": settings.web_threads,
                    "worker_class": "gthread",
                    "timeout": 60,
                    # Idle keep-alive connections stay open longer than a router or load balancer in front keeps
                    # them (Heroku's router: 90 s; AWS's load balancers: 60 s by default), so that the front,
                    # never gunicorn, closes them: with gunicorn's default of a few seconds it can close one just
                    # as a request is sent on it, which then fails with "connection reset" (seen once under load).
                    "keepalive": 95,
                    "accesslog": "-",
                }
                for key, value in options.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                return outer.wsgi()

        self._application = Application()
        self._settings = settings
        self._with_scheduler = with_scheduler
        self.scheduler: AbacusScheduler | None = None

    def wsgi(self) -> Any:
        # Built in each worker after the fork: engines and thread pools must not cross a fork.
        from bot.database import connect
        from bot.slack.app import SlackCheck, create_app
        from bot.web import AbacusWeb

        engine = connect(self._settings.database_url)
        if self._with_scheduler:
            # Started here, in the worker after the fork: a scheduler thread would not survive the fork.
            self.scheduler = start_background_scheduler(self._settings, engine)
        # Slack down or the token rejected must not keep the worker from booting (gunicorn would exit 3):
        # /healthz and the cron route work without Slack, and Slack is checked in the background.
        app = create_app(self._settings, engine, verify_token=False)
        SlackCheck(app, app.client).start()
        return AbacusWeb(app, engine, self._settings, scheduler=self.scheduler)

    def run(self) -> None:
        self._application.run()
