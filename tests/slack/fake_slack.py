"""A small local stand-in for Slack's Web API: records every call and answers like Slack."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qs


@dataclass
class Call:
    method: str  # e.g. chat.postMessage, or the path for response URLs and uploads
    args: dict[str, Any]
    headers: dict[str, str]

    @property
    def token(self) -> str:
        """The bearer token the call was made with ("" for none)."""
        auth = self.headers.get("Authorization") or self.headers.get("authorization") or ""
        return auth[7:] if auth.startswith("Bearer ") else ""


@dataclass
class Workspace:
    """A Slack workspace (or, with `org_wide`, an Enterprise Grid org) the app can be installed in."""

    team: str  # T... (for an org-wide install: the org's own workspace-less install has none)
    name: str
    enterprise: Optional[str] = None
    enterprise_name: Optional[str] = None
    org_wide: bool = False
    bot_user: str = "UBOT"
    installer: str = "UINSTALLER"


@dataclass
class Issued:
    """An access token the fake gave out, and where it works."""

    workspace: Workspace
    expires_at: Optional[float]  # None: does not expire (rotation off)


@dataclass
class FakeSlack:
    """Start with `start()`; `url` is the SLACK_API_URL; `calls` what the bot sent."""

    emails: dict[str, str] = field(default_factory=dict)
    # channel id -> what conversations.info tells of it (default: public, the bot a member)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    # method -> list of (status, body, headers) answers to give before the normal one. The key may
    # also be "method:ID" (ID the call's `user` or `channel`), which is tried first, so that a
    # script for one person is not used up by someone else's call. An answer may carry a fourth
    # item, a delay in seconds before it is sent; a body that is bytes or str is sent as it is.
    scripted: dict[str, list[tuple]] = field(default_factory=dict)
    server: Optional[ThreadingHTTPServer] = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # OAuth v2 (the distributed app). Once any token has been issued, every Web API call must carry
    # a token the fake issued and that has not expired, else Slack's invalid_auth / token_expired.
    client_id: str = "1111.2222"
    client_secret: str = "kc-client-secret"
    codes: dict[str, Workspace] = field(default_factory=dict)  # authorisation code -> where it installs
    rotating: bool = True  # issue expiring tokens with refresh tokens (token rotation on)
    expires_in: int = 43200  # seconds a rotating token lasts (Slack's: 12 hours)
    issued: dict[str, Issued] = field(default_factory=dict)
    refresh_tokens: dict[str, Workspace] = field(default_factory=dict)  # unspent ones
    spent_refresh_tokens: set[str] = field(default_factory=set)
    _serial: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.base + "/api/"

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    args = json.loads(raw or b"{}")
                elif "x-www-form-urlencoded" in kind:
                    args = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    for key in ("blocks", "view"):
                        if isinstance(args.get(key), str):
                            try:
                                args[key] = json.loads(args[key])
                            except ValueError:
                                pass
                else:
                    args = {"_raw": raw} if raw else {}
                path, _, query = self.path.partition("?")
                args.update({k: v[0] for k, v in parse_qs(query).items()})
                method = path[len("/api/") :] if path.startswith("/api/") else path
                who = args.get("user") or args.get("channel") if isinstance(args, dict) else None
                with fake.lock:
                    fake.calls.append(Call(method, args, dict(self.headers)))
                    answer = fake.refused(method, dict(self.headers))
                    for key in (f"{method}:{who}", method):
                        scripted = fake.scripted.get(key) or []
                        if answer is None and scripted:
                            answer = scripted.pop(0)
                            break
                    if answer is None and method == "oauth.v2.access":
                        answer = (200, fake.oauth_access(args, dict(self.headers)), {})
                    if answer is None and method == "auth.test" and fake.issued:
                        answer = (200, fake.auth_test(dict(self.headers)), {})
                if answer is None:
                    answer = (200, fake.answer(method, args), {})
                status, body, headers = answer[:3]
                if len(answer) > 3 and answer[3]:
                    time.sleep(answer[3])
                if isinstance(body, (bytes, str)):
                    data = body.encode() if isinstance(body, str) else body
                    kind = "text/html; charset=utf-8"
                else:
                    data = json.dumps(body).encode()
                    kind = "application/json; charset=utf-8"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    # --- OAuth v2 and tokens -----------------------------------------------------------------------

    def installable(self, workspace: Workspace) -> str:
        """An authorisation code that installs the app into `workspace` (what Slack hands the
        installer's browser after "Allow")."""
        code = f"code-{next(self._serial)}"
        self.codes[code] = workspace
        return code

    def _issue(self, workspace: Workspace) -> dict[str, Any]:
        n = next(self._serial)
        where = workspace.team or workspace.enterprise
        token = f"xoxe.xoxb-{where}-{n}" if self.rotating else f"xoxb-{where}-{n}"
        expires = time.time() + self.expires_in if self.rotating else None
        self.issued[token] = Issued(workspace, expires)
        answer: dict[str, Any] = {"access_token": token, "token_type": "bot"}
        if self.rotating:
            refresh = f"xoxe-1-{where}-{n}"
            self.refresh_tokens[refresh] = workspace
            answer.update(refresh_token=refresh, expires_in=self.expires_in)
        return answer

    def expire(self, token: str) -> None:
        """Make an issued token expire now (a test's way of letting 12 hours pass)."""
        with self.lock:
            self.issued[token].expires_at = time.time() - 1

    def refreshes(self) -> list[Call]:
        return [c for c in self.named("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]

    def _client_ok(self, args: dict[str, Any], headers: dict[str, str]) -> bool:
        auth = headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            given = base64.b64decode(auth[6:]).decode()
            return given == f"{self.client_id}:{self.client_secret}"
        return args.get("client_id") == self.client_id and args.get("client_secret") == self.client_secret

    def oauth_access(self, args: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """oauth.v2.access: a code for tokens (one use), or a refresh token for new ones (one use)."""
        if not self._client_ok(args, headers):
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            refresh = str(args.get("refresh_token"))
            workspace = self.refresh_tokens.pop(refresh, None)
            if workspace is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            self.spent_refresh_tokens.add(refresh)
            return {"ok": True, **self._issue(workspace), "team": {"id": workspace.team}}
        workspace = self.codes.pop(str(args.get("code")), None)
        if workspace is None:
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": "A0KENTCONNECTS",
            "authed_user": {"id": workspace.installer},
            "scope": "app_mentions:read,chat:write,commands,im:history,im:read,im:write,users:read,users:read.email",
            "bot_user_id": workspace.bot_user,
            "team": None if workspace.org_wide else {"id": workspace.team, "name": workspace.name},
            "enterprise": {"id": workspace.enterprise, "name": workspace.enterprise_name}
            if workspace.enterprise
            else None,
            "is_enterprise_install": workspace.org_wide,
            **self._issue(workspace),
        }

    def refused(self, method: str, headers: dict[str, str]) -> Optional[tuple]:
        """Slack's answer to a call whose token is unknown or expired, once tokens are issued."""
        if not self.issued or method == "oauth.v2.access" or not method[:1].isalpha() or method.startswith("upload"):
            return None  # response URLs and uploads carry no token
        auth = headers.get("Authorization") or ""
        issued = self.issued.get(auth[7:]) if auth.startswith("Bearer ") else None
        if issued is None:
            return (200, {"ok": False, "error": "invalid_auth"}, {})
        if issued.expires_at is not None and issued.expires_at <= time.time():
            return (200, {"ok": False, "error": "token_expired"}, {})
        return None

    def auth_test(self, headers: dict[str, str]) -> dict[str, Any]:
        workspace = self.issued[(headers.get("Authorization") or "")[7:]].workspace
        return {
            "ok": True,
            "user_id": workspace.bot_user,
            "bot_id": "B" + workspace.bot_user[1:],
            "team_id": None if workspace.org_wide else workspace.team,
            "team": workspace.name,
            "enterprise_id": workspace.enterprise,
            "is_enterprise_install": workspace.org_wide,
            "url": f"https://{workspace.name.lower().replace(' ', '')}.slack.com/",
        }

    def workspace_of(self, call: Call) -> Optional[Workspace]:
        issued = self.issued.get(call.token)
        return issued.workspace if issued else None

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "team_id": "T1",
                "team": "Kent Connects",
                "url": "https://kentconnects.slack.com/",
            }
        if method == "users.info":
            user = args.get("user", "")
            email = self.emails.get(user)
            profile = {"email": email, "real_name": f"Person {user}"} if email else {"real_name": f"Person {user}"}
            return {"ok": True, "user": {"id": user, "team_id": "T1", "profile": profile}}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": "1700000000.000100",
                "message_ts": "1700000000.000100",
            }
        if method == "conversations.info":
            channel = args.get("channel", "")
            return {
                "ok": True,
                "channel": {
                    "id": channel,
                    "is_channel": True,
                    "is_private": False,
                    "is_archived": False,
                    "is_member": True,
                    **self.channels.get(channel, {}),
                },
            }
        if method == "conversations.join":
            self.channels.setdefault(args.get("channel", ""), {})["is_member"] = True
            return {"ok": True, "channel": {"id": args.get("channel")}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))}}
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": self.base + "/upload/F1", "file_id": "F1"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": "F1", "title": "file"}]}
        return {"ok": True}

    def named(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def snapshot(self) -> list[Call]:
        with self.lock:
            return list(self.calls)

    def matching(self, method: str, **args: Any) -> list[Call]:
        """Calls of `method` whose arguments include all of `args`."""
        return [c for c in self.named(method) if all(c.args.get(k) == v for k, v in args.items())]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0, **args: Any) -> list[Call]:
        """Wait until at least `count` calls of `method` with `args` arrived; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.matching(method, **args)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)
