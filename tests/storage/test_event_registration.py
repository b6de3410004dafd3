"""Places at events (storage.events): allocation, the waitlist in order, promotion, and the same
under concurrency on real commits.

The first part runs in the shared test databases (rolled back per test). The concurrency tests
each take a fresh, empty database of their own (conftest.fresh_database), because every thread
has to commit in a session of its own: on PostgreSQL, a row lock on the event serialises the
allocation; on SQLite, every write transaction starts with BEGIN IMMEDIATE, so the threads queue
for the database's write lock (the sqlite3 timeout, 30 s, lets them wait).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage import db, events as event_queries
from storage.models import (
    AttendanceMode,
    Event,
    EventFormat,
    EventStatus,
    Partner,
    PartnerDomain,
    Person,
    Registration,
    RegistrationStatus,
)
from storage.people import get_or_create_person
from tests.conftest import NOW, ZONE, fresh_database

UTC = timezone.utc
IN_PERSON, ONLINE = AttendanceMode.IN_PERSON, AttendanceMode.ONLINE
CONFIRMED, WAITLISTED, WITHDRAWN = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.WITHDRAWN,
)
START = datetime(2027, 1, 20, 10, 0)  # local wall time, GMT in January


def new_event(
    title: str = "Narwhal Forum",
    fmt: EventFormat = EventFormat.IN_PERSON,
    in_person=10,
    online=0,
    start: datetime = START,
    status: EventStatus = EventStatus.PUBLISHED,
) -> Event:
    has_room = fmt in (EventFormat.IN_PERSON, EventFormat.HYBRID)
    has_link = fmt in (EventFormat.ONLINE, EventFormat.HYBRID)
    event = Event(
        title=title,
        format=fmt,
        status=status,
        capacity_in_person=in_person if has_room else 0,
        capacity_online=online if has_link else 0,
    )
    event_queries.set_times(event, start, start + timedelta(hours=2), ZONE)
    return event


# --- allocation and the waitlist, in the shared databases ---------------------------------------


@pytest.fixture
def staff(session) -> list[Person]:
    people = [get_or_create_person(session, f"person{i}@medway.gov.uk") for i in range(8)]
    session.flush()
    assert all(p.partner is not None for p in people)
    return people


def add(session, event: Event) -> Event:
    session.add(event)
    session.flush()
    return event


def statuses(session, event: Event) -> dict[int, tuple[AttendanceMode, RegistrationStatus]]:
    session.flush()
    session.expire_all()
    rows = session.execute(
        select(Registration.person_id, Registration.mode, Registration.status).where(Registration.event_id == event.id)
    ).all()
    return {pid: (mode, status) for pid, mode, status in rows}


def test_places_then_the_waitlist_in_order(session, staff):
    event = add(session, new_event(in_person=2))
    outcomes = [event_queries.register(session, event, p, IN_PERSON) for p in staff[:5]]
    assert [o.status for o in outcomes] == [CONFIRMED, CONFIRMED, WAITLISTED, WAITLISTED, WAITLISTED]
    assert not any(o.already for o in outcomes)
    assert [event_queries.waitlist_position(session, o.registration) for o in outcomes[2:]] == [1, 2, 3]
    assert event_queries.places_left(session, event, IN_PERSON) == 0
    assert event_queries.taken(session, event, IN_PERSON) == 2
    assert event_queries.taken(session, event, IN_PERSON, WAITLISTED) == 3


def test_registering_again_is_the_same_row(session, staff):
    event = add(session, new_event(in_person=2))
    first = event_queries.register(session, event, staff[0], IN_PERSON)
    again = event_queries.register(session, event, staff[0], IN_PERSON)
    assert again.already and again.registration.id == first.registration.id and again.status is CONFIRMED
    assert event_queries.taken(session, event, IN_PERSON) == 1
    assert len(statuses(session, event)) == 1


def test_the_database_refuses_a_second_row_for_a_person(session, staff):
    event = add(session, new_event())
    event_queries.register(session, event, staff[0], IN_PERSON)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Registration(event_id=event.id, person_id=staff[0].id, mode=IN_PERSON, status=WAITLISTED))
        session.flush()
    assert len(statuses(session, event)) == 1


def test_unlimited_places_never_waitlist(session, staff):
    event = add(session, new_event(fmt=EventFormat.ONLINE, online=None))
    assert event_queries.capacity(event, ONLINE) is None
    assert event_queries.places_left(session, event, ONLINE) is None
    outcomes = [event_queries.register(session, event, p, ONLINE) for p in staff]
    assert {o.status for o in outcomes} == {CONFIRMED}
    assert event_queries.taken(session, event, ONLINE) == len(staff)


@pytest.mark.parametrize(
    "fmt, in_person, online",
    [(EventFormat.IN_PERSON, True, False), (EventFormat.ONLINE, False, True), (EventFormat.HYBRID, True, True)],
)
def test_what_each_format_offers(fmt, in_person, online):
    event = new_event(fmt=fmt, in_person=40, online=150)
    assert event_queries.offers(event, IN_PERSON) is in_person
    assert event_queries.offers(event, ONLINE) is online
    assert event_queries.capacity(event, IN_PERSON) == (40 if in_person else 0)
    assert event_queries.capacity(event, ONLINE) == (150 if online else 0)


def test_in_person_and_online_are_counted_separately(session, staff):
    event = add(session, new_event(fmt=EventFormat.HYBRID, in_person=1, online=1))
    a, b, c, d = staff[:4]
    assert event_queries.register(session, event, a, IN_PERSON).status is CONFIRMED
    assert event_queries.register(session, event, b, ONLINE).status is CONFIRMED
    assert event_queries.register(session, event, c, IN_PERSON).status is WAITLISTED
    online_wait = event_queries.register(session, event, d, ONLINE)
    assert online_wait.status is WAITLISTED
    assert event_queries.waitlist_position(session, online_wait.registration) == 1  # its own queue
    # An online place freed goes to the online queue, not to the in-person one.
    reg_b = event_queries.registration(session, event, b)
    promoted = event_queries.unregister(session, event, reg_b)
    assert [r.person_id for r in promoted] == [d.id]
    assert statuses(session, event) == {
        a.id: (IN_PERSON, CONFIRMED),
        b.id: (ONLINE, WITHDRAWN),
        c.id: (IN_PERSON, WAITLISTED),
        d.id: (ONLINE, CONFIRMED),
    }


def test_unregistering_a_place_promotes_the_first_in_the_queue(session, staff):
    event = add(session, new_event(in_person=2))
    regs = [event_queries.register(session, event, p, IN_PERSON).registration for p in staff[:5]]
    promoted = event_queries.unregister(session, event, regs[0])
    assert [r.id for r in promoted] == [regs[2].id]
    assert event_queries.taken(session, event, IN_PERSON) == 2
    assert [event_queries.waitlist_position(session, r) for r in regs[3:]] == [1, 2]
    assert statuses(session, event)[staff[0].id] == (IN_PERSON, WITHDRAWN)


def test_leaving_the_waitlist_promotes_nobody_and_moves_the_queue_up(session, staff):
    event = add(session, new_event(in_person=1))
    regs = [event_queries.register(session, event, p, IN_PERSON).registration for p in staff[:4]]
    assert event_queries.unregister(session, event, regs[1]) == []
    assert event_queries.taken(session, event, IN_PERSON) == 1
    assert [event_queries.waitlist_position(session, r) for r in regs[2:]] == [1, 2]


def test_coming_back_reuses_the_row_at_the_end_of_the_queue(session, staff):
    event = add(session, new_event(in_person=1))
    regs = [event_queries.register(session, event, p, IN_PERSON).registration for p in staff[:3]]
    event_queries.unregister(session, event, regs[1])  # leaves the waitlist
    back = event_queries.register(session, event, staff[1], IN_PERSON)
    assert not back.already and back.status is WAITLISTED
    assert back.registration.id == regs[1].id
    assert event_queries.waitlist_position(session, back.registration) == 2  # behind staff[2]
    assert len(statuses(session, event)) == 3


def test_more_places_promote_the_queue_in_order_up_to_the_new_limit(session, staff):
    event = add(session, new_event(in_person=1))
    regs = [event_queries.register(session, event, p, IN_PERSON).registration for p in staff[:6]]
    event.capacity_in_person = 3
    promoted = event_queries.fill_places(session, event, IN_PERSON)
    assert [r.id for r in promoted] == [regs[1].id, regs[2].id]
    assert event_queries.taken(session, event, IN_PERSON) == 3
    event.capacity_in_person = None
    promoted = event_queries.fill_places(session, event, IN_PERSON)
    assert [r.id for r in promoted] == [r.id for r in regs[3:]]
    assert event_queries.taken(session, event, IN_PERSON, WAITLISTED) == 0


def test_registrants_leave_out_withdrawn_and_keep_queue_order(session, staff):
    event = add(session, new_event(in_person=1))
    regs = [event_queries.register(session, event, p, IN_PERSON).registration for p in staff[:4]]
    event_queries.unregister(session, event, regs[2])
    listed = event_queries.registrants(session, event)
    assert [r.id for r in listed] == [regs[0].id, regs[1].id, regs[3].id]
    assert all(r.person.partner is not None for r in listed)


def test_my_registrations_are_upcoming_published_and_not_withdrawn(session, staff):
    person = staff[0]
    coming = add(session, new_event("Coming"))
    gone = add(session, new_event("Gone", start=datetime(2026, 6, 1, 10)))
    off = add(session, new_event("Off", status=EventStatus.CANCELLED))
    left = add(session, new_event("Left"))
    for event in (coming, gone, left):
        event_queries.register(session, event, person, IN_PERSON)
    # A registration made before the event was cancelled still exists; a new one is refused.
    session.add(Registration(event=off, person=person, mode=IN_PERSON, status=RegistrationStatus.CONFIRMED))
    session.flush()
    with pytest.raises(event_queries.EventClosed):
        event_queries.register(session, off, staff[1], IN_PERSON)
    event_queries.unregister(session, left, event_queries.registration(session, left, person))
    mine = event_queries.registrations_of(session, person, NOW)
    assert [r.event.title for r in mine] == ["Coming"]


def test_upcoming_and_past_lists(session):
    coming = add(session, new_event("Coming"))
    off = add(session, new_event("Off", status=EventStatus.CANCELLED))
    gone = add(session, new_event("Gone", start=datetime(2026, 11, 24, 10)))
    upcoming = event_queries.upcoming(session, NOW)
    past = event_queries.past(session, NOW)
    assert coming in upcoming and off not in upcoming and gone not in upcoming
    assert gone in past and coming not in past and off not in past
    assert past[0] is gone  # the most recent first


def test_times_agree_with_the_instant():
    event = new_event(start=datetime(2027, 6, 9, 10, 0))
    assert event.starts_at_utc == datetime(2027, 6, 9, 9, 0, tzinfo=UTC)  # BST
    with pytest.raises(ValueError):
        event_queries.set_times(event, datetime(2027, 6, 9, 10), datetime(2027, 6, 9, 10), ZONE)
    assert event.start_local == datetime(2027, 6, 9, 10, 0)  # unchanged by the refused call


# --- concurrency, on real commits -------------------------------------------------------------


@dataclass
class Live:
    kind: str
    engine: Engine
    sessions: sessionmaker[Session]


def _live(kind: str, tmp_path) -> Iterator[Live]:
    generator = fresh_database(kind, tmp_path)  # skips (or fails under CI) without PostgreSQL
    database = next(generator)
    if kind == "postgresql":
        # A connection for every thread at once.
        engine = db.make_engine(database.url, pool_size=20, max_overflow=50)
    else:
        engine = database.engine  # the threads queue for SQLite's write lock anyway
    try:
        yield Live(kind, engine, db.make_session_factory(engine))
    finally:
        if engine is not database.engine:
            engine.dispose()
        generator.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request, tmp_path) -> Iterator[Live]:
    yield from _live(request.param, tmp_path)


@pytest.fixture
def live_pg(tmp_path) -> Iterator[Live]:
    yield from _live("postgresql", tmp_path)


PARTNERS = (
    ("medway", "Medway Council", "medway.gov.uk"),
    ("kent-police", "Kent Police", "kent.police.uk"),
    ("swale", "Swale Borough Council", "swale.gov.uk"),
    ("cccu", "Canterbury Christ Church University", "canterbury.ac.uk"),
)


def seed(live: Live, people: int, **event_args) -> tuple[int, list[int]]:
    """Partners, `people` partner staff and one event, committed; the event's id and the people's ids."""
    with live.sessions.begin() as session:
        partners = []
        for slug, name, domain in PARTNERS:
            partner = Partner(slug=slug, name=name, short_name=name)
            partner.domains.append(PartnerDomain(domain=domain))
            partners.append(partner)
        session.add_all(partners)
        staff = [Person(email=f"person{i:02d}@{PARTNERS[i % 4][2]}", partner=partners[i % 4]) for i in range(people)]
        session.add_all(staff)
        event = new_event(**event_args)
        session.add(event)
        session.flush()
        return event.id, [p.id for p in staff]


def together(count: int, work: Callable[[int], object]) -> list[object]:
    """Run work(0..count-1) in as many threads, released at the same moment; their results."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[tuple[int, BaseException]] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = work(i)
        except BaseException as exc:  # reported below, with the thread's number
            errors.append((i, exc))

    threads = [threading.Thread(target=run, args=(i,), name=f"worker-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a thread never finished"
    assert not errors, errors[:3]
    return results


@dataclass
class Made:
    person_id: int
    registration_id: int
    status: RegistrationStatus
    already: bool
    position: int | None  # on the waitlist, as seen inside the transaction


def register_at_once(
    live: Live, event_id: int, person_ids: list[int], mode: AttendanceMode = IN_PERSON
) -> tuple[list[Made], list[int]]:
    """Everyone registers at once, each in a session of their own. Also the order in which the
    transactions held the event (appended while holding it, so it is the commit order)."""
    order: list[int] = []
    guard = threading.Lock()

    def work(i: int) -> Made:
        with live.sessions.begin() as session:
            event = session.get(Event, event_id)
            person = session.get(Person, person_ids[i])
            outcome = event_queries.register(session, event, person, mode)
            reg = outcome.registration
            position = event_queries.waitlist_position(session, reg) if outcome.status is WAITLISTED else None
            with guard:
                order.append(reg.id)
            return Made(person.id, reg.id, outcome.status, outcome.already, position)

    return together(len(person_ids), work), order


def snapshot(live: Live, event_id: int) -> dict[int, Registration]:
    with live.sessions() as session:
        rows = list(session.execute(select(Registration).where(Registration.event_id == event_id)).scalars())
        return {r.person_id: r for r in rows}


def positions(live: Live, event_id: int) -> dict[int, int]:
    """Waitlist position by registration id, read afresh."""
    with live.sessions() as session:
        waiting = session.execute(
            select(Registration).where(Registration.event_id == event_id, Registration.status == WAITLISTED)
        ).scalars()
        return {r.id: event_queries.waitlist_position(session, r) for r in waiting}


def person_rows(live: Live, event_id: int) -> list[tuple[int, int]]:
    with live.sessions() as session:
        return session.execute(
            select(Registration.person_id, func.count())
            .where(Registration.event_id == event_id)
            .group_by(Registration.person_id)
        ).all()


def test_sixty_at_once_for_ten_places_then_three_leave_at_once(live):
    event_id, people = seed(live, 60, in_person=10)
    made, order = register_at_once(live, event_id, people)

    # Exactly ten places, fifty in the queue, nobody twice.
    assert [m.status for m in made].count(CONFIRMED) == 10
    assert [m.status for m in made].count(WAITLISTED) == 50
    assert not any(m.already for m in made)
    rows = snapshot(live, event_id)
    assert set(rows) == set(people)
    assert all(count == 1 for _, count in person_rows(live, event_id))
    assert sum(r.status is CONFIRMED for r in rows.values()) == 10
    assert sum(r.status is WAITLISTED for r in rows.values()) == 50

    # The queue is consistent: the first ten to hold the event got the places, the rest queued
    # in the same order, positions 1..50 once each, as each was told at the time.
    by_id = {m.registration_id: m for m in made}
    assert len(order) == 60 and len(set(order)) == 60
    assert [by_id[i].status for i in order] == [CONFIRMED] * 10 + [WAITLISTED] * 50
    waiting_now = positions(live, event_id)
    assert sorted(waiting_now.values()) == list(range(1, 51))
    assert [waiting_now[i] for i in order[10:]] == list(range(1, 51))
    assert all(by_id[i].position == waiting_now[i] for i in order[10:])
    confirmed_times = [rows[by_id[i].person_id].queued_at for i in order[:10]]
    waiting_times = [rows[by_id[i].person_id].queued_at for i in order[10:]]
    assert max(confirmed_times) <= min(waiting_times)

    # Three with a place leave at once: the first three in the queue move up, in queue order.
    leavers = [by_id[i].person_id for i in order[:3]]
    first_three = order[10:13]
    promotion_order: list[list[int]] = []
    guard = threading.Lock()

    def leave(i: int) -> list[int]:
        with live.sessions.begin() as session:
            event = session.get(Event, event_id)
            reg = session.execute(
                select(Registration).where(Registration.event_id == event_id, Registration.person_id == leavers[i])
            ).scalar_one()
            promoted = [r.id for r in event_queries.unregister(session, event, reg)]
            with guard:
                promotion_order.append(promoted)
            return promoted

    promoted = together(3, leave)
    assert all(len(p) == 1 for p in promoted), promoted
    assert [p[0] for p in promotion_order] == first_three
    rows = snapshot(live, event_id)
    assert sum(r.status is CONFIRMED for r in rows.values()) == 10
    assert sum(r.status is WITHDRAWN for r in rows.values()) == 3
    assert {rows[p].status for p in leavers} == {WITHDRAWN}
    assert {rows[by_id[i].person_id].status for i in first_three} == {CONFIRMED}
    waiting_now = positions(live, event_id)
    assert [waiting_now[i] for i in order[13:]] == list(range(1, 48))


def test_the_same_person_ten_times_at_once_has_one_row(live):
    event_id, people = seed(live, 1, in_person=10)
    made, _ = register_at_once(live, event_id, people * 10)
    assert [m.already for m in made].count(False) == 1
    assert {m.status for m in made} == {CONFIRMED}
    assert {m.registration_id for m in made} == {made[0].registration_id}
    assert person_rows(live, event_id) == [(people[0], 1)]
    with live.sessions() as session:
        event = session.get(Event, event_id)
        assert event_queries.taken(session, event, IN_PERSON) == 1
        assert event_queries.places_left(session, event, IN_PERSON) == 9


def test_the_same_person_coming_back_ten_times_at_once_has_one_place(live):
    event_id, people = seed(live, 3, in_person=2)
    with live.sessions.begin() as session:  # people[0] had a place and gave it up
        event = session.get(Event, event_id)
        reg = event_queries.register(session, event, session.get(Person, people[0]), IN_PERSON).registration
        event_queries.register(session, event, session.get(Person, people[1]), IN_PERSON)
        event_queries.unregister(session, event, reg)
    made, _ = register_at_once(live, event_id, [people[0]] * 10)
    assert [m.already for m in made].count(False) == 1
    assert {m.status for m in made} == {CONFIRMED}
    rows = snapshot(live, event_id)
    assert len(rows) == 2 and rows[people[0]].status is CONFIRMED
    assert sorted(tuple(r) for r in person_rows(live, event_id)) == sorted([(people[0], 1), (people[1], 1)])


def test_leaving_and_joining_at_once_fills_freed_places_from_the_queue_first(live):
    # Ten places taken and five waiting; five with a place leave while ten newcomers register.
    event_id, people = seed(live, 25, in_person=10)
    with live.sessions.begin() as session:
        event = session.get(Event, event_id)
        for pid in people[:15]:
            event_queries.register(session, event, session.get(Person, pid), IN_PERSON)
    leavers, queued, newcomers = people[:5], people[10:15], people[15:]
    actors = [("leave", p) for p in leavers] + [("join", p) for p in newcomers]

    def act(i: int) -> None:
        what, pid = actors[i]
        with live.sessions.begin() as session:
            event = session.get(Event, event_id)
            person = session.get(Person, pid)
            if what == "join":
                event_queries.register(session, event, person, IN_PERSON)
            else:
                event_queries.unregister(session, event, event_queries.registration(session, event, person))

    together(len(actors), act)
    rows = snapshot(live, event_id)
    assert sum(r.status is CONFIRMED for r in rows.values()) == 10
    # A place freed goes to the queue in the same transaction, so no newcomer overtakes it.
    assert {rows[p].status for p in queued} == {CONFIRMED}
    assert {rows[p].status for p in newcomers} == {WAITLISTED}
    assert {rows[p].status for p in leavers} == {WITHDRAWN}
    assert sorted(positions(live, event_id).values()) == list(range(1, 11))


def test_the_same_place_given_up_twice_at_once_frees_one_place(live):
    event_id, people = seed(live, 5, in_person=2)
    with live.sessions.begin() as session:
        event = session.get(Event, event_id)
        for pid in people:
            event_queries.register(session, event, session.get(Person, pid), IN_PERSON)

    def leave(i: int) -> int:
        with live.sessions.begin() as session:
            event = session.get(Event, event_id)
            reg = event_queries.registration(session, event, session.get(Person, people[0]))
            return len(event_queries.unregister(session, event, reg))

    promoted = together(5, leave)
    rows = snapshot(live, event_id)
    assert sum(r.status is CONFIRMED for r in rows.values()) == 2
    assert rows[people[0]].status is WITHDRAWN
    assert rows[people[2]].status is CONFIRMED and rows[people[3]].status is WAITLISTED
    assert sum(promoted) == 1


# --- interleavings on PostgreSQL that the row lock does not cover -------------------------------
# Each is one request's read before the lock, then another request committing, then the first
# going on: what handlers.events.register does (find_event loads the event and
# event_queries.registration loads the person's row before storage.events.register takes the lock).
# SQLite cannot interleave so (BEGIN IMMEDIATE takes the write lock before the first read).


def test_a_registration_read_before_the_lock_is_not_trusted(live_pg):
    live = live_pg
    event_id, (me, other) = seed(live, 2, in_person=2)
    with live.sessions.begin() as session:  # I had a place and gave it up; other has one
        event = session.get(Event, event_id)
        mine = event_queries.register(session, event, session.get(Person, me), IN_PERSON).registration
        event_queries.register(session, event, session.get(Person, other), IN_PERSON)
        event_queries.unregister(session, event, mine)

    slow = live.sessions()
    try:
        with slow.begin():
            event, person = slow.get(Event, event_id), slow.get(Person, me)
            # As handlers.events.register reads it, and keeps it (the identity map holds only
            # objects still referenced).
            existing = event_queries.registration(slow, event, person)
            assert existing.status is WITHDRAWN
            with live.sessions.begin() as fast:  # the same person's other request, committed meanwhile
                first = event_queries.register(fast, fast.get(Event, event_id), fast.get(Person, me), IN_PERSON)
                assert first.status is CONFIRMED
            second = event_queries.register(slow, event, person, IN_PERSON)
    finally:
        slow.close()
    rows = snapshot(live, event_id)
    assert rows[me].status is CONFIRMED  # still has the place
    assert second.already


def test_a_capacity_lowered_meanwhile_is_respected(live_pg):
    live = live_pg
    event_id, people = seed(live, 3, in_person=3)
    with live.sessions.begin() as session:
        event = session.get(Event, event_id)
        event_queries.register(session, event, session.get(Person, people[0]), IN_PERSON)

    slow = live.sessions()
    try:
        with slow.begin():
            event, person = slow.get(Event, event_id), slow.get(Person, people[1])  # as find_event loads it
            with live.sessions.begin() as admin:  # the Partnership Office: 1 place, 1 taken
                edited = admin.get(Event, event_id)
                event_queries.lock(admin, edited)
                assert event_queries.taken(admin, edited, IN_PERSON) <= 1
                edited.capacity_in_person = 1
            event_queries.register(slow, event, person, IN_PERSON)
    finally:
        slow.close()
    with live.sessions() as session:
        event = session.get(Event, event_id)
        assert event.capacity_in_person == 1
        assert event_queries.taken(session, event, IN_PERSON) <= 1
