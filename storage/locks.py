"""Named locks shared by every process on the database: one holder at a time, whichever replica.

For work that calls out while it must not run twice at once, such as spending a Slack refresh
token (a refresh token works once: two replicas refreshing together would leave one of them
with a token Slack has already replaced). On PostgreSQL a transaction-level advisory lock, so
that a process that dies lets go with its connection; on SQLite, which lives on one host, an
exclusive lock on a file beside the database (an in-memory database has one process: a
thread lock).
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

WAIT_SECONDS = 30  # longer than a refresh takes; then the waiter fails instead of hanging
_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()


def _key(name: str) -> int:
    """A signed 64-bit number for the name (pg_advisory_xact_lock's key)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def held(engine: Engine, name: str) -> Iterator[None]:
    """Hold the lock called `name` for the block; wait (up to WAIT_SECONDS) while another holds it."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text(f"SET LOCAL lock_timeout = '{WAIT_SECONDS}s'"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _key(name)})
            yield  # released when this transaction ends, or with the connection
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _memory_guard:
            lock = _memory_locks.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=WAIT_SECONDS):
            raise TimeoutError(f"the lock {name!r} was held for over {WAIT_SECONDS} s")
        try:
            yield
        finally:
            lock.release()
        return
    path = Path(database).with_name(Path(database).name + f".lock-{_key(name) & 0xFFFFFFFF:08x}")
    with open(path, "a+b") as handle:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:  # let go when the file is closed, or the process ends
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the lock {name!r} was held for over {WAIT_SECONDS} s") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
