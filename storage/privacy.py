"""UK GDPR: everything the bot holds about one person (`my data`), and erasing it (`forget me`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Announcement,
    AnnouncementAck,
    BusinessCase,
    CaseChange,
    ConversationRef,
    ConversationState,
    Delivery,
    DeliveryStatus,
    Event,
    FundEntry,
    Membership,
    Person,
    PlatformIdentity,
    Registration,
    RegistrationStatus,
    ReminderSetting,
)


@dataclass(frozen=True)
class Held:
    """The rows about a person, table by table (the audit log is storage.audit's)."""

    platform_identities: list[PlatformIdentity]
    memberships: list[Membership]
    registrations: list[Registration]
    cases_submitted: list[BusinessCase]
    reminder_settings: list[ReminderSetting]
    deliveries: list[Delivery]
    announcements_made: list[Announcement]
    forms_in_progress: list[ConversationState]
    conversation_refs: list[ConversationRef]
    acknowledgements: list[AnnouncementAck]


def _rows(session: Session, model: Any, column: Any, person_id: int) -> list[Any]:
    return list(
        session.execute(
            select(model).where(column == person_id).order_by(*model.__table__.primary_key.columns)
        ).scalars()
    )


def held_about(session: Session, person_id: int) -> Held:
    return Held(
        platform_identities=_rows(session, PlatformIdentity, PlatformIdentity.person_id, person_id),
        memberships=_rows(session, Membership, Membership.person_id, person_id),
        registrations=_rows(session, Registration, Registration.person_id, person_id),
        cases_submitted=_rows(session, BusinessCase, BusinessCase.submitter_id, person_id),
        reminder_settings=_rows(session, ReminderSetting, ReminderSetting.person_id, person_id),
        deliveries=_rows(session, Delivery, Delivery.recipient_id, person_id),
        announcements_made=_rows(session, Announcement, Announcement.author_id, person_id),
        forms_in_progress=_rows(session, ConversationState, ConversationState.person_id, person_id),
        conversation_refs=_rows(session, ConversationRef, ConversationRef.person_id, person_id),
        acknowledgements=_rows(session, AnnouncementAck, AnnouncementAck.person_id, person_id),
    )


def lock_events_of(session: Session, person_id: int) -> None:
    """Lock the events the person is registered for (a place or in a queue), in the order of
    their ids. Erasing them changes those events' counters (storage.events): every erasure
    taking its events' row locks in the same order, two of them cannot wait for each other."""
    session.execute(
        select(Event.id)
        .where(
            Event.id.in_(
                select(Registration.event_id).where(
                    Registration.person_id == person_id, Registration.status != RegistrationStatus.WITHDRAWN
                )
            )
        )
        .order_by(Event.id)
        .with_for_update()
    )


def places_of(session: Session, person_id: int) -> list[Registration]:
    """The person's confirmed places at events, their events locked first (lock_events_of)."""
    lock_events_of(session, person_id)
    return list(
        session.execute(
            select(Registration)
            .where(Registration.person_id == person_id, Registration.status == RegistrationStatus.CONFIRMED)
            .order_by(Registration.id)
        ).scalars()
    )


def erase(session: Session, person_id: int, former: str) -> None:
    """Delete the person and everything about them, except what the partnership must keep.

    Kept, without the person: the business cases they submitted (with `former`, e.g. "a former
    member of Medway", as the contact), their part in case changes, fund entries and announcements.
    What waited to be sent to them is marked skipped before it goes. Their registrations are
    deleted, and the database's triggers take them off their events' counters (places given up
    are filled by the caller first: handlers.privacy). The session is expunged before the
    person's row is deleted, so that no object in it still refers to the deleted rows.
    """
    lock_events_of(session, person_id)
    session.execute(
        update(BusinessCase).where(BusinessCase.submitter_id == person_id).values(submitter_id=None, contact=former)
    )
    session.execute(update(CaseChange).where(CaseChange.actor_id == person_id).values(actor_id=None))
    session.execute(update(FundEntry).where(FundEntry.recorded_by_id == person_id).values(recorded_by_id=None))
    session.execute(update(Announcement).where(Announcement.author_id == person_id).values(author_id=None))
    session.execute(
        update(Delivery)
        .where(Delivery.recipient_id == person_id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SKIPPED, last_error="recipient erased")
    )
    for model, column in (
        (Delivery, Delivery.recipient_id),
        (AnnouncementAck, AnnouncementAck.person_id),
        (Registration, Registration.person_id),
        (Membership, Membership.person_id),
        (ReminderSetting, ReminderSetting.person_id),
        (ConversationState, ConversationState.person_id),
        (ConversationRef, ConversationRef.person_id),
        (PlatformIdentity, PlatformIdentity.person_id),
    ):
        session.execute(delete(model).where(column == person_id))
    session.expunge_all()
    session.execute(delete(Person).where(Person.id == person_id))
