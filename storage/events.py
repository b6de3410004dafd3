"""Events and registrations: places allocated atomically, a waitlist in order.

Places taken and people waiting are counted on the event row (Event.taken_in_person ...
waiting_online), by the database's triggers on registration (migration 0015), in the same
statement as every change to a registration: so a list of events reads its places with the
events, at any number of registrations, and a registration reads them under the event's lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import case, func, select, tuple_, update
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from storage.db import insert_for
from storage.models import (
    AttendanceMode,
    Event,
    EventFormat,
    EventStatus,
    Person,
    Registration,
    RegistrationStatus,
    utcnow,
)
from storage.wallclock import to_utc


def set_times(event: Event, start_local: datetime, end_local: datetime, zone: str) -> None:
    """The one place an event's time changes, so that its UTC instant always agrees."""
    if end_local <= start_local:
        raise ValueError("an event must end after it starts")
    event.start_local, event.end_local, event.timezone = start_local, end_local, zone
    event.starts_at_utc = to_utc(start_local, zone)


def offers(event: Event, mode: AttendanceMode) -> bool:
    if mode is AttendanceMode.IN_PERSON:
        return event.format in (EventFormat.IN_PERSON, EventFormat.HYBRID)
    return event.format in (EventFormat.ONLINE, EventFormat.HYBRID)


def capacity(event: Event, mode: AttendanceMode) -> Optional[int]:
    """Places for the mode; None is unlimited, 0 when the event does not offer it."""
    if not offers(event, mode):
        return 0
    return event.capacity_in_person if mode is AttendanceMode.IN_PERSON else event.capacity_online


def get(session: Session, event_id: int) -> Optional[Event]:
    return session.get(Event, event_id)


def upcoming(session: Session, now: datetime, limit: Optional[int] = None) -> list[Event]:
    query = (
        select(Event)
        .where(Event.starts_at_utc >= now, Event.status == EventStatus.PUBLISHED)
        .order_by(Event.starts_at_utc, Event.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def count_upcoming(session: Session, now: datetime) -> int:
    return session.execute(
        select(func.count()).select_from(Event).where(Event.starts_at_utc >= now, Event.status == EventStatus.PUBLISHED)
    ).scalar_one()


def upcoming_page(session: Session, now: datetime, limit: int) -> tuple[list[Event], int]:
    """The first `limit` events to come, with their counters, and how many are coming in all:
    one statement (the count is an uncorrelated subquery, which the database runs once)."""
    coming = (Event.starts_at_utc >= now, Event.status == EventStatus.PUBLISHED)
    total = select(func.count()).select_from(Event).where(*coming).scalar_subquery()
    rows = session.execute(
        select(Event, total.label("total")).where(*coming).order_by(Event.starts_at_utc, Event.id).limit(limit)
    ).all()
    return [event for event, _ in rows], (rows[0][1] if rows else 0)


# --- the counters ---------------------------------------------------------------------------

# The counters on the event row, by mode and status (storage.models.Event; kept by the database).
COUNTERS = {
    (AttendanceMode.IN_PERSON, RegistrationStatus.CONFIRMED): "taken_in_person",
    (AttendanceMode.ONLINE, RegistrationStatus.CONFIRMED): "taken_online",
    (AttendanceMode.IN_PERSON, RegistrationStatus.WAITLISTED): "waiting_in_person",
    (AttendanceMode.ONLINE, RegistrationStatus.WAITLISTED): "waiting_online",
}


def counted(event: Event, mode: AttendanceMode, status: RegistrationStatus = RegistrationStatus.CONFIRMED) -> int:
    """Places taken (with WAITLISTED: people waiting) as loaded with the event, without a query:
    exact when the event was read under its lock (`locked`), else as of when it was read."""
    return getattr(event, COUNTERS[(mode, status)])


def fresh_counts(session: Session, event: Event) -> None:
    """Read the event's counters again. Registrations changed by this session are flushed first
    (autoflush), and the loaded object knows nothing of what the triggers then counted."""
    names = list(COUNTERS.values())
    row = session.execute(select(*(getattr(Event, n) for n in names)).where(Event.id == event.id)).one()
    for name, value in zip(names, row, strict=True):
        set_committed_value(event, name, value)


def _forget_counts(session: Session, event: Event) -> None:
    """A registration of the event was written: its counters are loaded again when next read."""
    session.expire(event, list(COUNTERS.values()))


def recount(session: Session) -> list[int]:
    """Count every event's registrations again and correct the counters that differ (they never
    should: the triggers count every change; this is for an operator who doubts them). Returns
    the ids of the events corrected. Lock-free: run it when nobody is registering."""
    names = list(COUNTERS.items())
    stored = {
        row[0]: row[1:] for row in session.execute(select(Event.id, *(getattr(Event, name) for _, name in names)))
    }
    found: dict[int, dict[str, int]] = {event_id: {name: 0 for _, name in names} for event_id in stored}
    for event_id, mode, status, n in session.execute(
        select(Registration.event_id, Registration.mode, Registration.status, func.count())
        .where(Registration.status != RegistrationStatus.WITHDRAWN)
        .group_by(Registration.event_id, Registration.mode, Registration.status)
    ):
        found[event_id][COUNTERS[(mode, status)]] = n
    corrected = []
    for event_id, values in found.items():
        if tuple(values[name] for _, name in names) != tuple(stored[event_id]):
            # updated_at as it was: the event itself did not change (calendars read it).
            session.execute(update(Event).where(Event.id == event_id).values(**values, updated_at=Event.updated_at))
            corrected.append(event_id)
    return sorted(corrected)


def taken(
    session: Session, event: Event, mode: AttendanceMode, status: RegistrationStatus = RegistrationStatus.CONFIRMED
) -> int:
    """Places taken (with WAITLISTED: people waiting) for the mode, read fresh from the event row."""
    fresh_counts(session, event)
    return counted(event, mode, status)


def places_left(session: Session, event: Event, mode: AttendanceMode) -> Optional[int]:
    """None for unlimited."""
    limit = capacity(event, mode)
    if limit is None:
        return None
    return max(0, limit - taken(session, event, mode))


# --- the waitlist's order -------------------------------------------------------------------


def _ahead(reg: Any, ahead: Any) -> tuple:
    """`ahead` is before `reg` in the same queue: a range of the index that ends in (queued_at, id)."""
    return (
        ahead.event_id == reg.event_id,
        ahead.status == RegistrationStatus.WAITLISTED,
        ahead.mode == reg.mode,
        tuple_(ahead.queued_at, ahead.id) < tuple_(reg.queued_at, reg.id),
    )


def _position() -> Any:
    """A column: 1 + how many are ahead, for a waitlisted registration; NULL for any other."""
    ahead = aliased(Registration)
    before = select(func.count()).select_from(ahead).where(*_ahead(Registration, ahead)).scalar_subquery()
    return case((Registration.status == RegistrationStatus.WAITLISTED, before + 1), else_=None)


def waitlist_position(session: Session, reg: Registration) -> int:
    """1 for the first in the queue for the registration's mode."""
    ahead = aliased(Registration)
    before = session.execute(select(func.count()).select_from(ahead).where(*_ahead(reg, ahead))).scalar_one()
    return before + 1


def waitlist_positions(session: Session, regs: Iterable[Registration]) -> dict[int, int]:
    """The waitlist positions of the waitlisted among `regs`, by registration id: one statement."""
    ids = [r.id for r in regs if r.status is RegistrationStatus.WAITLISTED]
    if not ids:
        return {}
    rows = session.execute(select(Registration.id, _position()).where(Registration.id.in_(ids))).all()
    return {reg_id: position for reg_id, position in rows}


@dataclass(frozen=True)
class Booking:
    """A person's registration at an event, and their place in its queue (None if not waiting)."""

    registration: Registration
    position: Optional[int]


def bookings(session: Session, event_ids: list[int], person: Person) -> dict[int, Booking]:
    """The person's registrations at these events, with their waitlist positions: one statement."""
    if person.id is None or not event_ids:
        return {}
    rows = session.execute(
        select(Registration, _position()).where(
            Registration.event_id.in_(event_ids), Registration.person_id == person.id
        )
    ).all()
    return {reg.event_id: Booking(reg, position) for reg, position in rows}


def registrations_by_event(session: Session, event_ids: list[int], person: Person) -> dict[int, Registration]:
    return {event_id: b.registration for event_id, b in bookings(session, event_ids, person).items()}


# --- lists ----------------------------------------------------------------------------------


def past(session: Session, now: datetime, limit: int = 20) -> list[Event]:
    return list(
        session.execute(
            select(Event)
            .where(Event.starts_at_utc < now, Event.status == EventStatus.PUBLISHED)
            .order_by(Event.starts_at_utc.desc(), Event.id.desc())
            .limit(limit)
        ).scalars()
    )


def starting_between(session: Session, start: datetime, end: datetime) -> list[Event]:
    """Events starting at or after `start` and before `end`, cancelled ones too, soonest first."""
    return list(
        session.execute(
            select(Event)
            .where(Event.starts_at_utc >= start, Event.starts_at_utc < end)
            .order_by(Event.starts_at_utc, Event.id)
        ).scalars()
    )


def with_a_place(session: Session, event_ids: Iterable[int]) -> dict[int, list[int]]:
    """The people with a place at each of these events, by event id."""
    ids = list(event_ids)
    found: dict[int, list[int]] = {event_id: [] for event_id in ids}
    if ids:
        for event_id, person_id in session.execute(
            select(Registration.event_id, Registration.person_id).where(
                Registration.event_id.in_(ids), Registration.status == RegistrationStatus.CONFIRMED
            )
        ):
            found[event_id].append(person_id)
    return found


def all_events(session: Session) -> list[Event]:
    return list(session.execute(select(Event).order_by(Event.starts_at_utc)).scalars())


def registration(session: Session, event: Event, person: Person) -> Optional[Registration]:
    if person.id is None:
        return None
    return session.execute(
        select(Registration).where(Registration.event_id == event.id, Registration.person_id == person.id)
    ).scalar_one_or_none()


def registrations_of(session: Session, person: Person, since: datetime) -> list[Registration]:
    if person.id is None:
        return []
    return list(
        session.execute(
            select(Registration)
            .join(Event)
            .where(
                Registration.person_id == person.id,
                Registration.status != RegistrationStatus.WITHDRAWN,
                Event.starts_at_utc >= since,
                Event.status == EventStatus.PUBLISHED,
            )
            .options(selectinload(Registration.event))
            .order_by(Event.starts_at_utc)
        ).scalars()
    )


def registrants(session: Session, event: Event) -> list[Registration]:
    """Everyone with a place or in the queue, with their person and partner loaded."""
    return list(
        session.execute(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.status != RegistrationStatus.WITHDRAWN)
            .options(selectinload(Registration.person).selectinload(Person.partner))
            .order_by(Registration.queued_at, Registration.id)
        ).scalars()
    )


# --- places, under the event's lock ---------------------------------------------------------


def lock(session: Session, event: Event) -> None:
    """Serialise place allocation for one event: a row lock on PostgreSQL.

    What this session read before the lock may be out of date by the time it is granted (a
    capacity changed, the same person registered from another request), so everything is
    read again after it. On SQLite every write transaction already holds the database's
    write lock from its start (BEGIN IMMEDIATE, see storage.db).
    """
    session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
    session.expire_all()


@dataclass(frozen=True)
class Locked:
    """An event read under its lock, with one person's registration there (None: they have none)
    and their place in its queue (None: not waiting)."""

    event: Event
    registration: Optional[Registration]
    position: Optional[int] = None


def locked(session: Session, event_id: int, person: Person) -> Optional[Locked]:
    """The event locked as `lock` locks it, and read, counters and all, with the person's
    registration there and their waitlist position, in one statement. Whatever this session had loaded of either is
    replaced by what the lock let through. None if there is no such event."""
    joined = (
        (Registration.event_id == Event.id) & (Registration.person_id == person.id)
        if person.id is not None
        else Registration.id.is_(None)  # nobody stored yet: no registration to find
    )
    row = session.execute(
        select(Event, Registration, _position())
        .outerjoin(Registration, joined)
        .where(Event.id == event_id)
        .with_for_update(of=Event)
        .execution_options(populate_existing=True)
    ).first()
    return None if row is None else Locked(row[0], row[1], row[2])


class EventClosed(Exception):
    """The event stopped taking registrations while the request waited for its lock."""


@dataclass
class Outcome:
    registration: Registration
    status: RegistrationStatus
    already: bool  # the person was registered before this request
    position: Optional[int] = None  # where this request put them on the waitlist


def register(
    session: Session, event: Event, person: Person, mode: AttendanceMode, held: Optional[Locked] = None
) -> Outcome:
    """A place if one is left, else the end of the waitlist. Call inside a transaction.

    `held`: what `locked` read for this event and person in this transaction, the lock held
    since; without it the lock is taken here. Then one statement more: the registration's
    INSERT (or, coming back, UPDATE), which the database's triggers count. Raises EventClosed
    if the event was cancelled meanwhile (seen only once the lock is held).

    The places are exact: PostgreSQL hands the statement that waited for the lock the event
    row as the lock's holder left it. Not so the person's registration, read in the same
    statement (a joined row is not read again): so the INSERT does nothing if a row is there
    meanwhile, the UPDATE changes only a row still withdrawn, and either, finding it changed,
    reads again (a new statement sees what was committed), to answer `already`."""
    for _ in range(2):
        if held is None:
            held = locked(session, event.id, person)
            if held is None:  # deleted meanwhile
                raise EventClosed(event.id)
        outcome = _place(session, held, person, mode)
        if outcome is not None:
            return outcome
        held = None  # the person's other request came first: read again
    raise RuntimeError(f"event {event.id}: the registration changed under the lock")


def _place(session: Session, held: Locked, person: Person, mode: AttendanceMode) -> Optional[Outcome]:
    event, existing = held.event, held.registration
    if event.status is not EventStatus.PUBLISHED:
        raise EventClosed(event.id)
    if existing is not None and existing.status is not RegistrationStatus.WITHDRAWN:
        return Outcome(existing, existing.status, already=True)
    limit = capacity(event, mode)
    position = None
    if limit is None or counted(event, mode) < limit:
        status = RegistrationStatus.CONFIRMED
    else:  # the end of the queue: everyone in it asked before this (the lock is held)
        status, position = RegistrationStatus.WAITLISTED, counted(event, mode, RegistrationStatus.WAITLISTED) + 1
    now = utcnow()
    if existing is None:
        if person.id is None:
            session.flush()  # a person new in this transaction
        reg = session.execute(
            insert_for(session, Registration)
            .values(event_id=event.id, person_id=person.id, mode=mode, status=status, queued_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["event_id", "person_id"])
            .returning(Registration)
        ).scalar_one_or_none()
        if reg is None:
            return None
        existing = reg
    else:
        changed = session.execute(
            update(Registration)
            .where(Registration.id == existing.id, Registration.status == RegistrationStatus.WITHDRAWN)
            .values(mode=mode, status=status, queued_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            return None
        for name, value in (("mode", mode), ("status", status), ("queued_at", now), ("updated_at", now)):
            set_committed_value(existing, name, value)
    _forget_counts(session, event)
    return Outcome(existing, status, already=False, position=position)


def unregister(session: Session, event: Event, reg: Registration) -> list[Registration]:
    """Withdraw; returns the registrations promoted from the waitlist to the freed place."""
    lock(session, event)
    if reg.status is RegistrationStatus.WITHDRAWN:  # withdrawn meanwhile by another request
        return []
    was_confirmed = reg.status is RegistrationStatus.CONFIRMED
    reg.status = RegistrationStatus.WITHDRAWN
    session.flush()
    _forget_counts(session, event)
    if not was_confirmed or event.status is not EventStatus.PUBLISHED:
        return []  # nobody moves up at a cancelled event
    return fill_places(session, event, reg.mode)


def fill_places(session: Session, event: Event, mode: AttendanceMode) -> list[Registration]:
    """Promote the first on the waitlist while places are free (after an unregistration or
    a larger capacity). Returns who was promoted, in order."""
    fresh_counts(session, event)
    limit = capacity(event, mode)
    left = None if limit is None else max(0, limit - counted(event, mode))
    if left == 0 or counted(event, mode, RegistrationStatus.WAITLISTED) == 0:
        return []  # nothing free, or nobody waiting
    query = (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.mode == mode,
        )
        .order_by(Registration.queued_at, Registration.id)
    )
    if left is not None:
        query = query.limit(left)
    promoted = list(session.execute(query).scalars())
    for reg in promoted:
        reg.status = RegistrationStatus.CONFIRMED
    session.flush()
    if promoted:
        _forget_counts(session, event)
    return promoted


def add(session: Session, event: Event) -> Event:
    """Store a new event (its id is known on return)."""
    session.add(event)
    session.flush()
    return event
