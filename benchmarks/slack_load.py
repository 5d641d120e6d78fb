"""Slack load: signed `/abacus top` requests against the real `abacus serve` (gunicorn), with a fake Slack.

    .venv/bin/python -m benchmarks.slack_load [--requests 200] [--concurrency 20] [--people 300] [--days 90]
        [--workers 2] [--threads 8] [--url postgresql://…/emptydb] [--users-info ok|ratelimited]
        [--code DIR]

The benchmark seeds a database with the demo organisation (``bot.demo_data.generate_demo``; a throwaway
SQLite file unless ``--url`` names an empty database), starts a ``FakeSlack`` on 127.0.0.1 in this process,
and runs `abacus serve` as a subprocess (gunicorn, ``--workers`` processes × ``--threads`` threads) with
``SLACK_API_URL`` pointing at the fake. ``--concurrency`` client threads, each a different Slack user, send
``--requests`` signed slash commands in all, one at a time each, and wait for the whole answer before the
next: the ack (HTTP 200 to the slash command, which Slack needs within 3 s), the answer POSTed to the
``response_url``, and the chart upload completed in the user's DM (``files.completeUploadExternal``).
Then it reads the peak resident memory (``VmHWM``) of the gunicorn master and every worker.

``--users-info ratelimited`` makes the fake Slack answer every ``users.info`` with HTTP 429 and
``Retry-After: 5`` (Slack rate-limiting the app): nobody can be checked, so the answer each command waits
for is the "try again in N s" reply at its ``response_url`` (no chart), and the ack must not wait on Slack.
``--code DIR`` runs `abacus serve` from another checkout of the code (e.g. an older commit, to compare).
``--reuse`` serves the data ``--url`` already holds instead of seeding it (e.g. a real company's shape
written by ``benchmarks.run --real``); the Slack users are then its first ``--concurrency`` people by email.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, func, select

from bot.demo_data import DEMO_DOMAIN, demo_people, generate_demo
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import UsageDaily, UsagePersonDaily
from tests.fakes.http_server import Request, Response
from tests.fakes.slack_server import TEAM, FakeSlack
from tests.fakes.slack_server import _parse_args as parse_args

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"  # noqa: S105 - the fake Slack's, signs local requests only
TIMEOUT = 60.0  # per request, for the whole answer; bounds the run


class TimedSlack(FakeSlack):
    """FakeSlack that also notes when each response_url POST and each DM upload completion arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self._arrival_lock = threading.Lock()
        super().__init__()

    def _note(self, key: str) -> None:
        with self._arrival_lock:
            self.arrivals.setdefault(key, []).append(time.monotonic())

    def first(self, key: str, after: float) -> float | None:
        with self._arrival_lock:
            return next((t for t in self.arrivals.get(key, []) if t >= after), None)

    def _handle(self, request: Request) -> Response:
        response = super()._handle(request)
        if request.path.startswith("/response/"):
            self._note(request.path)
        elif request.path == "/api/files.completeUploadExternal":
            self._note(f"dm:{parse_args(request).get('channel_id', '')}")
        return response


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(
    url: str, slack: TimedSlack, workers: int, threads: int, home: Path, code: Path = ROOT
) -> Iterator[tuple[str, int]]:
    """`abacus serve` on 127.0.0.1 until the block ends; yields (base URL, master pid)."""
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ABACUS_", "SLACK_", "ANTHROPIC_", "CURSOR_", "DATABASE_URL", "POSTGRES_URL"))
        and k.lower() not in ("http_proxy", "https_proxy")
    }
    env.update(
        {
            "DATABASE_URL": url,
            "SLACK_API_URL": slack.api_url,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench-token",
            "ABACUS_EMAIL_DOMAINS": DEMO_DOMAIN,
            "WEB_CONCURRENCY": str(workers),
            "ABACUS_WEB_THREADS": str(threads),
            # This checkout's code (or --code's), whichever checkout the interpreter has installed.
            "PYTHONPATH": str(code),
        }
    )
    command = [sys.executable, "-m", "bot.cli"]
    log = (home / "serve.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=home, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"abacus serve exited with {process.returncode}; see {home / 'serve.log'}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit("abacus serve did not become healthy within 60 s")
        yield base, process.pid
    except BaseException:
        log.flush()
        print("".join((home / "serve.log").read_text().splitlines(keepends=True)[-40:]), file=sys.stderr)
        raise
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def peak_memory_mib(master: int) -> dict[str, float]:
    """VmHWM of the master and of each worker (its children), in MiB."""
    result = {}
    children: list[str] = []
    for task in Path(f"/proc/{master}/task").iterdir():
        children += (task / "children").read_text().split()
    for role, pid in [("master", str(master))] + [(f"worker {pid}", pid) for pid in children]:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                result[role] = int(line.split()[1]) / 1024
    return result


def one_request(
    http: httpx.Client, base: str, slack: TimedSlack, user: str, text: str, *, chart: bool = True
) -> tuple[float, float, float]:
    """(ack seconds, seconds until the reply reached the response_url, seconds until the reply and its chart
    upload, unless ``chart`` is False, both arrived) for one signed slash command."""
    response_url = slack.response_url()
    body = urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "bench",
            "channel_id": "C0BENCH",
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/abacus",
            "text": text,
            "api_app_id": "A0ABACUS",
            "response_url": response_url,
            "trigger_id": "1337.42.abcd",
        }
    )
    stamp = str(int(time.time()))
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body) or "",
    }
    started = time.monotonic()
    ack = http.post(f"{base}/slack/events", content=body, headers=headers)
    acked = time.monotonic()
    if ack.status_code != 200:
        raise SystemExit(f"ack failed: HTTP {ack.status_code} {ack.text[:200]}")
    path = "/" + response_url.split("/", 3)[3]
    deadline = started + TIMEOUT
    answered = uploaded = None
    while time.monotonic() < deadline and (answered is None or uploaded is None):
        answered = answered or slack.first(path, started)
        uploaded = uploaded or (slack.first(f"dm:D{user.lstrip('U')}", started) if chart else acked)
        time.sleep(0.005)
    if answered is None and ack.text:
        answered = acked  # answered in the ack itself (a refusal, e.g. by code that checks before acking)
    if answered is None or uploaded is None:
        raise SystemExit(f"no complete answer within {TIMEOUT:.0f} s for {user}")
    return acked - started, answered - started, max(answered, uploaded) - started


def _people(engine: Engine, count: int) -> list[str]:
    """The first ``count`` people by email in a database that already holds usage."""
    with engine.connect() as conn:
        stmt = select(UsagePersonDaily.email).where(UsagePersonDaily.email != "").distinct()
        return list(conn.execute(stmt.order_by(UsagePersonDaily.email).limit(count)).scalars())


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (WEB_CONCURRENCY)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (ABACUS_WEB_THREADS)")
    parser.add_argument("--text", default="top 10 30d", help="what follows /abacus")
    parser.add_argument("--url", help="an empty database to seed (default: a throwaway SQLite file)")
    parser.add_argument(
        "--users-info",
        choices=("ok", "ratelimited"),
        default="ok",
        help="ratelimited: the fake Slack answers every users.info with 429, Retry-After: 5",
    )
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout `abacus serve` runs from")
    parser.add_argument("--reuse", action="store_true", help="serve the data --url holds; do not seed")
    args = parser.parse_args(argv)
    if args.reuse and not args.url:
        parser.error("--reuse needs --url (a database that holds data)")
    concurrency = max(1, min(args.concurrency, args.requests))

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        url = args.url or f"sqlite:///{home / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        now = datetime.now(UTC)
        seeded = time.perf_counter()
        if args.reuse:
            people = _people(engine, concurrency)
            with engine.connect() as conn:
                rows = conn.execute(select(func.count()).select_from(UsageDaily)).scalar() or 0
            data = f"reused: {rows:,} usage_daily rows"
        else:
            made = generate_demo(
                engine, people=args.people, days=args.days, end=now.date() - timedelta(days=1), now=now, seed=args.seed
            )
            people = demo_people(args.people, args.seed)
            data = f"{made.people} people x {made.days} days, {made.usage_rows:,} usage rows"
        seeded = time.perf_counter() - seeded
        engine.dispose()
        slack = TimedSlack()
        users = [f"U{i:05d}" for i in range(concurrency)]
        for user, email in zip(users, people[:concurrency], strict=False):
            slack.add_user(user, email, tz="UTC")
        for user in users[len(people) :]:
            slack.add_user(user, f"{user.lower()}@{DEMO_DOMAIN}", tz="UTC")
        chart = args.users_info == "ok"
        if not chart:
            slack.rate_limit("users.info", retry_after=5)
        print(
            f"{make_engine(url).dialect.name}: {data} ({seeded:.1f} s); {args.requests} x '/abacus {args.text}', "
            f"{concurrency} at a time; gunicorn {args.workers} workers x {args.threads} threads; "
            f"users.info {args.users_info}; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}\n"
        )
        try:
            with serving(url, slack, args.workers, args.threads, home, args.code.resolve()) as (base, master):
                per_thread = [
                    args.requests // concurrency + (i < args.requests % concurrency) for i in range(concurrency)
                ]

                def client(index: int) -> list[tuple[float, float, float]]:
                    # One client (and kept-alive connection) per Slack user: building an httpx client per
                    # request costs tens of ms of the benchmark's own CPU, which earlier runs counted as ack.
                    with httpx.Client(timeout=TIMEOUT) as http:
                        return [
                            one_request(http, base, slack, users[index], args.text, chart=chart)
                            for _ in range(per_thread[index])
                        ]

                started = time.monotonic()
                with ThreadPoolExecutor(concurrency) as pool:
                    results = [r for batch in pool.map(client, range(concurrency)) for r in batch]
                wall = time.monotonic() - started
                memory = peak_memory_mib(master)
        finally:
            slack.close()
        acks = [a for a, _, _ in results]
        replies = [r for _, r, _ in results]
        finals = [f for _, _, f in results]
        print("| measure | p50 | p99 | max |")
        print("|---|---|---|---|")
        answer = "answer + chart delivered" if chart else "'try again' reply delivered"
        # The reply (numbers) is posted before the chart is drawn; the chart follows in the asker's DM.
        measures = [("ack (HTTP 200 to the command)", acks)]
        if chart:
            measures.append(("reply delivered (before its chart)", replies))
        for name, values in (*measures, (answer, finals)):
            print(
                f"| {name} | {statistics.median(values) * 1000:,.0f} ms | {_percentile(values, 99) * 1000:,.0f} ms | "
                f"{max(values) * 1000:,.0f} ms |"
            )
        print(
            f"\n{len(results)} requests in {wall:.1f} s ({len(results) / wall:.1f} answers/s); "
            f"load average after {' '.join(f'{v:.1f}' for v in os.getloadavg())}\n"
        )
        print("| process | peak RSS (VmHWM) |")
        print("|---|---|")
        for role, mib in memory.items():
            print(f"| {role} | {mib:.0f} MiB |")


if __name__ == "__main__":
    main()
