"""Dates as people write them (handlers.when.parse_period, parse_moment) and times as the bot
writes them (format_span, meeting_span), with today fixed at the demo day, Wednesday 25 November 2026."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from handlers.when import (
    DateError,
    LocalMoment,
    Period,
    SpanError,
    format_span,
    meeting_span,
    parse_moment,
    parse_period,
)

TODAY = date(2026, 11, 25)
LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


# --- months -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words, first, last, label",
    [
        # a month without a year is the next one to come...
        ("March", date(2027, 3, 1), date(2027, 3, 31), "March 2027"),
        ("mar", date(2027, 3, 1), date(2027, 3, 31), "March 2027"),
        ("  MARCH  ", date(2027, 3, 1), date(2027, 3, 31), "March 2027"),
        # ...and the current month counts as to come
        ("november", date(2026, 11, 1), date(2026, 11, 30), "November 2026"),
        ("December", date(2026, 12, 1), date(2026, 12, 31), "December 2026"),
        ("october", date(2027, 10, 1), date(2027, 10, 31), "October 2027"),
        ("sept", date(2027, 9, 1), date(2027, 9, 30), "September 2027"),
        # an explicit year is taken as written, even in the past
        ("march 2026", date(2026, 3, 1), date(2026, 3, 31), "March 2026"),
        ("February 2028", date(2028, 2, 1), date(2028, 2, 29), "February 2028"),
        ("this month", date(2026, 11, 1), date(2026, 11, 30), "November 2026"),
        ("next month", date(2026, 12, 1), date(2026, 12, 31), "December 2026"),
    ],
)
def test_months(words, first, last, label):
    period = parse_period(words, TODAY)
    assert (period.first, period.last, period.label) == (first, last, label)
    assert period.phrase == f"in {label}"


def test_next_month_from_december_is_january_of_the_next_year():
    period = parse_period("next month", date(2026, 12, 31))
    assert (period.first, period.last) == (date(2027, 1, 1), date(2027, 1, 31))


def test_next_month_from_the_31st_of_january_is_february():
    period = parse_period("next month", date(2027, 1, 31))
    assert (period.first, period.last) == (date(2027, 2, 1), date(2027, 2, 28))


# --- days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words, day",
    [
        ("9 March", date(2027, 3, 9)),
        ("9th of March", date(2027, 3, 9)),
        ("9/3/2027", date(2027, 3, 9)),
        ("9.3.2027", date(2027, 3, 9)),
        ("9/3/27", date(2027, 3, 9)),
        ("9/3", date(2027, 3, 9)),
        ("2027-03-09", date(2027, 3, 9)),
        ("March 9th", date(2027, 3, 9)),
        ("march 9, 2027", date(2027, 3, 9)),
        ("Tuesday 9 March", date(2027, 3, 9)),
        ("the 8th December", date(2026, 12, 8)),
        # today is still to come; yesterday means next year's
        ("25 November", date(2026, 11, 25)),
        ("24 November", date(2027, 11, 24)),
        ("29 February 2028", date(2028, 2, 29)),
    ],
)
def test_days(words, day):
    period = parse_period(words, TODAY)
    assert period.first == period.last == day
    assert period.phrase.startswith("on ")


def test_a_day_is_labelled_with_its_weekday_and_full_date():
    period = parse_period("9 March", TODAY)
    assert period.label == "Tuesday 9 March 2027"
    assert period.phrase == "on Tuesday 9 March 2027"


@pytest.mark.parametrize(
    "words, first, last",
    [
        ("today", date(2026, 11, 25), date(2026, 11, 25)),
        ("tomorrow", date(2026, 11, 26), date(2026, 11, 26)),
        ("this week", date(2026, 11, 23), date(2026, 11, 29)),
        ("next week", date(2026, 11, 30), date(2026, 12, 6)),
    ],
)
def test_relative_words(words, first, last):
    period = parse_period(words, TODAY)
    assert (period.first, period.last) == (first, last)
    assert period.phrase == words


# --- errors: a DateError whose message a person can read ----------------------------------


@pytest.mark.parametrize(
    "words, expected",
    [
        ("31 February", "February has 29 days at most"),
        ("30 February 2028", "February has 29 days at most"),
        ("29 February 2027", "2027 is not a leap year"),
        ("29 February", "2027 is not a leap year"),  # the next 29 February to come would be in 2027
        ("31 April", "April has 30 days at most"),
        ("0 March", "March has 31 days at most"),
        ("30/13/2027", "There is no month 13"),
        ("1/0/2027", "There is no month 0"),
        ("9 Smarch", "I don't know the month “smarch”"),
        ("Smarch", "I couldn't read “Smarch” as a date"),
        ("", "I couldn't read"),
        ("   ", "I couldn't read"),
        ("the day after the gis meeting", "I couldn't read"),
        ("March 0000", "out of range"),
    ],
)
def test_errors_say_what_is_wrong(words, expected):
    with pytest.raises(DateError) as raised:
        parse_period(words, TODAY)
    message = str(raised.value)
    assert expected in message
    assert "Traceback" not in message and "ValueError" not in message


def test_an_unreadable_date_gets_examples_of_what_works():
    with pytest.raises(DateError) as raised:
        parse_period("Smarch", TODAY)
    assert "9 March" in str(raised.value) and "March 2027" in str(raised.value)


def test_a_very_long_unreadable_date_is_quoted_shortened():
    with pytest.raises(DateError) as raised:
        parse_period("x" * 5000, TODAY)
    assert len(str(raised.value)) < 300


def test_date_error_is_a_value_error():
    assert issubclass(DateError, ValueError)


# --- Period.bounds_utc ----------------------------------------------------------------------


def test_bounds_of_a_winter_day_are_midnight_gmt():
    start, end = Period(date(2026, 12, 8), date(2026, 12, 8), "x").bounds_utc(LONDON)
    assert (start, end) == (datetime(2026, 12, 8, tzinfo=UTC), datetime(2026, 12, 9, tzinfo=UTC))


def test_bounds_of_a_summer_month_are_midnight_bst():
    start, end = parse_period("June", TODAY).bounds_utc(LONDON)
    assert (start, end) == (datetime(2027, 5, 31, 23, tzinfo=UTC), datetime(2027, 6, 30, 23, tzinfo=UTC))


def test_bounds_of_march_2027_span_the_clock_change():
    start, end = parse_period("March", TODAY).bounds_utc(LONDON)
    # starts at midnight GMT, ends at midnight BST
    assert (start, end) == (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 31, 23, tzinfo=UTC))


@pytest.mark.parametrize("words", ["December 9999", "31 December 9999"])
def test_every_period_parse_period_accepts_has_utc_bounds(words):
    try:
        period = parse_period(words, TODAY)
    except DateError:
        return  # refusing the year is also fine
    start, end = period.bounds_utc(LONDON)
    assert start < end


# --- format_span ------------------------------------------------------------------------------


def test_format_span_winter():
    start = datetime(2026, 12, 8, 10, tzinfo=LONDON)
    end = datetime(2026, 12, 8, 12, tzinfo=LONDON)
    assert format_span(start, end) == "Tuesday 8 December 2026, 10:00–12:00 GMT"


def test_format_span_summer():
    start = datetime(2027, 6, 8, 10, tzinfo=LONDON)
    end = datetime(2027, 6, 8, 12, tzinfo=LONDON)
    assert format_span(start, end) == "Tuesday 8 June 2027, 10:00–12:00 BST"


def test_format_span_single_digit_day_has_no_leading_zero():
    start = datetime(2027, 3, 9, 9, 5, tzinfo=LONDON)
    end = datetime(2027, 3, 9, 9, 50, tzinfo=LONDON)
    assert format_span(start, end) == "Tuesday 9 March 2027, 09:05–09:50 GMT"


def test_format_span_across_midnight_names_both_days():
    start = datetime(2026, 12, 31, 23, 0, tzinfo=LONDON)
    end = datetime(2027, 1, 1, 1, 0, tzinfo=LONDON)
    assert format_span(start, end) == "Thursday 31 December 2026, 23:00 GMT – Friday 1 January 2027, 01:00 GMT"


def test_format_span_across_the_clock_change_names_both_zones():
    # 00:30 GMT to 03:00 BST on the night the clocks go forward
    start = datetime(2027, 3, 28, 0, 30, tzinfo=UTC).astimezone(LONDON)
    end = datetime(2027, 3, 28, 2, 0, tzinfo=UTC).astimezone(LONDON)
    assert format_span(start, end) == "Sunday 28 March 2027, 00:30 GMT – 03:00 BST"


def test_format_span_in_utc():
    start = datetime(2026, 12, 8, 10, tzinfo=UTC)
    end = datetime(2026, 12, 8, 12, tzinfo=UTC)
    assert format_span(start, end) == "Tuesday 8 December 2026, 10:00–12:00 UTC"


# --- meeting_span: stored local wall time + zone, shown in the bot's zone ------------------------


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2027, 3, 26), "Friday 26 March 2027, 10:00–12:00 GMT"),  # before the change
        (date(2027, 3, 28), "Sunday 28 March 2027, 10:00–12:00 BST"),  # the day of the change
        (date(2027, 3, 29), "Monday 29 March 2027, 10:00–12:00 BST"),  # after
        (date(2027, 10, 31), "Sunday 31 October 2027, 10:00–12:00 GMT"),  # back again
    ],
)
def test_a_10am_meeting_stays_at_10am_across_the_2027_clock_changes(day, expected):
    start = datetime.combine(day, datetime.min.time()).replace(hour=10)
    end = start.replace(hour=12)
    assert meeting_span(start, end, "Europe/London", LONDON) == expected


def test_meeting_over_the_spring_forward_gap():
    # 00:30 to 02:30 local on 28 March 2027: clocks jump from 01:00 GMT to 02:00 BST in between
    span = meeting_span(datetime(2027, 3, 28, 0, 30), datetime(2027, 3, 28, 2, 30), "Europe/London", LONDON)
    assert span == "Sunday 28 March 2027, 00:30 GMT – 02:30 BST"


def test_meeting_starting_in_the_skipped_hour_moves_forward():
    # 01:30 does not exist on 28 March 2027 in London; it is read as 02:30 BST
    span = meeting_span(datetime(2027, 3, 28, 1, 30), datetime(2027, 3, 28, 3, 0), "Europe/London", LONDON)
    assert span == "Sunday 28 March 2027, 02:30–03:00 BST"


def test_meeting_in_another_zone_is_shown_in_the_bots_zone():
    # New York changes clocks on 14 March 2027, London on 28 March: for two weeks the gap is 4 hours
    span = meeting_span(datetime(2027, 3, 20, 10), datetime(2027, 3, 20, 11), "America/New_York", LONDON)
    assert span == "Saturday 20 March 2027, 14:00–15:00 GMT"
    span = meeting_span(datetime(2027, 4, 3, 10), datetime(2027, 4, 3, 11), "America/New_York", LONDON)
    assert span == "Saturday 3 April 2027, 15:00–16:00 BST"


def test_evening_meeting_elsewhere_can_cross_midnight_here():
    span = meeting_span(datetime(2026, 12, 8, 18), datetime(2026, 12, 8, 20), "America/New_York", LONDON)
    assert span == "Tuesday 8 December 2026, 23:00 GMT – Wednesday 9 December 2026, 01:00 GMT"


# --- parse_moment: a day and a time, for `remind me`, `announce ... at`, `move`, the event form ----

NINE, FIVE_PM = time(9), time(17)
MEETING_DAY = date(2027, 2, 26)  # for `move`: the day of the meeting being moved


@pytest.mark.parametrize(
    "words, default_time, start",
    [
        # `remind me WHEN to ...` (at 9:00 when no time is given)
        ("tomorrow at 9", NINE, datetime(2026, 11, 26, 9)),
        ("on 3 March at 10:00", NINE, datetime(2027, 3, 3, 10)),
        ("9 March", NINE, datetime(2027, 3, 9, 9)),
        ("friday at 2pm", NINE, datetime(2026, 11, 27, 14)),
        ("next friday at 2pm", NINE, datetime(2026, 11, 27, 14)),
        ("tomorrow at 9 o'clock", NINE, datetime(2026, 11, 26, 9)),
        ("today", NINE, datetime(2026, 11, 25, 9)),
        # the event form's registration opens and closes (at 09:00 and 17:00), and `announce GROUP at ...`
        ("1 March 2027 09:00", NINE, datetime(2027, 3, 1, 9)),
        ("8 May 2027 17:00", FIVE_PM, datetime(2027, 5, 8, 17)),
        ("19 January 2027", FIVE_PM, datetime(2027, 1, 19, 17)),
        ("1 December 2026 9am", NINE, datetime(2026, 12, 1, 9)),
        ("tomorrow 9am", NINE, datetime(2026, 11, 26, 9)),
        ("Tuesday 9 March 2027 at 10.30", NINE, datetime(2027, 3, 9, 10, 30)),
        ("9 March, 10:00", NINE, datetime(2027, 3, 9, 10)),
        ("9/3/2027 14:00", NINE, datetime(2027, 3, 9, 14)),
    ],
)
def test_a_day_and_a_time(words, default_time, start):
    assert parse_moment(words, TODAY, default_time) == LocalMoment(start)


@pytest.mark.parametrize(
    "words, start",
    [
        ("at 14:00", datetime(2026, 11, 25, 14)),
        ("14:00", datetime(2026, 11, 25, 14)),
        ("2pm", datetime(2026, 11, 25, 14)),
        ("at 9 o'clock", datetime(2026, 11, 25, 9)),
        ("at at 9", datetime(2026, 11, 25, 9)),
    ],
)  # `remind me at at 9 to ...`
def test_a_time_alone_is_on_the_default_day(words, start):
    assert parse_moment(words, TODAY, NINE, default_day=TODAY) == LocalMoment(start)


@pytest.mark.parametrize("words", ["at 14:00", "14:00"])
def test_a_time_alone_is_refused_without_a_default_day(words):
    with pytest.raises(DateError):
        parse_moment(words, TODAY, NINE)


@pytest.mark.parametrize(
    "words, start, end",
    [
        # `move N to WHEN`: the meeting's day and 10:00 start when they are not given, an end when a range is
        ("16 March 2027 14:00-15:30", datetime(2027, 3, 16, 14), datetime(2027, 3, 16, 15, 30)),
        ("16 March 2027 at 10:00-12:00", datetime(2027, 3, 16, 10), datetime(2027, 3, 16, 12)),
        ("16 March from 10:00 to 12:00", datetime(2027, 3, 16, 10), datetime(2027, 3, 16, 12)),
        ("16 March 2027 14:00", datetime(2027, 3, 16, 14), None),
        ("16 March", datetime(2027, 3, 16, 10), None),
        ("14:00", datetime(2027, 2, 26, 14), None),
        ("14:00 for 2 hours", datetime(2027, 2, 26, 14), datetime(2027, 2, 26, 16)),
        (
            "28 March 2027 01:30",
            datetime(2027, 3, 28, 1, 30),
            None,
        ),  # wall time: whether it exists is the caller's to say
    ],
)
def test_a_span(words, start, end):
    assert parse_moment(words, TODAY, time(10), default_day=MEETING_DAY, span=True) == LocalMoment(start, end)


def test_a_range_is_no_time_without_span():
    with pytest.raises(DateError, match="I couldn't read “10:00-12:00” as a time") as raised:
        parse_moment("16 March 2027 10:00-12:00", TODAY, NINE)
    assert not isinstance(raised.value, SpanError)


@pytest.mark.parametrize(
    "words, message",
    [
        # "at" parts the day from the time: what is wrong with the day, or else the time
        ("31 February at 9", "31 February isn't a date: February has 29 days at most."),
        ("blursday at 9", "I couldn't read “blursday” as a date."),
        ("tomorrow at 25:00", "25:00 isn't a time of day."),
        ("tomorrow at teatime", "I couldn't read “teatime” as a time. Try e.g. 10:00 or 2pm."),
        ("tomorrow morning at 25:00", "25:00 isn't a time of day."),
        ("at 25:00", "25:00 isn't a time of day."),
        # no "at": what is wrong with the time after a day that reads...
        ("tomorrow 25:00", "25:00 isn't a time of day."),
        # ...or else with the words as a day
        ("31 February", "31 February isn't a date: February has 29 days at most."),
        ("blursday", "I couldn't read “blursday” as a date."),
        ("March", "Which day in March 2027?"),
        ("on", "I couldn't read “on” as a date."),
    ],
)
def test_what_is_wrong_is_said(words, message):
    with pytest.raises(DateError) as raised:
        parse_moment(words, TODAY, NINE, default_day=TODAY)
    assert str(raised.value).startswith(message)


def test_a_range_that_ends_before_it_starts_after_a_day_is_a_span_error():
    with pytest.raises(SpanError, match=r"The end \(12:00\) must be after the start \(14:00\)"):
        parse_moment("16 March 2027 14:00-12:00", TODAY, time(10), default_day=MEETING_DAY, span=True)


@pytest.mark.parametrize("words", ["14:00-12:00", "at 14:00-12:00", "16 March 25:00", "whenever suits"])
def test_other_problems_with_a_span_are_no_span_errors(words):
    with pytest.raises(DateError) as raised:
        parse_moment(words, TODAY, time(10), default_day=MEETING_DAY, span=True)
    assert not isinstance(raised.value, SpanError)


# --- parse_moment: British phrases of the day and the time (Wednesday 25 November 2026) -----------------

SAID = [
    # parts of the day: morning 09:00, afternoon 14:00, evening 18:00, tonight and night 19:00
    ("tomorrow morning", datetime(2026, 11, 26, 9)),
    ("this morning", datetime(2026, 11, 25, 9)),
    ("this afternoon", datetime(2026, 11, 25, 14)),
    ("this evening", datetime(2026, 11, 25, 18)),
    ("tonight", datetime(2026, 11, 25, 19)),
    ("tomorrow night", datetime(2026, 11, 26, 19)),
    ("Friday afternoon", datetime(2026, 11, 27, 14)),
    ("on Friday morning", datetime(2026, 11, 27, 9)),
    ("tomorrow in the evening", datetime(2026, 11, 26, 18)),
    # an hour in the part of the day: p.m. in the afternoon, evening and night
    ("this afternoon at 3", datetime(2026, 11, 25, 15)),
    ("this evening at 7.30", datetime(2026, 11, 25, 19, 30)),
    ("tonight at 8", datetime(2026, 11, 25, 20)),
    ("tonight at 10", datetime(2026, 11, 25, 22)),
    ("tomorrow morning at 10", datetime(2026, 11, 26, 10)),
    ("8 tonight", datetime(2026, 11, 25, 20)),
    ("7 this evening", datetime(2026, 11, 25, 19)),
    ("tomorrow at 3 in the afternoon", datetime(2026, 11, 26, 15)),
    ("friday at 10 in the morning", datetime(2026, 11, 27, 10)),
    # named times of the working day
    ("lunchtime", datetime(2026, 11, 25, 12)),
    ("at lunchtime", datetime(2026, 11, 25, 12)),
    ("midday", datetime(2026, 11, 25, 12)),
    ("noon", datetime(2026, 11, 25, 12)),
    ("tomorrow at noon", datetime(2026, 11, 26, 12)),
    ("tomorrow at 12 noon", datetime(2026, 11, 26, 12)),
    ("first thing", datetime(2026, 11, 25, 9)),
    ("tomorrow first thing", datetime(2026, 11, 26, 9)),
    ("first thing tomorrow", datetime(2026, 11, 26, 9)),
    ("first thing on Monday", datetime(2026, 11, 30, 9)),
    ("end of the day", datetime(2026, 11, 25, 17)),
    ("by the end of the day", datetime(2026, 11, 25, 17)),
    ("close of play on Friday", datetime(2026, 11, 27, 17)),
    # a bare hour: 1 to 6 p.m., 7 to 11 a.m., 12 midday (office hours)
    ("next Tuesday at 2", datetime(2026, 12, 1, 14)),
    ("tomorrow at 1", datetime(2026, 11, 26, 13)),
    ("tomorrow at 6", datetime(2026, 11, 26, 18)),
    ("tomorrow at 7", datetime(2026, 11, 26, 7)),
    ("tomorrow at 11", datetime(2026, 11, 26, 11)),
    ("tomorrow at 12", datetime(2026, 11, 26, 12)),
    ("tomorrow at 2:30", datetime(2026, 11, 26, 14, 30)),
    ("tomorrow at 3 o'clock", datetime(2026, 11, 26, 15)),
    # ...but a.m., p.m., a leading zero and the 24-hour clock are as written
    ("tomorrow at 2am", datetime(2026, 11, 26, 2)),
    ("tomorrow at 02:30", datetime(2026, 11, 26, 2, 30)),
    ("tomorrow at 6pm", datetime(2026, 11, 26, 18)),
    ("tomorrow at 14.30", datetime(2026, 11, 26, 14, 30)),
    ("2pm", datetime(2026, 11, 25, 14)),
    ("2.30pm", datetime(2026, 11, 25, 14, 30)),
    ("2.30 p.m.", datetime(2026, 11, 25, 14, 30)),
    ("14.30", datetime(2026, 11, 25, 14, 30)),
    # the clock in words
    ("half past two", datetime(2026, 11, 25, 14, 30)),
    ("quarter to three", datetime(2026, 11, 25, 14, 45)),
    ("quarter past ten", datetime(2026, 11, 25, 10, 15)),
    ("twenty to twelve", datetime(2026, 11, 25, 11, 40)),
    ("ten past 4", datetime(2026, 11, 25, 16, 10)),
    ("half two", datetime(2026, 11, 25, 14, 30)),  # British: half past two
    ("three o'clock", datetime(2026, 11, 25, 15)),
    ("tomorrow at half past nine", datetime(2026, 11, 26, 9, 30)),
    ("half past ten in the morning", datetime(2026, 11, 25, 10, 30)),
    ("quarter to one", datetime(2026, 11, 25, 12, 45)),
    # days as they are said
    ("on Tuesday", datetime(2026, 12, 1, 9)),
    ("Tuesday week", datetime(2026, 12, 8, 9)),
    ("tomorrow week", datetime(2026, 12, 3, 9)),
    ("a week on Friday", datetime(2026, 12, 4, 9)),
    ("a week today", datetime(2026, 12, 2, 9)),
    ("a week tomorrow", datetime(2026, 12, 3, 9)),
    ("Friday fortnight", datetime(2026, 12, 11, 9)),
    ("a fortnight on Friday", datetime(2026, 12, 11, 9)),
    ("in a fortnight", datetime(2026, 12, 9, 9)),
    ("in a fortnight at 10", datetime(2026, 12, 9, 10)),
    ("in 3 days", datetime(2026, 11, 28, 9)),
    ("in a month", datetime(2026, 12, 25, 9)),
    ("Tuesday next week", datetime(2026, 12, 1, 9)),
    ("next week on Thursday", datetime(2026, 12, 3, 9)),
    ("on the 3rd", datetime(2026, 12, 3, 9)),
    ("the 3rd at 10", datetime(2026, 12, 3, 10)),
    ("the 25th", datetime(2026, 11, 25, 9)),  # today is still to come
    ("the 24th", datetime(2026, 12, 24, 9)),
    ("the 31st", datetime(2026, 12, 31, 9)),
    ("3rd of March", datetime(2027, 3, 3, 9)),
    ("the 3rd of March at 2.30pm", datetime(2027, 3, 3, 14, 30)),
    ("3rd March", datetime(2027, 3, 3, 9)),
    # the time first
    ("9am tomorrow", datetime(2026, 11, 26, 9)),
    ("10 on Friday", datetime(2026, 11, 27, 10)),
    ("3pm next Tuesday", datetime(2026, 12, 1, 15)),
    ("lunchtime on Friday", datetime(2026, 11, 27, 12)),
    ("at half past two on the 3rd", datetime(2026, 12, 3, 14, 30)),
    # case, emoji, full-width digits and end punctuation change nothing
    ("TOMORROW AT 9AM", datetime(2026, 11, 26, 9)),
    ("tomorrow at 9am!!", datetime(2026, 11, 26, 9)),
    ("tomorrow at 9 a.m.", datetime(2026, 11, 26, 9)),
    ("tomorrow at 9 a.m. 🙂", datetime(2026, 11, 26, 9)),
    ("tomorrow at ９:３０", datetime(2026, 11, 26, 9, 30)),
    ("Ｔｏｍｏｒｒｏｗ ａｔ ９", datetime(2026, 11, 26, 9)),
    ("tomorrow’s… no", None),  # not a moment: refused, not guessed
]


@pytest.mark.parametrize("words, start", SAID, ids=[w for w, _ in SAID])
def test_days_and_times_as_they_are_said(words, start):
    if start is None:
        with pytest.raises(DateError):
            parse_moment(words, TODAY, NINE, default_day=TODAY)
        return
    assert parse_moment(words, TODAY, NINE, default_day=TODAY) == LocalMoment(start)


def test_the_31st_skips_the_months_without_one():
    assert parse_moment("the 31st", date(2027, 2, 1), NINE).start == datetime(2027, 3, 31, 9)
    assert parse_moment("the 29th", date(2027, 2, 1), NINE).start == datetime(2027, 3, 29, 9)  # not a leap year
    assert parse_moment("the 29th", date(2028, 2, 1), NINE).start == datetime(2028, 2, 29, 9)


@pytest.mark.parametrize("words", ["the 32nd", "the 0th"])
def test_no_month_has_that_day(words):
    with pytest.raises(DateError, match=r"^No month has a day"):
        parse_moment(words, TODAY, NINE)


def test_next_week_is_its_monday_only_where_the_caller_says_so():
    # `remind me next week` is Monday 09:00; `move N to next week` still asks which day
    assert parse_moment("next week", TODAY, NINE, next_week_monday=True).start == datetime(2026, 11, 30, 9)
    assert parse_moment("next week at 10", TODAY, NINE, next_week_monday=True).start == datetime(2026, 11, 30, 10)
    with pytest.raises(DateError, match="Which day in next week"):
        parse_moment("next week", TODAY, NINE)


@pytest.mark.parametrize(
    "words, start, end",
    [
        # `move N to ...` reads the new phrases too, keeping the meeting's length where no end is given
        ("Tuesday week at 2", datetime(2026, 12, 8, 14), None),
        ("the 3rd at half past two", datetime(2026, 12, 3, 14, 30), None),
        ("tomorrow afternoon", datetime(2026, 11, 26, 14), None),
        ("tomorrow 10:00-12:00", datetime(2026, 11, 26, 10), datetime(2026, 11, 26, 12)),
        ("10:00-12:00 on the 3rd", datetime(2026, 12, 3, 10), datetime(2026, 12, 3, 12)),
        # the office-hours rule in a range: an end that would come before its start is p.m.
        ("16 March 2027 2-4", datetime(2027, 3, 16, 14), datetime(2027, 3, 16, 16)),
        ("16 March 2027 9-5", datetime(2027, 3, 16, 9), datetime(2027, 3, 16, 17)),
        ("16 March 2027 6-8", datetime(2027, 3, 16, 18), datetime(2027, 3, 16, 20)),
        ("16 March 2027 11-1", datetime(2027, 3, 16, 11), datetime(2027, 3, 16, 13)),
        ("16 March 2027 2-4pm", datetime(2027, 3, 16, 14), datetime(2027, 3, 16, 16)),
        ("16 March 2027 2 for 2 hours", datetime(2027, 3, 16, 14), datetime(2027, 3, 16, 16)),
        ("16 March 2027 01:30-03:00", datetime(2027, 3, 16, 1, 30), datetime(2027, 3, 16, 3)),  # as written
    ],
)
def test_a_span_as_it_is_said(words, start, end):
    assert parse_moment(words, TODAY, time(10), default_day=MEETING_DAY, span=True) == LocalMoment(start, end)


@pytest.mark.parametrize(
    "words, start",
    [
        # the event form's registration opens (09:00) and closes (17:00): a day alone keeps its default...
        ("tuesday week", datetime(2026, 12, 8, 17)),
        ("the 3rd", datetime(2026, 12, 3, 17)),
        # ...unless its part of the day gives a time
        ("friday morning", datetime(2026, 11, 27, 9)),
        ("friday at noon", datetime(2026, 11, 27, 12)),
    ],
)
def test_the_event_forms_closing_time_as_it_is_said(words, start):
    assert parse_moment(words, TODAY, FIVE_PM) == LocalMoment(start)
