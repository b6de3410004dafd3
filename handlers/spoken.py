"""Times of day and lengths of time as people say them: 'half past two', 'first thing', 'this
evening', 'an hour and a half', 'a fortnight'. No calendar here: handlers.when puts a time on a day,
handlers.reminders counts a length from now.

The office-hours rule: an hour said without a.m. or p.m. (and not written with a leading zero, as
in 02:30) is read as the working day reads it: 1 to 6 are afternoon (at 2 is 14:00, half past two is
14:30, quarter to three is 14:45), 7 to 11 morning, 12 midday. In the afternoon, evening or night
(this afternoon at 3, 8 tonight) 1 to 11 are p.m.; in the morning, a.m.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import time
from typing import Optional


def tidy(words: str) -> str:
    """The same words whatever the keyboard: NFKC (full-width digits are digits), no emoji or
    invisible marks, straight apostrophes, single spaces, no end punctuation ('9am!!' is '9am')."""
    text = unicodedata.normalize("NFKC", words)
    text = "".join(" " if is_decoration(ch) else ch for ch in text)
    text = text.replace("’", "'").replace("‘", "'")
    return re.sub(r"[\s!?.,;:…]+$", "", " ".join(text.split()))


def is_decoration(ch: str) -> bool:
    """Emoji and what goes with them (skin tones, presentation selectors, joiners): no words."""
    category = unicodedata.category(ch)
    return (
        category in ("So", "Cf", "Co", "Cs")
        or (category == "Sk" and ord(ch) > 127)  # emoji skin tones
        or 0xFE00 <= ord(ch) <= 0xFE0F  # emoji presentation selectors
    )


WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "twenty-five": 25,
    "twenty five": 25,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "forty five": 45,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
}
_WORD = "|".join(sorted((re.escape(w) for w in WORD_NUMBERS), key=len, reverse=True))


def office_hour(hour: int, pm: Optional[bool] = None) -> int:
    """The 24-hour clock hour of an hour 1-12 said without a.m. or p.m. (see the module's rule).
    `pm` is what the part of the day says: True in the afternoon, evening or night, False in the morning."""
    if pm is None:
        return hour + 12 if 1 <= hour <= 6 else hour
    if pm:
        return hour + 12 if hour < 12 else hour
    return hour


@dataclass(frozen=True)
class PartOfDay:
    """'tomorrow morning' is at 09:00; an hour said in the afternoon, evening or night is p.m."""

    at: time
    pm: bool


PARTS_OF_DAY = {
    "morning": PartOfDay(time(9), False),
    "afternoon": PartOfDay(time(14), True),
    "evening": PartOfDay(time(18), True),
    "night": PartOfDay(time(19), True),  # "tonight": after the working day, after "this evening"
}

_NAMED_TIMES = {
    time(12): ("noon", "12 noon", "twelve noon", "midday", "lunchtime", "lunch time", "lunch"),
    time(9): ("first thing", "first thing in the morning", "morning", "the morning", "in the morning"),
    time(14): ("afternoon", "the afternoon", "in the afternoon"),
    time(18): ("evening", "the evening", "in the evening"),
    time(19): ("night", "tonight", "at night"),
    time(17): (
        "end of the day",
        "the end of the day",
        "end of day",
        "end of the working day",
        "the end of the working day",
        "close of play",
        "end of play",
        "close of business",
        "cob",
        "eod",
    ),
}
NAMED_TIMES = {phrase: at for at, phrases in _NAMED_TIMES.items() for phrase in phrases}

_HOUR = rf"(?P<hour>1[0-2]|[1-9]|{_WORD})"
_SUFFIX = r"(?:\s*(?P<ap>[ap])\.?m\.?)?"
_PAST_TO = re.compile(
    rf"^(?P<minutes>(?:a\s+)?quarter|half|\d{{1,2}}|{_WORD})(?:\s+minutes?)?\s+(?P<rel>past|after|to|before)\s+{_HOUR}{_SUFFIX}$"
)
_HALF = re.compile(rf"^half\s+{_HOUR}{_SUFFIX}$")  # British "half two" is 2:30
_WORDS_CLOCK = re.compile(rf"^(?P<hour>{_WORD})(?:\s+(?P<minutes>{_WORD}|\d{{2}}))?{_SUFFIX}$")
# "3 in the afternoon", "8 tonight", "half past ten in the morning": the part of the day settles a.m. or p.m.
_PART_SUFFIX = re.compile(
    r"^(?P<core>.+?)\s+(?:in\s+the\s+(?P<part>morning|afternoon|evening)|(?P<night>at\s+night|tonight|this\s+evening))$"
)
_LEADING = re.compile(r"^(?:at|by|around|from)\s+")


def _number(text: str) -> int:
    return int(text) if text.isdigit() else WORD_NUMBERS[text]


def part_suffix(text: str) -> tuple[str, Optional[bool]]:
    """'3 in the afternoon' -> ('3', True): the time, and whether its part of the day is p.m."""
    match = _PART_SUFFIX.match(text)
    if not match:
        return text, None
    return match["core"], (match["part"] != "morning") if match["part"] else True


def spoken_time(words: str, pm: Optional[bool] = None) -> Optional[time]:
    """'noon', 'first thing', 'end of the day', 'half past two', 'quarter to three', 'half two',
    'three o'clock' (o'clock already gone), 'ten past four pm'; None for anything else (digits
    like '14:30' and '2pm' are handlers.when's)."""
    text = _LEADING.sub("", " ".join(words.lower().split()))
    if text in NAMED_TIMES:
        return NAMED_TIMES[text]
    text, said = part_suffix(text)
    pm = said if said is not None else pm
    match = _PAST_TO.match(text) or _HALF.match(text) or _WORDS_CLOCK.match(text)
    if not match:
        return None
    hour = _number(match["hour"])
    if not 1 <= hour <= 12:
        return None
    if match["ap"]:
        hour = hour % 12 + (12 if match["ap"] == "p" else 0)
    else:
        hour = office_hour(hour, pm)
    if match.re is _HALF:
        return time(hour, 30)
    minutes_text = " ".join((match.groupdict().get("minutes") or "0").split())
    minutes = {"quarter": 15, "a quarter": 15, "half": 30}.get(minutes_text) or _number(minutes_text)
    if not 0 <= minutes <= 59:
        return None
    if match.re is _PAST_TO and match["rel"] in ("to", "before"):
        if minutes == 0:
            return None
        total = (hour * 60 - minutes) % (24 * 60)
        return time(total // 60, total % 60)
    return time(hour, minutes)


# --- lengths of time ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    """A length of time from now: months and days on the wall clock (in 2 days is the same time of
    day two days on, whatever the clocks do), seconds in real time (in 2 hours is 7,200 seconds)."""

    months: int = 0
    days: int = 0
    seconds: float = 0

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.months + other.months, self.days + other.days, self.seconds + other.seconds)

    def roughly_days(self) -> float:
        return self.months * 31 + self.days + self.seconds / 86400

    def lead(self) -> Optional[str]:
        """As a lead time before a meeting ('2d', '1w', '90m', '2h'); None for months or a mix of
        days and hours, which a lead time can't say."""
        if self.months or (self.days and self.seconds):
            return None
        if self.days:
            return f"{self.days // 7}w" if self.days % 7 == 0 else f"{self.days}d"
        minutes, part = divmod(self.seconds, 60)
        if part or not minutes:
            return None
        minutes = int(minutes)
        return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


_UNITS = {
    "second": Duration(seconds=1),
    "minute": Duration(seconds=60),
    "hour": Duration(seconds=3600),
    "day": Duration(days=1),
    "week": Duration(days=7),
    "fortnight": Duration(days=14),
    "month": Duration(months=1),
    "year": Duration(months=12),
}
_UNIT_WORDS = {
    "s": "second",
    "sec": "second",
    "secs": "second",
    "seconds": "second",
    "m": "minute",
    "min": "minute",
    "mins": "minute",
    "minutes": "minute",
    "h": "hour",
    "hr": "hour",
    "hrs": "hour",
    "hours": "hour",
    "d": "day",
    "days": "day",
    "w": "week",
    "wk": "week",
    "wks": "week",
    "weeks": "week",
    "fortnights": "fortnight",
    "months": "month",
    "mth": "month",
    "mths": "month",
    "yr": "year",
    "yrs": "year",
    "years": "year",
}
_UNIT = "|".join(sorted((re.escape(w) for w in (*_UNITS, *_UNIT_WORDS)), key=len, reverse=True))
_AMOUNT = rf"(?:\d{{1,6}}(?:\.\d{{1,3}})?|{_WORD}|an?|a\s+couple\s+of|couple\s+of|half\s+an?)"
_PART = re.compile(
    rf"(?P<amount>{_AMOUNT})(?P<and_half>\s+and\s+a\s+half)?\s*(?P<unit>{_UNIT})(?P<half_after>\s+and\s+a\s+half)?(?![a-z])"
)
_JOIN = re.compile(r"\s*(?:,|\band\b)?\s*")
_TIME_FROM_NOW = re.compile(r"(?:'s|s'|')?\s+time$|\s+from\s+now$|\s+later$")
_REAL_TIME = ("second", "minute", "hour")


def parse_duration(words: str) -> Optional[Duration]:
    """'30 minutes', '2 hrs', 'an hour and a half', 'half an hour', '1 hour 30 minutes', 'a fortnight',
    '3 months', "two days' time", '7d'; None for anything else."""
    text = _TIME_FROM_NOW.sub("", " ".join(words.lower().split()))
    total, position = Duration(), 0
    while position < len(text):
        match = _PART.match(text, position)
        if not match:
            return None
        unit = _UNIT_WORDS.get(match["unit"], match["unit"])
        amount_text = " ".join(match["amount"].split())
        if amount_text in ("a", "an"):
            amount = 1.0
        elif amount_text in ("a couple of", "couple of"):
            amount = 2.0
        elif amount_text.startswith("half"):
            amount = 0.5
        elif amount_text in WORD_NUMBERS:
            amount = float(WORD_NUMBERS[amount_text])
        else:
            amount = float(amount_text)
        if match["and_half"] or match["half_after"]:
            amount += 0.5
        if unit in _REAL_TIME:
            total += Duration(seconds=amount * _UNITS[unit].seconds)
        elif amount.is_integer():
            whole = int(amount)
            total += Duration(months=_UNITS[unit].months * whole, days=_UNITS[unit].days * whole)
        elif unit in ("day", "week", "fortnight"):  # "a day and a half": the half in real hours
            whole = int(amount)
            total += Duration(days=_UNITS[unit].days * whole, seconds=_UNITS[unit].days * 86400 * (amount - whole))
        else:
            return None  # half a month has no length
        joined = _JOIN.match(text, match.end())
        position = joined.end() if joined else match.end()
    return total if position else None
