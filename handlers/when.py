"""Dates and times as people read and write them, in the partnership's wall-clock zone."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from storage.wallclock import to_utc

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9


class DateError(ValueError):
    """Words that are not a date we can use; the message is fit to show the person."""


def local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def format_day(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def format_moment(moment: datetime) -> str:
    """'Monday 1 March 2027, 09:00 GMT' for an aware datetime."""
    return f"{format_day(moment)}, {moment:%H:%M} {moment.tzname()}"


def format_span(start: datetime, end: datetime) -> str:
    """'Tuesday 9 March 2027, 10:00–12:00 GMT': weekday, full date, 24-hour times, zone."""
    if start.date() == end.date():
        if start.tzname() == end.tzname():
            return f"{format_day(start)}, {start:%H:%M}–{end:%H:%M} {end.tzname()}"
        return f"{format_day(start)}, {start:%H:%M} {start.tzname()} – {end:%H:%M} {end.tzname()}"
    return f"{format_day(start)}, {start:%H:%M} {start.tzname()} – {format_day(end)}, {end:%H:%M} {end.tzname()}"


def meeting_span(start_local: datetime, end_local: datetime, meeting_zone: str, shown_in: ZoneInfo) -> str:
    start = to_utc(start_local, meeting_zone).astimezone(shown_in)
    end = to_utc(end_local, meeting_zone).astimezone(shown_in)
    return format_span(start, end)


@dataclass(frozen=True)
class Period:
    """A stretch of local days [first, last] people asked about, and how to name it."""

    first: date
    last: date
    label: str

    @property
    def phrase(self) -> str:
        """'in March 2027', 'on Tuesday 9 March 2027', 'this week'."""
        if self.label in ("today", "tomorrow", "this week", "next week"):
            return self.label
        return f"on {self.label}" if self.first == self.last else f"in {self.label}"

    def bounds_utc(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        start = to_utc(datetime.combine(self.first, time()), zone.key)
        end = to_utc(datetime.combine(self.last + timedelta(days=1), time()), zone.key)
        return start, end


_YEAR = r"(?:\s+(?P<year>\d{4}))?"
_MONTH_RE = re.compile(r"^(?P<month>[a-z]+)" + _YEAR + "$")
_DAY_RE = re.compile(
    r"^(?:(?P<weekday>[a-z]+)\s+)?(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>[a-z]+)" + _YEAR + "$"
)
_DAY_MONTH_FIRST_RE = re.compile(r"^(?P<month>[a-z]+)\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?" + _YEAR + "$")
_NUMERIC_RE = re.compile(r"^(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})(?:[/.-](?P<year>\d{2,4}))?$")
_ISO_RE = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$")


def parse_period(words: str, today: date) -> Period:
    """A month ('March', 'march 2027', 'this month', 'next month') or a day ('31 February',
    '9/3/2027', 'tomorrow'). A month or day without a year means the next one to come."""
    text = " ".join(words.lower().replace(",", " ").split())
    text = re.sub(r"^(?:the\s+)", "", text)
    if text in ("today",):
        return Period(today, today, "today")
    if text in ("tomorrow",):
        day = today + timedelta(days=1)
        return Period(day, day, "tomorrow")
    weekday = _weekday(text)
    if weekday is not None:
        ahead = (weekday - today.weekday()) % 7
        if text.startswith("next ") and ahead == 0:
            ahead = 7
        day = today + timedelta(days=ahead)
        return Period(day, day, format_day(datetime.combine(day, time())))
    if text in ("this week", "next week"):
        monday = today - timedelta(days=today.weekday())
        if text == "next week":
            monday += timedelta(days=7)
        return Period(monday, monday + timedelta(days=6), text)
    if text in ("this month", "next month"):
        first = today.replace(day=1)
        if text == "next month":
            first = (first + timedelta(days=32)).replace(day=1)
        return _month_period(first.year, first.month)

    match = _MONTH_RE.match(text)
    if match and match["month"] in MONTHS:
        month = MONTHS[match["month"]]
        year = int(match["year"]) if match["year"] else (today.year if month >= today.month else today.year + 1)
        return _month_period(year, month)

    for pattern in (_DAY_RE, _DAY_MONTH_FIRST_RE, _NUMERIC_RE, _ISO_RE):
        match = pattern.match(text)
        if not match:
            continue
        month_text = match["month"]
        named = int(month_text) if month_text.isdigit() else MONTHS.get(month_text)
        if named is None:
            raise DateError(f"I don't know the month “{month_text}”.")
        month = named
        if not 1 <= month <= 12:
            raise DateError(f"There is no month {month}: dates are day/month/year.")
        day_number = int(match["day"])
        year_text = match["year"]
        if year_text:
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        else:
            year = today.year + (1 if (month, day_number) < (today.month, today.day) else 0)
        period = _day_period(year, month, day_number)
        _check_weekday(match.groupdict().get("weekday"), period.first)
        return period
    raise DateError(
        f"I couldn't read “{words.strip()[:40]}” as a date. Try a month (“March”, “March 2027”) "
        "or a day (“9 March”, “9/3/2027”)."
    )


# Far enough for any meeting; beyond it date arithmetic would overflow.
MIN_YEAR, MAX_YEAR = 1900, 2200


WEEKDAY_NAMES = [name.lower() for name in calendar.day_name]


def _weekday(text: str) -> Optional[int]:
    """'friday', 'fri', 'this friday', 'next friday' -> 4."""
    word = text.removeprefix("this ").removeprefix("next ").removeprefix("on ")
    for index, name in enumerate(WEEKDAY_NAMES):
        if word in (name, name[:3], name[:4] if name.startswith(("tue", "thu")) else name[:3]):
            return index
    return None


def _check_weekday(word: Optional[str], day: date) -> None:
    """'Monday 9 March 2027' when 9 March is a Tuesday: say so rather than guess."""
    if not word:
        return
    named = next((i for i, name in enumerate(WEEKDAY_NAMES) if name.startswith(word[:3])), None)
    if named is None:
        raise DateError(f"“{word}” isn't a day of the week.")
    if named != day.weekday():
        raise DateError(
            f"{day.day} {day:%B %Y} is a {calendar.day_name[day.weekday()]}, not a {calendar.day_name[named]}."
        )


def _month_period(year: int, month: int) -> Period:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateError("That year is out of range.")
    last_day = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last_day), f"{calendar.month_name[month]} {year}")


def _day_period(year: int, month: int, day_number: int) -> Period:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateError("That year is out of range.")
    last_day = calendar.monthrange(year, month)[1]
    if not 1 <= day_number <= last_day:
        month_name = calendar.month_name[month]
        if month == 2 and day_number == 29:
            raise DateError(f"{year} is not a leap year, so there is no 29 February.")
        longest = 29 if month == 2 else last_day
        raise DateError(f"{day_number} {month_name} isn't a date: {month_name} has {longest} days at most.")
    day = date(year, month, day_number)
    return Period(day, day, format_day(datetime.combine(day, time())))


_CLOCK = r"(?P<{0}h>\d{{1,2}})(?:[:.](?P<{0}m>\d{{2}}))?\s*(?P<{0}ap>am|pm|a\.m\.|p\.m\.)?"
_TIME_RANGE_RE = re.compile(
    r"^(?:from\s+|at\s+)?" + _CLOCK.format("s") + r"\s*(?:-|–|—|to|until|till)\s*" + _CLOCK.format("e") + "$"
)
_TIME_FOR_RE = re.compile(
    r"^(?:from\s+|at\s+)?"
    + _CLOCK.format("s")
    + r"\s+for\s+(?P<amount>\d+(?:\.\d+)?|an?|one|two|three)\s*(?P<unit>hours?|hrs?|h|minutes?|mins?)$"
)
_TIME_RE = re.compile(r"^(?:at\s+)?" + _CLOCK.format("s") + "$")
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}


def _clock(match: re.Match, prefix: str) -> time:
    hour = int(match[prefix + "h"])
    minute = int(match[prefix + "m"] or 0)
    suffix = (match[prefix + "ap"] or "").replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            raise DateError(f"{hour}{suffix} isn't a time.")
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        raise DateError(f"{match[prefix + 'h']}:{match[prefix + 'm'] or '00'} isn't a time of day.")
    return time(hour, minute)


def parse_time(words: str) -> time:
    """'14:00', '2pm', 'at 10.30'."""
    match = _TIME_RE.match(" ".join(words.lower().split()))
    if not match:
        raise DateError(f"I couldn't read “{words.strip()[:40]}” as a time. Try e.g. 10:00 or 2pm.")
    return _clock(match, "s")


def looks_like_time_range(words: str) -> bool:
    text = " ".join(words.lower().split())
    return bool(_TIME_RANGE_RE.match(text) or _TIME_FOR_RE.match(text))


def parse_time_range(words: str) -> tuple[time, time]:
    """'10:00-12:00', '10am to 12pm', '14:00 for 2 hours': a start and an end on the same day."""
    text = " ".join(words.lower().split())
    match = _TIME_RANGE_RE.match(text)
    if match:
        start, end = _clock(match, "s"), _clock(match, "e")
    else:
        match = _TIME_FOR_RE.match(text)
        if not match:
            if _TIME_RE.match(text):
                raise DateError("Please give the end time too, e.g. 10:00-12:00 or 10:00 for 2 hours.")
            raise DateError(f"I couldn't read “{words.strip()[:40]}” as times. Try e.g. 10:00-12:00.")
        start = _clock(match, "s")
        amount_text = match["amount"]
        amount = float(_WORD_NUMBERS.get(amount_text, 0) or amount_text)
        minutes = amount * 60 if match["unit"].startswith("h") else amount
        end_dt = datetime.combine(date(2000, 1, 1), start) + timedelta(minutes=minutes)
        if end_dt.date() != date(2000, 1, 1):
            raise DateError("A meeting has to end on the day it starts.")
        end = end_dt.time()
    if end <= start:
        raise DateError(f"The end ({end:%H:%M}) must be after the start ({start:%H:%M}).")
    return start, end


def parse_day(words: str, today: date) -> date:
    """One day, as in parse_period ('9 March', '9/3/2027', 'tomorrow')."""
    period = parse_period(words, today)
    if period.first != period.last:
        raise DateError(f"Which day in {period.label}? e.g. “9 {period.first:%B %Y}”.")
    return period.first


class SpanError(DateError):
    """A day that reads, followed by a range of times that doesn't (an end before its start)."""


@dataclass(frozen=True)
class LocalMoment:
    """A local wall-clock start read from a person's words, and its end where a range was given."""

    start: datetime
    end: Optional[datetime] = None


_OCLOCK = re.compile(r"o'clock", re.IGNORECASE)
_LEADING_AT = re.compile(r"^at\s+(?=at\s)", re.IGNORECASE)


def parse_moment(
    words: str, today: date, default_time: time, default_day: Optional[date] = None, span: bool = False
) -> LocalMoment:
    """A day and a time as people write them, in local wall time: '9 March 2027 09:00', 'tomorrow
    at 9', 'on 3 March at 10:00', 'friday 2pm', "9 o'clock". A day alone ('9 March') is at
    `default_time`, a time alone ('at 14:00') on `default_day` (refused when there is none). With
    `span` the time may be a range ('10:00-12:00', '14:00 for 2 hours'), which gives `end`.

    The longest words that read as a day are the day. Raises DateError saying, where an "at"
    parts the day from the time, what is wrong with the one or else the other; otherwise what is
    wrong with the time after a day that reads; otherwise what is wrong with the words as a day.
    SpanError when a day reads and the range after it doesn't.
    """
    tokens = words.split()
    if len(tokens) > 1 and tokens[0].lower() == "on":
        tokens = tokens[1:]
    day_error: Optional[DateError] = None  # of all the words read as a day
    time_error: Optional[DateError] = None  # of the time after the longest day that reads
    for cut in range(len(tokens), -1, -1):
        day_words, time_words = _day_words(tokens[:cut]), " ".join(tokens[cut:])
        if day_words:
            try:
                day = parse_day(day_words, today)
            except DateError as exc:
                if cut == len(tokens):
                    day_error = exc
                continue
        elif default_day is not None and time_words:
            day = default_day
        else:
            continue
        try:
            start, end = _times(time_words, default_time, span)
        except DateError as exc:
            if day_words and span and looks_like_time_range(time_words):
                raise SpanError(str(exc)) from None
            if day_words and time_error is None:
                time_error = exc
            continue
        return LocalMoment(datetime.combine(day, start), None if end is None else datetime.combine(day, end))
    at = next((i for i, word in enumerate(tokens[:-1]) if word.lower() == "at"), None)
    if at is not None and (at > 0 or default_day is not None):
        # "DAY at TIME" says which words are which: the answer is what is wrong with them.
        if at > 0:
            parse_day(_day_words(tokens[:at]), today)
        _times(" ".join(tokens[at + 1 :]), default_time, span)
    raise time_error or day_error or DateError("Which day, and what time? e.g. “9 March 2027 10:00”.")


def _day_words(tokens: list[str]) -> str:
    """The words of a day, without the 'at' or 'from' that leads on to a time, or a comma."""
    text = " ".join(tokens)
    for joining in (" at", " from"):
        if text.lower().endswith(joining):
            text = text[: -len(joining)]
    return text.strip(" ,")


def _times(words: str, default_time: time, span: bool) -> tuple[time, Optional[time]]:
    """The start the words after a day give, and the end of a range where one may be."""
    if not words:
        return default_time, None
    # A doubled "at" (`remind me at at 9`) was read before; parse_time takes one.
    words = _LEADING_AT.sub("", _OCLOCK.sub("", words).strip())
    if span and looks_like_time_range(words):
        return parse_time_range(words)
    return parse_time(words), None
