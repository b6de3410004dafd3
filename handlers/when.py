"""Dates and times as people read and write them, in the partnership's wall-clock zone."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from handlers.spoken import PARTS_OF_DAY, office_hour, parse_duration, part_suffix, spoken_time, tidy
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


_SPAN_RE = re.compile(
    r"^(?:next|coming|following)\s+(?:(?P<n>\d{1,2}|two|three|four|few|couple of)\s+)?(?P<unit>fortnight|weeks|days)$"
)
_SPAN_COUNTS = {"two": 2, "three": 3, "four": 4, "few": 3, "couple of": 2}


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
    span = _SPAN_RE.match(text)
    if span:  # "the next fortnight", "next 3 weeks", "the coming days": from today on
        count = _SPAN_COUNTS.get(span["n"] or "") or int(span["n"] or 1)
        unit = span["unit"].rstrip("s")
        days = count * {"fortnight": 14, "week": 7, "day": 1}[unit]
        label = "the next fortnight" if unit == "fortnight" and count == 1 else f"the next {days} days"
        return Period(today, today + timedelta(days=days - 1), label)
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


_CLOCK = r"(?P<{0}h>\d{{1,2}})(?:[:.](?P<{0}m>\d{{2}}))?\s*(?P<{0}ap>am|pm|a\.m\.?|p\.m\.?)?"
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
    words: str,
    today: date,
    default_time: time,
    default_day: Optional[date] = None,
    span: bool = False,
    next_week_monday: bool = False,
) -> LocalMoment:
    """A day and a time as people write them, in local wall time: '9 March 2027 09:00', 'tomorrow
    at 9', 'on 3 March at 10:00', 'friday 2pm', "9 o'clock", and as they say them: 'tomorrow
    morning', 'this afternoon', 'tonight', 'next Tuesday at 2', 'Tuesday week', 'the 3rd at 10',
    'in a fortnight', 'half past two', 'lunchtime on Friday' (the time first). A day alone ('9
    March') is at `default_time`, or at its part of the day's time ('tomorrow morning', 09:00); a
    time alone ('at 14:00') on `default_day` (refused when there is none). With `span` the time may
    be a range ('10:00-12:00', '14:00 for 2 hours'), which gives `end`. With `next_week_monday`,
    'next week' is its Monday. Hours without a.m. or p.m. follow handlers.spoken's office-hours
    rule ('at 2' is 14:00). Case, emoji, full-width digits and end punctuation change nothing.

    The longest words that read as a day are the day. Raises DateError saying, where an "at"
    parts the day from the time, what is wrong with the one or else the other; otherwise what is
    wrong with the time after a day that reads; otherwise what is wrong with the words as a day.
    SpanError when a day reads and the range after it doesn't.
    """
    tokens = tidy(words).split()
    if len(tokens) > 1 and tokens[0].lower() == "on":
        tokens = tokens[1:]
    day_error: Optional[DateError] = None  # of all the words read as a day
    time_error: Optional[DateError] = None  # of the time after the longest day that reads
    for cut in range(len(tokens), -1, -1):
        day_words, time_words = _day_words(tokens[:cut]), " ".join(tokens[cut:])
        if day_words:
            try:
                day = _day_of(day_words, today, next_week_monday)
            except DateError as exc:
                if cut == len(tokens):
                    day_error = exc
                continue
        elif default_day is not None and time_words:
            day = _Day(default_day)
        else:
            continue
        try:
            start, end = _times(time_words, day.at or default_time, span, day.pm)
        except DateError as exc:
            if day_words and span and looks_like_time_range(time_words):
                raise SpanError(str(exc)) from None
            if day_words and time_error is None:
                time_error = exc
            continue
        return day.moment(start, end)
    time_first = _time_then_day(tokens, today, default_time, span, next_week_monday)
    if time_first is not None:
        return time_first
    at = next((i for i, word in enumerate(tokens[:-1]) if word.lower() == "at"), None)
    if at is not None and (at > 0 or default_day is not None):
        # "DAY at TIME" says which words are which: the answer is what is wrong with them.
        day = _day_of(_day_words(tokens[:at]), today, next_week_monday) if at > 0 else _Day(today)
        _times(" ".join(tokens[at + 1 :]), default_time, span, day.pm)
    raise time_error or day_error or DateError("Which day, and what time? e.g. “9 March 2027 10:00”.")


def _time_then_day(
    tokens: list[str], today: date, default_time: time, span: bool, next_week_monday: bool
) -> Optional[LocalMoment]:
    """'9am tomorrow', 'lunchtime on Friday', 'first thing on Monday', '8 tonight': the time
    first, read only where the day first did not."""
    for cut in range(1, len(tokens)):
        rest = tokens[cut:]
        if rest[0].lower() == "on" and len(rest) > 1:
            rest = rest[1:]
        time_words, day_words = " ".join(tokens[:cut]).strip(" ,"), " ".join(rest).strip(" ,")
        if not time_words or not day_words:
            continue
        try:
            day = _day_of(day_words, today, next_week_monday)
            start, end = _times(time_words, day.at or default_time, span, day.pm)
        except DateError:
            continue
        return day.moment(start, end)
    return None


@dataclass(frozen=True)
class _Day:
    """A day read from words, with the time and a.m. or p.m. its part of the day gives, if any."""

    day: date
    at: Optional[time] = None
    pm: Optional[bool] = None

    def moment(self, start: time, end: Optional[time]) -> LocalMoment:
        return LocalMoment(datetime.combine(self.day, start), None if end is None else datetime.combine(self.day, end))


def _day_of(words: str, today: date, next_week_monday: bool) -> _Day:
    """A day as parse_day reads it, or else as people say one; parse_day's error if neither reads."""
    try:
        return _Day(parse_day(words, today))
    except DateError as exc:
        said = _said_day(" ".join(words.lower().split()), today, next_week_monday)
        if said is None:
            raise
        if isinstance(said, DateError):
            raise said from exc
        return said


_PART_OF_DAY_RE = re.compile(r"^(?P<day>.+?)\s+(?:in\s+the\s+)?(?P<part>morning|afternoon|evening|night)$")
_WEEK_ON = re.compile(r"^(?:a\s+)?(?P<span>week|fortnight)\s+(?:on\s+)?(?P<day>.+)$")  # a week on Friday, a week today
_DAY_WEEK = re.compile(r"^(?P<day>.+?)\s+(?P<span>week|fortnight)$")  # Tuesday week, tomorrow week
_ORDINAL = re.compile(
    r"^(?:the\s+(?P<bare>\d{1,2})|(?:the\s+)?(?P<day>\d{1,2})(?P<suffix>st|nd|rd|th))(?:\s+of\s+the\s+month)?$"
)
_IN = re.compile(r"^in\s+(?P<length>.+)$")
_NEXT_WEEK_DAY = re.compile(r"^(?:(?P<before>[a-z]+)\s+next\s+week|next\s+week\s+on\s+(?P<after>[a-z]+))$")


def _said_day(text: str, today: date, next_week_monday: bool) -> Optional[_Day | DateError]:
    """The days of speech: 'tonight', 'this afternoon', 'Friday morning', 'Tuesday week', 'a week
    on Friday', 'in a fortnight', 'the 3rd', 'Tuesday next week' (and 'next week' itself where it is
    its Monday). None for words that are none of these; a DateError for 'the 32nd'."""
    if text == "tonight":
        return _Day(today, PARTS_OF_DAY["night"].at, PARTS_OF_DAY["night"].pm)
    match = _PART_OF_DAY_RE.match(text)
    if match:
        part = PARTS_OF_DAY[match["part"]]
        day = today if match["day"] == "this" else _plain_day(match["day"], today, next_week_monday)
        return None if day is None else _Day(day, part.at, part.pm)
    ordinal = _ORDINAL.match(text)
    if ordinal and not 1 <= int(ordinal["bare"] or ordinal["day"]) <= 31:
        return DateError(f"No month has a day {int(ordinal['bare'] or ordinal['day'])}.")
    day = _plain_day(text, today, next_week_monday)
    return None if day is None else _Day(day)


def _plain_day(text: str, today: date, next_week_monday: bool) -> Optional[date]:
    """A day without a part of the day: parse_day's, or one of the spoken ones above."""
    try:
        return parse_day(text, today)
    except DateError:
        pass
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
    if text == "next week":
        return monday if next_week_monday else None
    match = _NEXT_WEEK_DAY.match(text)
    if match:
        weekday = _weekday(match["before"] or match["after"])
        return None if weekday is None else monday + timedelta(days=weekday)
    match = _IN.match(text)
    if match:
        length = parse_duration(match["length"])
        if length is None or length.seconds or length.roughly_days() > 366 * 5:
            return None
        return today + relativedelta(months=length.months, days=length.days)
    match = _WEEK_ON.match(text) or _DAY_WEEK.match(text)
    if match and match["day"] not in ("next", "this"):
        base = _plain_day(match["day"], today, False)
        return None if base is None else base + timedelta(weeks=1 if match["span"] == "week" else 2)
    match = _ORDINAL.match(text)
    return _next_numbered(int(match["bare"] or match["day"]), today) if match else None


def _next_numbered(number: int, today: date) -> Optional[date]:
    """'the 3rd': the next 3rd of a month to come, today included (the 31st skips shorter months)."""
    if not 1 <= number <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        if number <= calendar.monthrange(year, month)[1] and date(year, month, number) >= today:
            return date(year, month, number)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None  # no day of a month has that number


def _day_words(tokens: list[str]) -> str:
    """The words of a day, without the 'at' or 'from' that leads on to a time, or a comma."""
    text = " ".join(tokens)
    for joining in (" at", " from"):
        if text.lower().endswith(joining):
            text = text[: -len(joining)]
    return text.strip(" ,")


_BY = re.compile(r"^(?:by|around)\s+", re.IGNORECASE)


def _times(words: str, default_time: time, span: bool, pm: Optional[bool] = None) -> tuple[time, Optional[time]]:
    """The start the words after a day give, and the end of a range where one may be. `pm` is
    what the day's part says of an hour without a.m. or p.m. (this afternoon at 3 is 15:00)."""
    if not words:
        return default_time, None
    # A doubled "at" (`remind me at at 9`) was read before; parse_time takes one.
    words = _LEADING_AT.sub("", _OCLOCK.sub("", words).strip())
    if span and looks_like_time_range(words):
        return _office_range(words, pm)
    text, said = part_suffix(_BY.sub("", " ".join(words.lower().split())))
    pm = said if said is not None else pm
    match = _TIME_RE.match(text)
    if match:
        return _office_hours(_clock(match, "s"), match, pm), None
    spoken = spoken_time(text, pm)
    if spoken is not None:
        return spoken, None
    return parse_time(words), None


def _office_hours(clock: time, match: re.Match, pm: Optional[bool], prefix: str = "s") -> time:
    """'at 2' is 14:00, 'this evening at 8' 20:00 (handlers.spoken's rule); '02:00', '2am', '14:00' as written."""
    if match[prefix + "ap"] or match[prefix + "h"].startswith("0") or not 1 <= clock.hour <= 11:
        return clock
    return clock.replace(hour=office_hour(clock.hour, pm))


def _office_range(words: str, pm: Optional[bool]) -> tuple[time, time]:
    """parse_time_range's start and end, their hours read by the office-hours rule: '2-4' is
    14:00-16:00, '9-5' 09:00-17:00, '6-8' 18:00-20:00 (an end that would come first is p.m.)."""
    text = " ".join(words.lower().split())
    match = _TIME_RANGE_RE.match(text)
    if not match:  # "14:00 for 2 hours": the start by the rule, the same length after it
        start, end = parse_time_range(words)
        clock = _TIME_FOR_RE.match(text)
        if clock is None:
            return start, end
        moved = _office_hours(start, clock, pm)
        length = datetime.combine(date(2000, 1, 1), end) - datetime.combine(date(2000, 1, 1), start)
        end_dt = datetime.combine(date(2000, 1, 1), moved) + length
        if end_dt.date() != date(2000, 1, 1):
            raise DateError("A meeting has to end on the day it starts.")
        return moved, end_dt.time()
    start = _office_hours(_clock(match, "s"), match, pm)
    end = _office_hours(_clock(match, "e"), match, pm, "e")
    if end <= start and not match["eap"] and 1 <= end.hour <= 11 and not match["eh"].startswith("0"):
        end = end.replace(hour=end.hour + 12)
    if end <= start:
        raise DateError(f"The end ({end:%H:%M}) must be after the start ({start:%H:%M}).")
    return start, end
