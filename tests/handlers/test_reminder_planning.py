"""Planning rounds (jobs.reminders.plan) beyond tests/handlers/test_reminders.py: things that left
the weeks planned, personal reminders following their meeting into a clash or into the past, and a
round with nothing to do changing nothing. On SQLite and PostgreSQL, with the demo as of
Wednesday 25 November 2026 (GIS meets on Tuesday 8 December, 10:00-12:00 GMT; Future Workplaces
is on Wednesday 6 January 2027, 09:30)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from jobs import reminders
from storage import events as event_queries, groups as group_queries, meetings as meeting_queries
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Event, EventStatus
from tests.conftest import NOW, ZONE
from tests.handlers.test_reminders import DEMO, GIS_CHAIR, GIS_MEETING, UTC, found, gis_meeting, person_id, plan, say

MOVED = "no longer applies (moved or cancelled)"
BEFORE_EVENT = datetime(2026, 12, 20, 12, tzinfo=UTC)  # Future Workplaces is in the weeks planned


def snapshot(session) -> list[tuple]:
    session.flush()
    session.expire_all()
    return [
        (
            d.id,
            d.kind,
            d.subject,
            d.occurrence,
            d.recipient_id,
            d.status,
            d.last_error,
            d.due_at,
            d.not_after,
            d.payload,
        )
        for d in session.execute(select(Delivery).order_by(Delivery.id)).scalars()
    ]


def future_workplaces(session) -> Event:
    return session.execute(select(Event).where(Event.title == "Future Workplaces")).scalar_one()


# --- meetings and events that left the weeks planned ---------------------------------------------


def test_a_meeting_moved_beyond_the_weeks_planned_has_its_reminders_withdrawn(chat, session):
    meeting = gis_meeting(session)
    plan(session)
    assert len(found(session, subject=f"meeting:{meeting.id}", status=DeliveryStatus.PENDING)) == 6
    say(chat, f"move {meeting.id} to 9 February 2027 10:00-12:00", user=GIS_CHAIR)

    assert plan(session) == 0

    rows = found(session, subject=f"meeting:{meeting.id}")
    assert len(rows) == 6 and {(d.status, d.last_error) for d in rows} == {(DeliveryStatus.SKIPPED, MOVED)}
    # Its new reminders come when the new date is in the weeks planned.
    assert plan(session, datetime(2027, 1, 20, 12, tzinfo=UTC)) == 6
    assert {d.occurrence for d in found(session, subject=f"meeting:{meeting.id}", status=DeliveryStatus.PENDING)} == {
        "7d@2027-02-09T10:00:00",
        "1d@2027-02-09T10:00:00",
    }


def test_a_meeting_gone_from_the_database_has_its_reminders_withdrawn(session):
    meeting = gis_meeting(session)
    plan(session)
    session.delete(meeting)
    session.flush()

    plan(session)

    rows = found(session, subject=f"meeting:{meeting.id}")
    assert len(rows) == 6 and {(d.status, d.last_error) for d in rows} == {(DeliveryStatus.SKIPPED, MOVED)}


def test_reminders_of_a_meeting_under_way_are_left_to_the_dispatcher(session):
    meeting = gis_meeting(session)
    plan(session)
    before = {d.id: d.status for d in found(session, subject=f"meeting:{meeting.id}")}

    plan(session, GIS_MEETING + timedelta(minutes=30))  # it started; nobody sent its reminders

    assert {d.id: d.status for d in found(session, subject=f"meeting:{meeting.id}")} == before
    assert set(before.values()) == {DeliveryStatus.PENDING}


def test_an_event_moved_beyond_the_weeks_planned_has_its_reminders_withdrawn(chat, session):
    say(chat, "register future workplaces in person")
    plan(session, BEFORE_EVENT)
    event = future_workplaces(session)
    assert len(found(session, kind=DeliveryKind.EVENT_REMINDER, status=DeliveryStatus.PENDING)) == 2
    event_queries.set_times(event, datetime(2027, 3, 3, 9, 30), datetime(2027, 3, 3, 13), event.timezone)
    session.flush()

    assert plan(session, BEFORE_EVENT) == 0

    rows = found(session, kind=DeliveryKind.EVENT_REMINDER, subject=f"event:{event.id}")
    assert len(rows) == 2 and {(d.status, d.last_error) for d in rows} == {(DeliveryStatus.SKIPPED, MOVED)}


def test_a_cancelled_event_has_its_reminders_withdrawn(chat, session):
    say(chat, "register future workplaces in person")
    plan(session, BEFORE_EVENT)
    future_workplaces(session).status = EventStatus.CANCELLED
    session.flush()

    plan(session, BEFORE_EVENT)

    rows = found(session, kind=DeliveryKind.EVENT_REMINDER)
    assert len(rows) == 2 and {d.status for d in rows} == {DeliveryStatus.SKIPPED}
    assert all(d.last_error.startswith("no longer applies") for d in rows)


# --- personal reminders following their meeting --------------------------------------------------


def personal(session, status=None) -> list[Delivery]:
    return found(session, kind=DeliveryKind.PERSONAL_REMINDER, status=status)


def test_a_personal_reminder_moved_onto_one_already_asked_for_is_withdrawn(chat, session):
    meeting = gis_meeting(session)
    say(chat, "remind me 2 hours before the GIS meeting")
    say(chat, f"move {meeting.id} to 15 December 2026 10:00-12:00", user=GIS_CHAIR)
    say(chat, "remind me 2 hours before the GIS meeting")  # the same, for the new date
    [old, new] = sorted(personal(session), key=lambda d: d.id)

    plan(session)

    rows = {d.id: d for d in personal(session)}
    assert (rows[old.id].status, rows[old.id].last_error) == (
        DeliveryStatus.SKIPPED,
        "no longer applies (meeting moved)",
    )
    assert rows[new.id].status is DeliveryStatus.PENDING
    assert rows[new.id].occurrence == f"meeting:{meeting.id}:2h@2026-12-15T10:00:00"


def test_two_personal_reminders_moved_onto_the_same_date_become_one(chat, session):
    meeting = gis_meeting(session)
    say(chat, "remind me 2 hours before the GIS meeting")
    say(chat, f"move {meeting.id} to 15 December 2026 10:00-12:00", user=GIS_CHAIR)
    say(chat, "remind me 2 hours before the GIS meeting")
    say(chat, f"move {meeting.id} to 16 December 2026 10:00-12:00", user=GIS_CHAIR)

    plan(session)

    [following] = personal(session, DeliveryStatus.PENDING)
    assert following.occurrence == f"meeting:{meeting.id}:2h@2026-12-16T10:00:00"
    assert following.due_at == datetime(2026, 12, 16, 8, tzinfo=UTC)
    assert following.not_after == datetime(2026, 12, 16, 10, tzinfo=UTC)
    assert "16 December 2026" in following.payload["text"]
    [withdrawn] = personal(session, DeliveryStatus.SKIPPED)
    assert withdrawn.last_error == "no longer applies (meeting moved)"


def test_a_personal_reminder_whose_meeting_moved_too_close_is_withdrawn(chat, session):
    meeting = gis_meeting(session)
    say(chat, "remind me 2 hours before the GIS meeting")
    meeting_queries.move(meeting, datetime(2026, 11, 25, 13, 0), datetime(2026, 11, 25, 14, 0))  # 2 hours before: gone
    session.flush()

    plan(session)

    [row] = personal(session)
    assert (row.status, row.last_error) == (DeliveryStatus.SKIPPED, "no longer applies (meeting moved)")


def test_a_personal_reminder_whose_meeting_is_gone_is_withdrawn(chat, session):
    meeting = gis_meeting(session)
    say(chat, "remind me 2 hours before the GIS meeting", "remind me in 30 minutes to call Medway")
    session.delete(meeting)
    session.flush()

    plan(session)

    [following] = [d for d in personal(session) if d.occurrence.startswith(f"meeting:{meeting.id}:")]
    assert (following.status, following.last_error) == (DeliveryStatus.SKIPPED, "no longer applies (meeting cancelled)")
    [at_a_time] = [d for d in personal(session) if d.id != following.id]
    assert at_a_time.status is DeliveryStatus.PENDING


def test_personal_reminders_of_other_people_and_meetings_stay_as_they_are(chat, session):
    meeting = gis_meeting(session)
    infosec = meeting_queries.upcoming(
        session, NOW, [group_queries.group_by_slug(session, "information-security").id], limit=1
    )[0]
    say(chat, "remind me 2 hours before the GIS meeting")
    say(chat, "remind me 1 day before the information security meeting")
    say(chat, "remind me 3 hours before the GIS meeting", user=GIS_CHAIR)
    say(chat, f"move {meeting.id} to 15 December 2026 10:00-12:00", user=GIS_CHAIR)

    plan(session)

    demo, chair = person_id(session, DEMO), person_id(session, GIS_CHAIR)
    assert {(d.recipient_id, d.occurrence, d.due_at) for d in personal(session, DeliveryStatus.PENDING)} == {
        (demo, f"meeting:{meeting.id}:2h@2026-12-15T10:00:00", datetime(2026, 12, 15, 8, tzinfo=UTC)),
        (chair, f"meeting:{meeting.id}:3h@2026-12-15T10:00:00", datetime(2026, 12, 15, 7, tzinfo=UTC)),
        (demo, f"meeting:{infosec.id}:1d@{infosec.start_local.isoformat()}", datetime(2026, 12, 1, 10, tzinfo=UTC)),
    }
    assert personal(session, DeliveryStatus.SKIPPED) == []


# --- a round with nothing to do ------------------------------------------------------------------


def test_a_round_after_changes_and_another_after_it_change_nothing(chat, session):
    meeting = gis_meeting(session)
    say(chat, "register future workplaces in person", "remind me 2 hours before the GIS meeting")
    plan(session)
    say(chat, f"move {meeting.id} to 15 December 2026 10:00-12:00", user=GIS_CHAIR)
    say(chat, "reminders 3 days")
    assert plan(session) > 0
    before = snapshot(session)

    assert reminders.plan(session, NOW, ZONE) == 0
    assert reminders.plan(session, NOW + timedelta(minutes=1), ZONE) == 0

    assert snapshot(session) == before


def test_reminders_are_withdrawn_when_everything_left_the_weeks_planned(chat, session):
    # Before, a round with no meeting or event at all in the coming weeks withdrew nothing, so the
    # reminders of the last ones moved away would have gone out with their old dates.
    say(chat, "register future workplaces in person")
    plan(session, BEFORE_EVENT)
    plan(session)
    pending = found(session, status=DeliveryStatus.PENDING) + found(
        session, kind=DeliveryKind.EVENT_REMINDER, status=DeliveryStatus.PENDING
    )
    assert {d.kind for d in pending} == {DeliveryKind.MEETING_REMINDER, DeliveryKind.EVENT_REMINDER}
    for meeting in meeting_queries.upcoming(session, NOW, until=BEFORE_EVENT + timedelta(days=40)):
        meeting_queries.move(
            meeting, meeting.start_local + timedelta(days=100), meeting.end_local + timedelta(days=100)
        )
    event = future_workplaces(session)
    event_queries.set_times(
        event, event.start_local + timedelta(days=100), event.end_local + timedelta(days=100), event.timezone
    )
    session.flush()

    assert plan(session) == 0

    rows = {d.id: d for d in found(session) + found(session, kind=DeliveryKind.EVENT_REMINDER)}
    assert {(rows[d.id].status, rows[d.id].last_error) for d in pending} == {(DeliveryStatus.SKIPPED, MOVED)}
