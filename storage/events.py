"""Events and registrations: places allocated atomically, a waitlist in order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

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


Tally = dict[tuple[int, AttendanceMode, RegistrationStatus], int]


def tallies(session: Session, event_ids: list[int]) -> Tally:
    """Registrations by event, mode and status, for a page of events in one query."""
    rows = session.execute(
        select(Registration.event_id, Registration.mode, Registration.status, func.count())
        .where(Registration.event_id.in_(event_ids))
        .group_by(Registration.event_id, Registration.mode, Registration.status)
    ).all()
    return {(event_id, mode, status): n for event_id, mode, status, n in rows}


def registrations_by_event(session: Session, event_ids: list[int], person: Person) -> dict[int, Registration]:
    if person.id is None or not event_ids:
        return {}
    return {
        r.event_id: r
        for r in session.execute(
            select(Registration).where(Registration.event_id.in_(event_ids), Registration.person_id == person.id)
        ).scalars()
    }


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


def taken(
    session: Session, event: Event, mode: AttendanceMode, status: RegistrationStatus = RegistrationStatus.CONFIRMED
) -> int:
    return session.execute(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event.id, Registration.mode == mode, Registration.status == status)
    ).scalar_one()


def places_left(session: Session, event: Event, mode: AttendanceMode) -> Optional[int]:
    """None for unlimited."""
    limit = capacity(event, mode)
    if limit is None:
        return None
    return max(0, limit - taken(session, event, mode))


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


def lock(session: Session, event: Event) -> None:
    """Serialise place allocation for one event: a row lock on PostgreSQL.

    What this session read before the lock may be out of date by the time it is granted (a
    capacity changed, the same person registered from another request), so everything is
    read again after it. On SQLite every write transaction already holds the database's
    write lock from its start (BEGIN IMMEDIATE, see storage.db).
    """
    session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
    session.expire_all()


def waitlist_position(session: Session, reg: Registration) -> int:
    """1 for the first in the queue for the registration's mode."""
    ahead = session.execute(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == reg.event_id,
            Registration.mode == reg.mode,
            Registration.status == RegistrationStatus.WAITLISTED,
            or_(
                Registration.queued_at < reg.queued_at,
                and_(Registration.queued_at == reg.queued_at, Registration.id < reg.id),
            ),
        )
    ).scalar_one()
    return ahead + 1


class EventClosed(Exception):
    """The event stopped taking registrations while the request waited for its lock."""


@dataclass
class Outcome:
    registration: Registration
    status: RegistrationStatus
    already: bool  # the person was registered before this request


def register(session: Session, event: Event, person: Person, mode: AttendanceMode) -> Outcome:
    """A place if one is left, else the end of the waitlist. Call inside a transaction.

    Raises EventClosed if the event was cancelled meanwhile (seen only once the lock is held)."""
    lock(session, event)
    if event.status is not EventStatus.PUBLISHED:
        raise EventClosed(event.id)
    existing = registration(session, event, person)
    if existing is not None and existing.status is not RegistrationStatus.WITHDRAWN:
        return Outcome(existing, existing.status, already=True)
    left = places_left(session, event, mode)
    status = RegistrationStatus.CONFIRMED if left is None or left > 0 else RegistrationStatus.WAITLISTED
    if existing is None:
        existing = Registration(event=event, person=person, mode=mode, status=status)
        session.add(existing)
    else:
        existing.mode, existing.status, existing.queued_at = mode, status, utcnow()
    session.flush()
    return Outcome(existing, status, already=False)


def unregister(session: Session, event: Event, reg: Registration) -> list[Registration]:
    """Withdraw; returns the registrations promoted from the waitlist to the freed place."""
    lock(session, event)
    if reg.status is RegistrationStatus.WITHDRAWN:  # withdrawn meanwhile by another request
        return []
    was_confirmed = reg.status is RegistrationStatus.CONFIRMED
    reg.status = RegistrationStatus.WITHDRAWN
    session.flush()
    if not was_confirmed or event.status is not EventStatus.PUBLISHED:
        return []  # nobody moves up at a cancelled event
    return fill_places(session, event, reg.mode)


def fill_places(session: Session, event: Event, mode: AttendanceMode) -> list[Registration]:
    """Promote the first on the waitlist while places are free (after an unregistration or
    a larger capacity). Returns who was promoted, in order."""
    left = places_left(session, event, mode)
    query = (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.mode == mode,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.queued_at, Registration.id)
    )
    if left is not None:
        query = query.limit(left)
    promoted = list(session.execute(query).scalars())
    for reg in promoted:
        reg.status = RegistrationStatus.CONFIRMED
    session.flush()
    return promoted


def add(session: Session, event: Event) -> Event:
    """Store a new event (its id is known on return)."""
    session.add(event)
    session.flush()
    return event
