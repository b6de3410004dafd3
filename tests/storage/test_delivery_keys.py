"""The delivery keys' codec (storage.delivery_keys): every key it builds parses back to what built
it, everything it parses builds back to the same text, the strings are exactly those stored rows
have, and its SQL builds the same strings on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given, strategies as st
from sqlalchemy import literal, select

from storage import delivery_keys as keys
from storage.delivery_keys import (
    ChannelAddress,
    PersonalMeetingOccurrence,
    ReminderOccurrence,
    Subject,
    Thing,
)

ids = st.integers(min_value=0, max_value=2**63 - 1)
leads = st.builds(lambda n, unit: f"{n}{unit}", st.integers(min_value=1, max_value=9999), st.sampled_from("wdhm"))
starts = st.datetimes()  # naive: local wall time
# Text near the keys' shapes, so that the canonical checks meet what they must refuse.
near = st.from_regex(
    r"\A(meeting|event|series|case|person|channel|announcement|at|x)?:?[+\-0-9 ]{0,4}:?"
    r"[0-9]{0,3}[wdhmx]?@?(20[0-9]{2}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}(:[0-9]{2}){0,2}(\.[0-9]{1,6})?"
    r"(\+00:00|Z)?)?)?\Z"
)
texts = st.one_of(st.text(), near)


def examples(*cases: str):
    def decorate(test):
        for case in cases:
            test = example(case)(test)
        return test

    return decorate


# --- the strings are the ones stored rows have -------------------------------------------------------


def test_the_keys_are_today_s_strings():
    start = datetime(2026, 3, 10, 10, 0)
    assert keys.subject(Thing.MEETING, 13) == "meeting:13"
    assert [keys.subject(t, 4) for t in Thing] == [
        "meeting:4",
        "series:4",
        "event:4",
        "case:4",
        "announcement:4",
        "channel:4",
        "person:4",
    ]
    assert keys.reminder_occurrence("7d", start) == "7d@2026-03-10T10:00:00"
    assert keys.personal_meeting_occurrence(13, "2h", start) == "meeting:13:2h@2026-03-10T10:00:00"
    due = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
    assert keys.personal_occurrence(due, "Call Medway") == (
        "at:2026-03-10T09:00:00+00:00:" + hashlib.sha256(b"call medway").hexdigest()[:16]
    )
    assert keys.version(3) == "v3"
    assert keys.case_change(12) == "change:12"
    assert keys.waitlist_turn(5, due) == "registration:5:2026-03-10T09:00:00+00:00"
    assert keys.digest_week(2026, 9) == "week:2026-09"
    assert (keys.SCHEDULED, keys.SUBMITTED, keys.ANNOUNCED, keys.DIRECT) == ("scheduled", "submitted", "1", "direct")
    assert keys.channel("slack", "C0123") == "slack:C0123"
    assert keys.channel("teams", "conversation:19:abc@thread.tacv2") == "teams:conversation:19:abc@thread.tacv2"


def _old_reminder_start(occurrence: str) -> str:
    return occurrence.partition("@")[2]  # jobs.reminders before the codec


def _old_personal(occurrence: str) -> tuple[str, str, str]:
    meeting_part, _, start = occurrence.partition("@")  # jobs.reminders before the codec
    _, number, lead = meeting_part.split(":", 2)
    return number, lead, start


@given(leads, starts)
def test_an_automatic_reminder_s_occurrence_round_trips_and_reads_as_it_did(lead, start):
    text = keys.reminder_occurrence(lead, start)
    assert keys.parse_reminder_occurrence(text) == ReminderOccurrence(lead, start)
    assert _old_reminder_start(text) == start.isoformat()
    assert keys.parse_personal_meeting_occurrence(text) is None


@given(ids, leads, starts)
def test_a_personal_reminder_s_meeting_occurrence_round_trips_and_reads_as_it_did(meeting_id, lead, start):
    text = keys.personal_meeting_occurrence(meeting_id, lead, start)
    assert keys.parse_personal_meeting_occurrence(text) == PersonalMeetingOccurrence(meeting_id, lead, start)
    assert _old_personal(text) == (str(meeting_id), lead, start.isoformat())
    assert keys.parse_reminder_occurrence(text) is None


@given(st.sampled_from(Thing), ids)
def test_a_subject_round_trips(thing, number):
    assert keys.parse_subject(keys.subject(thing, number)) == Subject(thing, number)


@given(st.datetimes(timezones=st.just(timezone.utc)), st.text())
def test_a_personal_reminder_at_a_time_is_neither_of_the_other_occurrences(due, what):
    text = keys.personal_occurrence(due, what)
    assert text == keys.personal_occurrence(due, what.lower())  # the same words in another case
    assert keys.parse_reminder_occurrence(text) is None and keys.parse_personal_meeting_occurrence(text) is None


@given(st.from_regex(r"\A[a-z]{1,8}\Z"), st.text(min_size=1))
def test_a_channel_round_trips_and_its_address_keeps_its_colons(platform, address):
    assert keys.parse_channel(keys.channel(platform, address)) == ChannelAddress(platform, address)


# --- what parses, builds back to the same text ---------------------------------------------------------


@given(texts)
@examples("meeting:13", "meeting:013", "meeting:+13", "meeting:١٣", "meeting:13 ")
def test_a_parsed_subject_builds_back_to_the_same_text(text):
    parsed = keys.parse_subject(text)
    if parsed is not None:
        assert keys.subject(parsed.thing, parsed.id) == text


@given(texts)
@examples(
    "7d@2026-03-10T10:00:00",
    "7d@2026-03-10T10:00",
    "07d@2026-03-10T10:00:00",
    "7d@2026-03-10 10:00:00",
    "7d@2026-03-10T10:00:00+00:00",
    "7x@2026-03-10T10:00:00",
)
def test_a_parsed_reminder_occurrence_builds_back_to_the_same_text(text):
    parsed = keys.parse_reminder_occurrence(text)
    if parsed is not None:
        assert keys.reminder_occurrence(parsed.lead, parsed.start_local) == text


@given(texts)
@examples(
    "meeting:13:2h@2026-03-10T10:00:00",
    "meeting:13:2h@2026-03-10",
    "meeting::2h@2026-03-10T10:00:00",
    "meeting:13@2026-03-10T10:00:00",
    "meeting:13:2h:x@2026-03-10T10:00:00",
)
def test_a_parsed_personal_meeting_occurrence_builds_back_to_the_same_text(text):
    parsed = keys.parse_personal_meeting_occurrence(text)
    if parsed is not None:
        assert keys.personal_meeting_occurrence(parsed.meeting_id, parsed.lead, parsed.start_local) == text


@given(texts)
@examples("direct", "email", "slack:", ":C0123", "Slack:C0123")
def test_a_parsed_channel_builds_back_to_the_same_text(text):
    parsed = keys.parse_channel(text)
    if parsed is not None:
        assert keys.channel(parsed.platform, parsed.address) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("meeting:13", Subject(Thing.MEETING, 13)),
        ("announcement:7", Subject(Thing.ANNOUNCEMENT, 7)),
        ("meeting:013", None),
        ("meeting:-1", None),
        ("meeting:", None),
        ("meeting", None),
        ("fund:3", None),
        ("test:1", None),
        ("Meeting:13", None),
        ("meeting:13:2h@2026-03-10T10:00:00", None),
    ],
)
def test_what_parses_as_a_subject(text, expected):
    assert keys.parse_subject(text) == expected


def test_the_parts_of_a_personal_meeting_occurrence():
    assert keys.parse_personal_meeting_occurrence("meeting:13:2h@2026-12-08T10:00:00") == PersonalMeetingOccurrence(
        13, "2h", datetime(2026, 12, 8, 10, 0)
    )
    assert keys.parse_personal_meeting_occurrence("meeting:abc:2h@2026-12-08T10:00:00") is None
    assert keys.parse_channel("teams:conversation:19:x") == ChannelAddress("teams", "conversation:19:x")
    assert keys.parse_channel("direct") is None


@pytest.mark.parametrize(
    "build",
    [
        lambda: keys.subject(Thing.MEETING, -1),
        lambda: keys.subject(Thing.MEETING, True),
        lambda: keys.reminder_occurrence("7 days", datetime(2026, 3, 10, 10)),
        lambda: keys.reminder_occurrence("7d", datetime(2026, 3, 10, 10, tzinfo=timezone.utc)),
        lambda: keys.personal_meeting_occurrence(13, "2h@", datetime(2026, 3, 10, 10)),
        lambda: keys.personal_occurrence(datetime(2026, 3, 10, 10), "naive"),
        lambda: keys.channel("Slack", "C0123"),
        lambda: keys.channel("slack", ""),
    ],
)
def test_the_builders_refuse_what_would_not_parse_back(build):
    with pytest.raises(ValueError):
        build()


# --- the same strings in SQL -----------------------------------------------------------------------------


@pytest.mark.parametrize("number", [0, 7, 13, 2**31 - 1])
def test_the_sql_subject_is_the_python_one(session, number):
    for thing in Thing:
        assert session.execute(select(keys.subject_sql(thing, literal(number)))).scalar_one() == keys.subject(
            thing, number
        )


def test_the_sql_test_for_a_meeting_s_personal_reminders(session):
    start = datetime(2026, 12, 8, 10) + timedelta(minutes=30)
    occurrence = keys.personal_meeting_occurrence(13, "2h", start)

    def follows(text: str, meeting_id: int) -> bool:
        return bool(session.execute(select(keys.follows_meeting_sql(literal(text), literal(meeting_id)))).scalar_one())

    assert follows(occurrence, 13)
    assert not follows(occurrence, 1) and not follows(occurrence, 130) and not follows(occurrence, 3)
    assert not follows(keys.reminder_occurrence("2h", start), 13)
    assert session.execute(select(keys.follows_a_meeting_sql(literal(occurrence)))).scalar_one()
    assert not session.execute(
        select(
            keys.follows_a_meeting_sql(
                literal(keys.personal_occurrence(datetime(2026, 12, 8, tzinfo=timezone.utc), "x"))
            )
        )
    ).scalar_one()
