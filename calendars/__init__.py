"""iCalendar (RFC 5545) files of meetings and events: the feeds `serve` publishes at
/calendar/*.ics and the files the `calendar` command gives. Never a restricted group's meetings
in a feed; who may have a file is the caller's decision."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event as VEvent
from sqlalchemy.orm import Session

from storage import events as event_queries, meetings as meeting_queries
from storage.models import Event, EventStatus, Group, Meeting, MeetingStatus
from storage.wallclock import to_utc

PRODID = "-//Kent Connects//Kent Connects Bot//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"
EVENTS_CALENDAR_NAME = "Kent Connects events"
# A feed keeps recent meetings, so that a subscriber still sees one that was just moved or cancelled.
FEED_PAST = timedelta(days=90)


@dataclass(frozen=True)
class CalendarEntry:
    """What one VEVENT says: a meeting now, and public events when they are built."""

    uid: str  # stable for the life of the thing, so that re-imports update instead of duplicating
    sequence: int
    start_local: datetime  # naive wall time in `zone`
    end_local: datetime
    zone: str
    summary: str
    description: str
    cancelled: bool
    place: Optional[str] = None
    url: Optional[str] = None
    last_modified: Optional[datetime] = None


def meeting_entry(meeting: Meeting, with_link: bool = True) -> CalendarEntry:
    """`with_link=False` for anything served without a login: the joining link is for partner staff."""
    return CalendarEntry(
        uid=f"meeting-{meeting.id}@kentconnects",
        sequence=meeting.sequence or 0,
        start_local=meeting.start_local,
        end_local=meeting.end_local,
        zone=meeting.timezone,
        summary=f"{meeting.group.name}: {meeting.title}",
        description=_meeting_description(meeting, with_link),
        cancelled=meeting.status is MeetingStatus.CANCELLED,
        place=meeting.place,
        url=meeting.online_url if with_link else None,
        last_modified=meeting.updated_at,
    )


def event_entry(event: Event) -> CalendarEntry:
    cancelled = event.status is EventStatus.CANCELLED
    parts = ["This event is cancelled."] if cancelled else []
    parts += [p for p in (event.theme, event.description) if p]
    if event.speakers:
        parts.append("Speakers: " + event.speakers)
    parts.append(f"Kent Connects event {event.id}: register in the Kent Connects bot with “register {event.id}”.")
    return CalendarEntry(
        uid=f"event-{event.id}@kentconnects",
        sequence=event.sequence or 0,
        start_local=event.start_local,
        end_local=event.end_local,
        zone=event.timezone,
        summary=f"Kent Connects: {event.title}",
        description="\n\n".join(parts),
        cancelled=cancelled,
        # The joining link goes to registrants only, never into a public feed.
        place=event.venue,
        last_modified=event.updated_at,
    )


def _meeting_description(meeting: Meeting, with_link: bool = True) -> str:
    parts = []
    if meeting.status is MeetingStatus.CANCELLED:
        parts.append("This meeting is cancelled.")
    if meeting.agenda:
        parts.append("Agenda:\n" + meeting.agenda)
    if meeting.online_url and with_link:
        parts.append("Join online: " + meeting.online_url)
    elif meeting.online_url:
        parts.append("Online too: ask the bot for the joining link (`next GROUP meeting`).")
    parts.append(f"Kent Connects meeting {meeting.id}.")
    return "\n\n".join(parts)


def _wall_time(local: datetime, zone: str) -> datetime:
    """The aware wall time that storage.wallclock.to_utc gives the stored local time.

    For every ordinary time this is the stored time itself; a time the clocks skip comes out as
    the real time it was stored as (01:30 -> 02:30 BST), so no calendar program has to guess.
    """
    return to_utc(local, zone).astimezone(ZoneInfo(zone))


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("calendar times must be aware datetimes")
    return instant.astimezone(timezone.utc)


def _event(entry: CalendarEntry, now: datetime) -> VEvent:
    event = VEvent()
    event.add("uid", entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", _utc(now))
    if entry.last_modified is not None:
        event.add("last-modified", _utc(entry.last_modified))
    event.add("dtstart", _wall_time(entry.start_local, entry.zone))
    event.add("dtend", _wall_time(entry.end_local, entry.zone))
    event.add("summary", entry.summary)
    if entry.place:
        event.add("location", entry.place)
    if entry.url:
        event.add("url", entry.url)
    event.add("description", entry.description)
    event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    return event


def calendar_file(entries: Iterable[CalendarEntry], name: str, now: datetime) -> bytes:
    """A published VCALENDAR with one VEVENT per entry and the VTIMEZONEs they use."""
    entries = list(entries)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    if entries:
        zone, _ = Counter(e.zone for e in entries).most_common(1)[0]
        calendar.add("x-wr-timezone", zone)
    for entry in entries:
        # Each occurrence is its own VEVENT (no RRULE), so one moved or cancelled meeting
        # changes one event and nothing else.
        calendar.add_component(_event(entry, now))
    if entries:
        # Whole years, so that the VTIMEZONE describes both summer and winter time even for a
        # single meeting, and no event falls outside the span it covers.
        first = min(e.start_local for e in entries).year
        last = max(e.end_local for e in entries).year
        calendar.add_missing_timezones(first_date=date(first, 1, 1) - timedelta(days=1), last_date=date(last + 1, 1, 1))
    return calendar.to_ical()


def meetings_calendar(meetings: Iterable[Meeting], name: str, now: datetime, with_links: bool = True) -> bytes:
    return calendar_file((meeting_entry(m, with_links) for m in meetings), name, now)


def feed_meetings(session: Session, group: Group, now: datetime) -> list[Meeting]:
    return meeting_queries.upcoming(session, now - FEED_PAST, [group.id], include_cancelled=True)


def group_feed(session: Session, group: Group, now: datetime) -> bytes:
    """The group's meetings from 90 days ago onward, cancelled ones included.

    Raises ValueError for a restricted group: its meetings never go into a feed, whoever asks,
    because a feed or file travels on beyond the person it was made for.
    """
    if group.is_restricted:
        raise ValueError(f"{group.slug} is a restricted group: its meetings are never put in a feed")
    return meetings_calendar(feed_meetings(session, group, now), group.name, now, with_links=False)


def _feed_events(session: Session, now: datetime) -> list[Event]:
    since = now - FEED_PAST
    return [e for e in event_queries.all_events(session) if e.starts_at_utc >= since]


def public_events_feed(session: Session, now: datetime) -> bytes:
    """The business transformation events from 90 days ago onward, cancelled ones marked."""
    return calendar_file((event_entry(e) for e in _feed_events(session, now)), EVENTS_CALENDAR_NAME, now)


def meeting_file(meeting: Meeting, now: datetime) -> bytes:
    """One meeting as a calendar file; who may have it is the caller's decision."""
    return meetings_calendar([meeting], f"{meeting.group.name}: {meeting.title}", now)
