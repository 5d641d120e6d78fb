"""A fake Slack Web API on 127.0.0.1: the methods Abacus calls, recorded, with injectable faults.

Serves ``/api/<method>`` (form or JSON bodies, like slack_sdk sends), the external upload URL that
``files.getUploadURLExternal`` hands out, and ``/response/<id>`` for slash-command response URLs.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.http_server import FakeServer, Request, Response

TEAM = "T0ACME"
BOT_USER = "UBOT"
# The bot scopes manifest.yml asks for; Slack reports a token's scopes in x-oauth-scopes on every call.
MANIFEST_SCOPES = (
    "commands,chat:write,files:write,im:write,users:read,users:read.email,channels:read,groups:read,im:read,"
    "mpim:read,usergroups:read"
)


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]


@dataclass
class SlackFault:
    method: str
    error: str | None = None  # an ok:false error code
    status: int = 200  # e.g. 429
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = 1


def slack_user(user_id: str, email: str | None, **flags: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {"real_name": (email or user_id).split("@")[0].title(), "display_name": user_id.lower()}
    if email is not None:
        profile["email"] = email
    return {
        "id": user_id,
        "team_id": flags.pop("team_id", TEAM),
        "name": user_id.lower(),
        "deleted": False,
        "is_bot": False,
        "is_admin": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "tz": flags.pop("tz", "UTC"),
        "profile": profile,
        **flags,
    }


class FakeSlack:
    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.channel_members: dict[str, set[str]] = {}
        self.private_channels: set[str] = set()  # G… ids of private channels
        self.group_dms: set[str] = set()  # ids of group DMs (mpim)
        self.usergroups: dict[str, dict[str, Any]] = {}  # by id: handle, name, users, disabled
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.responses: list[dict[str, Any]] = []  # bodies POSTed to response URLs
        self.faults: list[SlackFault] = []
        self.delays: dict[str, float] = {}  # method -> seconds to wait before answering (a slow Slack)
        self.scopes: str | None = MANIFEST_SCOPES  # None: send no x-oauth-scopes header
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = FakeServer(self._handle)
        self.url = self.server.url
        self.api_url = self.url + "/api/"

    def close(self) -> None:
        self.server.close()

    def add_user(self, user_id: str, email: str | None, **flags: Any) -> None:
        self.users[user_id] = slack_user(user_id, email, **flags)

    def add_usergroup(self, group_id: str, handle: str, users: list[str], *, disabled: bool = False) -> None:
        self.usergroups[group_id] = {"handle": handle, "name": handle.title(), "users": users, "disabled": disabled}

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int | None = 1,
    ) -> None:
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        self.faults.append(
            SlackFault(method, error or ("ratelimited" if status == 429 else None), status, headers, times)
        )

    def rate_limit(self, method: str, *, retry_after: int = 5) -> None:
        """Answer every call of ``method`` with HTTP 429 and ``Retry-After`` until :meth:`heal`."""
        self.fail(method, status=429, retry_after=retry_after, times=None)

    def heal(self, method: str) -> None:
        with self._lock:
            self.faults = [f for f in self.faults if f.method != method]
        self.delays.pop(method, None)

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._ids)}"

    def called(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Listeners answer on worker threads after the ack: poll (bounded) until the calls arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.called(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(
            f"expected {count} {method} call(s), got {len(self.called(method))}: {[c.method for c in self.calls]}"
        )

    def wait_for_responses(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.responses) >= count:
                return self.responses
            time.sleep(0.02)
        raise AssertionError(f"expected {count} response_url post(s), got {len(self.responses)}")

    # --- request handling -------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        if request.path.startswith("/response/"):
            self.responses.append(json.loads(request.body or b"{}"))
            return Response(200, None)
        if request.path.startswith("/upload/"):
            self.uploads[request.path.rsplit("/", 1)[1]] = request.body
            return Response(200, None)
        method = request.path.removeprefix("/api/")
        args = _parse_args(request)
        with self._lock:
            self.calls.append(Call(method, args, request.headers))
            fault = next((f for f in self.faults if f.method == method), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
        delay = self.delays.get(method)
        if delay:
            time.sleep(delay)
        if fault is not None:
            return Response(fault.status, {"ok": False, "error": fault.error}, fault.headers)
        if not request.headers.get("authorization", "").startswith("Bearer xoxb-"):
            return Response(200, {"ok": False, "error": "not_authed"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        headers = {"x-oauth-scopes": self.scopes} if self.scopes is not None else {}
        if handler is None:
            return Response(200, {"ok": True}, headers)
        return Response(200, {"ok": True, **handler(args)}, headers)

    def _m_auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "abacus",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": "B0BOT",
        }

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"user": user}

    def _m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        for user in self.users.values():
            if user["profile"].get("email", "").lower() == str(args.get("email", "")).lower():
                return {"user": user}
        return {"ok": False, "error": "users_not_found"}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": {"id": "D" + str(args.get("users", "")).lstrip("U")}}

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        # Like Slack: the scope depends on the kind of conversation (a DM needs im:read, a group DM mpim:read).
        kind = (
            "im"
            if channel.startswith("D")
            else "mpim"
            if channel in self.group_dms
            else "group"
            if channel in self.private_channels
            else "channel"
        )
        needed = {"im": "im:read", "mpim": "mpim:read", "group": "groups:read", "channel": "channels:read"}[kind]
        if self.scopes is not None and needed not in self.scopes.split(","):
            return {"ok": False, "error": "missing_scope", "needed": needed}
        member = kind == "im" or BOT_USER in self.channel_members.get(channel, set())
        return {"channel": {"id": channel, "is_member": member, f"is_{kind}": True}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):06d}"
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        channel = args.get("channel_id")
        if channel and not str(channel).startswith("D") and BOT_USER not in self.channel_members.get(channel, set()):
            return {"ok": False, "error": "not_in_channel"}
        return {"files": [{"id": f["id"], "title": f.get("title", ""), "mimetype": "image/png"} for f in files]}

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if not channel.startswith("D") and BOT_USER not in self.channel_members.get(channel, set()):
            return {"ok": False, "error": "not_in_channel"}
        return {"channel": channel, "ts": f"{time.time():.6f}"}

    def _m_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        # Like Slack: disabled groups only with include_disabled, members only with include_users.
        with_disabled = str(args.get("include_disabled", "")).lower() in ("1", "true")
        with_users = str(args.get("include_users", "")).lower() in ("1", "true")
        groups = []
        for group_id, g in self.usergroups.items():
            if g["disabled"] and not with_disabled:
                continue
            group = {"id": group_id, "team_id": TEAM, "handle": g["handle"], "name": g["name"]}
            group["date_delete"] = 1 if g["disabled"] else 0
            if with_users:
                group["users"] = list(g["users"])
            groups.append(group)
        return {"usergroups": groups}

    def _m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(str(args.get("usergroup")))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"users": list(group["users"])}

    def _m_views_open(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"view": {"id": f"V{next(self._ids):06d}", "hash": "h1"}}

    _m_views_update = _m_views_push = _m_views_publish = _m_views_open


def _parse_args(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        return json.loads(request.body or b"{}")
    parsed = parse_qs(request.body.decode() if request.body else "")
    args: dict[str, Any] = {k: v[-1] for k, v in parsed.items()}
    args.update(request.query)
    return args
