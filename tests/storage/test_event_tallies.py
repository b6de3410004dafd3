"""The places and waitlists counted on the event row (Event.taken_in_person ... waiting_online,
kept by the triggers of migration 0015) always equal COUNT(*) over the registrations, on SQLite
and PostgreSQL: after random sequences of everything that changes a registration, under
concurrency on real commits, after the migration's backfill of existing rows. And the events
handlers' own work stays at two statements for `events` and for `register N`."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import event as sa_event, func, select, text
from sqlalchemy.orm import Session

from core.messages import Request
from handlers import conversation, events as event_handlers
from handlers.base import Context
from handlers.people import resolve_caller
from storage import db, events as event_queries, privacy
from storage.models import (
    AttendanceMode,
    Event,
    EventFormat,
    EventStatus,
    Person,
    Registration,
    RegistrationStatus,
)
from storage.people import get_or_create_person
from tests.conftest import NOW, ZONE, Database, fresh_database
from tests.storage.test_event_registration import Live, _live, new_event, seed, together

IN_PERSON, ONLINE = AttendanceMode.IN_PERSON, AttendanceMode.ONLINE
CONFIRMED, WAITLISTED, WITHDRAWN = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.WITHDRAWN,
)
COUNTED = (CONFIRMED, WAITLISTED)


def kept(session: Session, event_ids: list[int]) -> dict[tuple[int, AttendanceMode, RegistrationStatus], int]:
    """The counters on the event rows, as stored (read in SQL, not from loaded objects)."""
    names = list(event_queries.COUNTERS.items())
    rows = session.execute(
        select(Event.id, *(getattr(Event, name) for _, name in names)).where(Event.id.in_(event_ids))
    ).all()
    return {
        (row[0], mode, status): value for row in rows for ((mode, status), _), value in zip(names, row[1:], strict=True)
    }


def counted(session: Session, event_ids: list[int]) -> dict[tuple[int, AttendanceMode, RegistrationStatus], int]:
    """The same, by COUNT(*) over the registrations."""
    found = {(e, mode, status): 0 for e in event_ids for mode in AttendanceMode for status in COUNTED}
    for event_id, mode, status, n in session.execute(
        select(Registration.event_id, Registration.mode, Registration.status, func.count())
        .where(Registration.event_id.in_(event_ids), Registration.status.in_(COUNTED))
        .group_by(Registration.event_id, Registration.mode, Registration.status)
    ):
        found[(event_id, mode, status)] = n
    return found


def assert_consistent(session: Session, event_ids: list[int], after: str = "") -> None:
    session.flush()
    assert kept(session, event_ids) == counted(session, event_ids), after


# --- the triggers are there --------------------------------------------------------------------


def triggers(database: Database) -> set[str]:
    with database.engine.connect() as connection:
        if database.kind == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'registration'"
        else:
            sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = 'registration'::regclass"  # the table in the connection's search_path
        return set(connection.execute(text(sql)).scalars())


def test_the_counting_triggers_exist_at_head(database):
    # A later migration that rebuilds `registration` on SQLite would drop them unseen by the
    # schema comparison (tests/storage/test_migrations.py): this notices.
    expected = (
        {"tr_registration_tally_insert", "tr_registration_tally_delete", "tr_registration_tally_update"}
        if database.kind == "sqlite"
        else {"tr_registration_tally", "tr_registration_tally_update"}
    )
    assert triggers(database) == expected


# --- random sequences, in the shared databases ---------------------------------------------------


def _erase(session: Session, person_id: int) -> None:
    """As handlers.privacy does: places given up first (the queue moves on), then everything."""
    for reg in privacy.places_of(session, person_id):
        event_queries.unregister(session, reg.event, reg)
    privacy.erase(session, person_id, "a former member of Medway")


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_random_changes_keep_the_counters_equal_to_the_registrations(session, seed_value):
    rng = random.Random(seed_value)
    events = [
        new_event("Tally hybrid", EventFormat.HYBRID, in_person=3, online=2),
        new_event("Tally in person", EventFormat.IN_PERSON, in_person=2),
        new_event("Tally online", EventFormat.ONLINE, online=None),
    ]
    session.add_all(events)
    session.flush()
    event_ids = [e.id for e in events]
    people = [get_or_create_person(session, f"tally{seed_value}-{i}@medway.gov.uk").id for i in range(20)]
    session.flush()
    done: list[str] = []
    gone: set[int] = set()
    queued = 0  # the most people waiting at once, over the run

    def a_mode(event: Event) -> AttendanceMode:
        return rng.choice([m for m in AttendanceMode if event_queries.offers(event, m)])

    for step in range(160):
        event = session.get(Event, rng.choice(event_ids))
        pid = rng.choice([p for p in people if p not in gone])
        person = session.get(Person, pid)
        reg = event_queries.registration(session, event, person)
        what = rng.choices(
            ["register", "unregister", "capacity", "erase", "delete", "mode", "cancel"],
            weights=[40, 20, 12, 2, 2, 4, 1],
        )[0]
        if what == "register":
            try:
                event_queries.register(session, event, person, a_mode(event))
            except event_queries.EventClosed:
                what = "register refused (cancelled)"
        elif what == "unregister" and reg is not None:
            event_queries.unregister(session, event, reg)
        elif what == "capacity":  # as handlers.event_admin.edit_event: lock, change, promote
            event_queries.lock(session, event)
            mode = a_mode(event)
            floor = event_queries.counted(event, mode)
            new = rng.choice([None, floor, floor + 1, floor + 3])
            if mode is IN_PERSON:
                event.capacity_in_person = new
            else:
                event.capacity_online = new
            for m in AttendanceMode:
                event_queries.fill_places(session, event, m)
        elif what == "erase":
            _erase(session, pid)
            gone.add(pid)
        elif what == "delete":  # the person's row alone: ON DELETE CASCADE takes their registrations
            session.expunge_all()
            session.execute(text("DELETE FROM person WHERE id = :id"), {"id": pid})
            gone.add(pid)
        elif what == "mode" and reg is not None and event.format is EventFormat.HYBRID:
            # A change the application never makes: the triggers count it all the same.
            other = ONLINE if reg.mode is IN_PERSON else IN_PERSON
            session.execute(text("UPDATE registration SET mode = :m WHERE id = :id"), {"m": other.value, "id": reg.id})
        elif what == "cancel" and rng.random() < 0.3:
            event_queries.lock(session, event)
            event.status = EventStatus.CANCELLED
        else:
            what = "nothing"
        done.append(f"{step}: {what}")
        session.expire_all()
        assert_consistent(session, event_ids, after=" / ".join(done[-5:]))
        queued = max(
            queued, sum(n for (_, _, status), n in counted(session, event_ids).items() if status is WAITLISTED)
        )
    assert queued >= 3, "the sequence hardly filled a queue: choose other seeds"


def test_counters_are_read_with_the_event_and_fresh_after_a_change(session):
    event = new_event("Fresh counts", EventFormat.HYBRID, in_person=1, online=5)
    session.add(event)
    session.flush()
    assert (event.taken_in_person, event.waiting_in_person) == (0, 0)  # a new event: none yet
    a, b = (get_or_create_person(session, f"fresh{i}@medway.gov.uk") for i in range(2))
    event_queries.register(session, event, a, IN_PERSON)
    outcome = event_queries.register(session, event, b, IN_PERSON)
    assert (outcome.status, outcome.position) == (WAITLISTED, 1)
    # The objects loaded before do not know what the triggers did; taken() reads them again.
    assert event_queries.taken(session, event, IN_PERSON) == 1
    assert event_queries.taken(session, event, IN_PERSON, WAITLISTED) == 1
    assert event_queries.counted(event, ONLINE) == 0


def test_recount_corrects_a_counter_and_only_that(session):
    event = new_event("Recounted", EventFormat.HYBRID, in_person=2, online=2)
    session.add(event)
    session.flush()
    for i, mode in enumerate([IN_PERSON, IN_PERSON, IN_PERSON, ONLINE]):
        event_queries.register(session, event, get_or_create_person(session, f"recount{i}@medway.gov.uk"), mode)
    event_id = event.id
    assert event_queries.recount(session) == []  # the triggers were right everywhere
    before = session.execute(select(Event.updated_at).where(Event.id == event_id)).scalar_one()
    session.execute(text("UPDATE event SET taken_online = 7, waiting_in_person = 0 WHERE id = :id"), {"id": event_id})
    assert event_queries.recount(session) == [event_id]
    assert_consistent(session, [event_id])
    assert kept(session, [event_id])[(event_id, IN_PERSON, WAITLISTED)] == 1
    assert session.execute(select(Event.updated_at).where(Event.id == event_id)).scalar_one() == before


# --- the migration's backfill --------------------------------------------------------------------


def at_0014(kind: str, tmp_path) -> Iterator[Database]:
    """A database at revision 0014 (on PostgreSQL: migrated to head, then down)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'kc-0014.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine, "0014")
        try:
            yield Database(kind, url, engine)
        finally:
            engine.dispose()
        return
    generator = fresh_database(kind, tmp_path)
    database = next(generator)
    try:
        with db.migration_connection(database.engine) as connection:
            command.downgrade(db.alembic_config(connection), "0014")
        yield database
    finally:
        generator.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def old(request, tmp_path) -> Iterator[Database]:
    yield from at_0014(request.param, tmp_path)


def test_the_upgrade_counts_existing_registrations_and_the_triggers_take_over(old):
    start = datetime(2027, 1, 20, 10, 0)
    rows = [  # (event, mode, status) of each existing registration
        *[(0, "in_person", "confirmed")] * 3,
        *[(0, "in_person", "waitlisted")] * 2,
        *[(0, "online", "confirmed")] * 4,
        *[(0, "online", "withdrawn")] * 2,
        *[(1, "online", "waitlisted")] * 1,
    ]
    with old.engine.begin() as connection:  # in SQL: the models have the columns 0015 adds
        ids = []
        for i in range(3):
            connection.execute(
                text(
                    "INSERT INTO event (title, start_local, end_local, timezone, starts_at_utc, format, "
                    "capacity_in_person, capacity_online, status, sequence, updated_at) VALUES "
                    "(:t, :s, :e, :z, :s, 'hybrid', 3, 4, 'published', 0, :s)"
                ),
                {"t": f"Old {i}", "s": start, "e": start + timedelta(hours=2), "z": ZONE},
            )
            ids.append(connection.execute(text("SELECT max(id) FROM event")).scalar_one())
        for n, (which, mode, status) in enumerate(rows):
            connection.execute(
                text("INSERT INTO person (email, created_at) VALUES (:e, :now)"), {"e": f"old{n}@x.org", "now": start}
            )
            person = connection.execute(text("SELECT max(id) FROM person")).scalar_one()
            connection.execute(
                text(
                    "INSERT INTO registration (event_id, person_id, mode, status, queued_at, updated_at) "
                    "VALUES (:ev, :p, :m, :st, :q, :q)"
                ),
                {"ev": ids[which], "p": person, "m": mode, "st": status, "q": start + timedelta(minutes=n)},
            )
    db.upgrade(old.engine)
    with Session(old.engine) as session:
        assert kept(session, ids) == counted(session, ids)
        assert kept(session, ids)[(ids[0], IN_PERSON, WAITLISTED)] == 2
        assert kept(session, ids)[(ids[0], ONLINE, CONFIRMED)] == 4
        assert kept(session, ids)[(ids[2], ONLINE, CONFIRMED)] == 0
    with old.engine.begin() as connection:  # from now on the triggers count
        connection.execute(text("UPDATE registration SET status = 'confirmed' WHERE status = 'withdrawn'"))
        connection.execute(text("DELETE FROM registration WHERE status = 'waitlisted' AND mode = 'online'"))
    with Session(old.engine) as session:
        assert kept(session, ids) == counted(session, ids)
        assert kept(session, ids)[(ids[0], ONLINE, CONFIRMED)] == 6
    with db.migration_connection(old.engine) as connection:  # and the downgrade takes them away again
        command.downgrade(db.alembic_config(connection), "0014")
    with old.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM registration")).scalar_one() == len(rows) - 1
    assert triggers(old) == set()


# --- concurrency, on real commits ----------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request, tmp_path) -> Iterator[Live]:
    yield from _live(request.param, tmp_path)


def test_two_at_once_for_the_last_place(live):
    event_id, people = seed(live, 3, in_person=2)
    with live.sessions.begin() as session:
        event_queries.register(session, session.get(Event, event_id), session.get(Person, people[0]), IN_PERSON)

    def work(i: int) -> RegistrationStatus:
        with live.sessions.begin() as session:
            event = session.get(Event, event_id)
            return event_queries.register(session, event, session.get(Person, people[1 + i]), IN_PERSON).status

    statuses = together(2, work)
    assert sorted(s.value for s in statuses) == ["confirmed", "waitlisted"]  # exactly one has it
    with live.sessions() as session:
        assert_consistent(session, [event_id])
        assert kept(session, [event_id])[(event_id, IN_PERSON, CONFIRMED)] == 2
        assert kept(session, [event_id])[(event_id, IN_PERSON, WAITLISTED)] == 1


def test_an_erasure_and_a_registration_at_once_leave_the_place_to_the_newcomer(live):
    # The only place's holder is erased while someone else registers: whichever goes first,
    # the newcomer ends with the place (waitlisted, then promoted by the erasure; or at once).
    event_id, (holder, newcomer) = seed(live, 2, in_person=1)
    with live.sessions.begin() as session:
        event_queries.register(session, session.get(Event, event_id), session.get(Person, holder), IN_PERSON)

    def work(i: int) -> None:
        with live.sessions.begin() as session:
            if i == 0:
                _erase(session, holder)
            else:
                event_queries.register(session, session.get(Event, event_id), session.get(Person, newcomer), IN_PERSON)

    together(2, work)
    with live.sessions() as session:
        assert_consistent(session, [event_id])
        assert session.execute(select(Registration.person_id, Registration.status)).all() == [(newcomer, CONFIRMED)]


def test_many_changes_at_once_keep_the_counters(live):
    event_id, people = seed(live, 24, fmt=EventFormat.HYBRID, in_person=4, online=3)
    with live.sessions.begin() as session:
        event = session.get(Event, event_id)
        for pid in people[:12]:
            event_queries.register(session, event, session.get(Person, pid), IN_PERSON if pid % 2 else ONLINE)

    def work(i: int) -> None:
        with live.sessions.begin() as session:
            event = session.get(Event, event_id)
            person = session.get(Person, people[i])
            if i < 6:
                event_queries.unregister(session, event, event_queries.registration(session, event, person))
            elif i < 9:
                _erase(session, people[i])
            else:
                event_queries.register(session, event, person, ONLINE if i % 2 else IN_PERSON)

    together(len(people), work)
    with live.sessions() as session:
        assert_consistent(session, [event_id])
        taken = kept(session, [event_id])
        assert taken[(event_id, IN_PERSON, CONFIRMED)] == 4 and taken[(event_id, ONLINE, CONFIRMED)] == 3


# --- the handlers' own statements -------------------------------------------------------------


class Statements:
    """The SQL statements run on a connection meanwhile (SAVEPOINTs and their ends not counted)."""

    def __init__(self, connection):
        self.connection, self.seen = connection, []

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            self.seen.append(statement)

    def __enter__(self) -> list[str]:
        sa_event.listen(self.connection, "before_cursor_execute", self._count)
        return self.seen

    def __exit__(self, *exc) -> None:
        sa_event.remove(self.connection, "before_cursor_execute", self._count)


def context(session: Session, settings, email: str, text_: str) -> Context:
    request = Request(text=text_, platform="console", user_id=email, email=email, now=NOW)
    return Context(session, request, resolve_caller(session, request, settings), settings)


def fresh(session: Session, ctx: Context) -> None:
    """As a request's new session finds things: nothing loaded but what the router's prelude
    reads, the caller and their conversation's state."""
    session.flush()
    session.expire_all()
    session.refresh(ctx.caller.person)
    conversation.active(ctx)


@pytest.fixture
def page(session) -> list[Event]:
    """Ten more events to come beside the demo's: a full page (LIST_LIMIT) with one to spare."""
    made = [
        new_event(f"Page event {i}", EventFormat.IN_PERSON, in_person=2, start=datetime(2027, 2, 1 + i, 10))
        for i in range(event_handlers.LIST_LIMIT)
    ]
    session.add_all(made)
    session.flush()
    for i, event in enumerate(made):
        for n in range(3 if i % 2 else 1):  # full with one waiting, or one place left
            event_queries.register(
                session, event, get_or_create_person(session, f"page{i}-{n}@medway.gov.uk"), IN_PERSON
            )
    session.flush()
    return made


def test_events_is_two_statements_with_a_full_page(session, connection, settings, page):
    email = "page.reader@medway.gov.uk"
    ctx = context(session, settings, email, "events")
    person = ctx.caller.person
    for event in page[:3]:  # places, and a place in a queue, for the reader
        event_queries.register(session, event, person, IN_PERSON)
    fresh(session, ctx)
    with Statements(connection) as seen:
        reply = event_handlers.list_events(ctx)
    assert len(seen) <= 2, [" ".join(s.split())[:150] for s in seen]
    assert len(reply.items) == event_handlers.LIST_LIMIT
    text_ = reply.plain_text()
    # page[0] and page[2] had a place left, page[1] two taken and one waiting.
    assert text_.count("you have a place (in person)") == 2
    assert "you're number 2 on the in person waitlist" in text_
    assert "full, 2 on the waitlist" in text_ and "full, 1 on the waitlist" in text_  # the counters
    assert "1 of 2 places left" in text_


@pytest.mark.parametrize("how", ["a place", "the waitlist", "again", "coming back"])
def test_register_is_two_statements(session, connection, settings, page, how):
    email = "page.registrant@medway.gov.uk"
    ctx = context(session, settings, email, "register")
    person = ctx.caller.person
    roomy, full = page[0], page[1]  # one place left; full, one waiting
    target = full if how == "the waitlist" else roomy
    if how in ("again", "coming back"):
        event_queries.register(session, target, person, IN_PERSON)
    if how == "coming back":
        event_queries.unregister(session, target, event_queries.registration(session, target, person))
    number = str(target.id)
    fresh(session, ctx)
    with Statements(connection) as seen:
        reply = event_handlers.register(ctx, number)
    assert len(seen) <= 2, [" ".join(s.split())[:150] for s in seen]
    text_ = reply.plain_text()
    if how == "the waitlist":
        assert "so you're on the waitlist: number 2" in text_
        assert event_queries.waitlist_position(session, event_queries.registration(session, target, person)) == 2
    elif how == "again":
        assert "You're already registered" in text_ and "you have a place (in person)" in text_
    else:
        assert f"You have a place at {target.title}" in text_
    assert_consistent(session, [e.id for e in page])
