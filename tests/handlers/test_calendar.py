"""Calendar files (handlers.calendar), read back with icalendar and recurring-ical-events.

The demo is loaded as of Wednesday 25 November 2026: GIS meets on the second Tuesday of
December, March, June and September at 10:00-12:00 London time.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import select

import calendars
from bot import router
from core.messages import Refusal, Reply, Request
from handlers import calendar as calendar_handlers
from handlers.base import Context
from handlers.people import resolve_caller
from storage import groups as group_queries, meetings as meeting_queries
from storage.models import Event, Meeting, MeetingSeries, MeetingStatus
from tests.conftest import ADMIN, NOW, ZONE

UTC = timezone.utc
PARTNER = "someone@medway.gov.uk"  # partner staff, in no group
LEADERSHIP_CHAIR = "board.demo@kent.police.uk"
# Wide enough for every demo meeting and every meeting these tests add.
WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC))
_DATES = re.compile(
    r"\b20\d\d\b|\b(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\b"
)


# --- helpers --------------------------------------------------------------------------------


def parse(content: bytes) -> Calendar:
    return Calendar.from_ical(content)


def events(content: bytes) -> list:
    return list(parse(content).walk("VEVENT"))


def instants(content: bytes) -> dict[str, datetime]:
    """UID -> start as a UTC instant, as an independent recurrence-aware reader finds them."""
    found = recurring_ical_events.of(parse(content)).between(*WINDOW)
    starts = {str(e["UID"]): e["DTSTART"].dt.astimezone(UTC) for e in found}
    assert len(starts) == len(found), "one UID per event"
    return starts


def uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.id}@kentconnects"


def gis_meetings(session) -> list[Meeting]:
    return meeting_queries.group_meetings(session, group_queries.group_by_slug(session, "gis"))


def gis_meeting_in(session, year: int, month: int) -> Meeting:
    (meeting,) = [m for m in gis_meetings(session) if (m.start_local.year, m.start_local.month) == (year, month)]
    return meeting


def leadership_meeting(session) -> Meeting:
    return meeting_queries.group_meetings(session, group_queries.group_by_slug(session, "leadership"))[0]


def context(session, settings, email: str, now: datetime = NOW) -> Context:
    """A Context as the router builds one for a console message."""
    request = Request(text="calendar", platform="console", user_id=email, email=email, now=now)
    return Context(session, request, resolve_caller(session, request, settings), settings)


def refused(ctx: Context, target: str) -> Reply:
    """The reply of the Refusal that `calendar TARGET` raises, which is what the router answers."""
    with pytest.raises(Refusal) as raised:
        calendar_handlers.calendar(ctx, target)
    return raised.value.reply


def reply_strings(reply: Reply) -> list[str]:
    strings = [reply.text, reply.title or "", reply.footer or ""]
    strings += [s for f in reply.fields for s in (f.label, f.value)]
    strings += [s for a in reply.actions for s in (a.label, a.command)]
    return strings


def assert_plain(reply: Reply) -> None:
    for text in reply_strings(reply):
        assert not re.search(r"[`*<>_]|\[.*\]\(", text), f"markup in {text!r}"


@pytest.fixture
def calendar_chat(chat):
    """The chat, through the router's own `calendar ...` route."""
    assert router.is_command("calendar gis")
    return chat


# --- the file itself ------------------------------------------------------------------------


def test_gis_feed_finds_the_stored_instants_in_winter_and_summer(session):
    gis = group_queries.group_by_slug(session, "gis")
    december = gis_meeting_in(session, 2026, 12)
    june = gis_meeting_in(session, 2027, 6)
    content = calendars.group_feed(session, gis, NOW)

    found = instants(content)
    assert found == {uid(m): m.starts_at_utc for m in gis_meetings(session)}
    # 10:00 local is 10:00 UTC in December (GMT) and 09:00 UTC in June (BST).
    assert found[uid(december)] == datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    assert found[uid(june)] == datetime(2027, 6, 8, 9, 0, tzinfo=UTC)

    by_uid = {str(e["UID"]): e for e in events(content)}
    for meeting in (december, june):
        start = by_uid[uid(meeting)]["DTSTART"]
        assert start.params["TZID"] == ZONE
        assert start.dt.replace(tzinfo=None) == meeting.start_local
        assert start.dt.hour == 10
        end = by_uid[uid(meeting)]["DTEND"].dt
        assert end.astimezone(UTC) - start.dt.astimezone(UTC) == timedelta(hours=2)


def test_calendar_and_event_properties(session):
    gis = group_queries.group_by_slug(session, "gis")
    december = gis_meeting_in(session, 2026, 12)
    cal = parse(calendars.group_feed(session, gis, NOW))

    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == "-//Kent Connects//Kent Connects Bot//EN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "GIS"
    assert str(cal["X-WR-TIMEZONE"]) == ZONE

    found = list(cal.walk("VEVENT"))
    assert len(found) == 4
    event = next(e for e in found if str(e["UID"]) == uid(december))
    assert "RRULE" not in event
    assert event["DTSTAMP"].dt == NOW
    assert event["LAST-MODIFIED"].dt == december.updated_at.replace(microsecond=0)  # iCalendar keeps seconds
    assert int(event["SEQUENCE"]) == december.sequence
    assert str(event["SUMMARY"]) == "GIS: GIS quarterly meeting"
    assert str(event["LOCATION"]) == "Map Room, Demo Centre, Chatham (demo venue)"
    # The feed is served without a login, so the joining link is left out of it ...
    assert "URL" not in event
    description = str(event["DESCRIPTION"])
    assert december.agenda in description
    assert "https://meet.example.org/demo-gis" not in description and "joining link" in description
    # ... while the file a partner's member of staff asks for in chat has it.
    own = parse(calendars.meetings_calendar([december], "GIS", NOW))
    [with_link] = [e for e in own.walk("VEVENT")]
    assert str(with_link["URL"]) == "https://meet.example.org/demo-gis"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_url_only_when_the_meeting_has_a_link(session):
    smart = group_queries.group_by_slug(session, "smart-kent-and-medway")  # the demo gives it no link
    found = events(calendars.group_feed(session, smart, NOW))
    assert found and all("URL" not in e for e in found)
    assert all("Join online" not in str(e["DESCRIPTION"]) for e in found)


def test_vtimezone_for_london_has_winter_and_summer_parts(session):
    gis = group_queries.group_by_slug(session, "gis")
    for content in (
        calendars.group_feed(session, gis, NOW),
        calendars.meeting_file(gis_meeting_in(session, 2026, 12), NOW),
    ):
        cal = parse(content)
        (london,) = [tz for tz in cal.walk("VTIMEZONE") if str(tz["TZID"]) == ZONE]
        kinds = {part.name for part in london.subcomponents}
        assert {"STANDARD", "DAYLIGHT"} <= kinds
        assert cal.get_missing_tzids() == set()


def test_moved_meeting_keeps_its_uid_with_a_higher_sequence(session):
    gis = group_queries.group_by_slug(session, "gis")
    december = gis_meeting_in(session, 2026, 12)
    before = events(calendars.group_feed(session, gis, NOW))
    old_sequence = next(int(e["SEQUENCE"]) for e in before if str(e["UID"]) == uid(december))

    meeting_queries.set_times(december, datetime(2026, 12, 15, 14, 0), datetime(2026, 12, 15, 16, 0), ZONE)
    december.sequence += 1
    session.flush()

    content = calendars.group_feed(session, gis, NOW)
    after = events(content)
    assert len(after) == len(before)
    uids = [str(e["UID"]) for e in after]
    assert len(uids) == len(set(uids))
    moved = next(e for e in after if str(e["UID"]) == uid(december))
    assert int(moved["SEQUENCE"]) == old_sequence + 1
    assert moved["DTSTART"].dt.replace(tzinfo=None) == datetime(2026, 12, 15, 14, 0)
    assert instants(content)[uid(december)] == december.starts_at_utc == datetime(2026, 12, 15, 14, 0, tzinfo=UTC)


def test_cancelled_meeting_stays_in_the_feed_marked_cancelled(session):
    gis = group_queries.group_by_slug(session, "gis")
    march = gis_meeting_in(session, 2027, 3)
    march.status = MeetingStatus.CANCELLED
    march.sequence += 1
    session.flush()

    by_uid = {str(e["UID"]): e for e in events(calendars.group_feed(session, gis, NOW))}
    assert str(by_uid[uid(march)]["STATUS"]) == "CANCELLED"
    assert int(by_uid[uid(march)]["SEQUENCE"]) == march.sequence
    assert "cancelled" in str(by_uid[uid(march)]["DESCRIPTION"])
    others = [e for key, e in by_uid.items() if key != uid(march)]
    assert len(others) == 3 and all(str(e["STATUS"]) == "CONFIRMED" for e in others)


def test_feed_keeps_ninety_days_of_past_meetings(session):
    gis = group_queries.group_by_slug(session, "gis")
    # 1 April 2027: December's meeting is 114 days ago, March's 23 days ago.
    later = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
    found = instants(calendars.group_feed(session, gis, later))
    assert uid(gis_meeting_in(session, 2026, 12)) not in found
    assert uid(gis_meeting_in(session, 2027, 3)) in found
    assert len(found) == 3


def test_group_feed_refuses_a_restricted_group(session):
    leadership = group_queries.group_by_slug(session, "leadership")
    with pytest.raises(ValueError, match="restricted"):
        calendars.group_feed(session, leadership, NOW)


def test_public_events_feed_has_the_events_from_90_days_ago_without_joining_links(session):
    content = calendars.public_events_feed(session, NOW)
    cal = parse(content)
    assert cal.name == "VCALENDAR"
    assert str(cal["X-WR-CALNAME"]) == "Kent Connects events"
    assert str(cal["PRODID"]) == "-//Kent Connects//Kent Connects Bot//EN"
    assert str(cal["METHOD"]) == "PUBLISH"
    stored = {e.id: e for e in session.execute(select(Event)).scalars() if e.starts_at_utc >= NOW - timedelta(days=90)}
    assert stored, "the demo has an upcoming event"
    found = {str(v["UID"]): v for v in cal.walk("VEVENT")}
    assert set(found) == {f"event-{i}@kentconnects" for i in stored}
    for event_id, event in stored.items():
        vevent = found[f"event-{event_id}@kentconnects"]
        assert vevent["DTSTART"].dt.astimezone(timezone.utc) == event.starts_at_utc
        assert event.title in str(vevent["SUMMARY"])
        assert "URL" not in vevent and "meet.example.org" not in content.decode()
    assert len(recurring_ical_events.of(cal).between(*WINDOW)) == len(stored)


def test_meeting_file_is_a_one_meeting_calendar(session):
    june = gis_meeting_in(session, 2027, 6)
    content = calendars.meeting_file(june, NOW)
    assert instants(content) == {uid(june): june.starts_at_utc}
    assert str(parse(content)["X-WR-CALNAME"]) == "GIS: GIS quarterly meeting"


def test_user_text_round_trips_intact(session):
    june = gis_meeting_in(session, 2027, 6)
    june.title = "Maps; plans, <b>and</b> \\ more"
    june.agenda = "<script>alert('hi')</script>\nItem 2; costs, £5 \\ VAT\n\nBEGIN:VEVENT\nUID:forged"
    june.place = "Room 1; Floor 2, Chatham"
    session.flush()

    content = calendars.meeting_file(june, NOW)
    (event,) = events(content)
    assert str(event["SUMMARY"]) == "GIS: " + june.title
    assert str(event["LOCATION"]) == june.place
    assert "Agenda:\n" + june.agenda in str(event["DESCRIPTION"])
    assert b"\\;" in content and b"\\," in content  # escaped, not raw
    # The agenda's "BEGIN:VEVENT" stays text inside DESCRIPTION: it cannot start a line, or an event.
    assert content.split(b"\r\n").count(b"BEGIN:VEVENT") == 1
    assert str(event["UID"]) == uid(june)


def test_series_across_both_clock_changes_stays_at_ten_local(session):
    gis = group_queries.group_by_slug(session, "gis")
    series = MeetingSeries(
        group=gis,
        title="GIS monthly clinic",
        first_start_local=datetime(2027, 1, 19, 10, 0),
        duration_minutes=60,
        timezone=ZONE,
        rrule="FREQ=MONTHLY;BYDAY=3TU;COUNT=12",
        place=None,
        online_url=None,
        agenda=None,
        status=MeetingStatus.SCHEDULED,
    )
    made = meeting_queries.add_series(session, series, until_local=datetime(2028, 1, 1))
    assert len(made) == 12

    content = calendars.meetings_calendar(made, "GIS clinic", NOW)
    found = instants(content)
    assert found == {uid(m): m.starts_at_utc for m in made}
    for event in events(content):
        assert event["DTSTART"].params["TZID"] == ZONE
        assert (event["DTSTART"].dt.hour, event["DTSTART"].dt.minute) == (10, 0)
    # GMT before 28 March and from 31 October, BST between.
    utc_hours = {found[uid(m)].month: found[uid(m)].hour for m in made}
    assert utc_hours == {1: 10, 2: 10, 3: 10, 4: 9, 5: 9, 6: 9, 7: 9, 8: 9, 9: 9, 10: 9, 11: 10, 12: 10}


@pytest.mark.parametrize(
    "local, expected_wall, expected_utc",
    [
        # 01:30 on 28 March 2027 does not exist in London: stored as 02:30 BST.
        (datetime(2027, 3, 28, 1, 30), datetime(2027, 3, 28, 2, 30), datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
        # 01:30 on 31 October 2027 happens twice: stored as the first, BST.
        (datetime(2027, 10, 31, 1, 30), datetime(2027, 10, 31, 1, 30), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    ],
)
def test_times_at_the_clock_changes_agree_with_storage(session, local, expected_wall, expected_utc):
    gis = group_queries.group_by_slug(session, "gis")
    meeting = Meeting(group=gis, title="Night shift", status=MeetingStatus.SCHEDULED)
    meeting_queries.set_times(meeting, local, local + timedelta(hours=2), ZONE)
    session.add(meeting)
    session.flush()
    content = calendars.meeting_file(meeting, NOW)
    (event,) = events(content)
    assert event["DTSTART"].dt.replace(tzinfo=None) == expected_wall
    assert instants(content)[uid(meeting)] == meeting.starts_at_utc == expected_utc


def test_naive_now_is_refused(session):
    with pytest.raises(ValueError):
        calendars.meeting_file(gis_meeting_in(session, 2026, 12), NOW.replace(tzinfo=None))


# --- chat: groups ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["gis", "GIS", "the GIS group", "mapping"])
def test_calendar_gis_attaches_a_file_that_parses(session, settings, target):
    reply = calendar_handlers.calendar(context(session, settings, PARTNER), target)
    attachment = reply.attachment
    assert attachment is not None
    assert attachment.filename == "gis.ics"
    assert attachment.content_type == "text/calendar; charset=utf-8"
    assert instants(attachment.content) == {uid(m): m.starts_at_utc for m in gis_meetings(session)}
    assert "4 meetings" in reply.text
    assert "Outlook" in reply.footer and "Google Calendar" in reply.footer
    assert_plain(reply)


def test_calendar_for_an_unknown_group_says_so(session, settings):
    reply = refused(context(session, settings, PARTNER), "underwater basket weaving")
    assert reply.attachment is None
    assert "I don't know a group" in reply.text


def test_someone_not_from_a_partner_is_refused(session, settings):
    for target in ("gis", "meeting 1"):
        reply = calendar_handlers.calendar(context(session, settings, "someone@gmail.com"), target)
        assert reply.attachment is None
        assert "partner" in reply.text
        assert not _DATES.search(reply.plain_text())


def test_leadership_calendar_is_refused_to_a_non_member_without_dates(calendar_chat):
    reply = calendar_chat.reply("calendar leadership", user=PARTNER)
    assert reply.attachment is None
    assert "closed group" in reply.text
    assert not _DATES.search(reply.plain_text())


@pytest.mark.parametrize("user", [LEADERSHIP_CHAIR, ADMIN])
def test_leadership_calendar_is_refused_politely_even_to_members(calendar_chat, user):
    reply = calendar_chat.reply("calendar leadership", user=user)
    assert reply.attachment is None
    assert reply.text.startswith("Sorry")
    assert "closed group" in reply.text
    # It says what they can do instead, and offers it.
    assert "meetings leadership" in reply.text
    assert "calendar meeting" in reply.text
    assert [a.command for a in reply.actions] == ["meetings leadership"]
    assert not _DATES.search(reply.plain_text())
    assert_plain(reply)


def test_calendar_gis_through_the_router(calendar_chat):
    reply = calendar_chat.reply("calendar gis", user=PARTNER)
    assert reply.attachment is not None and reply.attachment.filename == "gis.ics"
    assert len(instants(reply.attachment.content)) == 4


# --- chat: meeting numbers ------------------------------------------------------------------


@pytest.mark.parametrize("form", ["meeting {}", "{}", "#{}", "Meeting #{}", " meeting   {} "])
def test_meeting_number_gives_its_own_file(session, settings, form):
    june = gis_meeting_in(session, 2027, 6)
    reply = calendar_handlers.calendar(context(session, settings, PARTNER), form.format(june.id))
    assert reply.attachment is not None
    assert reply.attachment.filename == f"meeting-{june.id}.ics"
    assert reply.attachment.content_type == "text/calendar; charset=utf-8"
    assert instants(reply.attachment.content) == {uid(june): june.starts_at_utc}
    assert "Tuesday 8 June 2027" in reply.text
    assert_plain(reply)


def test_cancelled_meeting_file_says_cancelled(session, settings):
    june = gis_meeting_in(session, 2027, 6)
    june.status = MeetingStatus.CANCELLED
    session.flush()
    reply = calendar_handlers.calendar(context(session, settings, PARTNER), f"meeting {june.id}")
    (event,) = events(reply.attachment.content)
    assert str(event["STATUS"]) == "CANCELLED"
    assert "cancelled" in reply.text


def _unused_id(session) -> int:
    return (session.execute(select(Meeting.id).order_by(Meeting.id.desc()).limit(1)).scalar() or 0) + 1000


def test_unknown_meeting_number_replies_clearly(session, settings):
    missing = _unused_id(session)
    for target in (f"meeting {missing}", "meeting 0", "meeting 99999999999999999999999", "meeting 2147483648"):
        reply = refused(context(session, settings, PARTNER), target)
        assert reply.attachment is None
        assert reply.text.startswith("I can't find meeting ")
        assert "meetings" in reply.text
    reply = refused(context(session, settings, PARTNER), f"meeting {missing}")
    assert f"I can't find meeting {missing}." in reply.text


def _masked(reply: Reply, number: int) -> Reply:
    return replace(reply, text=reply.text.replace(str(number), "N"))


def test_a_closed_groups_meeting_number_looks_unknown_to_a_non_member(session, settings):
    secret = leadership_meeting(session)
    missing = _unused_id(session)
    ctx = context(session, settings, PARTNER)
    hidden = refused(ctx, f"meeting {secret.id}")
    unknown = refused(ctx, f"meeting {missing}")
    assert hidden.attachment is None
    assert _masked(hidden, secret.id) == _masked(unknown, missing)
    assert "Leadership" not in hidden.plain_text() and not _DATES.search(hidden.plain_text())


def test_a_closed_groups_meeting_number_through_the_router(calendar_chat, sessions):
    with sessions() as session:
        secret_id = leadership_meeting(session).id
        missing = _unused_id(session)
    refused = calendar_chat.reply(f"calendar meeting {secret_id}", user=PARTNER)
    unknown = calendar_chat.reply(f"calendar meeting {missing}", user=PARTNER)
    assert refused.attachment is None
    assert _masked(refused, secret_id) == _masked(unknown, missing)


def test_a_member_may_have_one_closed_group_meeting_as_a_file(session, settings):
    # A single meeting is what `next leadership meeting` already shows its members; only the
    # whole group's calendar is never made.
    secret = leadership_meeting(session)
    reply = calendar_handlers.calendar(context(session, settings, LEADERSHIP_CHAIR), f"meeting {secret.id}")
    assert reply.attachment is not None
    assert instants(reply.attachment.content) == {uid(secret): secret.starts_at_utc}


def test_empty_target_asks_which(session, settings):
    reply = calendar_handlers.calendar(context(session, settings, PARTNER), "   ")
    assert reply.attachment is None
    assert "calendar gis" in reply.text and "calendar meeting" in reply.text
