"""Reminders (handlers.reminders): automatic ones planned by the worker before meetings and events,
personal ones asked for in chat, and each person's settings.

Chat tests run on SQLite and PostgreSQL with the demo loaded as of Wednesday 25 November 2026
(conftest). The GIS group (demo@kent.gov.uk, its chair gis.chair.demo@maidstone.gov.uk and
member.demo@swale.gov.uk) meets on Tuesday 8 December 2026, 10:00-12:00 GMT: by default its
members are reminded on 1 December and 7 December at 10:00. Planning twice, planning from two
workers at once, and the clock changes are also checked on fresh databases of each kind.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest
from sqlalchemy import func, select

from bot.dispatcher import Dispatcher, Policy
from bot.senders import Recipient, SendResult
from core.messages import Reply
from handlers.reminders import due_before
from jobs import reminders
from storage import db, groups as group_queries, meetings as meeting_queries
from storage.demo import load_demo
from storage.models import (
    Delivery,
    DeliveryStatus,
    Group,
    GroupAccess,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    MemberRole,
    Membership,
    Person,
    ReminderSetting,
)
from storage.people import person_by_email
from storage.wallclock import to_local
from tests.conftest import DEMO_DAY, NOW, ZONE, Chat, fresh_database

UTC = timezone.utc
DEMO = "demo@kent.gov.uk"
GIS_CHAIR = "gis.chair.demo@maidstone.gov.uk"
SWALE = "member.demo@swale.gov.uk"
GIS_MEETING = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # 10:00 GMT
GENERIC_ERROR = "something went wrong"


# --- helpers ----------------------------------------------------------------------------------


def say(chat: Chat, *texts: str, user: Optional[str] = None, now: Optional[datetime] = None) -> str:
    text = ""
    for message in texts:
        text = chat(message, user=user, now=now)
        assert GENERIC_ERROR not in text, f"{message!r} -> {text}"
    return text


def plan(session, now: datetime = NOW) -> int:
    session.expire_all()
    made = reminders.plan(session, now, ZONE)
    session.flush()
    return made


def person_id(session, email: str) -> int:
    person = person_by_email(session, email)
    assert person is not None
    return person.id


def gis_meeting(session) -> Meeting:
    gis = group_queries.group_by_slug(session, "gis")
    [meeting] = meeting_queries.upcoming(session, NOW, [gis.id], limit=1)
    assert meeting.starts_at_utc == GIS_MEETING
    return meeting


def found(
    session,
    kind: str = "meeting_reminder",
    subject: Optional[str] = None,
    status: Optional[DeliveryStatus] = None,
    recipient: Optional[int] = None,
) -> list[Delivery]:
    session.flush()
    session.expire_all()
    query = select(Delivery).where(Delivery.kind == kind).order_by(Delivery.due_at, Delivery.recipient_id)
    if subject is not None:
        query = query.where(Delivery.subject == subject)
    if status is not None:
        query = query.where(Delivery.status == status)
    if recipient is not None:
        query = query.where(Delivery.recipient_id == recipient)
    return list(session.execute(query).scalars())


def keyed(rows: list[Delivery]) -> set[tuple[int, str, datetime]]:
    return {(d.recipient_id, d.occurrence, d.due_at) for d in rows}


def total(session) -> int:
    session.flush()
    return session.execute(select(func.count()).select_from(Delivery)).scalar_one()


class Recorder:
    """A console sender that records what it sends."""

    platform = "console"
    by_email = True  # reaches anyone by e-mail address, as a test stand-in

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def rate_limit(self, recipient: Recipient):
        return None

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        self.sent.append((recipient.email, message.text))
        return SendResult.sent()


def dispatch(sessions, at: datetime) -> Recorder:
    recorder = Recorder()
    Dispatcher(sessions, [recorder], Policy(), clock=lambda: at).run_until_idle()
    return recorder


# --- lead times on the wall clock, across the clock changes (no database) ----------------------


@pytest.mark.parametrize(
    "start_local, lead, expected_utc",
    [
        # Clocks forward on Sunday 29 March 2026: 7 days before Thursday 2 April 09:00 BST is 09:00 GMT.
        (datetime(2026, 4, 2, 9), "7d", datetime(2026, 3, 26, 9, tzinfo=UTC)),
        (datetime(2026, 4, 2, 9), "2h", datetime(2026, 4, 2, 6, tzinfo=UTC)),
        # Clocks back on Sunday 25 October 2026.
        (datetime(2026, 10, 29, 9), "7d", datetime(2026, 10, 22, 8, tzinfo=UTC)),
        (datetime(2026, 10, 29, 9), "2h", datetime(2026, 10, 29, 7, tzinfo=UTC)),
        # Clocks forward on Sunday 28 March 2027, back on Sunday 31 October 2027.
        (datetime(2027, 4, 1, 9), "7d", datetime(2027, 3, 25, 9, tzinfo=UTC)),
        (datetime(2027, 4, 1, 9), "1w", datetime(2027, 3, 25, 9, tzinfo=UTC)),
        (datetime(2027, 11, 4, 9), "7d", datetime(2027, 10, 28, 8, tzinfo=UTC)),
        # A day before Monday 09:00 is Sunday 09:00 on the wall clock: 23 or 25 real hours.
        (datetime(2027, 3, 29, 9), "1d", datetime(2027, 3, 28, 8, tzinfo=UTC)),
        (datetime(2027, 11, 1, 9), "1d", datetime(2027, 10, 31, 9, tzinfo=UTC)),
        # Hours are real hours, even across the change itself.
        (datetime(2027, 3, 28, 3), "2h", datetime(2027, 3, 28, 0, tzinfo=UTC)),  # 03:00 BST; 00:00 GMT
        (datetime(2027, 10, 31, 3), "2h", datetime(2027, 10, 31, 1, tzinfo=UTC)),  # 03:00 GMT; the second 01:00
        (datetime(2026, 3, 29, 3), "90m", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        # A wall time the change skips moves forward by the gap; one it repeats is the first of the two.
        (datetime(2027, 4, 4, 1, 30), "7d", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
        (datetime(2027, 11, 7, 1, 30), "7d", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    ],
)
def test_lead_times_in_days_are_wall_clock_and_hours_are_real_time(start_local, lead, expected_utc):
    assert due_before(start_local, ZONE, lead) == expected_utc


# --- fresh databases: planning twice, planning at once, the clock changes ----------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request, tmp_path):
    generator = fresh_database(request.param, tmp_path)
    database = next(generator)
    try:
        yield database
    finally:
        generator.close()


def count_reminders(sessions) -> int:
    with sessions() as session:
        return session.execute(
            select(func.count()).select_from(Delivery).where(Delivery.kind == "meeting_reminder")
        ).scalar_one()


def test_planning_the_same_reminders_twice_adds_no_rows(pg):
    sessions = db.make_session_factory(pg.engine)
    with sessions.begin() as session:
        load_demo(session, DEMO_DAY, ZONE)
    with sessions.begin() as session:
        made = reminders.plan(session, NOW, ZONE)
    assert made > 0 and count_reminders(sessions) == made
    with sessions.begin() as session:
        assert reminders.plan(session, NOW, ZONE) == 0
    with sessions.begin() as session:  # a later run, as the worker's next tick, adds nothing either
        assert reminders.plan(session, NOW + timedelta(minutes=5), ZONE) == 0
    assert count_reminders(sessions) == made


def test_two_workers_planning_at_once_make_each_reminder_once(fresh):
    sessions = db.make_session_factory(fresh.engine)
    with sessions.begin() as session:
        load_demo(session, DEMO_DAY, ZONE)
    barrier, made, errors = threading.Barrier(2), [], []

    def worker():
        try:
            with sessions.begin() as session:
                barrier.wait(timeout=10)
                made.append(reminders.plan(session, NOW, ZONE))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(made) == count_reminders(sessions) > 0  # one of them made them all, the other none
    assert sorted(made)[0] == 0


CLOCK_CHANGES = [
    # (the change, a Thursday 09:00 the week after it, its UTC start, 7 days before, 1 day before, 2 hours before)
    (
        "2026-03-29 forward",
        datetime(2026, 4, 2, 9),
        datetime(2026, 4, 2, 8, tzinfo=UTC),
        datetime(2026, 3, 26, 9, tzinfo=UTC),
        datetime(2026, 4, 1, 8, tzinfo=UTC),
        datetime(2026, 4, 2, 6, tzinfo=UTC),
    ),
    (
        "2026-10-25 back",
        datetime(2026, 10, 29, 9),
        datetime(2026, 10, 29, 9, tzinfo=UTC),
        datetime(2026, 10, 22, 8, tzinfo=UTC),
        datetime(2026, 10, 28, 9, tzinfo=UTC),
        datetime(2026, 10, 29, 7, tzinfo=UTC),
    ),
    (
        "2027-03-28 forward",
        datetime(2027, 4, 1, 9),
        datetime(2027, 4, 1, 8, tzinfo=UTC),
        datetime(2027, 3, 25, 9, tzinfo=UTC),
        datetime(2027, 3, 31, 8, tzinfo=UTC),
        datetime(2027, 4, 1, 6, tzinfo=UTC),
    ),
    (
        "2027-10-31 back",
        datetime(2027, 11, 4, 9),
        datetime(2027, 11, 4, 9, tzinfo=UTC),
        datetime(2027, 10, 28, 8, tzinfo=UTC),
        datetime(2027, 11, 3, 9, tzinfo=UTC),
        datetime(2027, 11, 4, 7, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(
    "change, meeting_local, starts, seven_days, one_day, two_hours", CLOCK_CHANGES, ids=[c[0] for c in CLOCK_CHANGES]
)
def test_a_weekly_meetings_reminders_across_a_clock_change(
    pg, change, meeting_local, starts, seven_days, one_day, two_hours
):
    sessions = db.make_session_factory(pg.engine)
    with sessions.begin() as session:
        group = Group(slug="clocks", name="Clocks", access=GroupAccess.OPEN)
        default, hourly = Person(email="default@example.test"), Person(email="hourly@example.test")
        session.add_all([group, default, hourly])
        session.flush()
        session.add_all(
            [Membership(person_id=p.id, group_id=group.id, role=MemberRole.MEMBER) for p in (default, hourly)]
        )
        session.add(ReminderSetting(person_id=hourly.id, enabled=True, lead_times=["7d", "1d", "2h"]))
        series = MeetingSeries(
            group=group,
            title="Clocks weekly",
            first_start_local=meeting_local - timedelta(weeks=1),
            duration_minutes=60,
            timezone=ZONE,
            rrule="FREQ=WEEKLY;COUNT=3",
            place="Room 1",
            status=MeetingStatus.SCHEDULED,
        )
        made = meeting_queries.add_series(session, series, until_local=meeting_local + timedelta(weeks=2))
        target = next(m for m in made if m.start_local == meeting_local)
        assert target.starts_at_utc == starts
        ids = (default.id, hourly.id, target.id)
    default_id, hourly_id, meeting_id = ids
    with sessions.begin() as session:
        reminders.plan(session, seven_days - timedelta(days=3), ZONE)
    with sessions() as session:
        planned = found(session, subject=f"meeting:{meeting_id}")
    iso = meeting_local.isoformat()
    assert keyed(planned) == {
        (default_id, f"7d@{iso}", seven_days),
        (default_id, f"1d@{iso}", one_day),
        (hourly_id, f"7d@{iso}", seven_days),
        (hourly_id, f"1d@{iso}", one_day),
        (hourly_id, f"2h@{iso}", two_hours),
    }
    assert {d.not_after for d in planned} == {starts}
    # 7 days before is 09:00 on the wall clock a week earlier, though a week and an hour (or less) apart.
    assert to_local(seven_days, ZONE).hour == 9 and to_local(starts, ZONE).hour == 9
    assert abs(starts - seven_days - timedelta(days=7)) == timedelta(hours=1)
    assert starts - two_hours == timedelta(hours=2)
    # The dispatcher sends the 7-day reminder at that moment, not an hour early.
    early = dispatch(sessions, seven_days - timedelta(seconds=1))
    assert early.sent == []
    on_time = dispatch(sessions, seven_days)
    assert sorted(email for email, _ in on_time.sent) == ["default@example.test", "hourly@example.test"]
    assert all("meets in 7 days" in text for _, text in on_time.sent)


# --- automatic reminders through chat: both databases -----------------------------------------


def test_plan_reminds_each_member_7_days_and_1_day_before(session):
    meeting = gis_meeting(session)
    made = plan(session)
    assert made > 0
    members = {m.person_id for m in group_queries.members(session, meeting.group)}
    assert len(members) == 3
    rows = found(session, subject=f"meeting:{meeting.id}")
    assert keyed(rows) == {
        (p, f"{lead}@2026-12-08T10:00:00", due)
        for p in members
        for lead, due in (("7d", datetime(2026, 12, 1, 10, tzinfo=UTC)), ("1d", datetime(2026, 12, 7, 10, tzinfo=UTC)))
    }
    assert all(d.status is DeliveryStatus.PENDING and d.not_after == GIS_MEETING for d in rows)
    text = Reply.from_data(rows[0].payload).text
    assert "GIS meets in 7 days" in text and "Tuesday 8 December 2026, 10:00" in text


def test_a_reminder_already_over_an_hour_late_is_not_made(session):
    # Information Security meets on Wednesday 2 December at 10:00: its 7-day reminder was due at
    # 10:00 today, two hours before NOW; only the 1-day one is made.
    infosec = group_queries.group_by_slug(session, "information-security")
    [meeting] = meeting_queries.upcoming(session, NOW, [infosec.id], limit=1)
    plan(session)
    assert {d.occurrence.split("@")[0] for d in found(session, subject=f"meeting:{meeting.id}")} == {"1d"}


def test_planning_twice_adds_no_rows(session):
    assert plan(session) > 0
    before = total(session)
    assert plan(session) == 0
    assert plan(session, NOW + timedelta(hours=1)) == 0
    assert total(session) == before


def test_moving_a_meeting_replans_its_reminders(chat, session, sessions):
    meeting = gis_meeting(session)
    subject = f"meeting:{meeting.id}"
    plan(session)
    old = {d.id for d in found(session, subject=subject)}
    others = {d.id for d in found(session) if d.subject != subject}
    reply = say(chat, f"move {meeting.id} to 15 December 2026 10:00-12:00", user=GIS_CHAIR)
    assert f"Moved meeting {meeting.id}" in reply
    assert plan(session) == 6
    rows = found(session, subject=subject)
    withdrawn = [d for d in rows if d.id in old]
    assert len(withdrawn) == 6
    assert all(d.status is DeliveryStatus.SKIPPED and d.last_error.startswith("no longer applies") for d in withdrawn)
    new = [d for d in rows if d.id not in old]
    assert {(d.occurrence.split("@")[0], d.due_at, d.not_after, d.status) for d in new} == {
        ("7d", datetime(2026, 12, 8, 10, tzinfo=UTC), datetime(2026, 12, 15, 10, tzinfo=UTC), DeliveryStatus.PENDING),
        ("1d", datetime(2026, 12, 14, 10, tzinfo=UTC), datetime(2026, 12, 15, 10, tzinfo=UTC), DeliveryStatus.PENDING),
    }
    assert all("15 December 2026" in Reply.from_data(d.payload).text for d in new)
    assert {d.status for d in found(session) if d.id in others} == {DeliveryStatus.PENDING}
    # On 1 December nothing about GIS goes; on 8 December the new reminder does.
    assert not any("GIS" in text for _, text in dispatch(sessions, datetime(2026, 12, 1, 10, tzinfo=UTC)).sent)
    sent = dispatch(sessions, datetime(2026, 12, 8, 10, tzinfo=UTC)).sent
    assert len([text for _, text in sent if "GIS meets in 7 days" in text and "15 December" in text]) == 3


def test_a_meeting_moved_and_moved_back_has_its_reminders_again(chat, session):
    meeting = gis_meeting(session)
    plan(session)
    say(chat, f"move {meeting.id} to 15 December 2026 10:00-12:00", user=GIS_CHAIR)
    plan(session)
    say(chat, f"move {meeting.id} to 8 December 2026 10:00-12:00", user=GIS_CHAIR)
    plan(session)
    pending = found(session, subject=f"meeting:{meeting.id}", status=DeliveryStatus.PENDING)
    assert len(pending) == 6
    assert {d.occurrence for d in pending} == {"7d@2026-12-08T10:00:00", "1d@2026-12-08T10:00:00"}


def test_cancelling_a_meeting_withdraws_its_reminders(chat, session, sessions):
    meeting = gis_meeting(session)
    subject = f"meeting:{meeting.id}"
    plan(session)
    assert len(found(session, subject=subject, status=DeliveryStatus.PENDING)) == 6
    others = len(found(session, status=DeliveryStatus.PENDING)) - 6
    say(chat, f"cancel meeting {meeting.id}", "yes", user=GIS_CHAIR)
    assert plan(session) == 0
    rows = found(session, subject=subject)
    assert len(rows) == 6 and {d.status for d in rows} == {DeliveryStatus.SKIPPED}
    assert all(d.last_error for d in rows)
    assert len(found(session, status=DeliveryStatus.PENDING)) == others  # the other groups' stay
    sent = dispatch(sessions, datetime(2026, 12, 7, 10, tzinfo=UTC)).sent
    assert not any("GIS" in text for _, text in sent)


def test_reminders_off_stops_new_ones_and_withdraws_pending_ones(chat, session):
    demo, swale = person_id(session, DEMO), person_id(session, SWALE)
    plan(session)
    mine = found(session, recipient=demo)
    assert len(mine) > 0 and {d.status for d in mine} == {DeliveryStatus.PENDING}
    theirs = found(session, recipient=swale)
    assert "Automatic reminders are off" in say(chat, "reminders off")
    assert "Automatic reminders are off" in say(chat, "reminders")
    assert found(session, recipient=demo, status=DeliveryStatus.PENDING) != []  # until the next plan
    plan(session)
    assert found(session, recipient=demo, status=DeliveryStatus.PENDING) == []
    assert {d.status for d in found(session, recipient=demo)} == {DeliveryStatus.SKIPPED}
    assert keyed(found(session, recipient=swale, status=DeliveryStatus.PENDING)) == keyed(theirs)
    # Nor are any made for demo for meetings further ahead.
    plan(session, NOW + timedelta(days=60))
    assert found(session, recipient=demo, status=DeliveryStatus.PENDING) == []
    assert found(session, recipient=swale, status=DeliveryStatus.PENDING) != []


def test_reminders_off_before_the_first_plan_makes_none(chat, session):
    say(chat, "reminders off")
    plan(session)
    assert found(session, recipient=person_id(session, DEMO)) == []
    assert found(session, recipient=person_id(session, SWALE)) != []


def test_reminders_on_again_brings_them_back(chat, session):
    demo = person_id(session, DEMO)
    plan(session)
    wanted = {d.occurrence for d in found(session, recipient=demo)}
    say(chat, "reminders off")
    plan(session)
    say(chat, "reminders on")
    plan(session)
    assert {d.occurrence for d in found(session, recipient=demo, status=DeliveryStatus.PENDING)} == wanted


def test_new_lead_times_replace_the_old_reminders(chat, session):
    demo, swale = person_id(session, DEMO), person_id(session, SWALE)
    meeting = gis_meeting(session)
    subject = f"meeting:{meeting.id}"
    plan(session)
    theirs = keyed(found(session, recipient=swale, status=DeliveryStatus.PENDING))
    reply = say(chat, "reminders 3 days, 2 hours")
    assert reply.startswith("Done: I'll remind you 3 days and 2 hours before")
    assert "3 days and 2 hours before" in say(chat, "reminders")
    session.expire_all()
    assert session.get(ReminderSetting, demo).lead_times == ["3d", "2h"]
    plan(session)
    pending = found(session, subject=subject, recipient=demo, status=DeliveryStatus.PENDING)
    assert {(d.occurrence, d.due_at) for d in pending} == {
        ("3d@2026-12-08T10:00:00", datetime(2026, 12, 5, 10, tzinfo=UTC)),
        ("2h@2026-12-08T10:00:00", datetime(2026, 12, 8, 8, tzinfo=UTC)),
    }
    skipped = found(session, subject=subject, recipient=demo, status=DeliveryStatus.SKIPPED)
    assert {d.occurrence.split("@")[0] for d in skipped} == {"7d", "1d"}
    assert keyed(found(session, recipient=swale, status=DeliveryStatus.PENDING)) == theirs  # theirs unchanged


@pytest.mark.parametrize(
    "words, answer",
    [
        ("reminders 5 weeks", "between 5 minutes and 4 weeks"),
        ("reminders 2 minutes", "between 5 minutes and 4 weeks"),
        ("reminders 1 day, 2 days, 3 days, 4 days, 5 days", "one to four lead times"),
        ("reminders 3 fortnights", "isn't a lead time"),
    ],
)
def test_bad_lead_times_are_refused_and_change_nothing(chat, session, words, answer):
    assert answer in say(chat, words)
    session.expire_all()
    assert session.get(ReminderSetting, person_id(session, DEMO)) is None


# --- automatic reminders before events ---------------------------------------------------------


def test_confirmed_registrants_are_reminded_before_an_event_until_they_unregister(chat, session):
    before_event = datetime(2026, 12, 20, 12, tzinfo=UTC)  # Future Workplaces: Wednesday 6 January 2027, 09:30
    say(chat, "register future workplaces in person")
    demo = person_id(session, DEMO)
    plan(session, before_event)
    rows = found(session, kind="event_reminder")
    assert keyed(rows) == {
        (demo, "7d@2027-01-06T09:30:00", datetime(2026, 12, 30, 9, 30, tzinfo=UTC)),
        (demo, "1d@2027-01-06T09:30:00", datetime(2027, 1, 5, 9, 30, tzinfo=UTC)),
    }
    assert sorted(Reply.from_data(d.payload).text.split(", on ")[0] for d in rows) == [
        "Reminder: Future Workplaces is in 1 day",
        "Reminder: Future Workplaces is in 7 days",
    ]
    say(chat, "unregister future workplaces")
    plan(session, before_event)
    assert {d.status for d in found(session, kind="event_reminder")} == {DeliveryStatus.SKIPPED}


# --- personal reminders ------------------------------------------------------------------------


def test_remind_me_tomorrow_at_9_is_made_once_even_if_asked_twice(chat, session, sessions):
    reply = say(chat, "remind me tomorrow at 9 to submit my idea")
    assert "OK, I'll remind you on Thursday 26 November 2026, 09:00 GMT" in reply and "submit my idea" in reply
    again = say(chat, "remind me tomorrow at 9 to submit my idea.", now=NOW + timedelta(minutes=10))
    assert "You already have that reminder" in again
    [row] = found(session, kind="personal_reminder")
    assert row.due_at == datetime(2026, 11, 26, 9, tzinfo=UTC) and row.recipient_id == person_id(session, DEMO)
    assert Reply.from_data(row.payload).text == "You asked me to remind you: submit my idea"
    # It goes at its time, once.
    assert dispatch(sessions, datetime(2026, 11, 26, 8, 59, tzinfo=UTC)).sent == []
    assert dispatch(sessions, datetime(2026, 11, 26, 9, tzinfo=UTC)).sent == [
        (DEMO, "You asked me to remind you: submit my idea")
    ]
    assert dispatch(sessions, datetime(2026, 11, 26, 9, 5, tzinfo=UTC)).sent == []


def test_remind_me_in_30_minutes(chat, session):
    assert "12:30 GMT" in say(chat, "remind me in 30 minutes to call Medway")
    [row] = found(session, kind="personal_reminder")
    assert row.due_at == NOW + timedelta(minutes=30) and row.not_after is None


def test_remind_me_before_the_next_meeting_of_a_group(chat, session):
    reply = say(chat, "remind me 2 hours before the GIS meeting")
    assert "Tuesday 8 December 2026, 08:00 GMT" in reply
    assert "You already have that reminder" in say(chat, "remind me 2 hours before the GIS meeting")
    [row] = found(session, kind="personal_reminder")
    assert row.due_at == GIS_MEETING - timedelta(hours=2) and row.not_after == GIS_MEETING


def test_a_personal_reminder_for_a_time_gone_is_refused(chat, session):
    reply = say(chat, "remind me at 9 to read the minutes")  # 09:00 today; it is 12:00
    assert reply.startswith("That's already passed (Wednesday 25 November 2026, 09:00 GMT).")
    assert found(session, kind="personal_reminder") == []


def test_reminders_lists_mine_and_cancel_reminder_withdraws_one(chat, session, sessions):
    say(chat, "remind me tomorrow at 9 to submit my idea", "remind me in 30 minutes to call Medway")
    say(chat, "remind me in 1 hour to water the plants", user=SWALE)
    listing = chat.reply("reminders")
    assert [item.title.split(": ", 1)[1] for item in listing.items] == [
        "Wednesday 25 November 2026, 12:30 GMT",
        "Thursday 26 November 2026, 09:00 GMT",
    ]
    assert all(
        item.title.startswith(f"Reminder {item.actions[0].command.rsplit(' ', 1)[1]}: ") for item in listing.items
    )
    cancel = listing.items[1].actions[0].command
    number = cancel.rsplit(" ", 1)[1]
    assert cancel == f"cancel reminder {number}"
    assert "no reminder" in say(chat, cancel, user=SWALE)  # nobody else may cancel it
    assert say(chat, cancel) == "Cancelled that reminder."
    row = session.get(Delivery, int(number))
    session.refresh(row)
    assert row.status is DeliveryStatus.SKIPPED and row.last_error == "cancelled by the person"
    assert f"no reminder {number} waiting" in say(chat, cancel)
    assert [item.title.split(": ", 1)[1] for item in chat.reply("reminders").items] == [
        "Wednesday 25 November 2026, 12:30 GMT"
    ]
    assert dispatch(sessions, NOW + timedelta(minutes=30)).sent == [(DEMO, "You asked me to remind you: call Medway")]
    assert dispatch(sessions, NOW + timedelta(hours=1)).sent == [
        (SWALE, "You asked me to remind you: water the plants")
    ]
    assert dispatch(sessions, datetime(2026, 11, 26, 9, tzinfo=UTC)).sent == []  # the cancelled one does not go


def test_personal_reminders_still_come_with_automatic_ones_off(chat, session):
    say(chat, "reminders off", "remind me in 30 minutes to call Medway")
    plan(session)
    assert [d.status for d in found(session, kind="personal_reminder")] == [DeliveryStatus.PENDING]


def test_a_personal_reminder_about_a_cancelled_meeting_is_withdrawn(chat, session):
    meeting = gis_meeting(session)
    say(chat, "remind me 2 hours before the GIS meeting")
    say(chat, f"cancel meeting {meeting.id}", "yes", user=GIS_CHAIR)
    plan(session)
    assert found(session, kind="personal_reminder", status=DeliveryStatus.PENDING) == []


def test_a_personal_reminder_about_a_moved_meeting_follows_the_move(chat, session):
    meeting = gis_meeting(session)
    say(chat, "remind me 2 hours before the GIS meeting")
    say(chat, f"move {meeting.id} to 15 December 2026 10:00-12:00", user=GIS_CHAIR)
    plan(session)
    pending = found(session, kind="personal_reminder", status=DeliveryStatus.PENDING)
    assert [d.due_at for d in pending] == [datetime(2026, 12, 15, 8, tzinfo=UTC)]
