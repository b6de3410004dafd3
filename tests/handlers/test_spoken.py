"""Times of day and lengths of time as people say them (handlers.spoken), without a calendar."""

from __future__ import annotations

from datetime import time
from typing import Optional

import pytest

from handlers.spoken import Duration, office_hour, parse_duration, spoken_time, tidy


@pytest.mark.parametrize(
    "words, tidied",
    [
        ("Remind me tomorrow at 9am!!", "Remind me tomorrow at 9am"),
        ("tomorrow at 9 a.m. 🙂", "tomorrow at 9 a.m"),
        ("at ９:３０", "at 9:30"),  # full-width digits
        ("ＴＯＭＯＲＲＯＷ", "TOMORROW"),
        ("on friday 👍🏽 at 2", "on friday at 2"),  # an emoji with its skin tone
        ("at 3 o’clock?", "at 3 o'clock"),
        ("  in   2\thours…", "in 2 hours"),
        ("❤️ tonight", "tonight"),  # with its presentation selector
    ],
)
def test_tidy_keeps_the_words_and_drops_the_rest(words, tidied):
    assert tidy(words) == tidied


@pytest.mark.parametrize(
    "hour, pm, expected",
    [(1, None, 13), (6, None, 18), (7, None, 7), (11, None, 11), (12, None, 12), (8, True, 20), (11, True, 23)]
    + [(12, True, 12), (3, False, 3), (10, False, 10)],
)
def test_the_office_hours_rule(hour, pm, expected):
    assert office_hour(hour, pm) == expected


@pytest.mark.parametrize(
    "words, expected",
    [
        ("noon", time(12)),
        ("midday", time(12)),
        ("lunchtime", time(12)),
        ("at lunchtime", time(12)),
        ("first thing", time(9)),
        ("in the morning", time(9)),
        ("this afternoon", None),  # a day and a part of it: handlers.when's
        ("the end of the day", time(17)),
        ("by close of play", time(17)),
        ("tonight", time(19)),
        ("half past two", time(14, 30)),
        ("half past 2", time(14, 30)),
        ("quarter to three", time(14, 45)),
        ("a quarter past nine", time(9, 15)),
        ("twenty-five to four", time(15, 35)),
        ("10 minutes past 11", time(11, 10)),
        ("half two", time(14, 30)),
        ("two thirty", time(14, 30)),
        ("three", time(15)),
        ("seven", time(7)),
        ("ten past four pm", time(16, 10)),
        ("quarter past eight in the evening", time(20, 15)),
        ("half past two in the morning", time(2, 30)),
        ("quarter to one", time(12, 45)),
        ("quarter to twelve am", time(23, 45)),
        ("2pm", None),  # digits are handlers.when's
        ("60 past two", None),
        ("thirteen", None),
        ("teatime", None),
    ],
)
def test_spoken_times(words, expected):
    assert spoken_time(words) == expected


def test_a_part_of_the_day_settles_a_bare_hour():
    assert spoken_time("quarter past eight", pm=True) == time(20, 15)
    assert spoken_time("quarter past three", pm=False) == time(3, 15)


@pytest.mark.parametrize(
    "words, length, lead",
    [
        ("30 minutes", Duration(seconds=1800), "30m"),
        ("1 minute", Duration(seconds=60), "1m"),
        ("a minute", Duration(seconds=60), "1m"),
        ("30 seconds", Duration(seconds=30), None),
        ("90 mins", Duration(seconds=5400), "90m"),
        ("2 hrs", Duration(seconds=7200), "2h"),
        ("an hour", Duration(seconds=3600), "1h"),
        ("half an hour", Duration(seconds=1800), "30m"),
        ("an hour and a half", Duration(seconds=5400), "90m"),
        ("two and a half hours", Duration(seconds=9000), "150m"),
        ("1.5 hours", Duration(seconds=5400), "90m"),
        ("1 hour 30 minutes", Duration(seconds=5400), "90m"),
        ("1 hour and 15 minutes", Duration(seconds=4500), "75m"),
        ("a couple of hours", Duration(seconds=7200), "2h"),
        ("an hour's time", Duration(seconds=3600), "1h"),
        ("2h", Duration(seconds=7200), "2h"),
        ("3 days", Duration(days=3), "3d"),
        ("two days' time", Duration(days=2), "2d"),
        ("7d", Duration(days=7), "1w"),
        ("a week", Duration(days=7), "1w"),
        ("a fortnight", Duration(days=14), "2w"),
        ("3 fortnights", Duration(days=42), "6w"),
        ("a day and a half", Duration(days=1, seconds=43200), None),  # no one lead time says it
        ("3 months", Duration(months=3), None),
        ("a year", Duration(months=12), None),
        ("2 years", Duration(months=24), None),
    ],
)
def test_lengths_of_time(words, length, lead):
    assert parse_duration(words) == length
    assert length.lead() == lead


@pytest.mark.parametrize("words", ["a bit", "", "half a month", "2 hours x", "hours", "soon", "2 monkeys"])
def test_what_is_no_length_of_time(words: str):
    found: Optional[Duration] = parse_duration(words)
    assert found is None
