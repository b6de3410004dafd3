"""The Slack test harness: `python -m bot serve` in a subprocess, driven over real HTTP the way
Slack drives it (signed requests), against FakeSlack; and the Block Kit checks every payload
the bot sends must pass (`check_message`, `check_view`, `check_call`).

The fixtures are in conftest.py.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.serving import query_rows, start_serve, stop_process
from tests.slack.fake_slack import Call, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
SECRET = "kc-test-signing-secret"
TEAM = "T1"
DEMO = "demo@kent.gov.uk"
BOARD = "board.demo@kent.police.uk"
ADMIN = "pmo.admin@kent.gov.uk"  # an admin by BOT_ADMINS

# Block Kit's limits (the platform notes' Slack section).
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
MODAL_TITLE = 24


# --- Block Kit checks ---------------------------------------------------------------------------


def _texts(node: Any, kinds=("mrkdwn", "plain_text")) -> Iterator[dict]:
    """Every text object (of the given kinds) anywhere in a block structure."""
    if isinstance(node, dict):
        if node.get("type") in kinds and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from _texts(value, kinds)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value, kinds)


def mrkdwn_texts(payload: dict) -> list[str]:
    """The texts Slack parses as mrkdwn: the top-level fallback and every mrkdwn object."""
    texts = [payload["text"]] if isinstance(payload.get("text"), str) else []
    return texts + [t["text"] for t in _texts(payload.get("blocks") or [], ("mrkdwn",))]


def all_texts(payload: dict) -> list[str]:
    texts = [payload["text"]] if isinstance(payload.get("text"), str) else []
    return texts + [t["text"] for t in _texts(payload.get("blocks") or [])]


def _check_blocks(blocks: list[dict], where: str) -> None:
    for number, block in enumerate(blocks):
        parsed = Block.parse(block)
        assert parsed is not None, f"{where}: block {number} is not a Block Kit block: {block}"
        parsed.validate_json()  # raises SlackObjectFormationError past a limit
        kind = block["type"]
        if kind == "section":
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= SECTION_TEXT, f"{where}: section text length"
            assert len(block.get("fields") or []) <= 10
            for f in block.get("fields") or []:
                assert 0 < len(f["text"]) <= 2000, f"{where}: field text length"
        elif kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= HEADER_TEXT, f"{where}: header length"
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            for element in block["elements"]:
                if element["type"] == "button":
                    assert 0 < len(element["text"]["text"]) <= BUTTON_TEXT, f"{where}: button label"
                    assert len(element.get("value", "")) <= 2000
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
    ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == len(set(ids)), f"{where}: action ids repeat: {ids}"


_BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def check_mrkdwn(text: str, where: str) -> None:
    """Text Slack parses as mrkdwn: the bot never sends control sequences or links, so after
    escaping there is no < or > at all, and every & starts an entity."""
    assert "<" not in text and ">" not in text, f"{where}: unescaped < or > in {text[:300]!r}"
    assert not _BARE_AMPERSAND.search(text), f"{where}: bare & in {text[:300]!r}"


def check_message(payload: dict, where: str = "message") -> None:
    """A message (chat.postMessage/postEphemeral, an ack, a response-URL post): text and limits."""
    text = payload.get("text")
    assert isinstance(text, str) and text.strip(), f"{where}: no fallback text: {payload}"
    assert len(text) <= 40_000
    for mrkdwn in mrkdwn_texts(payload):
        check_mrkdwn(mrkdwn, where)
    blocks = payload.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if blocks is None:
        return
    assert isinstance(blocks, list)
    assert len(blocks) <= MESSAGE_BLOCKS, f"{where}: {len(blocks)} blocks"
    _check_blocks(blocks, where)


def check_view(view: dict, where: str = "view") -> None:
    """A modal or Home tab: slack_sdk's View validation plus our own counts."""
    if isinstance(view, str):
        view = json.loads(view)
    View(**view).validate_json()
    assert view["type"] in ("modal", "home")
    assert len(view["blocks"]) <= VIEW_BLOCKS, f"{where}: {len(view['blocks'])} blocks"
    if view["type"] == "modal":
        for key in ("title", "submit", "close"):
            if key in view:
                assert view[key]["type"] == "plain_text" and 0 < len(view[key]["text"]) <= MODAL_TITLE
        assert len(view.get("private_metadata", "")) <= 3000
        json.loads(view.get("private_metadata") or "{}")  # what comes back on submission must parse
    _check_blocks(view["blocks"], where)
    assert len(json.dumps(view)) <= 250_000


def check_call(call: Call) -> None:
    """Checks a recorded Web API call or response-URL post that carries a message or a view."""
    where = f"{call.method} {str(call.args)[:120]}"
    if call.method in ("chat.postMessage", "chat.postEphemeral", "chat.update") or call.method.startswith("/response/"):
        check_message(call.args, where)
    elif call.method in ("views.open", "views.publish", "views.update", "views.push"):
        check_view(call.args["view"], where)
        for mrkdwn in mrkdwn_texts({"blocks": call.args["view"]["blocks"]}):
            check_mrkdwn(mrkdwn, where)


# --- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body: str, ts: str, secret: str = SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()


@dataclass
class Response:
    status: int
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class SlackBot:
    """A running `serve` and ways to talk to it the way Slack does."""

    def __init__(self, fake: FakeSlack, database_url: str, workdir: Path, sqlite_path: Optional[Path] = None):
        self.fake = fake
        self.database_url = database_url
        self.sqlite_path = sqlite_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/slack/events"
        self.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.url,
            BOT_ADMINS=ADMIN,
            BOT_TIMEZONE="Europe/London",
        )
        for name in (
            "SLACK_APP_TOKEN",
            "PORT",
            "MICROSOFT_APP_ID",
            "MICROSOFT_APP_PASSWORD",
            "MICROSOFT_APP_TYPE",
            "BOT_EMULATOR",
        ):
            self.env.pop(name, None)
        self.log_path = workdir / "serve.log"
        self._ids = itertools.count(1)
        self.acks: list[tuple[str, Any]] = []  # (what was posted, the ack's JSON) for the audit
        self.proc: Optional[subprocess.Popen] = None
        self._engine = None
        self._audited = 0

    def audit(self) -> None:
        """Check every Web API call and response-URL post not checked yet."""
        calls = self.fake.snapshot()
        new, self._audited = calls[self._audited :], len(calls)
        for call in new:
            check_call(call)

    # lifecycle
    def seed(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "seed", "--demo"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]

    def start(self) -> SlackBot:
        self._log = open(self.log_path, "w")
        self.proc = start_serve(self.port, self.env, self._log, self.log_path)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        if self._engine is not None:
            self._engine.dispose()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # identities
    def uid(self, prefix: str = "X") -> str:
        """A Slack-style id never used before in this session (upper case letters and digits)."""
        return f"{prefix}{os.getpid() % 1000:03d}{next(self._ids):05d}"

    def person(self, email: Optional[str] = None) -> str:
        """A new Slack user id; `email` is what users.info tells (None: no e-mail visible)."""
        user = self.uid("U")
        if email is not None:
            self.fake.emails[user] = email
        return user

    # raw HTTP
    def post(
        self,
        body: str,
        content_type: str,
        *,
        ts: Optional[str] = None,
        secret: str = SECRET,
        headers: Optional[dict] = None,
        signed: bool = True,
        timeout: float = 15,
    ) -> Response:
        ts = ts or str(int(time.time()))
        sent = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts}
        if signed:
            sent["X-Slack-Signature"] = sign(body, ts, secret)
        sent.update(headers or {})
        sent = {name: value for name, value in sent.items() if value is not None}  # None: leave it out
        request = urllib.request.Request(self.url, data=body.encode(), method="POST", headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                response = Response(answer.status, answer.read().decode())
        except urllib.error.HTTPError as exc:
            response = Response(exc.code, exc.read().decode())
        if response.status == 200 and response.body.startswith("{"):
            data = response.json
            self.acks.append((body[:200], data))
            if "blocks" in data or ("text" in data and "response_action" not in data):
                check_message(data, f"ack to {body[:80]}")
        return response

    def post_raw(self, raw: bytes, headers: dict[str, Any], timeout: float = 15) -> Response:
        """POST bytes exactly as given, with exactly these headers (a value may be bytes, sent as they
        are; a str that isn't ASCII is sent as UTF-8). No signing, no checks."""
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.putrequest("POST", "/slack/events", skip_accept_encoding=True)
            for name, value in headers.items():
                if isinstance(value, str) and not value.isascii():
                    value = value.encode("utf-8")  # http.client would try Latin-1 and may fail
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(raw)))
            connection.endheaders(raw)
            answer = connection.getresponse()
            return Response(answer.status, answer.read().decode(errors="replace"))
        finally:
            connection.close()

    def post_json(self, payload: dict, **kw) -> Response:
        return self.post(json.dumps(payload), "application/json", **kw)

    def post_form(self, fields: dict, **kw) -> Response:
        return self.post(urllib.parse.urlencode(fields), "application/x-www-form-urlencoded", **kw)

    # what Slack sends
    def command_fields(
        self,
        text: str,
        user: str,
        channel: str = "C0TEST",
        trigger_id: Optional[str] = None,
        response_url: Optional[str] = None,
    ) -> dict:
        trigger_id = trigger_id or self.uid("TR")
        return {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "kentconnects",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/kc",
            "text": text,
            "api_app_id": "A1",
            "trigger_id": trigger_id,
            "response_url": response_url or f"{self.fake.base}/response/{trigger_id}",
        }

    def command(self, text: str, user: str, **kw) -> Response:
        headers = kw.pop("headers", None)
        return self.post_form(self.command_fields(text, user, **kw), headers=headers)

    def event_body(self, event: dict, event_id: Optional[str] = None) -> dict:
        return {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or self.uid("EV"),
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        }

    def dm_event(self, user: str, text: str, channel: str, event_id: Optional[str] = None) -> dict:
        ts = f"{time.time():.6f}"
        return self.event_body(
            {
                "type": "message",
                "channel_type": "im",
                "user": user,
                "text": text,
                "channel": channel,
                "ts": ts,
                "event_ts": ts,
                "client_msg_id": self.uid("M"),
            },
            event_id,
        )

    def dm(self, user: str, text: str, channel: str, **kw) -> Response:
        headers = kw.pop("headers", None)
        return self.post_json(self.dm_event(user, text, channel, **kw), headers=headers)

    def mention(self, user: str, text: str, channel: str, ts: str, thread_ts: Optional[str] = None) -> Response:
        event = {"type": "app_mention", "user": user, "text": text, "channel": channel, "ts": ts, "event_ts": ts}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.post_json(self.event_body(event))

    def home_opened(self, user: str, tab: str = "home") -> Response:
        return self.post_json(
            self.event_body(
                {
                    "type": "app_home_opened",
                    "user": user,
                    "channel": "D" + user[1:],
                    "tab": tab,
                    "event_ts": f"{time.time():.6f}",
                }
            )
        )

    def button(
        self, user: str, value: str, action_id: str = "kc:1", channel: str = "C0TEST", trigger_id: Optional[str] = None
    ) -> Response:
        trigger_id = trigger_id or self.uid("TR")
        payload = {
            "type": "block_actions",
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": trigger_id,
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "team": {"id": TEAM, "domain": "kc"},
            "container": {
                "type": "message",
                "message_ts": "1700000000.000100",
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "channel": {"id": channel, "name": "general"},
            "response_url": f"{self.fake.base}/response/{trigger_id}",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "text": {"type": "plain_text", "text": "Go"},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.post_form({"payload": json.dumps(payload)})

    def submit_view(
        self,
        user: str,
        values: dict[str, str],
        view_id: Optional[str] = None,
        form: str = "business_case",
        prefilled: Optional[dict] = None,
        channel: str = "C1",
        headers: Optional[dict] = None,
    ) -> Response:
        state = {name: {"value": {"type": "plain_text_input", "value": value}} for name, value in values.items()}
        metadata = {"form": form, "prefilled": prefilled or {}, "channel": channel}
        blocks = [
            {
                "type": "input",
                "block_id": name,
                "label": {"type": "plain_text", "text": name},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
            for name in values
        ]
        payload = {
            "type": "view_submission",
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": self.uid("TR"),
            "team": {"id": TEAM, "domain": "kc"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "view": {
                "id": view_id or self.uid("V"),
                "type": "modal",
                "team_id": TEAM,
                "callback_id": f"kc_form:{form}",
                "private_metadata": json.dumps(metadata),
                "blocks": blocks,
                "state": {"values": state},
                "hash": "1.abc",
                "title": {"type": "plain_text", "text": "Submit a business case"},
            },
        }
        return self.post_form({"payload": json.dumps(payload)}, headers=headers)

    # the database
    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows from the server's database (`?` placeholders)."""
        return query_rows(self.sqlite_path, self._database_engine, sql, params)

    def _database_engine(self):
        from storage import db

        if self._engine is None:
            self._engine = db.make_engine(self.database_url)
        return self._engine

    def scalar(self, sql: str, params: tuple = ()) -> Any:
        return self.rows(sql, params)[0][0]

    def person_id(self, email: str) -> Optional[int]:
        found = self.rows("SELECT id FROM person WHERE email = ?", (email,))
        return found[0][0] if found else None

    def table_counts(self) -> dict[str, int]:
        names = (
            "person",
            "platform_identity",
            "membership",
            "registration",
            "business_case",
            "inbound_seen",
            "conversation_state",
            "delivery",
        )
        return {name: self.scalar(f"SELECT COUNT(*) FROM {name}") for name in names}


def start_bot(fake: FakeSlack, database_url: str, workdir: Path, sqlite_path: Optional[Path] = None) -> SlackBot:
    bot = SlackBot(fake, database_url, workdir, sqlite_path)
    bot.seed()
    return bot.start()
