"""The keys of a delivery, built and read here only: what it is about (`subject`), which occurrence
of it (`occurrence`) and where it goes (`channel`).

They are part of the delivery's unique key (kind, subject, occurrence, recipient, channel), which
makes a second planning round, or a retried request, a no-op; so the strings keep exactly the shape
stored rows have:

    subject     meeting:13  series:2  event:3  case:4  announcement:7  channel:5  person:9
    occurrence  7d@2026-03-10T10:00:00                   an automatic reminder: lead @ local start
                meeting:13:2h@2026-03-10T10:00:00        a personal reminder following meeting 13
                at:2026-03-10T09:00:00+00:00:<16 hex>    a personal reminder at a time
                v3  scheduled  submitted  change:12  registration:5:<queued at>  week:2026-49  1
    channel     direct  slack:C0123  teams:conversation:19:abc@thread.tacv2

A parse gives None for text the builder would not have made (callers decide what that means), so
that parse(build(x)) == x and build(parse(text)) == text. The *_sql functions build the same
strings in SQL, for set queries that join deliveries to what they are about.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import ColumnElement, SQLColumnExpression, String, cast, literal

_ID = r"(?:0|[1-9][0-9]*)"  # as str(int) writes it: no sign, no leading zeros
_LEAD = r"[1-9][0-9]*[wdhm]"  # as handlers.reminders.parse_lead writes it: "7d", "2h", "30m", "1w"


class Thing(enum.Enum):
    """What a delivery can be about."""

    MEETING = "meeting"
    SERIES = "series"
    EVENT = "event"
    CASE = "case"
    ANNOUNCEMENT = "announcement"
    CHANNEL = "channel"  # a group's linked channel (storage.models.GroupChannel): its digest
    PERSON = "person"  # a personal reminder is about the person who asked for it


@dataclass(frozen=True)
class Subject:
    thing: Thing
    id: int


_SUBJECT = re.compile(rf"({'|'.join(t.value for t in Thing)}):({_ID})", re.ASCII)


def _checked_id(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"an id is a whole number from 0 up, not {value!r}")
    return value


def subject(thing: Thing, id: int) -> str:
    return f"{thing.value}:{_checked_id(id)}"


def parse_subject(text: str) -> Optional[Subject]:
    match = _SUBJECT.fullmatch(text)
    return Subject(Thing(match[1]), int(match[2])) if match else None


def subject_sql(thing: Thing, id_column: SQLColumnExpression[int]) -> ColumnElement[str]:
    """subject(thing, id) in SQL, e.g. to join deliveries to their meetings."""
    return literal(f"{thing.value}:", String) + cast(id_column, String)


# --- occurrences ----------------------------------------------------------------------------------


def _checked_lead(lead: str) -> str:
    if not re.fullmatch(_LEAD, lead, re.ASCII):
        raise ValueError(f"a lead time is like 7d, 2h, 30m or 1w, not {lead!r}")
    return lead


def _checked_start(start_local: datetime) -> str:
    if start_local.tzinfo is not None:
        raise ValueError("a start is local wall time, without a zone")
    return start_local.isoformat()


def _local_start(text: str) -> Optional[datetime]:
    """The naive datetime whose isoformat() is exactly `text`, else None."""
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        return None
    return start if start.tzinfo is None and start.isoformat() == text else None


@dataclass(frozen=True)
class ReminderOccurrence:
    """An automatic reminder: `lead` before the meeting's or event's local start."""

    lead: str
    start_local: datetime


def reminder_occurrence(lead: str, start_local: datetime) -> str:
    return f"{_checked_lead(lead)}@{_checked_start(start_local)}"


_REMINDER = re.compile(rf"({_LEAD})@(.+)", re.ASCII)


def parse_reminder_occurrence(text: str) -> Optional[ReminderOccurrence]:
    match = _REMINDER.fullmatch(text)
    start = _local_start(match[2]) if match else None
    return ReminderOccurrence(match[1], start) if match and start is not None else None


@dataclass(frozen=True)
class PersonalMeetingOccurrence:
    """`remind me 2 hours before the GIS meeting`: it follows the meeting when it moves."""

    meeting_id: int
    lead: str
    start_local: datetime


_PERSONAL_MEETING = f"{Thing.MEETING.value}:"


def personal_meeting_occurrence(meeting_id: int, lead: str, start_local: datetime) -> str:
    return f"{_PERSONAL_MEETING}{_checked_id(meeting_id)}:{_checked_lead(lead)}@{_checked_start(start_local)}"


_PERSONAL = re.compile(rf"{_PERSONAL_MEETING}({_ID}):({_LEAD})@(.+)", re.ASCII)


def parse_personal_meeting_occurrence(text: str) -> Optional[PersonalMeetingOccurrence]:
    match = _PERSONAL.fullmatch(text)
    start = _local_start(match[3]) if match else None
    return PersonalMeetingOccurrence(int(match[1]), match[2], start) if match and start is not None else None


def follows_a_meeting_sql(occurrence_column: SQLColumnExpression[str]) -> ColumnElement[bool]:
    """Whether a personal reminder's occurrence is one made by personal_meeting_occurrence
    (or looks like one: parse it to be sure)."""
    return occurrence_column.startswith(_PERSONAL_MEETING)


def follows_meeting_sql(
    occurrence_column: SQLColumnExpression[str], meeting_id: SQLColumnExpression[int]
) -> ColumnElement[bool]:
    """Whether a personal reminder's occurrence follows that meeting, in SQL."""
    return occurrence_column.startswith(literal(_PERSONAL_MEETING, String) + cast(meeting_id, String) + ":")


def personal_occurrence(due: datetime, what: str) -> str:
    """A personal reminder at a time: the same request twice (a retried message) is the same key."""
    if due.tzinfo is None:
        raise ValueError("a personal reminder is due at an instant, with its zone")
    return f"at:{due.isoformat()}:{hashlib.sha256(what.lower().encode()).hexdigest()[:16]}"


def version(sequence: int) -> str:
    """The change of a meeting or event that a notice is about (its sequence after the change)."""
    return f"v{_checked_id(sequence)}"


SCHEDULED = "scheduled"  # the notice that meetings were scheduled
SUBMITTED = "submitted"  # the Board's notice of a new business case
ANNOUNCED = "1"  # an announcement goes once


def case_change(change_id: int) -> str:
    return f"change:{_checked_id(change_id)}"


def waitlist_turn(registration_id: int, queued_at: datetime) -> str:
    """A place off the waitlist: the same registration may be promoted again after it queues again."""
    return f"registration:{_checked_id(registration_id)}:{queued_at.isoformat()}"


def digest_week(year: int, week: int) -> str:
    return f"week:{year}-{week:02d}"


# --- channels ---------------------------------------------------------------------------------------

DIRECT = "direct"  # the recipient's own chat, on whichever platform reaches them


@dataclass(frozen=True)
class ChannelAddress:
    """A channel a delivery is posted in: `address` is the platform's (a Slack channel id, or
    "conversation:<id>" for a Teams channel) and may contain colons itself."""

    platform: str
    address: str


_CHANNEL = re.compile(r"([a-z]+):(.+)", re.ASCII | re.DOTALL)


def channel(platform: str, address: str) -> str:
    if not re.fullmatch(r"[a-z]+", platform, re.ASCII) or not address:
        raise ValueError(f"a channel is a platform name and an address, not {platform!r}, {address!r}")
    return f"{platform}:{address}"


def parse_channel(text: str) -> Optional[ChannelAddress]:
    """None for DIRECT, and for text channel() would not have made."""
    match = _CHANNEL.fullmatch(text)
    return ChannelAddress(match[1], match[2]) if match else None
