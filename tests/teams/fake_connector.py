"""A small local stand-in for the Bot Framework connector (a Teams service URL): records what the bot sends."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional


@dataclass
class Sent:
    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class FakeConnector:
    emails: dict[str, str] = field(default_factory=dict)
    # user id -> Teams' userRole for them ("user" unless said: "guest" for a tenant's guests)
    roles: dict[str, str] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    # (method, path regex) -> list of (status, body, headers) to answer before the normal answer
    scripted: list[tuple[str, str, int, dict, dict]] = field(default_factory=list)
    server: Optional[ThreadingHTTPServer] = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The address to listen on: another loopback address (127.0.0.2) makes a connector whose
    # host is not on an allowlist that names 127.0.0.1.
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> FakeConnector:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                with fake.lock:
                    fake.sent.append(Sent(self.command, self.path, body, dict(self.headers)))
                    answer = None
                    for index, (method, pattern, status, payload, headers) in enumerate(fake.scripted):
                        if method == self.command and re.search(pattern, self.path):
                            answer = (status, payload, headers)
                            del fake.scripted[index]
                            break
                if answer is None:
                    answer = (200, fake.answer(self.command, self.path), {})
                status, payload, headers = answer
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def answer(self, method: str, path: str) -> Any:
        member = re.search(r"/v3/conversations/[^/]+/members/([^/?]+)", path)
        if method == "GET" and member:
            from urllib.parse import unquote

            user = unquote(member.group(1))
            email = self.emails.get(user)
            return {
                "id": user,
                "name": f"Person {user}",
                "email": email,
                "userPrincipalName": email,
                "tenantId": "tenant-1",
                "userRole": self.roles.get(user, "user"),
                "aadObjectId": "aad-" + user,
            }
        if method == "POST" and re.search(r"/v3/conversations/?$", path):
            return {"id": "a:new-conversation", "activityId": "1"}
        if method == "POST" and "/activities" in path:
            return {"id": "activity-1"}
        return {}

    def activities(self) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.method == "POST" and "/activities" in s.path]

    # --- helpers for tests ------------------------------------------------------------------------

    def script(
        self, method: str, pattern: str, status: int, payload: Any = None, headers: Optional[dict] = None
    ) -> None:
        """Answer the next request matching (method, path regex) with this status, once."""
        with self.lock:
            self.scripted.append((method, pattern, status, payload if payload is not None else {}, headers or {}))

    def snapshot(self) -> list[Sent]:
        with self.lock:
            return list(self.sent)

    def to_conversation(self, conversation_id: str) -> list[Sent]:
        """Activities posted into one conversation (replies and proactive messages)."""
        from urllib.parse import unquote

        found = []
        for s in self.activities():
            match = re.match(r"^/v3/conversations/([^/?]+)/activities", s.path)
            if match and unquote(match.group(1)) == conversation_id:
                found.append(s)
        return found

    def about_conversation(self, conversation_id: str) -> list[Sent]:
        """Every request that names the conversation (member look-ups too)."""
        from urllib.parse import unquote

        found = []
        for s in self.snapshot():
            match = re.match(r"^/v3/conversations/([^/?]+)", s.path)
            if match and unquote(match.group(1)) == conversation_id:
                found.append(s)
        return found
