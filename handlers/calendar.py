"""Calendar files (.ics) of the groups' meetings: `calendar GROUP`, `calendar meeting 13`, and feeds."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Optional
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event as VEvent
from sqlalchemy.orm import Session

from bot.messages import Action, Attachment, Reply
from handlers.base import Context, needs_partner
from handlers.events import find_event
from handlers.groups import find_group
from handlers.meetings import closed_group, find_meeting, when_text
from storage import meetings as meeting_queries
from storage import events as event_queries
from storage.models import Event, EventStatus, Group, Meeting, MeetingStatus
from storage.wallclock import to_utc

PRODID = "-//Kent Connects//Kent Connects Bot//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"
EVENTS_CALENDAR_NAME = "Kent Connects events"
# A feed keeps recent meetings, so that a subscriber still sees one that was just moved or cancelled.
FEED_PAST = timedelta(days=90)

_MEETING_NUMBER = re.compile(r"^(?:meeting\s*)?(?:number\s*|no\.?\s*)?#?\s*(?P<number>\d+)$")

IMPORT_HELP = (
    "To add it to Outlook, open the file and choose to add it to your calendar (in Outlook on the "
    "web: Calendar, Add calendar, Upload from file). To add it to Google Calendar, on a computer go "
    "to Settings, Import and export, Import, and choose the file. The file is a copy of the dates "
    "as they are now: if a meeting moves or is cancelled, ask me for the file again and import it. "
    "Each meeting keeps its identity in the file, so most calendar programs update it rather than "
    "add it twice."
)


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


def _feed_meetings(session: Session, group: Group, now: datetime) -> list[Meeting]:
    return meeting_queries.upcoming(session, now - FEED_PAST, [group.id], include_cancelled=True)


def group_feed(session: Session, group: Group, now: datetime) -> bytes:
    """The group's meetings from 90 days ago onward, cancelled ones included.

    Raises ValueError for a restricted group: its meetings never go into a feed, whoever asks,
    because a feed or file travels on beyond the person it was made for.
    """
    if group.is_restricted:
        raise ValueError(f"{group.slug} is a restricted group: its meetings are never put in a feed")
    return meetings_calendar(_feed_meetings(session, group, now), group.name, now, with_links=False)


def _feed_events(session: Session, now: datetime) -> list[Event]:
    since = now - FEED_PAST
    return [e for e in event_queries.all_events(session) if e.starts_at_utc >= since]


def public_events_feed(session: Session, now: datetime) -> bytes:
    """The business transformation events from 90 days ago onward, cancelled ones marked."""
    return calendar_file((event_entry(e) for e in _feed_events(session, now)), EVENTS_CALENDAR_NAME, now)


def meeting_file(meeting: Meeting, now: datetime) -> bytes:
    """One meeting as a calendar file; who may have it is the caller's decision."""
    return meetings_calendar([meeting], f"{meeting.group.name}: {meeting.title}", now)


# --- chat -----------------------------------------------------------------------------------


def calendar(ctx: Context, target: str) -> Reply:
    """`calendar GROUP` or `calendar meeting 13`: the dates as a file to import."""
    refusal = needs_partner(ctx)
    if refusal:
        return refusal
    words = " ".join(target.split())
    if not words:
        return Reply(
            "Which calendar would you like? Name a group, as in “calendar gis”, or a meeting "
            "number, as in “calendar meeting 13”.",
            actions=(Action("Groups", "groups"),),
        )
    number = _MEETING_NUMBER.match(words.lower())
    if number:
        return _meeting_calendar(ctx, number["number"])
    if words.lower() in ("events", "all events", "of events"):
        return Reply(
            "Here are the Kent Connects events as a calendar file, events.ics.",
            title="Events calendar", footer=IMPORT_HELP,
            attachment=Attachment("events.ics", CONTENT_TYPE, public_events_feed(ctx.session, ctx.now)),
        )
    if words.lower().startswith("event "):
        found_event = find_event(ctx, words[6:], upcoming_only=False)
        if isinstance(found_event, Reply):
            return found_event
        filename = f"event-{found_event.id}.ics"
        return Reply(
            f"Here is {found_event.title} (event {found_event.id}) as a calendar file, {filename}.",
            title=found_event.title, footer=IMPORT_HELP,
            attachment=Attachment(filename, CONTENT_TYPE,
                                  calendar_file([event_entry(found_event)], found_event.title, ctx.now)),
        )
    found = find_group(ctx, words)
    if isinstance(found, Reply):
        return found
    return _group_calendar(ctx, found)


def _group_calendar(ctx: Context, group: Group) -> Reply:
    if not ctx.caller.may_see(group):
        return closed_group(group)
    if group.is_restricted:
        return Reply(
            f"Sorry, I don't make a calendar file for the {group.name}: it's a closed group, and a "
            "file can easily be forwarded beyond its members. You can still see its dates with "
            f"“meetings {group.slug}”, and add one meeting at a time to your calendar with "
            "“calendar meeting NUMBER”.",
            actions=(Action("Its meetings", f"meetings {group.slug}"),),
        )
    meetings = _feed_meetings(ctx.session, group, ctx.now)
    if not meetings:
        return Reply(
            f"{group.name} has no meetings scheduled yet, so there is nothing to put in a calendar. "
            "Its chairs add them.",
            actions=(Action("Groups", "groups"),),
        )
    count = f"{len(meetings)} meeting{'s' if len(meetings) != 1 else ''}"
    filename = f"{group.slug}.ics"
    return Reply(
        f"Here is the {group.name} calendar as a file, {filename}: {count}, from the last three "
        "months onward, cancelled ones included and marked as cancelled.",
        title=f"{group.name} calendar",
        footer=IMPORT_HELP,
        actions=(Action("Its meetings", f"meetings {group.slug}"),),
        attachment=Attachment(filename, CONTENT_TYPE, meetings_calendar(meetings, group.name, ctx.now)),
    )


def _meeting_calendar(ctx: Context, digits: str) -> Reply:
    meeting = find_meeting(ctx, digits)
    if isinstance(meeting, Reply):
        return meeting
    lead = (
        f"Here is meeting {meeting.id} ({meeting.group.name}), on {when_text(ctx, meeting)}, as a "
        f"calendar file: meeting-{meeting.id}.ics."
    )
    if meeting.status is MeetingStatus.CANCELLED:
        lead += " This meeting is cancelled: importing the file marks it as cancelled in your calendar."
    return Reply(
        lead,
        title=f"{meeting.title} (meeting {meeting.id})",
        footer=IMPORT_HELP,
        attachment=Attachment(f"meeting-{meeting.id}.ics", CONTENT_TYPE, meeting_file(meeting, ctx.now)),
    )
