"""How a series repeats, from words (handlers.recurrence.parse_repeat), and the dates its rule makes.

Most cases start on Tuesday 9 March 2027 at 10:00, the second Tuesday of its month.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from handlers.recurrence import MAX_OCCURRENCES, Repeat, nth_weekday, parse_repeat
from handlers.when import DateError

FIRST = date(2027, 3, 9)  # a Tuesday, the second of March 2027
TEN = time(10)


def days(repeat: Repeat, first: date = FIRST, start: time = TEN) -> list[date]:
    starts = repeat.starts(datetime.combine(first, start))
    assert all(s.time() == start for s in starts)  # naive wall time: 10:00 in GMT and BST alike
    return [s.date() for s in starts]


def count_in(repeat: Repeat) -> int:
    return int(repeat.rule.rsplit("COUNT=", 1)[1])


def test_quarterly():
    repeat = parse_repeat("quarterly", FIRST, TEN)
    assert repeat == Repeat(
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=4", "every 3 months on the second Tuesday, 4 meetings"
    )
    # Across the clock changes of 28 March and 31 October 2027: still 10:00 local.
    assert days(repeat) == [date(2027, 3, 9), date(2027, 6, 8), date(2027, 9, 14), date(2027, 12, 14)]


@pytest.mark.parametrize(
    "words", ["Quarterly", "every quarter", "quarterly.", "  QUARTERLY  ", "every 3 months", "every three months"]
)
def test_ways_of_saying_quarterly(words):
    assert parse_repeat(words, FIRST, TEN).rule == "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=4"


def test_monthly():
    repeat = parse_repeat("monthly", FIRST, TEN)
    assert repeat.rule == "FREQ=MONTHLY;INTERVAL=1;BYDAY=2TU;COUNT=12"
    assert repeat.text == "every month on the second Tuesday, 12 meetings"
    made = days(repeat)
    assert len(made) == 12
    assert made[:4] == [date(2027, 3, 9), date(2027, 4, 13), date(2027, 5, 11), date(2027, 6, 8)]
    assert made[-1] == date(2028, 2, 8)
    assert all(d.weekday() == 1 and nth_weekday(d) == 2 for d in made)


def test_weekly_is_a_quarters_worth():
    repeat = parse_repeat("weekly", FIRST, TEN)
    assert repeat.rule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=12"
    assert repeat.text == "every week on Tuesday, 12 meetings"
    made = days(repeat)
    assert made == [FIRST + timedelta(weeks=i) for i in range(12)]


@pytest.mark.parametrize("words", ["fortnightly", "every other week", "every 2 weeks", "every two weeks"])
def test_fortnightly(words):
    repeat = parse_repeat(words, FIRST, TEN)
    assert repeat.rule.startswith("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;")
    assert repeat.text.startswith("every 2 weeks on Tuesday, ")
    made = days(repeat)
    assert len(made) == count_in(repeat) and f"{len(made)} meetings" in repeat.text
    assert all(b - a == timedelta(days=14) for a, b in zip(made, made[1:], strict=False))
    assert made[0] == FIRST


def test_every_3_months_on_the_second_tuesday_4_times():
    # From Monday 1 March 2027: the rule, not the day, says which Tuesday comes first.
    repeat = parse_repeat("every 3 months on the second Tuesday, 4 times", date(2027, 3, 1), TEN)
    assert repeat == Repeat(
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=4", "every 3 months on the second Tuesday, 4 meetings"
    )
    assert days(repeat, date(2027, 3, 1)) == [date(2027, 3, 9), date(2027, 6, 8), date(2027, 9, 14), date(2027, 12, 14)]


@pytest.mark.parametrize(
    "words", ["monthly on the last friday", "monthly on the last Fridays", "every month on last friday"]
)
def test_on_the_last_friday(words):
    repeat = parse_repeat(words, FIRST, TEN)
    assert repeat.rule == "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR;COUNT=12"
    assert repeat.text == "every month on the last Friday, 12 meetings"
    made = days(repeat)
    assert made[:3] == [date(2027, 3, 26), date(2027, 4, 30), date(2027, 5, 28)]
    assert all(d.weekday() == 4 and (d + timedelta(weeks=1)).month != d.month for d in made)


def test_ordinals_in_figures():
    assert parse_repeat("quarterly on the 1st monday", FIRST, TEN).rule == "FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO;COUNT=4"
    assert parse_repeat("every 2 months on the 3rd wednesday", FIRST, TEN).rule.startswith(
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=3WE;"
    )


def test_until_a_month():
    repeat = parse_repeat("quarterly until March 2028", FIRST, TEN)
    assert repeat.rule == "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=5"
    assert days(repeat)[-1] == date(2028, 3, 14)  # March 2028 is included


def test_until_a_day_includes_it():
    repeat = parse_repeat("weekly until 30 March 2027", FIRST, TEN)
    assert days(repeat) == [date(2027, 3, 9), date(2027, 3, 16), date(2027, 3, 23), date(2027, 3, 30)]


def test_until_before_the_start_is_refused():
    with pytest.raises(DateError, match="end before it starts"):
        parse_repeat("quarterly until January 2027", FIRST, TEN)


@pytest.mark.parametrize(
    "words, count, last",
    [
        ("quarterly for two years", 8, date(2028, 12, 12)),
        ("quarterly for 2 years", 8, date(2028, 12, 12)),
        ("quarterly for one year", 4, date(2027, 12, 14)),
        ("monthly for a year", 12, date(2028, 2, 8)),
        ("every six months for 3 years", 6, date(2029, 9, 11)),
    ],
)
def test_for_some_years(words, count, last):
    repeat = parse_repeat(words, FIRST, TEN)
    assert count_in(repeat) == count
    assert repeat.text.endswith(f", {count} meetings")
    made = days(repeat)
    assert len(made) == count and made[-1] == last


def test_two_years_of_quarterly_meetings():
    made = days(parse_repeat("quarterly for two years", FIRST, TEN))
    assert made[4:] == [date(2028, 3, 14), date(2028, 6, 13), date(2028, 9, 12), date(2028, 12, 12)]


@pytest.mark.parametrize("words", ["yearly", "annually", "every year", "every 12 months"])
def test_a_yearly_series_defaults_to_three_meetings(words):
    repeat = parse_repeat(words, FIRST, TEN)
    assert repeat.rule == "FREQ=MONTHLY;INTERVAL=12;BYDAY=2TU;COUNT=3"
    assert repeat.text.endswith(", 3 meetings")
    assert days(repeat) == [date(2027, 3, 9), date(2028, 3, 14), date(2029, 3, 13)]


@pytest.mark.parametrize(
    "words", ["no", "No.", "none", "never", "once", "one-off", "one off", "single", "just once", "n"]
)
def test_one_off_words(words):
    assert parse_repeat(words, FIRST, TEN) is None


def test_a_thousand_times_is_refused_naming_the_limit():
    with pytest.raises(DateError) as refused:
        parse_repeat("every month, 1000 times", FIRST, TEN)
    message = str(refused.value)
    assert "1,000 meetings" in message and f"at most {MAX_OCCURRENCES}" in message


def test_the_limit_itself_is_allowed():
    assert count_in(parse_repeat(f"monthly, {MAX_OCCURRENCES} times", FIRST, TEN)) == MAX_OCCURRENCES
    with pytest.raises(DateError, match=f"{MAX_OCCURRENCES + 1} meetings"):
        parse_repeat(f"monthly, {MAX_OCCURRENCES + 1} times", FIRST, TEN)


def test_too_many_years_is_refused():
    with pytest.raises(DateError, match="3,000 meetings"):
        parse_repeat("monthly for 250 years", FIRST, TEN)


def test_a_long_until_is_refused_without_understating_the_count():
    with pytest.raises(DateError) as refused:
        parse_repeat("weekly until March 2036", FIRST, TEN)
    assert "41 meetings" not in str(refused.value)


@pytest.mark.parametrize("words", ["monthly, 0 times", "quarterly for 0 years"])
def test_a_repeat_with_no_meetings_is_refused(words):
    with pytest.raises(DateError, match="no meetings in it"):
        parse_repeat(words, FIRST, TEN)


def test_an_unknown_weekday_is_named():
    with pytest.raises(DateError, match="“funday” isn't a day of the week"):
        parse_repeat("monthly on the second funday", FIRST, TEN)


@pytest.mark.parametrize(
    "words", ["whenever we like", "every blue moon", "quarterly on tuesdays", "daily", "every 3 days", "0 times"]
)
def test_an_unreadable_repeat(words):
    with pytest.raises(DateError, match="couldn't read that repeat"):
        parse_repeat(words, FIRST, TEN)


@pytest.mark.parametrize("words", ["every 0 months", "every 25 months", "every 30 weeks"])
def test_an_interval_out_of_range(words):
    with pytest.raises(DateError, match="every 1 to 24"):
        parse_repeat(words, FIRST, TEN)


def test_a_fifth_weekday_repeats_on_the_last():
    monday = date(2027, 3, 29)  # the fifth Monday of March 2027
    repeat = parse_repeat("quarterly", monday, TEN)
    assert repeat.rule == "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1MO;COUNT=4"
    assert days(repeat, monday) == [date(2027, 3, 29), date(2027, 6, 28), date(2027, 9, 27), date(2027, 12, 27)]


@pytest.mark.parametrize(
    "day, nth",
    [
        (date(2027, 3, 1), 1),
        (date(2027, 3, 9), 2),
        (date(2027, 3, 21), 3),
        (date(2027, 3, 28), 4),
        (date(2027, 3, 29), -1),
        (date(2027, 3, 31), -1),
    ],
)
def test_nth_weekday(day, nth):
    assert nth_weekday(day) == nth
