"""Meetings and recurring series."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime, enum_column, utcnow
from storage.models.people import Group


class MeetingStatus(enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class MeetingSeries(Base):
    """A recurring meeting: an RFC 5545 rule over local wall time in a named zone."""

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("kc_group.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # First occurrence, as local wall time (naive) in `timezone`.
    first_start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    rrule: Mapped[str] = mapped_column(Text)  # e.g. FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU
    place: Mapped[Optional[str]] = mapped_column(String(300))
    online_url: Mapped[Optional[str]] = mapped_column(String(500))
    agenda: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[MeetingStatus] = mapped_column(enum_column(MeetingStatus, "meeting_status"))

    group: Mapped[Group] = relationship()


class Meeting(Base):
    """One meeting: a one-off, or one occurrence of a series (materialised so it can move)."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("series_id", "occurrence_local"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("kc_group.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[Optional[int]] = mapped_column(ForeignKey("meeting_series.id", ondelete="CASCADE"))
    # For an occurrence of a series: its original local start (iCalendar's RECURRENCE-ID),
    # which stays the same when the occurrence is moved.
    occurrence_local: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=False))
    title: Mapped[str] = mapped_column(String(200))
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    end_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    timezone: Mapped[str] = mapped_column(String(64))
    # The UTC instant of start_local in timezone, kept beside it so that "what is next"
    # is one indexed query; written only through storage.meetings.set_times.
    starts_at_utc: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    place: Mapped[Optional[str]] = mapped_column(String(300))
    online_url: Mapped[Optional[str]] = mapped_column(String(500))
    agenda: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[MeetingStatus] = mapped_column(enum_column(MeetingStatus, "meeting_status"))
    # iCalendar SEQUENCE: goes up with every change subscribers must see (moved, cancelled).
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now()
    )

    group: Mapped[Group] = relationship()
    series: Mapped[Optional[MeetingSeries]] = relationship()
