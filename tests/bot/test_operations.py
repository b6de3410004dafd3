"""Running the bot (bot.__main__, core.settings, bot.logs, bot.server, bot.worker): `serve` and
`worker` check their settings before starting, log one JSON object a line when stderr is no
terminal, answer /healthz from the database, and stop cleanly on SIGTERM.

The commands run as `python -m bot ...` subprocesses in a fresh temporary folder (with no
DATABASE_URL they use the SQLite file kentconnects.db there), stderr a pipe. The worker's
hand-back at shutdown is tested in-process on both databases (conftest.fresh_database).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from bot.dispatcher import Policy
from bot.senders import Outcome, Recipient, SendResult
from bot.worker import Worker
from core.messages import Reply
from core.settings import Settings
from storage import db, deliveries as delivery_queries
from storage.models import Delivery, DeliveryStatus, Person
from tests.conftest import ZONE, _drop_schema, _open_postgres, _postgres_required, fresh_database

REPO = Path(__file__).parents[2]
UTC = timezone.utc
# Settings the tests set themselves; anything of the kind in the caller's environment is dropped.
OWN_SETTINGS = (
    "DATABASE_URL",
    "BOT_TIMEZONE",
    "BOT_ADMINS",
    "PORT",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "MICROSOFT_APP_ID",
    "MICROSOFT_APP_PASSWORD",
    "MICROSOFT_APP_TYPE",
    "MICROSOFT_APP_TENANT_ID",
    "TEAMS_SERVICE_URL_ALLOWLIST",
    "BOT_EMULATOR",
    "BOT_OPENID_METADATA_URL",
)
LOG_KEYS = {"time", "level", "logger", "message", "request_id"}
STARTUP = 90  # seconds a command may take to start (migrations on a slow machine)


# --- helpers ----------------------------------------------------------------------------------


def environment(env: Optional[dict[str, str]] = None) -> dict[str, str]:
    result = {k: v for k, v in os.environ.items() if k not in OWN_SETTINGS}
    result["PYTHONPATH"] = str(REPO)
    result.update(env or {})
    return result


def run_bot(
    *args: str, cwd: Path, stdin: str = "", env: Optional[dict[str, str]] = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environment(env),
        timeout=timeout,
    )


class Running:
    """A `python -m bot ...` process in the background, its stderr read line by line as it comes."""

    def __init__(self, *args: str, cwd: Path, env: Optional[dict[str, str]] = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            cwd=cwd,
            env=environment(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []
        self.stdout = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._out_reader = threading.Thread(target=self._read_out, daemon=True)
        self._out_reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def _read_out(self) -> None:
        self.stdout = self.process.stdout.read()

    def wait_for(self, check: Callable[[], bool], seconds: float = STARTUP) -> bool:
        """Poll until `check()` holds or the process has ended; whether it held."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check():
                return True
            if self.process.poll() is not None:
                return check()
            time.sleep(0.1)
        return False

    def logged(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def stop(self, seconds: float = 30) -> int:
        """SIGTERM, then the exit status (killed, and the test failed, if it does not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.process.args} did not stop within {seconds}s of SIGTERM")
        self._reader.join(timeout=10)
        self._out_reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of GET http://127.0.0.1:port/path; errors are answers too."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def answering(port: int) -> bool:
    try:
        get(port, "/healthz")
        return True
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def start_serve(tmp_path: Path, *extra: str, env: Optional[dict[str, str]] = None) -> tuple[Running, int]:
    port = free_port()
    server = Running("serve", "--port", str(port), *extra, cwd=tmp_path, env=env)
    if not server.wait_for(lambda: answering(port)):
        server.kill()
        pytest.fail(f"serve did not answer on port {port}; stderr:\n{server.stderr}")
    return server, port


def json_lines(stderr: str) -> list[dict]:
    """Every non-empty line as a JSON log entry; fails on any line that is not one."""
    entries = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(entry, dict), line
        assert entry.keys() >= LOG_KEYS, line
        assert entry["level"] in ("debug", "info", "warning", "error", "critical"), line
        assert datetime.fromisoformat(entry["time"]).tzinfo is not None, line
        assert isinstance(entry["logger"], str) and entry["logger"], line
        assert isinstance(entry["request_id"], str) and entry["request_id"], line
        entries.append(entry)
    return entries


def one_line_message(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def pg_or_skip() -> str:
    url, reason = _open_postgres()
    if reason:
        if _postgres_required():
            pytest.fail(reason)
        pytest.skip(reason)
    return url


def add_broken_delivery(db_file: Path, email: str) -> int:
    """A pending delivery whose payload can't be read as a message (a list, not an object)."""
    with sqlite3.connect(db_file) as connection:
        person = connection.execute("SELECT id FROM person WHERE email = ?", (email,)).fetchone()[0]
        now = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
        cursor = connection.execute(
            "INSERT INTO delivery (kind, subject, occurrence, recipient_id, channel, payload, due_at, status, "
            "attempts, created_at) VALUES ('notice', 'test:broken', '1', ?, 'direct', '[]', ?, 'pending', 0, ?)",
            (person, now.isoformat(sep=" "), now.isoformat(sep=" ")),
        )
        return cursor.lastrowid


class TcpProxy:
    """Forwards 127.0.0.1:port to the database; `stop()` cuts every connection and refuses new ones,
    as a database that has gone away would."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(50)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self.lock:
                if self.stopped.is_set():
                    client.close()
                    upstream.close()
                    break
                self.open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()
        with self.lock:
            for sock in self.open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.open.clear()


# --- refusing to start ------------------------------------------------------------------------------

CONFIG_ERRORS = [
    pytest.param({"SLACK_BOT_TOKEN": "xoxb-1"}, ("SLACK_SIGNING_SECRET",), id="slack-without-signing-secret"),
    pytest.param({"SLACK_SIGNING_SECRET": "s3cret"}, ("SLACK_BOT_TOKEN",), id="slack-without-token"),
    pytest.param({"BOT_TIMEZONE": "Mars/Olympus"}, ("Mars/Olympus", "Europe/London"), id="unknown-time-zone"),
    pytest.param({"PORT": "99999"}, ("PORT", "99999"), id="port-out-of-range"),
    pytest.param({"PORT": "eighty"}, ("PORT", "eighty"), id="port-not-a-number"),
    pytest.param(
        {"MICROSOFT_APP_TYPE": "SingleTenant", "MICROSOFT_APP_ID": "app", "MICROSOFT_APP_PASSWORD": "pw"},
        ("SingleTenant", "MICROSOFT_APP_TENANT_ID"),
        id="single-tenant-without-tenant",
    ),
    pytest.param({"MICROSOFT_APP_TYPE": "Sideways"}, ("MICROSOFT_APP_TYPE", "Sideways"), id="unknown-app-type"),
    pytest.param(
        {"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001"},
        ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD"),
        id="app-id-without-password",
    ),
]


@pytest.mark.parametrize("command", [("serve", "--no-worker"), ("worker",)], ids=["serve", "worker"])
@pytest.mark.parametrize("env, named", CONFIG_ERRORS)
def test_serve_and_worker_refuse_a_bad_configuration(tmp_path, command, env, named):
    result = run_bot(*command, cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    message = one_line_message(result)
    assert message.startswith("Configuration error: ")
    for word in named:
        assert word in message
    assert result.stdout == ""
    assert not (tmp_path / "kentconnects.db").exists()  # refused before touching the database


@pytest.mark.parametrize("command", [("serve", "--no-worker"), ("worker",)], ids=["serve", "worker"])
def test_serve_and_worker_refuse_an_unreachable_database_without_its_password(tmp_path, command):
    result = run_bot(
        *command, cwd=tmp_path, env={"DATABASE_URL": "postgresql://x:secret@127.0.0.1:1/nothing"}, timeout=60
    )
    assert result.returncode != 0
    message = one_line_message(result)
    assert "did not answer" in message and "127.0.0.1:1/nothing" in message
    assert "secret" not in result.stderr and "secret" not in result.stdout
    assert result.stdout == ""


def test_serve_refuses_a_port_option_out_of_range(tmp_path):
    server = Running("serve", "--port", "99999", "--no-worker", cwd=tmp_path)
    try:
        server.wait_for(lambda: server.logged("listening on port"))
        exited = server.process.poll() is not None
    finally:
        server.kill()
    assert exited and server.process.returncode != 0, server.stderr
    assert "99999" in server.stderr and "Traceback" not in server.stderr


# --- serving ------------------------------------------------------------------------------------


def test_serve_answers_health_and_calendars_then_stops_on_sigterm(tmp_path):
    server, port = start_serve(tmp_path, "--no-worker")
    try:
        status, kind, body = get(port, "/healthz")
        assert status == 200 and kind.startswith("application/json")
        health = json.loads(body)
        assert health["status"] == "ok" and health["database"] == "ok"

        status, kind, body = get(port, "/calendar/gis.ics")
        assert status == 200 and kind.startswith("text/calendar")
        text = body.decode("utf-8")
        assert text.startswith("BEGIN:VCALENDAR") and text.rstrip().endswith("END:VCALENDAR")
        assert "X-WR-CALNAME:GIS" in text

        for path in ("/calendar/leadership.ics", "/calendar/nosuch.ics"):  # closed group; unknown group
            status, kind, body = get(port, path)
            assert status == 404, path
            assert b"VCALENDAR" not in body
    finally:
        code = server.stop()
    assert code == 0, server.stderr
    assert "Traceback" not in server.stderr
    json_lines(server.stderr)


def test_serve_with_its_worker_logs_json_lines_and_stops_both_on_sigterm(tmp_path):
    server, port = start_serve(tmp_path)
    try:
        assert server.wait_for(lambda: server.logged("worker") and server.logged("started"))
        assert get(port, "/healthz")[0] == 200
    finally:
        code = server.stop()
    assert code == 0, server.stderr
    entries = json_lines(server.stderr)
    messages = [e["message"] for e in entries]
    assert any(m == f"listening on port {port}" for m in messages), messages
    assert any(re.fullmatch(r"worker \S+ started", m) for m in messages), messages
    assert any(re.fullmatch(r"worker \S+ stopped", m) for m in messages), messages
    assert {e["logger"] for e in entries} >= {"bot.server", "bot.worker"}


def test_worker_logs_json_lines_even_for_a_failing_delivery_and_stops_on_sigterm(tmp_path):
    seeded = run_bot("seed", "--demo", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    json_lines(seeded.stderr)
    broken = add_broken_delivery(tmp_path / "kentconnects.db", "demo@kent.gov.uk")

    def marked() -> bool:
        # The failure is logged when the delivery is claimed and marked a moment later: a stop
        # between the two hands it back ("released at shutdown"), as a stop should.
        with sqlite3.connect(tmp_path / "kentconnects.db") as connection:
            row = connection.execute("SELECT status FROM delivery WHERE id = ?", (broken,)).fetchone()
        return row is not None and row[0] == "failed"

    worker = Running("worker", cwd=tmp_path)
    try:
        assert worker.wait_for(lambda: worker.logged("unreadable payload") and marked()), worker.stderr
    finally:
        code = worker.stop()
    assert code == 0, worker.stderr
    entries = json_lines(worker.stderr)
    failure = next(e for e in entries if "unreadable payload" in e["message"])
    assert failure["level"] == "error" and failure["logger"] == "bot.dispatcher"
    assert f"delivery {broken}" in failure["message"]
    assert "Traceback" in failure["exception"]  # the traceback travels inside the JSON object
    assert any(re.fullmatch(r"worker \S+ stopped", e["message"]) for e in entries)
    with sqlite3.connect(tmp_path / "kentconnects.db") as connection:
        status, error = connection.execute("SELECT status, last_error FROM delivery WHERE id = ?", (broken,)).fetchone()
    assert (status, error) == ("failed", "unreadable message")


def test_a_console_chat_that_fails_logs_a_json_line_with_its_request_id(tmp_path):
    seeded = run_bot("seed", "--demo", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    add_broken_delivery(tmp_path / "kentconnects.db", "demo@kent.gov.uk")

    result = run_bot("console", cwd=tmp_path, stdin="my data\nwhoami\n")
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.rstrip("\n").split("\n\n")
    assert "something went wrong" in first
    assert "Demo User (KCC)" in second  # the chat goes on
    entries = json_lines(result.stderr)
    # The console's inbox meets the broken message first: it logs it and sets it aside.
    unreadable = next(e for e in entries if e["level"] == "error")
    assert unreadable["logger"] == "handlers.notices" and "unreadable payload" in unreadable["message"]
    failure = next(e for e in entries if e["level"] == "error" and e["logger"] == "bot.router")
    assert failure["message"].startswith("request failed")
    assert re.fullmatch(r"[0-9a-f]{12}", failure["request_id"])
    assert "AttributeError" in failure["exception"]
    assert "\n" not in result.stderr.strip().splitlines()[0]


def test_healthz_is_503_when_the_database_stops_answering(tmp_path):
    url = pg_or_skip()
    target = make_url(url)
    if not target.host:
        _drop_schema(url)
        pytest.skip("the test PostgreSQL server is reached through a socket file; the proxy needs TCP")
    proxy = TcpProxy(target.host, target.port or 5432)
    proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = None
    try:
        server, port = start_serve(tmp_path, "--no-worker", env={"DATABASE_URL": proxied})
        status, _, body = get(port, "/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"

        proxy.stop()  # the database goes away
        answers: list[tuple[int, dict]] = []

        def unavailable() -> bool:
            status, _, body = get(port, "/healthz")
            answers.append((status, json.loads(body)))
            return status == 503

        assert server.wait_for(unavailable, seconds=60), answers
        status, kind, body = get(port, "/healthz")
        assert status == 503 and kind.startswith("application/json")
        assert json.loads(body)["status"] == "unavailable"
        assert server.process.poll() is None  # still running, just unhealthy
    finally:
        proxy.stop()
        if server is not None:
            code = server.stop()
        _drop_schema(url)
    assert code == 0, server.stderr
    assert "Traceback" not in "\n".join(line for line in server.lines if not line.startswith("{"))
    json_lines(server.stderr)


# --- the worker hands back what it claimed ---------------------------------------------------------


class BlockingSender:
    """A console sender whose first send blocks until the test releases it."""

    platform = "console"
    by_email = True  # reaches anyone by e-mail address, as a test stand-in

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls: list[str] = []

    def rate_limit(self, recipient: Recipient):
        return None

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        self.calls.append(message.text)
        self.entered.set()
        if not self.release.wait(timeout=120):
            return SendResult(Outcome.RETRY, "never released")
        return SendResult.sent()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request, tmp_path):
    """A fresh, migrated database of each kind, for a test whose worker commits from its own threads."""
    generator = fresh_database(request.param, tmp_path)
    database = next(generator)
    try:
        yield database
    finally:
        generator.close()


def test_worker_stop_finishes_the_message_in_hand_and_hands_back_the_rest(fresh):
    sessions = db.make_session_factory(fresh.engine)
    due = datetime.now(UTC) - timedelta(minutes=1)
    with sessions.begin() as session:
        people = [Person(email=f"worker{i}@example.test", display_name=f"Worker {i}") for i in range(6)]
        session.add_all(people)
        session.flush()
        for i, person in enumerate(people):
            delivery_queries.record(
                session, "notice", "test:stop", "1", [person.id], Reply(f"message {i}").to_data(), due_at=due
            )
        session.execute(update(Delivery).values(attempts=2))  # earlier failed tries, to be kept
        ids = list(session.execute(select(Delivery.id).order_by(Delivery.id)).scalars())
    assert len(ids) == 6

    sender = BlockingSender()
    # One send at a time, so that one message is in hand (tests/bot/test_dispatch_batches.py stops
    # a dispatcher with a send in flight in each of several lanes).
    policy = Policy(batch=4, concurrency=1)
    worker = Worker(sessions, Settings(database_url=fresh.url, timezone=ZONE), [sender], policy=policy)
    worker.start()
    stopper = threading.Thread(target=worker.stop)
    try:
        assert sender.entered.wait(timeout=60), "the worker never sent anything"
        with sessions() as session:  # a batch of four is in hand, the first being sent
            claimed = {d.id: d.status for d in session.execute(select(Delivery)).scalars()}
        assert [claimed[i] for i in ids[:4]] == [DeliveryStatus.SENDING] * 4
        # The next batch is claimed while this one is sent (it may not have been yet).
        assert {claimed[i] for i in ids[4:]} <= {DeliveryStatus.PENDING, DeliveryStatus.SENDING}
        stopper.start()
        assert worker.dispatcher.stopping.wait(timeout=30)
    finally:
        sender.release.set()
        if stopper.ident is None:  # the test failed before stopping the worker: stop it anyway
            stopper.start()
        stopper.join(timeout=60)
    assert not stopper.is_alive() and worker.stopped.is_set()

    with sessions() as session:
        rows = {d.id: d for d in session.execute(select(Delivery)).scalars()}
    sent, handed_back, untouched = rows[ids[0]], [rows[i] for i in ids[1:4]], [rows[i] for i in ids[4:]]
    assert sender.calls == ["message 0"]  # nothing else was sent after the stop
    assert sent.status is DeliveryStatus.SENT and sent.sent_at is not None and sent.lease_owner is None
    assert sent.attempts == 2
    for row in handed_back:
        assert row.status is DeliveryStatus.PENDING
        assert (row.lease_owner, row.lease_expires_at) == (None, None)
        assert row.attempts == 2
        assert row.last_error == "released at shutdown"
        assert row.sent_at is None
    for row in untouched:  # the next batch, if it was claimed, was handed back unsent
        assert (row.status, row.lease_owner, row.attempts) == (DeliveryStatus.PENDING, None, 2)
        assert row.last_error in (None, "released at shutdown") and row.sent_at is None
