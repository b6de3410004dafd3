"""'quarterly', 'every 3 months on the second Tuesday, 4 times': words to an RFC 5545 rule."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Optional

from dateutil.rrule import rrulestr

from handlers.when import DateError, parse_period

# Ten years of quarterly meetings: more at once is almost certainly a slip.
MAX_OCCURRENCES = 40

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
RRULE_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": -1}
ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "twelve": 12, "other": 2}
NAMED = {
    "weekly": ("WEEKLY", 1),
    "every week": ("WEEKLY", 1),
    "fortnightly": ("WEEKLY", 2),
    "monthly": ("MONTHLY", 1),
    "every month": ("MONTHLY", 1),
    "quarterly": ("MONTHLY", 3),
    "every quarter": ("MONTHLY", 3),
    "twice a year": ("MONTHLY", 6),
    "six monthly": ("MONTHLY", 6),
    "yearly": ("MONTHLY", 12),
    "annually": ("MONTHLY", 12),
    "every year": ("MONTHLY", 12),
}
NO_REPEAT = {"no", "none", "never", "once", "one-off", "one off", "single", "just once", "doesn't", "does not", "n"}

_PATTERN = re.compile(
    r"^(?:(?P<named>" + "|".join(sorted(map(re.escape, NAMED), key=len, reverse=True)) + r")"
    r"|every\s+(?P<n>\d+|" + "|".join(NUMBER_WORDS) + r")\s+(?P<unit>weeks?|months?))"
    r"(?:\s+on\s+(?:the\s+)?(?P<nth>first|1st|second|2nd|third|3rd|fourth|4th|last)\s+(?P<weekday>[a-z]+?)s?)?"
    r"(?:\s*,?\s*(?:(?P<count>\d+)\s+(?:times|meetings|occurrences)"
    r"|for\s+(?P<years>a|one|two|three|\d+)\s+years?|until\s+(?P<until>.+)))?$"
)


@dataclass(frozen=True)
class Repeat:
    rule: str  # RFC 5545 RRULE value with COUNT, e.g. FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=4
    text: str  # as people read it

    def starts(self, first: datetime) -> list[datetime]:
        return list(rrulestr(self.rule, dtstart=first))


def nth_weekday(day: date) -> int:
    """Which of its month's weekdays the day is: 1-4, or -1 for the last (a fifth)."""
    nth = (day.day - 1) // 7 + 1
    return -1 if nth == 5 else nth


def parse_repeat(words: str, first_day: date, start: time) -> Optional[Repeat]:
    """How a series repeats, from its first day. None for a one-off meeting."""
    text = " ".join(words.lower().replace("’", "'").split()).strip(" .")
    if text in NO_REPEAT:
        return None
    match = _PATTERN.match(text)
    if not match:
        raise DateError(
            "I couldn't read that repeat. Say `no`, `quarterly`, `monthly`, or e.g. "
            "`every 3 months on the second Tuesday, 4 times` or `quarterly until March 2028`."
        )
    if match["named"]:
        freq, interval = NAMED[match["named"]]
    else:
        n = match["n"]
        interval = int(n) if n.isdigit() else NUMBER_WORDS[n]
        freq = "WEEKLY" if match["unit"].startswith("week") else "MONTHLY"
    if not 1 <= interval <= 24:
        raise DateError("Repeat every 1 to 24 weeks or months.")

    if match["weekday"]:
        if match["weekday"] not in WEEKDAYS:
            raise DateError(f"“{match['weekday']}” isn't a day of the week.")
        weekday = WEEKDAYS.index(match["weekday"])
        nth = ORDINALS[match["nth"]]
    else:
        weekday, nth = first_day.weekday(), nth_weekday(first_day)
    if freq == "WEEKLY":
        by_day = RRULE_DAYS[weekday]
        described = f"every {'week' if interval == 1 else f'{interval} weeks'} on {WEEKDAYS[weekday].title()}"
    else:
        by_day = f"{nth}{RRULE_DAYS[weekday]}"
        every = "month" if interval == 1 else f"{interval} months"
        described = f"every {every} on the {ORDINAL_WORDS[nth]} {WEEKDAYS[weekday].title()}"
    base = f"FREQ={freq};INTERVAL={interval};BYDAY={by_day}"
    dtstart = datetime.combine(first_day, start)

    if match["count"]:
        count = int(match["count"])
    elif match["until"]:
        last = parse_period(match["until"], first_day).last
        if last < first_day:
            raise DateError("The series would end before it starts.")
        until = datetime.combine(last, time(23, 59, 59))
        count = len(rrulestr(base, dtstart=dtstart).between(dtstart, until, inc=True))
    else:
        years = match["years"]
        years_n = 1 if years in (None, "a", "one") else NUMBER_WORDS.get(years) or int(years)
        per_year = 52 / interval if freq == "WEEKLY" else 12 / interval
        count = math.ceil(per_year * years_n)
        if years is None:
            if freq == "WEEKLY":
                count = min(count, 12)  # weekly and fortnightly series: 12 meetings unless asked
            count = max(count, 3)  # a yearly series: three years unless asked
    if count < 1:
        raise DateError("That repeat has no meetings in it.")
    if count > MAX_OCCURRENCES:
        raise DateError(
            f"That would be {count:,} meetings; I schedule at most {MAX_OCCURRENCES} in one go "
            "(ten years of quarterly meetings). Please ask for fewer."
        )
    plural = "meeting" if count == 1 else "meetings"
    return Repeat(rule=f"{base};COUNT={count}", text=f"{described}, {count} {plural}")
