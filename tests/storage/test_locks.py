"""storage.locks: one holder at a time across processes, on SQLite (a file lock) and PostgreSQL
(an advisory lock); a waiter that waits too long gives up instead of hanging."""

from __future__ import annotations

import threading
import time

import pytest

from storage import db, locks


def test_one_holder_at_a_time_and_the_next_goes_when_it_lets_go(database):
    engine = db.make_engine(database.url)  # a replica of its own: its own connections
    try:
        order: list[str] = []
        held = threading.Event()

        def first() -> None:
            with locks.held(database.engine, "test-lock"):
                order.append("first in")
                held.set()
                time.sleep(0.3)
                order.append("first out")

        thread = threading.Thread(target=first)
        thread.start()
        held.wait(5)
        with locks.held(engine, "test-lock"):
            order.append("second in")
        thread.join(5)
        assert order == ["first in", "first out", "second in"]
        with locks.held(engine, "another-lock"), locks.held(database.engine, "test-lock"):
            pass  # other names, and the same name once let go, are free
    finally:
        engine.dispose()


def test_a_waiter_gives_up_after_the_wait(database, monkeypatch):
    monkeypatch.setattr(locks, "WAIT_SECONDS", 1)
    engine = db.make_engine(database.url)
    try:
        with (
            locks.held(database.engine, "busy-lock"),
            pytest.raises(Exception, match="lock"),
            locks.held(engine, "busy-lock"),
        ):
            pass
    finally:
        engine.dispose()
