"""Engine, sessions and migrations for any SQLAlchemy URL (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, any_, bindparam, create_engine, event, text
from sqlalchemy.dialects.postgresql import ARRAY, insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
logger = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Accept the spellings hosting platforms give (postgres://) and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# PostgreSQL: a pooled connection older than this is replaced at its next checkout (servers,
# proxies and load balancers drop idle connections); a connection found dead in use invalidates
# the pool (SQLAlchemy's "pessimistic" pre-ping would cost a round trip at every checkout).
POOL_RECYCLE_SECONDS = 1800
# SQLite: how long a write transaction waits for the database, first for this process's other
# writer (the lock below), then for another process's (SQLite's busy timeout).
SQLITE_TIMEOUT_SECONDS = 30.0
# An execution option: transactions on such a connection only read (see `reader`).
READ_ONLY = "kc_read_only"


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        connect_args = {"timeout": SQLITE_TIMEOUT_SECONDS, **kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _fix_sqlite_transactions(engine, float(connect_args["timeout"]))
        return engine
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    return create_engine(url, **kwargs)


def reader(engine: Engine) -> Engine:
    """The same engine (same pool) for transactions that only read: on SQLite they begin DEFERRED,
    so in WAL mode they read a snapshot beside a writer instead of queueing for the write lock.
    A transaction begun here must not write (it could fail at once with "database is locked"
    when another connection wrote since its snapshot). On PostgreSQL nothing changes."""
    return engine.execution_options(**{READ_ONLY: True})


def is_memory_database(engine_url: URL) -> bool:
    database = engine_url.database or ""
    return (
        database in ("", ":memory:") or database.startswith("file::memory:") or engine_url.query.get("mode") == "memory"
    )


# One writer per database file per process: threads queue on this lock instead of in SQLite's
# busy handler, which sleeps up to 100 ms between tries (so under load p99 was seconds).
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()
_HELD = "kc_sqlite_write_lock"  # in the pooled connection's info while it holds the lock


def write_lock(database: str) -> threading.Lock:
    """The process-wide writer lock of a SQLite database file (the same for every engine on it)."""
    key = os.path.realpath(database)
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


def _release(info: Optional[dict]) -> None:
    held = info.pop(_HELD, None) if info is not None else None
    if held is not None:
        held.release()


def _info(dbapi_connection) -> Optional[dict]:
    """The pooled connection's info (None for a bare one, as at the engine's first connect)."""
    try:
        return dbapi_connection.info
    except (AttributeError, NotImplementedError):
        return None


def _fix_sqlite_transactions(engine: Engine, timeout: float) -> None:
    # The sqlite3 module's own transaction handling breaks SAVEPOINT and defers BEGIN; take
    # it over as SQLAlchemy's documentation recommends ("Serializable isolation / Savepoints").
    # BEGIN IMMEDIATE takes the write lock at the start: SQLite is then a correct single
    # writer (two read-then-write transactions cannot interleave, e.g. over an event's last
    # place), where a deferred BEGIN would fail one of them with "database is locked".
    # A file database runs in WAL mode: readers never wait for the writer, nor it for them.
    memory = is_memory_database(engine.url)
    lock = None if memory else write_lock(engine.url.database or "")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not memory:
            # WAL is kept in the file once set, but a database copied in without it gets it here.
            mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                logger.warning("SQLite kept journal_mode=%s (WAL refused: a read-only or network file system?)", mode)
            # In WAL mode NORMAL is safe against a process crash; a power cut may lose the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        if lock is None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        info = connection.connection.info
        if not lock.acquire(timeout=timeout):
            raise OperationalError(
                "BEGIN IMMEDIATE",
                None,
                sqlite3.OperationalError(
                    f"database is locked (another thread of this process wrote for {timeout:g} s)"
                ),
            )
        info[_HELD] = lock
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # another process may hold SQLite's lock: busy timeout
        except BaseException:
            _release(info)
            raise

    # The lock is released once COMMIT or ROLLBACK has run: the engine's commit and rollback
    # events fire before them, and a writer let in earlier would meet SQLite's lock still held.
    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def commit_then_release(dbapi_connection):
        try:
            do_commit(dbapi_connection)
        finally:
            _release(_info(dbapi_connection))

    def rollback_then_release(dbapi_connection):
        try:
            do_rollback(dbapi_connection)
        finally:
            _release(_info(dbapi_connection))

    if lock is not None:
        dialect.do_commit = commit_then_release  # type: ignore[method-assign]
        dialect.do_rollback = rollback_then_release  # type: ignore[method-assign]

        # A connection invalidated or closed in a transaction (no ROLLBACK is then sent) releases
        # it too; and none goes back to the pool holding it.
        @event.listens_for(engine, "invalidate")
        def _on_invalidate(_dbapi_connection, record, _exception):
            _release(record.info)

        @event.listens_for(engine, "close")
        def _on_close(_dbapi_connection, record):
            _release(record.info)

        @event.listens_for(engine, "checkin")
        def _on_checkin(_dbapi_connection, record):
            if record is not None and _HELD in record.info:
                logger.warning("a SQLite connection came back to the pool holding the write lock; released")
                _release(record.info)


def insert_for(session: Session, model):
    """An INSERT that knows ON CONFLICT on both databases we run on (PostgreSQL and SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(model)
    return sqlite_insert(model)


def among(session: Session, column: Any, ids: Iterable[Any]) -> Any:
    """`column IN ids`; on PostgreSQL `= ANY(array)`, one parameter however many ids (a batch's
    IN list of hundreds of parameters costs more to render and parse than to run)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(column.type)))
    return column.in_(list(ids))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(connection=None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision` (idempotent)."""
    with migration_connection(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction for schema changes; on SQLite with foreign keys off."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    # SQLite's procedure for rebuilding tables ("Making Other Kinds Of Table Schema Changes"):
    # with foreign keys on, dropping a parent table would CASCADE-delete its children's rows.
    # The pragma is ignored inside a transaction, so it is set on the raw connection before
    # the "begin" listener's BEGIN IMMEDIATE.
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None  # a connection just checked out of the pool has its DBAPI connection
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"The migration broke foreign keys (table, rowid, parent, fk): {broken[:10]}")
        finally:
            try:
                raw.execute("PRAGMA foreign_keys=ON")
            except Exception:
                connection.invalidate()  # never back to the pool with foreign keys off


def database_answers(engine: Engine) -> bool:
    try:
        with reader(engine).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not answering"; the caller reports it
        return False
