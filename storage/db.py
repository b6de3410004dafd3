"""Engine, sessions and migrations for any SQLAlchemy URL (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept the spellings hosting platforms give (postgres://) and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _fix_sqlite_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _fix_sqlite_transactions(engine: Engine) -> None:
    # The sqlite3 module's own transaction handling breaks SAVEPOINT and defers BEGIN; take
    # it over as SQLAlchemy's documentation recommends ("Serializable isolation / Savepoints").
    # BEGIN IMMEDIATE takes the write lock at the start: SQLite is then a correct single
    # writer (two read-then-write transactions cannot interleave, e.g. over an event's last
    # place), where a deferred BEGIN would fail one of them with "database is locked".
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_for(session: Session, model):
    """An INSERT that knows ON CONFLICT on both databases we run on (PostgreSQL and SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(model)
    return sqlite_insert(model)


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
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not answering"; the caller reports it
        return False
