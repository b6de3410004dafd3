"""SQLite for concurrent use (storage/db.py): WAL, synchronous=NORMAL, one writer per process queued
on a lock rather than in SQLite's busy handler, read-only transactions that begin DEFERRED; and
PostgreSQL's pool without pre-ping, which a lost connection invalidates.

Real database files in a temporary folder, real threads and a real second process.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from storage import db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "wal.db"


@pytest.fixture
def engine(path):
    engine = db.make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (1, 0)")
        connection.exec_driver_sql("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)")
    yield engine
    engine.dispose()


def lock_of(path: Path):
    return db.write_lock(str(path))


def count(engine) -> int:
    with db.reader(engine).connect() as connection:
        return connection.exec_driver_sql("SELECT n FROM counter WHERE id = 1").scalar_one()


def test_a_file_database_runs_in_wal_with_synchronous_normal(engine, path):
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert path.with_name(path.name + "-wal").exists()


def test_a_memory_database_is_left_as_it_is():
    engine = db.make_engine("sqlite://")
    try:
        with engine.begin() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "memory"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_the_lock_is_held_from_begin_to_commit_and_shared_by_engines_on_one_file(engine, path):
    other = db.make_engine(f"sqlite:///{path}")
    try:
        lock = lock_of(path)
        assert not lock.locked()
        with engine.begin() as connection:
            assert lock.locked()
            connection.exec_driver_sql("UPDATE counter SET n = n + 1")
            # a second engine on the same file waits for this process's writer, not for SQLite
            assert not lock.acquire(blocking=False)
        assert not lock.locked()
        with other.begin():
            assert lock.locked()
        assert not lock.locked()
        # released at COMMIT and ROLLBACK, not only when the connection goes back to the pool
        with engine.connect() as connection:
            with connection.begin():
                connection.exec_driver_sql("UPDATE counter SET n = n + 1")
            assert not lock.locked()
            connection.begin()
            connection.exec_driver_sql("UPDATE counter SET n = n + 1")
            connection.rollback()
            assert not lock.locked()
    finally:
        other.dispose()


def test_threads_queue_for_the_writer_and_lose_no_update(engine, path):
    """Read-then-write increments from 8 threads: each sees the last one's commit."""
    errors: list[BaseException] = []

    def bump(times: int) -> None:
        try:
            for _ in range(times):
                with engine.begin() as connection:
                    n = connection.exec_driver_sql("SELECT n FROM counter WHERE id = 1").scalar_one()
                    connection.exec_driver_sql(f"UPDATE counter SET n = {n + 1} WHERE id = 1")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(40,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count(engine) == 8 * 40
    assert not lock_of(path).locked()


def test_a_failing_transaction_releases_the_lock(engine, path):
    lock = lock_of(path)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.exec_driver_sql("UPDATE counter SET n = n + 1")
        assert lock.locked()
        raise RuntimeError("the handler failed")
    assert not lock.locked()
    assert count(engine) == 0

    with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
        session.execute(text("INSERT INTO item (name) VALUES ('a'), ('a')"))
    assert not lock.locked()

    # a session closed without commit (the pool's reset rolls it back)
    session = Session(engine)
    session.execute(text("UPDATE counter SET n = 99"))
    assert lock.locked()
    session.close()
    assert not lock.locked()
    assert count(engine) == 0


def test_a_savepoint_keeps_the_lock_until_the_outer_transaction_ends(engine, path):
    lock = lock_of(path)
    with Session(engine) as session, session.begin():
        session.execute(text("INSERT INTO item (name) VALUES ('kept')"))
        with pytest.raises(IntegrityError), session.begin_nested():
            session.execute(text("INSERT INTO item (name) VALUES ('kept')"))
        assert lock.locked()
        with session.begin_nested():
            session.execute(text("INSERT INTO item (name) VALUES ('also')"))
        assert lock.locked()
    assert not lock.locked()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM item").scalar() == 2


def test_a_connection_invalidated_in_a_transaction_releases_the_lock(engine, path):
    lock = lock_of(path)
    with engine.connect() as connection:
        connection.begin()
        connection.exec_driver_sql("UPDATE counter SET n = n + 1")
        assert lock.locked()
        connection.invalidate()
        assert not lock.locked()
    with engine.begin() as connection:  # and the next writer gets in
        connection.exec_driver_sql("UPDATE counter SET n = n + 1")
    assert count(engine) == 1


def test_a_transaction_begun_in_one_thread_may_end_in_another(engine, path):
    """A session handed to a worker thread (asyncio.to_thread) commits there: the lock is not
    tied to the thread that took it."""
    lock = lock_of(path)
    session = Session(engine)
    session.execute(text("UPDATE counter SET n = n + 5"))
    finisher = threading.Thread(target=session.commit)
    finisher.start()
    finisher.join()
    session.close()
    assert not lock.locked()
    assert count(engine) == 5


def test_begin_failing_on_another_processes_lock_releases_ours(path):
    """Across processes SQLite's own lock and busy timeout remain; a BEGIN IMMEDIATE that times
    out leaves this process's lock free."""
    impatient = db.make_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            "c.execute('PRAGMA journal_mode=WAL')\n"
            "c.execute('CREATE TABLE IF NOT EXISTS t (x)')\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('holding', flush=True)\n"
            "sys.stdin.readline()\n"
            "c.execute('ROLLBACK')\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        with impatient.connect() as connection:
            with pytest.raises(OperationalError, match="locked"):
                connection.begin()
            assert time.monotonic() - started < 5
            assert not lock_of(path).locked()  # at once, not when the connection goes back
        # a reader is not held up by the other process's writer (WAL)
        with db.reader(impatient).connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(timeout=10) == 0
        with impatient.begin() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    finally:
        if holder.poll() is None:
            holder.kill()
        impatient.dispose()


def test_the_lock_wait_is_bounded(path):
    """A writer that waits longer than the timeout for this process's other writer fails as
    SQLite's busy timeout would, with "database is locked"."""
    impatient = db.make_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    try:
        with impatient.begin():
            errors: list[BaseException] = []

            def second() -> None:
                try:
                    with impatient.begin():
                        pass
                except BaseException as exc:  # checked below
                    errors.append(exc)

            thread = threading.Thread(target=second)
            thread.start()
            thread.join(timeout=10)
        assert len(errors) == 1 and isinstance(errors[0], OperationalError)
        assert "database is locked" in str(errors[0])
        assert not lock_of(path).locked()
    finally:
        impatient.dispose()


def test_a_reader_reads_a_snapshot_beside_the_writer(engine, path):
    """A read-only transaction begins DEFERRED: it neither waits for the writer's lock nor sees
    its uncommitted change."""
    lock = lock_of(path)
    writing = threading.Event()
    done = threading.Event()

    def writer() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE counter SET n = 7")
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        assert lock.locked()
        started = time.monotonic()
        with db.reader(engine).begin() as connection:
            assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 0
        assert time.monotonic() - started < 1
    finally:
        done.set()
        thread.join()
    assert count(engine) == 7


def test_two_processes_writing_lose_no_update(engine, path):
    """Two processes each with four threads: the in-process lock queues the threads, SQLite's
    BEGIN IMMEDIATE and busy timeout the processes."""
    script = (
        "import sys, threading\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from storage import db\n"
        f"engine = db.make_engine('sqlite:///{path}')\n"
        "def bump():\n"
        "    for _ in range(25):\n"
        "        with engine.begin() as c:\n"
        "            n = c.exec_driver_sql('SELECT n FROM counter').scalar_one()\n"
        "            c.exec_driver_sql(f'UPDATE counter SET n = {n + 1}')\n"
        "ts = [threading.Thread(target=bump) for _ in range(4)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    assert [proc.wait(timeout=120) for proc in procs] == [0, 0]
    assert count(engine) == 2 * 4 * 25


def test_postgres_has_no_pre_ping_and_recovers_from_a_lost_connection(pg):
    engine = db.make_engine(pg.url)
    try:
        assert engine.pool._pre_ping is False
        assert engine.pool._recycle == db.POOL_RECYCLE_SECONDS
        with engine.connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with pg.engine.begin() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # the pooled connection is dead: its first use fails, and the pool is invalidated
        with pytest.raises(OperationalError) as failed, engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        assert failed.value.connection_invalidated
        with engine.connect() as connection:  # a new connection, no retry needed at checkout
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    finally:
        engine.dispose()


def test_a_session_on_the_reader_takes_no_lock_and_one_on_the_engine_does(engine, path):
    """What /healthz and the calendar feeds use (bot/server.py): sessions bound to db.reader."""
    from sqlalchemy.orm import sessionmaker

    lock = lock_of(path)
    with sessionmaker(bind=db.reader(engine))() as session:
        assert session.execute(text("SELECT n FROM counter")).scalar() == 0
        assert not lock.locked()
    with sessionmaker(bind=engine)() as session:
        session.execute(text("SELECT n FROM counter"))
        assert lock.locked()
    assert not lock.locked()
