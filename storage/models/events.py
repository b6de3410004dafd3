"""Business transformation events and registrations."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime, enum_column, utcnow
from storage.models.people import Person


class EventFormat(enum.Enum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class EventStatus(enum.Enum):
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class AttendanceMode(enum.Enum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class RegistrationStatus(enum.Enum):
    CONFIRMED = "confirmed"  # has a place
    WAITLISTED = "waitlisted"  # in the queue for a place, by queued_at
    WITHDRAWN = "withdrawn"  # unregistered (kept: re-registering reuses the row)


class Event(Base):
    """A business transformation event: free for partners, in person, online or both."""

    __tablename__ = "event"
    # Lists of events to come (or past) and how many there are, counted on the index alone.
    __table_args__ = (Index("ix_event_starts_at_utc_status", "starts_at_utc", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[Optional[str]] = mapped_column(String(200))
    description: Mapped[Optional[str]] = mapped_column(Text)
    speakers: Mapped[Optional[str]] = mapped_column(Text)
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    end_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    timezone: Mapped[str] = mapped_column(String(64))
    # As for meetings: the UTC instant of start_local, written only through storage.events.set_times.
    starts_at_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    format: Mapped[EventFormat] = mapped_column(enum_column(EventFormat, "event_format"))
    venue: Mapped[Optional[str]] = mapped_column(String(300))
    online_url: Mapped[Optional[str]] = mapped_column(String(500))
    # None means unlimited; a format without that kind of attendance has 0.
    capacity_in_person: Mapped[Optional[int]] = mapped_column(Integer)
    capacity_online: Mapped[Optional[int]] = mapped_column(Integer)
    registration_opens_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    status: Mapped[EventStatus] = mapped_column(enum_column(EventStatus, "event_status"))
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now()
    )
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # Places taken (confirmed registrations) and people waiting, by mode: kept by the database,
    # whose triggers on registration (migration 0015) count every insert, change and delete in
    # the same statement. Read them, never write them: storage.events reads them fresh after a
    # change of its own (the loaded values don't know what a trigger did).
    taken_in_person: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    taken_online: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waiting_in_person: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waiting_online: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    registrations: Mapped[list[Registration]] = relationship(back_populates="event")


class Registration(Base):
    """A person's place (or place in the queue) at an event; one row per person and event."""

    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id"),
        # Counts by status and mode, and the waitlist in its order (a position is counted here alone).
        Index("ix_registration_event_id_status_mode_queued_at", "event_id", "status", "mode", "queued_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    mode: Mapped[AttendanceMode] = mapped_column(enum_column(AttendanceMode, "attendance_mode"))
    status: Mapped[RegistrationStatus] = mapped_column(enum_column(RegistrationStatus, "registration_status"))
    # The waitlist's order: when the person (last) asked for a place.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship(back_populates="registrations")
    person: Mapped[Person] = relationship()
