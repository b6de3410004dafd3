"""`calendar GROUP`, `calendar meeting 13`, `calendar events`: the dates as a file to import
(built by calendars/)."""

from __future__ import annotations

import re

from calendars import (
    CONTENT_TYPE,
    calendar_file,
    event_entry,
    feed_meetings,
    meeting_file,
    meetings_calendar,
    public_events_feed,
)
from core.messages import Action, Attachment, Reply
from handlers.base import Context, partner_staff_only
from handlers.events import find_event
from handlers.groups import find_group
from handlers.meetings import closed_group, find_meeting, when_text
from storage.models import Group, MeetingStatus

_MEETING_NUMBER = re.compile(r"^(?:meeting\s*)?(?:number\s*|no\.?\s*)?#?\s*(?P<number>\d+)$")

IMPORT_HELP = (
    "To add it to Outlook, open the file and choose to add it to your calendar (in Outlook on the "
    "web: Calendar, Add calendar, Upload from file). To add it to Google Calendar, on a computer go "
    "to Settings, Import and export, Import, and choose the file. The file is a copy of the dates "
    "as they are now: if a meeting moves or is cancelled, ask me for the file again and import it. "
    "Each meeting keeps its identity in the file, so most calendar programs update it rather than "
    "add it twice."
)


# --- chat -----------------------------------------------------------------------------------


@partner_staff_only
def calendar(ctx: Context, target: str) -> Reply:
    """`calendar GROUP` or `calendar meeting 13`: the dates as a file to import."""
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
            title="Events calendar",
            footer=IMPORT_HELP,
            attachment=Attachment("events.ics", CONTENT_TYPE, public_events_feed(ctx.session, ctx.now)),
        )
    if words.lower().startswith("event "):
        found_event = find_event(ctx, words[6:], upcoming_only=False)
        filename = f"event-{found_event.id}.ics"
        return Reply(
            f"Here is {found_event.title} (event {found_event.id}) as a calendar file, {filename}.",
            title=found_event.title,
            footer=IMPORT_HELP,
            attachment=Attachment(
                filename, CONTENT_TYPE, calendar_file([event_entry(found_event)], found_event.title, ctx.now)
            ),
        )
    return _group_calendar(ctx, find_group(ctx, words))


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
    meetings = feed_meetings(ctx.session, group, ctx.now)
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
