"""Recurring series (local wall time + zone + RFC 5545 rule) and the meetings they make."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from storage import meetings as meeting_queries
from storage.meetings import MAX_OCCURRENCES, add_series, occurrences, set_times, upcoming
from storage.models import Group, GroupAccess, Meeting, MeetingSeries, MeetingStatus
from storage.wallclock import to_utc

LONDON = "Europe/London"
UTC = timezone.utc


def make_group(session, slug: str) -> Group:
    group = Group(slug=slug, name=f"Test group {slug}", access=GroupAccess.OPEN)
    session.add(group)
    session.flush()
    return group


def make_series(
    group: Group, rrule: str, first: datetime, minutes: int = 120, zone: str = LONDON, title: str = "Test series"
) -> MeetingSeries:
    return MeetingSeries(
        group=group,
        title=title,
        first_start_local=first,
        duration_minutes=minutes,
        timezone=zone,
        rrule=rrule,
        place="Test room",
        online_url=None,
        agenda="Test agenda",
        status=MeetingStatus.SCHEDULED,
    )


def stored_meetings(session, series: MeetingSeries) -> list[Meeting]:
    """The series' meetings as read back from the database, not from the identity map."""
    session.flush()
    session.expire_all()
    return list(
        session.execute(select(Meeting).where(Meeting.series_id == series.id).order_by(Meeting.starts_at_utc)).scalars()
    )


def one_off(
    session,
    group: Group,
    start_local: datetime,
    minutes: int = 60,
    status: MeetingStatus = MeetingStatus.SCHEDULED,
    title: str = "One-off",
) -> Meeting:
    meeting = Meeting(group=group, title=title, status=status)
    set_times(meeting, start_local, start_local + timedelta(minutes=minutes), LONDON)
    session.add(meeting)
    session.flush()
    return meeting


# --- a quarterly series across the clock changes ----------------------------------------------

QUARTERLY = "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU"


def test_quarterly_series_keeps_local_time_across_clock_changes(session):
    group = make_group(session, "test-quarterly")
    series = make_series(group, QUARTERLY + ";COUNT=6", datetime(2026, 1, 13, 10, 0))
    made = add_series(session, series, until_local=datetime(2028, 1, 1))
    assert len(made) == 6

    rows = stored_meetings(session, series)
    # second Tuesdays of Jan/Apr/Jul/Oct
    assert [m.start_local.date().isoformat() for m in rows] == [
        "2026-01-13",
        "2026-04-14",
        "2026-07-14",
        "2026-10-13",
        "2027-01-12",
        "2027-04-13",
    ]
    assert all(m.start_local.time() == time(10, 0) for m in rows)
    assert all(m.end_local - m.start_local == timedelta(hours=2) for m in rows)
    assert all(m.occurrence_local == m.start_local for m in rows)
    assert all(m.timezone == LONDON and m.title == "Test series" and m.place == "Test room" for m in rows)
    assert all(m.status is MeetingStatus.SCHEDULED and m.group_id == group.id for m in rows)

    # the UTC instants are 10:00 in GMT (Jan) and 09:00 in BST (Apr, Jul, Oct: before 25 Oct)
    utc_hours = [m.starts_at_utc.hour for m in rows]
    assert utc_hours == [10, 9, 9, 9, 10, 9]
    for m in rows:
        assert m.starts_at_utc.tzinfo is not None and m.starts_at_utc.utcoffset() == timedelta(0)
        assert m.starts_at_utc == to_utc(m.start_local, LONDON)


def test_occurrences_run_over_wall_time(session):
    group = make_group(session, "test-occurrences")
    series = make_series(group, QUARTERLY, datetime(2026, 1, 13, 10, 0))
    starts = occurrences(series, until_local=datetime(2026, 10, 13, 10, 0))
    # until is inclusive, and every start is 10:00 on the wall
    assert starts == [
        datetime(2026, 1, 13, 10),
        datetime(2026, 4, 14, 10),
        datetime(2026, 7, 14, 10),
        datetime(2026, 10, 13, 10),
    ]
    assert occurrences(series, until_local=datetime(2026, 1, 13, 9, 59)) == []


# --- occurrences that fall in the gap or the overlap ------------------------------------------


@pytest.mark.parametrize(
    "rrule, first, expected_utc",
    [
        # 01:30 on the last Sunday of March does not exist: moved on to 02:30 BST = 01:30 UTC
        (
            "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            datetime(2026, 3, 29, 1, 30),
            [datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2027, 3, 28, 1, 30, tzinfo=UTC)],
        ),
        # 01:30 on the last Sunday of October happens twice: the first, BST, 00:30 UTC
        (
            "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
            datetime(2026, 10, 25, 1, 30),
            [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_series_at_one_thirty_on_change_days(session, rrule, first, expected_utc):
    group = make_group(session, "test-change-days")
    series = make_series(group, rrule, first, minutes=60)
    made = add_series(session, series, until_local=datetime(2028, 1, 1))
    assert len(made) == 2

    rows = stored_meetings(session, series)
    assert [m.starts_at_utc for m in rows] == expected_utc
    for m in rows:
        assert m.start_local.time() == time(1, 30)  # the wall time asked for is kept
        assert m.starts_at_utc == to_utc(m.start_local, LONDON)
        assert m.end_local == m.start_local + timedelta(hours=1)


def test_series_can_be_found_again_after_the_change_days(session):
    group = make_group(session, "test-change-days-upcoming")
    spring = make_series(group, "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", datetime(2026, 3, 29, 1, 30), 60, title="spring")
    autumn = make_series(group, "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", datetime(2026, 10, 25, 1, 30), 60, title="autumn")
    add_series(session, spring, until_local=datetime(2028, 1, 1))
    add_series(session, autumn, until_local=datetime(2028, 1, 1))
    found = upcoming(session, datetime(2026, 1, 1, tzinfo=UTC), group_ids=[group.id])
    assert [(m.title, m.start_local.year) for m in found] == [
        ("spring", 2026),
        ("autumn", 2026),
        ("spring", 2027),
        ("autumn", 2027),
    ]


# --- year end, caps, bounds -----------------------------------------------------------------


def test_series_across_the_year_end(session):
    group = make_group(session, "test-year-end")
    series = make_series(group, "FREQ=MONTHLY;COUNT=4", datetime(2026, 11, 10, 10, 0), minutes=90)
    add_series(session, series, until_local=datetime(2027, 12, 31))
    rows = stored_meetings(session, series)
    assert [(m.start_local.year, m.start_local.month, m.start_local.day) for m in rows] == [
        (2026, 11, 10),
        (2026, 12, 10),
        (2027, 1, 10),
        (2027, 2, 10),
    ]
    # all in GMT
    assert all(m.starts_at_utc.replace(tzinfo=None) == m.start_local for m in rows)


def test_until_local_bounds_the_materialised_occurrences(session):
    group = make_group(session, "test-until")
    series = make_series(group, "FREQ=MONTHLY;COUNT=12", datetime(2026, 11, 10, 10, 0))
    made = add_series(session, series, until_local=datetime(2027, 2, 10, 10, 0))
    assert [m.start_local.month for m in made] == [11, 12, 1, 2]
    assert len(stored_meetings(session, series)) == 4


def test_max_occurrences_caps_an_unbounded_rule(session):
    group = make_group(session, "test-daily")
    series = make_series(group, "FREQ=DAILY", datetime(2026, 12, 1, 9, 0), minutes=15)
    starts = occurrences(series, until_local=datetime(2040, 1, 1))
    assert len(starts) == MAX_OCCURRENCES
    assert starts[0] == datetime(2026, 12, 1, 9, 0)
    assert starts[-1] == datetime(2026, 12, 1, 9, 0) + timedelta(days=MAX_OCCURRENCES - 1)

    made = add_series(session, series, until_local=datetime(2040, 1, 1))
    assert len(made) == MAX_OCCURRENCES
    count = session.execute(
        select(func.count()).select_from(Meeting).where(Meeting.series_id == series.id)
    ).scalar_one()
    assert count == MAX_OCCURRENCES


def test_a_series_with_no_occurrences_before_until_stores_only_the_series(session):
    group = make_group(session, "test-empty")
    series = make_series(group, QUARTERLY, datetime(2027, 1, 12, 10, 0))
    assert add_series(session, series, until_local=datetime(2026, 12, 31)) == []
    assert series.id is not None
    assert stored_meetings(session, series) == []


def test_demo_meetings_agree_with_their_series(session):
    # The shared database's demo: every occurrence keeps its series' wall time, and the
    # stored instant is that wall time in the zone.
    rows = session.execute(select(Meeting).where(Meeting.series_id.is_not(None))).scalars().all()
    assert rows
    offsets = set()
    for m in rows:
        assert m.start_local.time() == m.series.first_start_local.time()
        assert m.starts_at_utc == to_utc(m.start_local, m.timezone)
        offsets.add(m.start_local - m.starts_at_utc.replace(tzinfo=None))
    # the demo year runs through both GMT and BST
    assert offsets == {timedelta(0), timedelta(hours=1)}


# --- set_times --------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, -30])
def test_set_times_refuses_an_end_not_after_the_start(minutes):
    meeting = Meeting(title="x", status=MeetingStatus.SCHEDULED)
    set_times(meeting, datetime(2026, 12, 1, 10), datetime(2026, 12, 1, 11), LONDON)
    start = datetime(2026, 12, 2, 10)
    with pytest.raises(ValueError):
        set_times(meeting, start, start + timedelta(minutes=minutes), LONDON)
    # nothing changed
    assert (meeting.start_local, meeting.end_local) == (datetime(2026, 12, 1, 10), datetime(2026, 12, 1, 11))
    assert meeting.starts_at_utc == datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_set_times_moves_the_instant_with_the_wall_time(session):
    group = make_group(session, "test-move")
    meeting = one_off(session, group, datetime(2026, 12, 1, 10))
    assert meeting.starts_at_utc == datetime(2026, 12, 1, 10, tzinfo=UTC)
    set_times(meeting, datetime(2027, 6, 1, 10), datetime(2027, 6, 1, 11), LONDON)
    session.flush()
    session.expire_all()
    again = session.get(Meeting, meeting.id)
    assert again.start_local == datetime(2027, 6, 1, 10)
    assert again.end_local == datetime(2027, 6, 1, 11)
    assert again.starts_at_utc == datetime(2027, 6, 1, 9, tzinfo=UTC)


def test_set_times_uses_the_given_zone():
    meeting = Meeting(title="x", status=MeetingStatus.SCHEDULED)
    set_times(meeting, datetime(2026, 12, 1, 10), datetime(2026, 12, 1, 11), "America/New_York")
    assert meeting.timezone == "America/New_York"
    assert meeting.starts_at_utc == datetime(2026, 12, 1, 15, tzinfo=UTC)


# --- upcoming -------------------------------------------------------------------------------


@pytest.fixture
def agenda(session):
    """Two test groups with one-off meetings around NOW = 2030-01-15 12:00 UTC (after the demo)."""
    a = make_group(session, "test-upcoming-a")
    b = make_group(session, "test-upcoming-b")
    made = {
        "a-past": one_off(session, a, datetime(2030, 1, 14, 10)),
        "a-now": one_off(session, a, datetime(2030, 1, 15, 12)),
        "b-later": one_off(session, b, datetime(2030, 3, 1, 9)),
        "a-cancelled": one_off(session, a, datetime(2030, 1, 20, 10), status=MeetingStatus.CANCELLED),
        "a-soon": one_off(session, a, datetime(2030, 1, 16, 10)),
        "b-soon": one_off(session, b, datetime(2030, 1, 16, 9, 30)),
        "a-summer": one_off(session, a, datetime(2030, 7, 1, 10)),
    }
    for name, meeting in made.items():
        meeting.title = name
    session.flush()
    return a, b, made


NOW_2030 = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)


def titles(found) -> list[str]:
    return [m.title for m in found]


def test_upcoming_is_soonest_first_and_skips_past_and_cancelled(session, agenda):
    a, b, _ = agenda
    found = upcoming(session, NOW_2030, group_ids=[a.id, b.id])
    assert titles(found) == ["a-now", "b-soon", "a-soon", "b-later", "a-summer"]


def test_upcoming_can_include_cancelled(session, agenda):
    a, b, made = agenda
    found = upcoming(session, NOW_2030, group_ids=[a.id, b.id], include_cancelled=True)
    assert titles(found) == ["a-now", "b-soon", "a-soon", "a-cancelled", "b-later", "a-summer"]


def test_upcoming_respects_group_ids(session, agenda):
    a, b, _ = agenda
    assert titles(upcoming(session, NOW_2030, group_ids=[b.id])) == ["b-soon", "b-later"]
    assert titles(upcoming(session, NOW_2030, group_ids=[a.id])) == ["a-now", "a-soon", "a-summer"]
    assert upcoming(session, NOW_2030, group_ids=[]) == []
    # any iterable will do
    assert titles(upcoming(session, NOW_2030, group_ids=iter([b.id]))) == ["b-soon", "b-later"]


def test_upcoming_respects_until_exclusively(session, agenda):
    a, b, made = agenda
    found = upcoming(session, NOW_2030, group_ids=[a.id, b.id], until=made["b-later"].starts_at_utc)
    assert titles(found) == ["a-now", "b-soon", "a-soon"]


def test_upcoming_respects_limit(session, agenda):
    a, b, _ = agenda
    assert titles(upcoming(session, NOW_2030, group_ids=[a.id, b.id], limit=2)) == ["a-now", "b-soon"]
    assert titles(upcoming(session, NOW_2030, group_ids=[a.id], limit=1)) == ["a-now"]


def test_upcoming_accepts_now_in_any_zone(session, agenda):
    # 12:00 UTC in January is 07:00 in New York: the same instant, the same answer.
    from zoneinfo import ZoneInfo

    a, b, _ = agenda
    same_instant = NOW_2030.astimezone(ZoneInfo("America/New_York"))
    assert titles(upcoming(session, same_instant, group_ids=[a.id, b.id])) == titles(
        upcoming(session, NOW_2030, group_ids=[a.id, b.id])
    )
    one_second_later = NOW_2030 + timedelta(seconds=1)
    assert "a-now" not in titles(upcoming(session, one_second_later, group_ids=[a.id]))


def test_upcoming_without_groups_orders_everything(session, agenda):
    found = upcoming(session, datetime(2026, 11, 25, 12, tzinfo=UTC))
    instants = [m.starts_at_utc for m in found]
    assert instants == sorted(instants)
    assert {"a-now", "b-later"} <= set(titles(found))
    assert all(m.status is MeetingStatus.SCHEDULED for m in found)
    # the demo meetings are there too
    assert any(m.series_id is not None for m in found)


def test_group_meetings_lists_in_time_order(session, agenda):
    a, _, _ = agenda
    assert titles(meeting_queries.group_meetings(session, a)) == [
        "a-past",
        "a-now",
        "a-soon",
        "a-cancelled",
        "a-summer",
    ]
