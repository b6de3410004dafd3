"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: `KC_TEST_DATABASE_URL` (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
Each run works in a schema of its own, dropped at the end. Without a server the PostgreSQL
tests are skipped with the reason, except under CI (`CI=true` or `KC_REQUIRE_POSTGRES=1`),
where a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Optional
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.router import Router
from core.messages import Reply, Request
from core.settings import Settings
from storage import db
from storage.demo import DEMO_USER, load_demo

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ZONE = "Europe/London"
# The demo is loaded as if on this day, and chats happen at NOW unless a test says otherwise.
DEMO_DAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
ADMIN = "pmo.admin@kent.gov.uk"


def _postgres_required() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get("KC_REQUIRE_POSTGRES") == "1"


@dataclass
class Database:
    kind: str
    url: str
    engine: Engine


def _postgres_url_with_schema(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"


def _open_postgres() -> tuple[str, Optional[str]]:
    """A URL for a fresh schema on the test server, or the reason there is none."""
    base = db.normalise_url(os.environ.get("KC_TEST_DATABASE_URL", PG_DEFAULT))
    probe = db.make_engine(base, connect_args={"connect_timeout": 3})
    try:
        with probe.connect() as connection:
            schema = f"kc_test_{uuid.uuid4().hex[:10]}"
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            connection.commit()
    except Exception as exc:  # the reason is reported in the skip or failure message
        return "", f"PostgreSQL at {base} is not reachable ({exc.__class__.__name__}: {str(exc).splitlines()[0]})"
    finally:
        probe.dispose()
    return _postgres_url_with_schema(base, schema), None


def _drop_schema(url: str) -> None:
    schema = url.rsplit("search_path%3D", 1)[1]
    base = url.split("?options=", 1)[0].split("&options=", 1)[0]
    engine = db.make_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def fresh_database(kind: str, tmp_dir) -> Iterator[Database]:
    """A migrated, empty database of the given kind, removed afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_dir / 'kc-test.db'}"
    else:
        url, reason = _open_postgres()
        if reason:
            if _postgres_required():
                pytest.fail(
                    f"{reason}; CI must run the PostgreSQL tests (start it with "
                    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)"
                )
            pytest.skip(f"{reason}; set KC_TEST_DATABASE_URL to run the PostgreSQL tests")
    engine = db.make_engine(url)
    db.upgrade(engine)
    try:
        yield Database(kind, url, engine)
    finally:
        engine.dispose()
        if kind == "postgresql":
            _drop_schema(url)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory) -> Iterator[Database]:
    """The shared test database of each kind, with the real partners and the demo loaded."""
    generator = fresh_database(request.param, tmp_path_factory.mktemp(request.param))
    database = next(generator)
    with database.engine.begin() as connection, Session(bind=connection) as session:
        load_demo(session, DEMO_DAY, ZONE)
        session.flush()
    yield database
    generator.close()


@pytest.fixture
def pg(tmp_path) -> Iterator[Database]:
    """A fresh, migrated PostgreSQL schema of its own, for tests that need real commits across
    connections (skipped with the reason without a server, a failure under CI)."""
    generator = fresh_database("postgresql", tmp_path)
    database = next(generator)
    try:
        yield database
    finally:
        generator.close()


@pytest.fixture
def connection(database: Database):
    """A connection whose outer transaction is rolled back after the test."""
    with database.engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


@pytest.fixture
def sessions(connection) -> sessionmaker[Session]:
    # The router's own `begin()` becomes a SAVEPOINT inside the test's transaction.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(sessions) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database_url=database.url, timezone=ZONE, admins=frozenset({ADMIN}))


class Chat:
    """Drives the router as the console adapter does: words in, plain text out."""

    def __init__(self, router: Router):
        self.router = router
        self.user = DEMO_USER
        self.now = NOW

    def reply(
        self, text: str, user: Optional[str] = None, now: Optional[datetime] = None, platform: str = "console"
    ) -> Reply:
        email = user or self.user
        return self.router.handle(
            Request(text=text, platform=platform, user_id=email, email=email, now=now or self.now)
        )

    def __call__(self, text: str, user: Optional[str] = None, now: Optional[datetime] = None) -> str:
        return self.reply(text, user, now).plain_text()


@pytest.fixture
def declare_command():
    """Declare a command for one test, first in routing order; withdrawn afterwards."""
    from core.commands import COMMANDS, Command, words

    declared: list[str] = []

    def declare(intent: str, pattern: str, handler, **fields) -> Command:
        command = COMMANDS.declare(
            Command(intent=intent, handler=handler, patterns=words(pattern), **fields), first=True
        )
        declared.append(intent)
        return command

    yield declare
    for intent in declared:
        COMMANDS.withdraw(intent)


@pytest.fixture
def chat(sessions, settings) -> Chat:
    return Chat(Router(sessions, settings))


def both_platforms(database: Database) -> Settings:
    """Settings that serve Slack and Teams (no server runs: for routing and delivery choices)."""
    return Settings(
        database_url=database.url,
        timezone=ZONE,
        admins=frozenset({ADMIN}),
        slack_bot_token="xoxb-test",
        slack_signing_secret="test-secret",
        teams_app_id="00000000-0000-0000-0000-000000000001",
        teams_app_password="test-password",
    )
