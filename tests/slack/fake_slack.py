"""A small local stand-in for Slack's Web API: records every call and answers like Slack."""

from __future__ import annotations

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
                    answer = None
                    for key in (f"{method}:{who}", method):
                        scripted = fake.scripted.get(key) or []
                        if scripted:
                            answer = scripted.pop(0)
                            break
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
