"""Forms filled all at once (core.forms.fill), as Slack modals and Teams cards will: the schedule
form (handlers.meeting_admin.SCHEDULE), with errors by field name. On SQLite and PostgreSQL, with
the demo loaded as of Wednesday 25 November 2026; demo@kent.gov.uk chairs Smart Kent and Medway.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from core.forms import FORMS, FieldError, Form, FormField, fill
from core.messages import Request
from handlers.base import Context
from handlers.meeting_admin import SCHEDULE
from handlers.people import resolve_caller
from storage.models import ConversationState, Delivery, Meeting
from tests.conftest import ADMIN, NOW

DEMO = "demo@kent.gov.uk"

GOOD = {
    "group": "smart kent",
    "date": "9 March 2027",
    "time": "10:00-12:00",
    "repeat": "quarterly",
    "place": "Estuary Room, Ashford",
    "link": "https://teams.microsoft.com/l/meetup-join/abc",
    "agenda": "updates from partners",
}
GOOD_VALUES = {
    "group": {"slug": "smart-kent-and-medway", "name": "Smart Kent and Medway Projects"},
    "date": "2027-03-09",
    "time": {"start": "10:00", "end": "12:00"},
    "repeat": {
        "rule": "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=4",
        "text": "every 3 months on the second Tuesday, 4 meetings",
    },
    "place": "Estuary Room, Ashford",
    "link": "https://teams.microsoft.com/l/meetup-join/abc",
    "agenda": "updates from partners",
}


def context(session, settings, email: str = DEMO, now: datetime = NOW) -> Context:
    """A Context as the router builds one for a console message."""
    request = Request(text="schedule", platform="console", user_id=email, email=email, now=now)
    return Context(session, request, resolve_caller(session, request, settings), settings)


@pytest.fixture
def ctx(session, settings) -> Context:
    return context(session, settings)


def rows(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_the_schedule_form_is_registered():
    assert FORMS["schedule_meeting"] is SCHEDULE
    assert [f.name for f in SCHEDULE.fields] == ["group", "date", "time", "repeat", "place", "link", "agenda"]
    assert [f.name for f in SCHEDULE.fields if f.required] == ["group", "date", "time"]


def test_all_good_fields_give_values_and_no_errors(ctx, session):
    before = (rows(session, Meeting), rows(session, Delivery), rows(session, ConversationState))
    values, errors = fill(SCHEDULE, ctx, GOOD)
    assert errors == {}
    assert values == GOOD_VALUES
    # Filling in is only reading: nothing is scheduled, told or kept as a draft.
    assert (rows(session, Meeting), rows(session, Delivery), rows(session, ConversationState)) == before


def test_optional_fields_may_be_left_out(ctx):
    values, errors = fill(
        SCHEDULE,
        ctx,
        {
            "group": "smart kent",
            "date": "9 March 2027",
            "time": "10:00-11:00",
            "place": "Room 1",
            "repeat": "",
            "link": "   ",
        },
    )
    assert errors == {}
    assert values["repeat"] is None and values["link"] is None and values["agenda"] is None
    assert values["place"] == "Room 1"


@pytest.mark.parametrize(
    "name, bad, message",
    [
        ("group", "gis", "Only the chairs of GIS and the Partnership Office"),
        ("group", "quidditch", "I don't know a group called"),
        ("group", "", "Group is needed."),
        ("date", "31 February", "February has 29 days at most"),
        ("date", "1 November 2026", "is in the past"),
        ("date", "March 2027", "Which day in March 2027?"),
        ("date", "", "Date is needed."),
        ("time", "12:00-10:00", "The end (10:00) must be after the start (12:00)"),
        ("time", "teatime", "couldn't read “teatime” as times"),
        ("repeat", "every month, 1000 times", "1,000 meetings"),
        ("repeat", "monthly on the second funday", "“funday” isn't a day of the week"),
        ("link", "not a link", "isn't a web link"),
        ("link", "https://teams microsoft com", "isn't a web link"),
        ("place", "x" * 301, "Place can be at most 300 characters (that was 301)"),
        ("agenda", "y" * 2001, "Agenda can be at most 2,000 characters (that was 2,001)"),
    ],
    ids=[
        "not-chair",
        "unknown-group",
        "no-group",
        "31-february",
        "past",
        "a-month",
        "no-date",
        "end-before-start",
        "unreadable-time",
        "1000-times",
        "unknown-weekday",
        "not-a-link",
        "spaces-in-link",
        "long-place",
        "long-agenda",
    ],
)
def test_each_bad_field_gets_an_error_under_its_name(ctx, name, bad, message):
    values, errors = fill(SCHEDULE, ctx, {**GOOD, name: bad})
    assert set(errors) == {name}
    assert message in errors[name]
    assert name not in values
    # Every other field is read as usual (the repeat's weekday comes from the date, so with a
    # bad date it is read from today's instead).
    for other, expected in GOOD_VALUES.items():
        if other == name:
            continue
        if other == "repeat" and name == "date":
            assert (
                values["repeat"]["rule"].startswith("FREQ=MONTHLY;INTERVAL=3;")
                and "COUNT=4" in values["repeat"]["rule"]
            )
            continue
        assert values[other] == expected, other


def test_several_bad_fields_are_all_reported(ctx):
    values, errors = fill(SCHEDULE, ctx, {**GOOD, "date": "31 February", "time": "12:00-10:00", "link": "nope"})
    assert set(errors) == {"date", "time", "link"}
    assert values["group"] == GOOD_VALUES["group"] and values["place"] == GOOD["place"]


def test_no_place_and_no_link_is_an_error_on_place(ctx):
    values, errors = fill(SCHEDULE, ctx, {**GOOD, "place": "", "link": ""})
    assert errors == {"place": "A meeting needs a place or an online link (or both)."}
    assert values["place"] is None and values["link"] is None


@pytest.mark.parametrize("place, link", [("Room 1", ""), ("", "https://meet.example.org/x")])
def test_a_place_or_a_link_is_enough(ctx, place, link):
    values, errors = fill(SCHEDULE, ctx, {**GOOD, "place": place, "link": link})
    assert errors == {}


def test_the_cross_field_check_waits_until_the_fields_are_valid(ctx):
    # A bad link and no place: the link's own error, not "needs a place or a link".
    values, errors = fill(SCHEDULE, ctx, {**GOOD, "place": "", "link": "not a link"})
    assert set(errors) == {"link"}
    # A bad date and neither place nor link: only the date's error.
    values, errors = fill(SCHEDULE, ctx, {**GOOD, "date": "31 February", "place": "", "link": ""})
    assert set(errors) == {"date"}


def test_the_cross_field_check_refuses_a_time_the_clocks_skip(ctx):
    values, errors = fill(SCHEDULE, ctx, {**GOOD, "date": "28 March 2027", "time": "01:30-03:00", "repeat": "no"})
    assert set(errors) == {"time"}
    assert "01:30 doesn't exist on Sunday 28 March 2027" in errors["time"]
    assert "clocks go forward" in errors["time"]


def test_the_cross_field_check_accepts_a_time_that_happens_twice(ctx):
    values, errors = fill(SCHEDULE, ctx, {**GOOD, "date": "31 October 2027", "time": "01:30-02:30", "repeat": "no"})
    assert errors == {}


def test_the_cross_field_check_refuses_a_time_already_passed_today(ctx):
    # Today (25 November 2026) is a valid day, but 09:00 London time is before noon UTC.
    values, errors = fill(SCHEDULE, ctx, {**GOOD, "date": "25 November 2026", "time": "09:00-10:00", "repeat": "no"})
    assert set(errors) == {"date"}
    assert "already passed" in errors["date"]
    values, errors = fill(SCHEDULE, ctx, {**GOOD, "date": "25 November 2026", "time": "15:00-16:00", "repeat": "no"})
    assert errors == {}


@pytest.mark.parametrize(
    "day, rule",
    [
        ("9 March 2027", "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=4"),
        ("26 February 2027", "FREQ=MONTHLY;INTERVAL=3;BYDAY=4FR;COUNT=4"),  # a fourth Friday stays the fourth
        ("29 March 2027", "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1MO;COUNT=4"),  # a fifth Monday becomes the last
    ],
)
def test_the_repeat_is_read_from_the_given_date(ctx, day, rule):
    values, errors = fill(SCHEDULE, ctx, {**GOOD, "date": day, "repeat": "quarterly"})
    assert errors == {}
    assert values["repeat"]["rule"] == rule


def test_an_admin_may_fill_it_for_a_closed_group(session, settings):
    values, errors = fill(SCHEDULE, context(session, settings, ADMIN), {**GOOD, "group": "leadership"})
    assert errors == {}
    assert values["group"]["slug"] == "leadership"


def test_the_form_refuses_those_who_chair_nothing(session, settings):
    assert SCHEDULE.allowed(context(session, settings, "someone@medway.gov.uk"), {}) is not None
    assert "can't match" in SCHEDULE.allowed(context(session, settings, "someone@gmail.com"), {}).text
    assert SCHEDULE.allowed(context(session, settings, DEMO), {}) is None
    assert SCHEDULE.allowed(context(session, settings, ADMIN), {}) is None


# --- FormField.read ---------------------------------------------------------------------------


def echo_field(**kwargs) -> FormField:
    return FormField("note", "Note", "Any note?", lambda text, ctx, values: f"<{text}>", **kwargs)


def test_read_refuses_text_longer_than_max_length():
    field = echo_field(max_length=10)
    assert field.read("x" * 10, None, {}) == "<xxxxxxxxxx>"
    with pytest.raises(FieldError, match=r"Note can be at most 10 characters \(that was 11\)"):
        field.read("x" * 11, None, {})


def test_read_measures_the_text_without_surrounding_spaces():
    field = echo_field(max_length=5)
    assert field.read("   abcde \n", None, {}) == "<abcde>"


def test_read_empty_text():
    with pytest.raises(FieldError, match="Note is needed."):
        echo_field().read("  ", None, {})
    assert echo_field(required=False).read("  ", None, {}) is None


def test_read_uses_the_default_limit_of_300():
    field = echo_field()
    assert field.read("z" * 300, None, {}) == "<" + "z" * 300 + ">"
    with pytest.raises(FieldError):
        field.read("z" * 301, None, {})


def test_the_schedule_agenda_takes_up_to_2000_characters(ctx):
    agenda = SCHEDULE.field("agenda")
    assert agenda.read("a" * 2000, ctx, {}) == "a" * 2000
    with pytest.raises(FieldError, match="at most 2,000"):
        agenda.read("a" * 2001, ctx, {})


def test_find_field_by_name_or_label():
    assert SCHEDULE.find_field("link") is SCHEDULE.field("link")
    assert SCHEDULE.find_field(" Online Link ") is SCHEDULE.field("link")
    assert SCHEDULE.find_field("repeats") is SCHEDULE.field("repeat")
    assert SCHEDULE.find_field("colour") is None
    with pytest.raises(KeyError):
        SCHEDULE.field("colour")


def test_fill_with_a_form_of_its_own():
    other = FormField("other", "Other", "Other?", lambda text, ctx, values: text.upper(), required=False)
    form = Form(
        "test_form",
        "Test",
        (echo_field(), other),
        submit=lambda ctx, values: None,
        check=lambda ctx, values: {"other": "needs a note"} if values.get("note") == "<x>" else {},
    )
    assert fill(form, None, {"note": "a", "other": "b"}) == ({"note": "<a>", "other": "B"}, {})
    assert fill(form, None, {"note": "x"}) == ({"note": "<x>", "other": None}, {"other": "needs a note"})
    values, errors = fill(form, None, {"other": "b"})
    assert errors == {"note": "Note is needed."} and values == {"other": "B"}
