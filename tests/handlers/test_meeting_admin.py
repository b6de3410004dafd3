"""Chairs and the Partnership Office schedule, move and cancel meetings in chat (handlers.meeting_admin),
on SQLite and PostgreSQL, with the demo loaded as of Wednesday 25 November 2026 (see conftest).

demo@kent.gov.uk chairs Smart Kent and Medway Projects, whose demo meetings fall on
Fri 26 Feb, 28 May, 27 Aug and 26 Nov 2027, 10:00-11:30 (one series); it is a member of GIS
and Information Security. In 2027 the clocks go forward on 28 March and back on 31 October.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.router import Router
from core.messages import Reply
from handlers.meeting_admin import HOW_TO_MOVE
from storage import groups as group_queries, meetings as meeting_queries
from storage.models import (
    ConversationState,
    ConversationStep,
    Delivery,
    DeliveryStatus,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Person,
)
from storage.people import get_or_create_person, person_by_email
from tests.conftest import ADMIN, NOW, Chat

UTC = timezone.utc
DEMO = "demo@kent.gov.uk"
GIS_CHAIR = "gis.chair.demo@maidstone.gov.uk"
BOARD = "board.demo@kent.police.uk"
MEDWAY = "someone@medway.gov.uk"  # partner staff who chairs nothing
OUTSIDER = "someone@gmail.com"  # not partner staff
SMART = "smart-kent-and-medway"
NEW_MEMBERS = ("alice.member@medway.gov.uk", "bob.member@kent.police.uk", "carol.member@maidstone.gov.uk")
GENERIC_ERROR = "something went wrong"


# --- helpers --------------------------------------------------------------------------------


def say(chat: Chat, *texts: str, user: str | None = None, now: datetime | None = None) -> str:
    """Send each message in turn; the last reply's text. No reply may be the generic error."""
    text = ""
    for message in texts:
        text = chat(message, user=user, now=now)
        assert GENERIC_ERROR not in text, f"{message!r} -> {text}"
    return text


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\(meeting (\d+)\)", text)]


def group(session, slug: str):
    found = group_queries.group_by_slug(session, slug)
    assert found is not None
    return found


def add_members(session, slug: str, emails=NEW_MEMBERS) -> list[Person]:
    people = [get_or_create_person(session, email) for email in emails]
    for person in people:
        assert group_queries.add_member(session, person, group(session, slug))
    session.flush()
    return people


def member_ids_except(session, slug: str, email: str) -> set[int]:
    return {m.person_id for m in group_queries.members(session, group(session, slug)) if m.person.email != email}


def person_id(session, email: str) -> int:
    person = person_by_email(session, email)
    assert person is not None
    return person.id


def deliveries(session, kind: str | None = None, subject: str | None = None) -> list[Delivery]:
    session.expire_all()
    query = select(Delivery).order_by(Delivery.id)
    if kind:
        query = query.where(Delivery.kind == kind)
    if subject:
        query = query.where(Delivery.subject == subject)
    return list(session.execute(query).scalars())


def delivery_count(session) -> int:
    return session.execute(select(func.count()).select_from(Delivery)).scalar_one()


def meeting_count(session) -> int:
    return session.execute(select(func.count()).select_from(Meeting)).scalar_one()


def series_count(session) -> int:
    return session.execute(select(func.count()).select_from(MeetingSeries)).scalar_one()


def meeting(session, number: int) -> Meeting:
    session.expire_all()
    found = session.get(Meeting, number)
    assert found is not None
    return found


def draft(session, email: str = DEMO) -> ConversationState | None:
    session.expire_all()
    return session.execute(
        select(ConversationState).join(Person, Person.id == ConversationState.person_id).where(Person.email == email)
    ).scalar_one_or_none()


def smart_meetings(session) -> list[Meeting]:
    """Smart Kent and Medway's scheduled demo meetings, soonest first."""
    session.expire_all()
    return meeting_queries.upcoming(session, NOW, [group(session, SMART).id])


def snapshot(session) -> tuple[int, int, int]:
    return meeting_count(session), series_count(session), delivery_count(session)


def not_found_reply(text: str, number: int) -> str:
    """The reply with the meeting number taken out, to compare 'unknown' with 'not yours to see'."""
    return text.replace(str(number), "N")


# The answers, after "schedule smart kent", for a quarterly series from Tuesday 9 March 2027.
QUARTERLY_ANSWERS = (
    "9 March 2027",
    "10:00-12:00",
    "quarterly",
    "Estuary Room, Ashford",
    "https://teams.microsoft.com/l/meetup-join/abc",
    "updates; project reports",
)


# --- the step-by-step schedule conversation ---------------------------------------------------


def test_schedule_quarterly_series_step_by_step(chat, session):
    newcomers = add_members(session, SMART)
    before_meetings = meeting_count(session)

    first = chat("schedule smart kent")
    assert "Which day" in first
    prompts = [chat(answer) for answer in QUARTERLY_ANSWERS]
    assert "From what time to what time" in prompts[0]
    assert "Does it repeat" in prompts[1]
    assert "Where is it held" in prompts[2]
    assert "online meeting link" in prompts[3]
    assert "agenda" in prompts[4]
    summary = prompts[5]
    assert "say `yes` to confirm" in summary
    assert "Repeats: every 3 months on the second Tuesday, 4 meetings" in summary
    assert meeting_count(session) == before_meetings  # nothing written before `yes`

    done = say(chat, "yes")
    made = numbers(done)
    assert len(made) == 4, done
    assert "Scheduled 4 Smart Kent and Medway Projects meetings" in done
    assert meeting_count(session) == before_meetings + 4
    assert draft(session) is None

    meetings = [meeting(session, n) for n in made]
    assert [m.start_local for m in meetings] == [
        datetime(2027, 3, 9, 10),
        datetime(2027, 6, 8, 10),
        datetime(2027, 9, 14, 10),
        datetime(2027, 12, 14, 10),
    ]
    assert all(m.end_local - m.start_local == timedelta(hours=2) for m in meetings)
    # 10:00 London time is 10:00 UTC in winter (GMT) and 09:00 UTC in summer (BST).
    assert [m.starts_at_utc for m in meetings] == [
        datetime(2027, 3, 9, 10, tzinfo=UTC),
        datetime(2027, 6, 8, 9, tzinfo=UTC),
        datetime(2027, 9, 14, 9, tzinfo=UTC),
        datetime(2027, 12, 14, 10, tzinfo=UTC),
    ]
    assert "10:00–12:00 GMT" in done and "10:00–12:00 BST" in done
    series_ids = {m.series_id for m in meetings}
    assert len(series_ids) == 1 and None not in series_ids
    series = session.get(MeetingSeries, series_ids.pop())
    assert series.group.slug == SMART
    assert "COUNT=4" in series.rrule and "INTERVAL=3" in series.rrule
    for m in meetings:
        assert m.group.slug == SMART
        assert m.status is MeetingStatus.SCHEDULED
        assert m.place == "Estuary Room, Ashford"
        assert m.online_url == "https://teams.microsoft.com/l/meetup-join/abc"
        assert m.agenda == "updates; project reports"

    notices = deliveries(session, "meeting_scheduled")
    expected = member_ids_except(session, SMART, DEMO)
    assert {p.id for p in newcomers} <= expected
    assert sorted(d.recipient_id for d in notices) == sorted(expected)  # one each
    assert person_id(session, DEMO) not in {d.recipient_id for d in notices}  # the chair gets none
    assert {d.subject for d in notices} == {f"series:{series.id}"}
    assert all(d.status is DeliveryStatus.PENDING and d.channel == "direct" for d in notices)
    assert f"A notice to its {len(expected)} other members is queued" in done
    notice = Reply.from_data(notices[0].payload)
    assert "4 new meetings" in notice.text
    assert "Tuesday 9 March 2027, 10:00–12:00 GMT" in notice.plain_text()


def test_schedule_one_off_meeting(chat, session):
    add_members(session, SMART, NEW_MEMBERS[:1])
    before = meeting_count(session)
    done = say(
        chat, "schedule smart kent", "16 March 2027", "14:00-15:30", "no", "Committee Room 2", "skip", "skip", "yes"
    )
    assert "Scheduled 1 Smart Kent and Medway Projects meeting." in done
    [number] = numbers(done)
    made = meeting(session, number)
    assert meeting_count(session) == before + 1
    assert made.series_id is None
    assert (made.start_local, made.end_local) == (datetime(2027, 3, 16, 14), datetime(2027, 3, 16, 15, 30))
    assert made.starts_at_utc == datetime(2027, 3, 16, 14, tzinfo=UTC)
    assert (made.place, made.online_url, made.agenda) == ("Committee Room 2", None, None)
    notices = deliveries(session, "meeting_scheduled")
    assert {d.subject for d in notices} == {f"meeting:{number}"}
    assert sorted(d.recipient_id for d in notices) == sorted(member_ids_except(session, SMART, DEMO))


def test_schedule_without_a_group_asks_for_it_first(chat, session):
    assert "Which group is the meeting for?" in say(chat, "schedule a meeting")
    assert "Which day" in say(chat, "smart kent")
    assert draft(session).values["group"] == {"slug": SMART, "name": "Smart Kent and Medway Projects"}


def test_back_asks_the_previous_question_again(chat, session):
    say(chat, "schedule smart kent", "9 March 2027")
    assert draft(session).field == "time"
    again = say(chat, "back")
    assert "Which day" in again
    state = draft(session)
    assert state.field == "date" and "date" not in state.values
    assert state.values["group"]["slug"] == SMART  # earlier answers kept
    summary = say(chat, "10 March 2027", "10:00-11:00", "no", "Room 1", "skip", "skip")
    assert "Date: Wednesday 10 March 2027" in summary
    [number] = numbers(say(chat, "yes"))
    assert meeting(session, number).start_local == datetime(2027, 3, 10, 10)


def test_skip_leaves_an_optional_field_empty_but_not_a_required_one(chat, session):
    say(chat, "schedule smart kent")
    refused = say(chat, "skip")  # the date is required
    assert "This one is needed: Which day" in refused and "For example: 9 March 2027" in refused
    assert draft(session).field == "date"
    say(chat, "9 March 2027", "10:00-11:00")
    assert "Where is it held" in say(chat, "skip")  # the repeat is optional
    assert draft(session).values["repeat"] is None
    assert "online meeting link" in say(chat, "skip")  # so is the place...
    assert "agenda" in say(chat, "https://meet.example.org/x")  # ...given a link
    summary = say(chat, "skip")
    assert "Place: (none)" in summary and "Repeats: (none)" in summary and "Agenda: (none)" in summary
    [number] = numbers(say(chat, "yes"))
    made = meeting(session, number)
    assert (made.place, made.online_url, made.agenda) == (None, "https://meet.example.org/x", None)


def test_edit_a_field_at_the_confirmation(chat, session):
    summary = say(chat, "schedule smart kent", "9 March 2027", "10:00-11:00", "no", "Room 1", "skip", "agenda A")
    assert "Date: Tuesday 9 March 2027" in summary
    assert "Which day" in say(chat, "edit date")
    summary = say(chat, "11 March 2027")
    assert "Date: Thursday 11 March 2027" in summary
    assert "Time: 10:00–11:00" in summary and "Place: Room 1" in summary and "Agenda: agenda A" in summary
    assert "What is the online meeting link?" in say(chat, "edit online link")  # by label
    assert "Online link: https://meet.example.org/y" in say(chat, "https://meet.example.org/y")
    [number] = numbers(say(chat, "yes"))
    made = meeting(session, number)
    assert made.start_local == datetime(2027, 3, 11, 10)
    assert (made.place, made.online_url, made.agenda) == ("Room 1", "https://meet.example.org/y", "agenda A")


def test_edit_an_unknown_field_lists_the_fields(chat, session):
    say(chat, "schedule smart kent", "9 March 2027", "10:00-11:00", "no", "Room 1", "skip", "skip")
    reply = say(chat, "edit colour")
    assert "Which one? You can edit:" in reply and "`date`" in reply and "`online link`" in reply
    assert draft(session).step is ConversationStep.CONFIRMING


def test_edit_date_of_a_quarterly_series_starts_it_on_the_new_date(chat, session):
    say(chat, "schedule smart kent", "9 March 2027", "10:00-11:00", "quarterly", "Room 1", "skip", "skip", "edit date")
    summary = say(chat, "26 March 2027")  # a Friday: the last Friday of March
    assert "Date: Friday 26 March 2027" in summary
    made = numbers(say(chat, "yes"))
    assert made, "nothing was scheduled"
    # "Which day (the first, if it repeats)?" was answered 26 March: the first meeting is then.
    assert meeting(session, made[0]).start_local == datetime(2027, 3, 26, 10)


def test_cancel_midway_writes_nothing(chat, session):
    before = snapshot(session)
    say(chat, "schedule smart kent", "9 March 2027", "10:00-11:00")
    assert draft(session) is not None
    reply = say(chat, "cancel")
    assert "nothing was saved" in reply
    assert draft(session) is None
    assert snapshot(session) == before
    # Afterwards an answer is just words again, not part of a form.
    assert "Sorry, I don't understand" in say(chat, "quarterly")


@pytest.mark.parametrize(
    "earlier, bad, problem, example",
    [
        ((), "31 February", "February has 29 days at most", "For example: 9 March 2027"),
        ((), "1 November 2026", "is in the past", "For example: 9 March 2027"),
        (
            ("9 March 2027",),
            "12:00-10:00",
            "The end (10:00) must be after the start (12:00)",
            "For example: 10:00-12:00",
        ),
        (("9 March 2027",), "10:00", "Please give the end time too", "For example: 10:00-12:00"),
        (("9 March 2027", "10:00-11:00"), "every month, 1000 times", "1,000 meetings", "For example: quarterly"),
        (
            ("9 March 2027", "10:00-11:00"),
            "every other blue moon",
            "couldn't read that repeat",
            "For example: quarterly",
        ),
        (("9 March 2027", "10:00-11:00", "no", "Room 1"), "not a link", "isn't a web link", "For example: https://"),
        (
            ("9 March 2027", "10:00-11:00", "no", "Room 1"),
            "ftp://files.example.org/x",
            "isn't a web link",
            "For example: https://",
        ),
    ],
    ids=[
        "31-february",
        "past-date",
        "end-before-start",
        "no-end",
        "1000-times",
        "unreadable-repeat",
        "not-a-link",
        "ftp-link",
    ],
)
def test_a_bad_answer_asks_the_same_question_again_and_keeps_the_earlier_ones(
    chat, session, earlier, bad, problem, example
):
    before = snapshot(session)
    say(chat, "schedule smart kent", *earlier)
    field = draft(session).field
    kept = dict(draft(session).values)
    reply = say(chat, bad)
    assert problem in reply
    assert example in reply  # the same question's hint
    state = draft(session)
    assert state.field == field
    assert state.step is ConversationStep.ASKING
    assert state.values == kept
    assert snapshot(session) == before


def test_the_draft_survives_a_restart(chat, session, sessions, settings):
    say(chat, "schedule smart kent", "9 March 2027", "10:00-11:00")
    stored = draft(session)
    assert stored.field == "repeat"
    assert stored.values["date"] == "2027-03-09" and stored.values["time"] == {"start": "10:00", "end": "11:00"}

    restarted = Chat(Router(sessions, settings))  # a new process, the same database
    assert "Where is it held" in say(restarted, "no")
    summary = say(restarted, "Room 1", "skip", "skip")
    assert "Date: Tuesday 9 March 2027" in summary and "Time: 10:00–11:00" in summary
    [number] = numbers(say(restarted, "yes"))
    assert meeting(session, number).start_local == datetime(2027, 3, 9, 10)


def test_a_command_mid_form_is_answered_and_continue_resumes(chat, session):
    say(chat, "schedule smart kent", "9 March 2027")
    reply = say(chat, "my meetings")
    assert "Your meetings" in reply
    assert "Your unfinished form is kept" in reply and "`continue`" in reply
    state = draft(session)
    assert state.step is ConversationStep.PAUSED
    assert state.values["date"] == "2027-03-09"
    # While paused, other commands are answered normally and the draft stays.
    assert "Kent Connects has" in say(chat, "groups")
    assert draft(session).step is ConversationStep.PAUSED

    resumed = say(chat, "continue")
    assert "Let's carry on" in resumed and "From what time to what time" in resumed
    assert draft(session).step is ConversationStep.ASKING
    [number] = numbers(say(chat, "10:00-11:00", "no", "Room 1", "skip", "skip", "yes"))
    assert meeting(session, number).start_local == datetime(2027, 3, 9, 10)


def test_a_paused_draft_can_be_dropped(chat, session):
    say(chat, "schedule smart kent", "9 March 2027", "whoami")
    assert draft(session).step is ConversationStep.PAUSED
    assert "dropped your unfinished form “Schedule a meeting”" in say(chat, "cancel")
    assert draft(session) is None


def test_starting_another_form_does_not_claim_the_old_one_is_kept(chat, session):
    number = smart_meetings(session)[0].id
    say(chat, f"cancel meeting {number}")  # the cancel form waits for `yes`
    reply = say(chat, "schedule smart kent")
    assert "dropped your unfinished form “Cancel a meeting”" in reply
    assert "Your unfinished form is kept" not in reply


# --- who may schedule -------------------------------------------------------------------------


def test_a_chair_cannot_schedule_for_another_group(chat, session):
    before = snapshot(session)
    reply = say(chat, "schedule gis")
    assert "Only the chairs of GIS and the Partnership Office" in reply
    assert draft(session) is None
    assert snapshot(session) == before


def test_a_chair_naming_another_group_in_the_form_is_asked_again(chat, session):
    say(chat, "schedule")
    reply = say(chat, "gis")
    assert "Only the chairs of GIS" in reply
    assert draft(session).field == "group"
    assert "Which day" in say(chat, "smart kent")


def test_an_unknown_group_is_refused(chat, session):
    before = snapshot(session)
    reply = say(chat, "schedule the quidditch group")
    assert "I don't know a group called" in reply and "quidditch" in reply
    assert draft(session) is None
    assert snapshot(session) == before


@pytest.mark.parametrize("words", ["schedule", "schedule smart kent", "schedule a meeting for gis"])
def test_partner_staff_who_chair_nothing_are_refused(chat, session, words):
    before = snapshot(session)
    reply = say(chat, words, user=MEDWAY)
    assert "Only the chairs of a group and the Partnership Office can schedule" in reply
    assert draft(session, MEDWAY) is None
    assert snapshot(session) == before


@pytest.mark.parametrize("words", ["schedule", "schedule smart kent", "move 17 to 1 March 2027", "cancel meeting 17"])
def test_people_outside_the_partnership_are_refused(chat, session, words):
    before = snapshot(session)
    reply = say(chat, words, user=OUTSIDER)
    assert "I can't match someone@gmail.com to a Kent Connects partner" in reply
    assert person_by_email(session, OUTSIDER) is None
    assert snapshot(session) == before


@pytest.mark.parametrize("slug, words", [("leadership", "leadership"), ("gis", "gis")])
def test_an_admin_may_schedule_for_any_group(chat, session, slug, words):
    done = say(
        chat, f"schedule {words}", "10 March 2027", "10:00-12:00", "no", "Room 1", "skip", "skip", "yes", user=ADMIN
    )
    [number] = numbers(done)
    assert meeting(session, number).group.slug == slug
    notices = deliveries(session, "meeting_scheduled", f"meeting:{number}")
    expected = member_ids_except(session, slug, ADMIN)
    assert expected and sorted(d.recipient_id for d in notices) == sorted(expected)
    assert person_id(session, ADMIN) not in {d.recipient_id for d in notices}


def test_the_leadership_chair_may_schedule_for_it_but_demo_may_not(chat, session):
    assert "Only the chairs of Leadership Group" in say(chat, "schedule leadership")
    assert "Which day" in say(chat, "schedule leadership", user=BOARD)


# --- bad input at the confirmation ------------------------------------------------------------


def test_a_time_already_passed_today_is_refused_at_the_confirmation(chat, session):
    before = snapshot(session)
    summary = say(chat, "schedule smart kent", "25 November 2026", "09:00-10:00", "no", "Room 1", "skip", "skip")
    assert "Date: Wednesday 25 November 2026" in summary  # today is allowed as a day...
    reply = say(chat, "yes")
    assert "already passed" in reply  # ...but not at a time before now
    assert "Which day" in reply
    assert draft(session).field == "date"
    assert snapshot(session) == before


def test_no_place_and_no_link_is_asked_again(chat, session):
    before = snapshot(session)
    summary = say(chat, "schedule smart kent", "9 March 2027", "10:00-11:00", "no", "skip", "skip", "skip")
    assert "Place: (none)" in summary and "Online link: (none)" in summary
    reply = say(chat, "yes")
    assert "needs a place or an online link" in reply and "Where is it held" in reply
    assert snapshot(session) == before
    assert "Place: Room 1" in say(chat, "Room 1")
    [number] = numbers(say(chat, "yes"))
    assert meeting(session, number).place == "Room 1"


def test_a_time_skipped_by_the_clocks_going_forward_is_refused(chat, session):
    before = snapshot(session)
    say(chat, "schedule smart kent", "28 March 2027", "01:30-03:00", "no", "Room 1", "skip", "skip")
    reply = say(chat, "yes")
    assert "01:30 doesn't exist on Sunday 28 March 2027" in reply and "clocks go forward" in reply
    assert "From what time to what time" in reply
    assert draft(session).field == "time"
    assert snapshot(session) == before


def test_a_time_that_happens_twice_is_the_first_of_the_two(chat, session):
    done = say(chat, "schedule smart kent", "31 October 2027", "01:30-02:30", "no", "Room 1", "skip", "skip", "yes")
    [number] = numbers(done)
    made = meeting(session, number)
    assert made.start_local == datetime(2027, 10, 31, 1, 30)
    assert made.starts_at_utc == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 01:30 BST, not 01:30 GMT


def test_a_series_with_an_occurrence_at_a_skipped_time_is_refused(chat, session):
    before = snapshot(session)
    say(chat, "schedule smart kent", "21 March 2027", "01:30-02:30", "weekly", "Room 1", "skip", "skip")
    reply = say(chat, "yes")
    assert "clocks go forward" in reply
    assert snapshot(session) == before


# --- move -----------------------------------------------------------------------------------


def test_move_one_occurrence(chat, session):
    add_members(session, SMART)
    first, *later = smart_meetings(session)
    number, later_before = first.id, [(m.id, m.start_local, m.starts_at_utc) for m in later]
    reply = say(chat, f"move {number} to 16 March 2027 14:00-15:30")
    assert (
        f"Moved meeting {number} from Friday 26 February 2027, 10:00–11:30 GMT to Tuesday 16 March 2027, "
        "14:00–15:30 GMT" in reply
    )
    moved = meeting(session, number)
    assert (moved.start_local, moved.end_local) == (datetime(2027, 3, 16, 14), datetime(2027, 3, 16, 15, 30))
    assert moved.starts_at_utc == datetime(2027, 3, 16, 14, tzinfo=UTC)
    assert moved.sequence == 1
    assert moved.occurrence_local == datetime(2027, 2, 26, 10)  # still names the original occurrence
    assert moved.status is MeetingStatus.SCHEDULED
    assert [
        (m.id, m.start_local, m.starts_at_utc) for m in (meeting(session, i) for i, *_ in later_before)
    ] == later_before

    notices = deliveries(session, "meeting_moved")
    assert sorted(d.recipient_id for d in notices) == sorted(member_ids_except(session, SMART, DEMO))
    assert {(d.subject, d.occurrence) for d in notices} == {(f"meeting:{number}", "v1")}
    notice = Reply.from_data(notices[0].payload)
    assert "has moved to Tuesday 16 March 2027, 14:00–15:30 GMT" in notice.text


def test_move_only_the_time_keeps_the_day_and_length(chat, session):
    number = smart_meetings(session)[1].id  # Friday 28 May 2027, 10:00-11:30 BST
    say(chat, f"move meeting {number} to 14:00")
    moved = meeting(session, number)
    assert (moved.start_local, moved.end_local) == (datetime(2027, 5, 28, 14), datetime(2027, 5, 28, 15, 30))
    assert moved.starts_at_utc == datetime(2027, 5, 28, 13, tzinfo=UTC)


def test_move_the_rest_of_the_series_keeps_the_local_time_across_the_clock_changes(chat, session):
    meetings = smart_meetings(session)
    assert [m.start_local.date() for m in meetings] == [
        date(2027, 2, 26),
        date(2027, 5, 28),
        date(2027, 8, 27),
        date(2027, 11, 26),
    ]
    number = meetings[0].id
    reply = say(chat, f"move {number} to 16 March 2027 14:00-15:30 and the rest of the series")
    assert "The 3 later meetings in the series moved the same way" in reply
    moved = [meeting(session, m.id) for m in meetings]
    # Shifted by 18 days and 4 hours of wall-clock time: always 14:00-15:30 London time.
    assert [(m.start_local, m.end_local) for m in moved] == [
        (datetime(2027, 3, 16, 14), datetime(2027, 3, 16, 15, 30)),
        (datetime(2027, 6, 15, 14), datetime(2027, 6, 15, 15, 30)),
        (datetime(2027, 9, 14, 14), datetime(2027, 9, 14, 15, 30)),
        (datetime(2027, 12, 14, 14), datetime(2027, 12, 14, 15, 30)),
    ]
    assert [m.starts_at_utc for m in moved] == [
        datetime(2027, 3, 16, 14, tzinfo=UTC),
        datetime(2027, 6, 15, 13, tzinfo=UTC),
        datetime(2027, 9, 14, 13, tzinfo=UTC),
        datetime(2027, 12, 14, 14, tzinfo=UTC),
    ]
    assert [m.sequence for m in moved] == [1, 1, 1, 1]
    text = say(chat, "meetings smart kent")
    assert "Tuesday 15 June 2027, 14:00–15:30 BST" in text and "Tuesday 14 December 2027, 14:00–15:30 GMT" in text


def test_move_a_later_occurrence_and_the_rest_leaves_the_earlier_ones(chat, session):
    first, second, third, fourth = smart_meetings(session)
    say(chat, f"reschedule {second.id} to 4 June 2027, and the following ones")
    assert meeting(session, first.id).start_local == datetime(2027, 2, 26, 10)
    assert meeting(session, first.id).sequence == 0
    assert [meeting(session, m.id).start_local for m in (second, third, fourth)] == [
        datetime(2027, 6, 4, 10),
        datetime(2027, 9, 3, 10),
        datetime(2027, 12, 3, 10),
    ]


def test_move_into_the_past_is_refused(chat, session):
    number = smart_meetings(session)[0].id
    before = snapshot(session)
    reply = say(chat, f"move {number} to 1 November 2026 10:00")
    assert "already passed" in reply
    assert meeting(session, number).start_local == datetime(2027, 2, 26, 10)
    assert meeting(session, number).sequence == 0
    assert snapshot(session) == before


def test_move_to_a_time_the_clocks_skip_is_refused(chat, session):
    number = smart_meetings(session)[0].id
    before = snapshot(session)
    reply = say(chat, f"move {number} to 28 March 2027 01:30")
    assert "01:30 doesn't exist on Sunday 28 March 2027" in reply and "clocks go forward" in reply
    assert meeting(session, number).start_local == datetime(2027, 2, 26, 10)
    assert snapshot(session) == before


def test_move_a_meeting_that_does_not_exist(chat, session):
    before = snapshot(session)
    reply = say(chat, "move 999999 to 16 March 2027 14:00")
    assert "I can't find meeting 999999" in reply
    assert snapshot(session) == before


def leadership_meeting(session) -> Meeting:
    found = meeting_queries.upcoming(session, NOW, [group(session, "leadership").id], limit=1)
    assert found
    return found[0]


def test_a_closed_groups_meeting_looks_unknown_to_non_members(chat, session):
    number = leadership_meeting(session).id
    before = snapshot(session)
    hidden = say(chat, f"move {number} to 16 March 2027 14:00")
    unknown = say(chat, "move 999999 to 16 March 2027 14:00")
    assert not_found_reply(hidden, number) == not_found_reply(unknown, 999999)
    assert "Leadership" not in hidden and "Orchard" not in hidden and "December" not in hidden
    hidden_cancel = say(chat, f"cancel meeting {number}")
    unknown_cancel = say(chat, "cancel meeting 999999")
    assert not_found_reply(hidden_cancel, number) == not_found_reply(unknown_cancel, 999999)
    assert "Leadership" not in hidden_cancel
    assert draft(session) is None
    assert snapshot(session) == before
    # Its chair may move it.
    assert f"Moved meeting {number}" in say(chat, f"move {number} to 16 March 2027 14:00", user=BOARD)


def test_a_member_who_is_not_chair_cannot_move_or_cancel(chat, session):
    number = meeting_queries.upcoming(session, NOW, [group(session, "gis").id], limit=1)[0].id
    before = snapshot(session)
    assert "Only the chairs of GIS and the Partnership Office" in say(chat, f"move {number} to 16 March 2027 14:00")
    assert "Only the chairs of GIS and the Partnership Office" in say(chat, f"cancel meeting {number}")
    assert draft(session) is None
    assert snapshot(session) == before
    assert meeting(session, number).sequence == 0
    # The GIS chair and an admin may.
    assert f"Moved meeting {number}" in say(chat, f"move {number} to 16 March 2027 14:00", user=GIS_CHAIR)
    assert f"Moved meeting {number}" in say(chat, f"move {number} to 17 March 2027 14:00", user=ADMIN)


def test_a_cancelled_meeting_cannot_be_moved(chat, session):
    number = smart_meetings(session)[0].id
    say(chat, f"cancel meeting {number}", "yes")
    assert meeting(session, number).status is MeetingStatus.CANCELLED
    before = snapshot(session)
    reply = say(chat, f"move {number} to 16 March 2027 14:00")
    assert f"Meeting {number}" in reply and "already cancelled" in reply
    assert meeting(session, number).start_local == datetime(2027, 2, 26, 10)
    assert snapshot(session) == before


@pytest.mark.parametrize(
    "words", ["move", "move it", "move the gis meeting", "move 17 somewhere nice", "reschedule please"]
)
def test_move_with_nonsense_explains_how(chat, session, words):
    before = snapshot(session)
    assert say(chat, words) == HOW_TO_MOVE
    assert snapshot(session) == before


def test_move_to_words_that_are_not_a_time(chat, session):
    number = smart_meetings(session)[0].id
    reply = say(chat, f"move {number} to whenever suits")
    assert reply == HOW_TO_MOVE
    assert meeting(session, number).sequence == 0


def test_move_with_the_end_before_the_start_says_so(chat, session):
    number = smart_meetings(session)[0].id
    reply = say(chat, f"move {number} to 16 March 2027 14:00-12:00")
    assert meeting(session, number).sequence == 0
    assert "end" in reply and "after" in reply and "start" in reply
    assert reply != HOW_TO_MOVE


def test_repeating_the_same_move_queues_no_second_notice(chat, session):
    add_members(session, SMART)
    number = smart_meetings(session)[0].id
    words = f"move {number} to 16 March 2027 14:00-15:30"
    say(chat, words)
    first = len(deliveries(session, "meeting_moved"))
    assert first == len(member_ids_except(session, SMART, DEMO))
    say(chat, words)
    assert len(deliveries(session, "meeting_moved")) == first


# --- cancel ---------------------------------------------------------------------------------


def test_cancel_one_meeting_after_confirmation(chat, session):
    add_members(session, SMART)
    first, *later = smart_meetings(session)
    number = first.id
    asked = say(chat, f"cancel meeting {number}")
    assert "say `yes` to confirm" in asked and "this one only" in asked
    assert f"Friday 26 February 2027, 10:00–11:30 GMT (meeting {number})" in asked
    assert meeting(session, number).status is MeetingStatus.SCHEDULED  # not yet
    assert deliveries(session, "meeting_cancelled") == []

    done = say(chat, "yes")
    assert "Cancelled 1 Smart Kent and Medway Projects meeting" in done
    cancelled = meeting(session, number)
    assert cancelled.status is MeetingStatus.CANCELLED
    assert cancelled.sequence == 1
    assert all(meeting(session, m.id).status is MeetingStatus.SCHEDULED for m in later)
    assert draft(session) is None
    assert f"(meeting {number})" not in say(chat, "meetings smart kent")
    assert f"(meeting {later[0].id})" in say(chat, "meetings smart kent")

    notices = deliveries(session, "meeting_cancelled")
    assert sorted(d.recipient_id for d in notices) == sorted(member_ids_except(session, SMART, DEMO))
    assert {(d.subject, d.occurrence) for d in notices} == {(f"meeting:{number}", "v1")}
    assert "Friday 26 February 2027" in Reply.from_data(notices[0].payload).text


def test_cancel_at_the_confirmation_keeps_the_meeting(chat, session):
    number = smart_meetings(session)[0].id
    before = snapshot(session)
    say(chat, f"cancel meeting {number}")
    reply = say(chat, "cancel")
    assert "nothing was saved" in reply
    assert meeting(session, number).status is MeetingStatus.SCHEDULED
    assert meeting(session, number).sequence == 0
    assert draft(session) is None
    assert snapshot(session) == before


def test_cancel_the_rest_of_the_series(chat, session):
    first, second, third, fourth = smart_meetings(session)
    asked = say(chat, f"cancel meeting {second.id} and the rest of the series")
    assert "this one and the rest of its series" in asked
    done = say(chat, "yes")
    assert "Cancelled 3 Smart Kent and Medway Projects meetings" in done
    assert meeting(session, first.id).status is MeetingStatus.SCHEDULED
    for m in (second, third, fourth):
        assert meeting(session, m.id).status is MeetingStatus.CANCELLED
        assert meeting(session, m.id).sequence == 1
    assert [m.id for m in smart_meetings(session)] == [first.id]
    assert {d.subject for d in deliveries(session, "meeting_cancelled")} == {f"meeting:{second.id}"}


def test_cancel_scope_can_be_edited_at_the_confirmation(chat, session):
    first, second, third, fourth = smart_meetings(session)
    say(chat, f"cancel meeting {third.id}", "edit which")
    assert "Which: this one and the rest of its series" in say(chat, "the rest of the series")
    say(chat, "yes")
    assert [m.id for m in smart_meetings(session)] == [first.id, second.id]


def test_repeating_a_cancel_queues_no_second_notice(chat, session):
    add_members(session, SMART)
    number = smart_meetings(session)[0].id
    say(chat, f"cancel meeting {number}", "yes")
    once = deliveries(session, "meeting_cancelled")
    assert len(once) == len(member_ids_except(session, SMART, DEMO))
    again = say(chat, f"cancel meeting {number}")
    assert "already cancelled" in again
    say(chat, "yes")
    assert len(deliveries(session, "meeting_cancelled")) == len(once)
    assert meeting(session, number).sequence == 1


def test_cancel_on_its_own_explains_how(chat, session):
    reply = say(chat, "cancel")
    assert "There's nothing to cancel right now" in reply and "cancel meeting 13" in reply
