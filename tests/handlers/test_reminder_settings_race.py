"""A person's first `reminders off` (or `on`, or lead times) sent twice at once, as a double-click
or a platform retry does: both get the polite answer and one settings row exists. On PostgreSQL
with real concurrent transactions (SQLite's BEGIN IMMEDIATE runs them one after the other)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import event, func, select

from bot.router import Router
from core.messages import Request
from core.settings import Settings
from storage import db
from storage.demo import load_demo
from storage.models import Person, ReminderSetting
from tests.conftest import ADMIN, DEMO_DAY, NOW, ZONE, Database

NEWCOMER = "someone@medway.gov.uk"  # a partner's staff, who has never set their reminders
OFF = "Automatic reminders are off"
ON = "Automatic reminders are on"


def router_for(database: Database) -> Router:
    sessions = db.make_session_factory(database.engine)
    with sessions.begin() as session:
        load_demo(session, DEMO_DAY, ZONE)
    return Router(sessions, Settings(database_url=database.url, timezone=ZONE, admins=frozenset({ADMIN})))


def ask(router: Router, text: str) -> str:
    return router.handle(Request(text=text, platform="console", user_id=NEWCOMER, email=NEWCOMER, now=NOW)).plain_text()


def at_once(router: Router, texts: list[str], meet: Callable[[threading.Barrier], None]) -> list[str]:
    """Each text in a thread of its own; `meet` makes the threads reach the same point together."""
    barrier, answers, errors = threading.Barrier(len(texts)), {}, []

    def worker(index: int, text: str) -> None:
        try:
            meet(barrier)
            answers[index] = ask(router, text)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i, t)) for i, t in enumerate(texts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(answers) == len(texts), errors
    return [answers[i] for i in range(len(texts))]


def settings_rows(database: Database) -> list[ReminderSetting]:
    with db.make_session_factory(database.engine)() as session:
        return list(session.execute(select(ReminderSetting).join(Person).where(Person.email == NEWCOMER)).scalars())


@pytest.fixture
def before_reminder_settings(pg: Database):
    """Makes the request threads wait for each other just before their first statement on
    reminder_setting, so that both look for the row before either has made it."""
    waited = threading.local()

    def hold(conn, cursor, statement, parameters, context, executemany):
        if getattr(waited, "barrier", None) and "reminder_setting" in statement:
            barrier, waited.barrier = waited.barrier, None
            barrier.wait(timeout=10)

    event.listen(pg.engine, "before_cursor_execute", hold)

    def meet(barrier: threading.Barrier) -> None:
        waited.barrier = barrier

    try:
        yield meet
    finally:
        event.remove(pg.engine, "before_cursor_execute", hold)


@pytest.mark.parametrize(
    "texts, answer, enabled, leads",
    [
        (["reminders off", "reminders off"], OFF, False, ["7d", "1d"]),
        (["reminders on", "reminders on"], ON, True, ["7d", "1d"]),
        (["reminders 3 days, 2 hours", "reminders 3 days, 2 hours"], "Done: I'll remind you", True, ["3d", "2h"]),
    ],
)
def test_two_first_settings_at_once_both_answer_politely(pg, before_reminder_settings, texts, answer, enabled, leads):
    router = router_for(pg)
    assert "someone@medway.gov.uk" in ask(router, "whoami")  # known, but no settings yet
    assert settings_rows(pg) == []

    answers = at_once(router, texts, before_reminder_settings)

    assert all(a.startswith(answer) for a in answers), answers
    [row] = settings_rows(pg)
    assert (row.enabled, row.lead_times) == (enabled, leads)


def test_off_and_on_at_once_leave_one_row_with_one_of_them(pg, before_reminder_settings):
    router = router_for(pg)
    ask(router, "whoami")

    answers = at_once(router, ["reminders off", "reminders on"], before_reminder_settings)

    assert answers[0].startswith(OFF) and answers[1].startswith(ON), answers
    [row] = settings_rows(pg)
    assert row.lead_times == ["7d", "1d"]  # whichever came last decided `enabled`


def test_a_brand_new_person_s_first_reminders_off_twice_at_once(pg):
    # The person is made by the same requests, so the threads can only start together; the
    # second then waits on the person's unique e-mail until the first commits (passed before too).
    router = router_for(pg)

    answers = at_once(router, ["reminders off", "reminders off"], lambda barrier: barrier.wait(timeout=10))

    assert all(a.startswith(OFF) for a in answers), answers
    [row] = settings_rows(pg)
    assert row.enabled is False
    with db.make_session_factory(pg.engine)() as session:
        assert session.execute(select(func.count()).select_from(Person).where(Person.email == NEWCOMER)).scalar() == 1
