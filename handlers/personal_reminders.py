"""Personal reminders (`remind me ...`): at a moment ('tomorrow morning', 'in 2 hours', 'on Friday
at 10', the what before or after the when), or before a meeting or an event ('the day before the
GIS meeting', 'the morning of future workplaces'). From a minute from now up to a year ahead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Optional

from dateutil.relativedelta import relativedelta

from core.messages import Action, Refusal, Reply
from handlers.base import Context, partner_staff_only, quote
from handlers.events import find_event, label as event_label, when as event_when
from handlers.groups import find_group
from handlers.lead_times import LEAD, due_before, lead_delta, lead_text
from handlers.meetings import closed_group, when_text
from handlers.spoken import WORD_NUMBERS, Duration, parse_duration, tidy
from handlers.when import WEEKDAY_NAMES, DateError, format_moment, parse_moment
from storage import deliveries, delivery_keys as keys, meetings as meeting_queries
from storage.models import DeliveryKind, EventStatus, Group, Meeting
from storage.wallclock import to_utc

LIMITS = "I can remind you from a minute from now up to a year ahead"
LEAD_LIMITS = "A reminder before a meeting or event can come from a minute up to a year before it."
SHORTEST = timedelta(minutes=1)
_JOINERS = ("to", "about", "that")
# A when is a few words; longer runs are not tried (each try reads its words as a day and a time).
MAX_WHEN_WORDS = 10
# The words a what may end on that lead into its when: "submit the report by Friday" keeps "by Friday".
_LEADS_IN = {"by", "for", "of", "before", "after", "until", "till", "from", "since", "with"}
# The words a when begins with: after a what, "book room 3 on Friday" is on Friday, not at 3 on Friday.
_WHEN_WORDS = {
    "at",
    "on",
    "in",
    "by",
    "next",
    "this",
    "tomorrow",
    "today",
    "tonight",
    "first",
    "the",
    "a",
    "noon",
    "midday",
    "lunchtime",
    "end",
    *WEEKDAY_NAMES,
    *(name[:3] for name in WEEKDAY_NAMES),
}
# A number alone after a what is the what's ("read chapter 3"), not a time.
_BARE_NUMBER = re.compile(r"^(?:\d{1,2}|" + "|".join(WORD_NUMBERS) + ")$")
# "first thing" or "in the morning" said after 09:00 is tomorrow's.
_NEXT_MORNING = re.compile(r"^(?:at\s+)?(?:first\s+thing(?:\s+in\s+the\s+morning)?|in\s+the\s+morning)$")
_MORNING_OF = re.compile(r"^(?:on\s+)?the\s+morning\s+of\s+(?P<thing>.+)$", re.IGNORECASE)
_BEFORE = re.compile(r"^(?:(?P<lead>.+?)\s+)?before\s+(?P<thing>.+)$", re.IGNORECASE)
_ABOUT_BEFORE = re.compile(r"^(?:about|of)\s+(?P<words>.+)\s+before$", re.IGNORECASE)
_GROUP_MEETING = re.compile(r"^(?:the\s+)?(?:next\s+)?(?P<group>.+?)(?:\s+group)?\s+meeting$", re.IGNORECASE)
_THE_NEXT = re.compile(r"^(?:the\s+)?(?:next\s+)?", re.IGNORECASE)
_EVENT_WORD = re.compile(r"\s+event$", re.IGNORECASE)
_A_WHAT = re.compile(r"\s(?:to|about|that)\s", re.IGNORECASE)
_BEFORE_SOMETHING = re.compile(r"\bbefore\s.*\b(?:meeting|event)$|\bthe\s+morning\s+of\s", re.IGNORECASE)
# Longer than this from now is refused without counting (which could overflow a date).
_FAR_BEYOND = 800  # days


@dataclass(frozen=True)
class _Due:
    """When a personal reminder is due as read from the words, before its limits are checked."""

    at: datetime  # UTC
    words: str
    from_now: bool  # "in 2 hours": its limits are of the length; it is kept to the nearest minute


@partner_staff_only
def remind_me(ctx: Context, words: str, when: str = "") -> Reply:
    """`remind me WHEN to WHAT`, `remind me to WHAT WHEN`, `remind me LEAD before THING`,
    `remind me the morning of THING`: a reminder at a moment, or following a meeting or event.
    `when` is a moment said before `remind me` ("tomorrow at 9 remind me to call Swale")."""
    words = tidy(f"{when} {words}" if when else words).lstrip(
        ",:;-–— "
    )  # "remind me: ...", "remind me, tomorrow at 9, to ..."
    tokens = words.split()
    about_before = _ABOUT_BEFORE.match(words)
    if about_before:  # remind me about the GIS meeting the day before
        thing, lead = _thing_and_lead(about_before["words"].split())
        return _before(ctx, lead or "1 day", thing)
    if tokens and tokens[0].lower() in _JOINERS:
        return _what_first(ctx, tokens[0].lower(), tokens[1:])
    splits = [
        i for i, word in enumerate(tokens[: MAX_WHEN_WORDS + 1]) if word.lower() in _JOINERS and 0 < i < len(tokens) - 1
    ]
    for i in splits:  # remind me WHEN to WHAT: the first words before a to, about or that that read as a when
        try:
            due = _read_when(ctx, " ".join(tokens[:i]))
        except DateError:
            continue
        return _personal(ctx, due, " ".join(tokens[i + 1 :]))
    morning_of = _MORNING_OF.match(words)
    if morning_of:
        return _before(ctx, None, morning_of["thing"])
    before = _BEFORE.match(words)
    if before:
        return _before(ctx, before["lead"] or "1 day", before["thing"])
    if splits:
        raise Refusal(_unreadable(ctx, " ".join(tokens[: splits[0]])))
    try:
        due = _read_when(ctx, words)
    except DateError:
        said = _what_then_when(ctx, tokens)  # "remind me call Swale tomorrow at 9", without a to
        if said is not None:
            return _personal(ctx, *said)
        return Reply(
            "Tell me when and what, e.g. `remind me tomorrow morning to ring Swale`, `remind me in 30 minutes to "
            "call Medway`, `remind me to submit my idea on Friday at 10` or `remind me the day before the GIS meeting`."
        )
    shown = _checked(ctx, due)
    return Reply(
        f"What shall I remind you of on {shown}? Say it after the time, e.g. `remind me {words} to call Medway`."
    )


def _what_first(ctx: Context, joiner: str, tokens: list[str]) -> Reply:
    """`remind me to submit my idea tomorrow at 10`; else why not."""
    said = _what_then_when(ctx, tokens)
    if said is not None:
        return _personal(ctx, *said)
    what = " ".join(tokens)
    if _BEFORE_SOMETHING.search(what):
        raise Refusal(
            "A reminder before a meeting or event is of the meeting or event itself, without words of your own: "
            "say e.g. `remind me the day before the GIS meeting` or `remind me an hour before future workplaces`."
        )
    return Reply(
        f"When shall I remind you {joiner} {quote(what)}? Add the time, e.g. `remind me {joiner} … tomorrow at 10`, "
        "`… on Friday` or `… in 2 hours`."
    )


def _what_then_when(ctx: Context, tokens: list[str]) -> Optional[tuple[_Due, str]]:
    """The when at the end of the words, and the what before it: the longest words at the end that
    read as a when, preferring those that begin as a when does ('on Friday', 'at 3', 'tomorrow')."""
    readings: list[tuple[int, _Due]] = []
    for i in range(max(1, len(tokens) - MAX_WHEN_WORDS), len(tokens)):
        when = tokens[i:]
        if len(when) == 1 and _BARE_NUMBER.match(when[0].lower()):
            continue
        try:
            readings.append((i, _read_when(ctx, " ".join(when))))
        except DateError:
            continue
    if not readings:
        return None
    i, due = next(((i, due) for i, due in readings if tokens[i].lower() in _WHEN_WORDS), readings[0])
    if tokens[i - 1].lower() in _LEADS_IN:
        return due, " ".join(tokens)
    return due, " ".join(tokens[:i])


def _read_when(ctx: Context, words: str) -> _Due:
    """'in 2 hours', 'in a fortnight', 'tomorrow morning', 'next week' (its Monday), 'at 3' (today,
    15:00), 'half past two'; a DateError for words that are no when."""
    text = tidy(words)
    lower = text.lower()
    if lower.startswith("in "):
        length = parse_duration(lower[3:])
        if length is not None and length.roughly_days() > _FAR_BEYOND:
            raise Refusal(f"{LIMITS}; “{quote(text)}” is further than that.")
        if length is not None:
            return _Due(_after(ctx, length), text, True)
    today = ctx.now.astimezone(ctx.zone).date()
    moment = parse_moment(lower, today, time(9, 0), default_day=today, next_week_monday=True)
    start = moment.start
    if to_utc(start, ctx.settings.timezone) <= ctx.now and _NEXT_MORNING.match(lower):
        start += timedelta(days=1)
    return _Due(to_utc(start, ctx.settings.timezone), text, False)


def _after(ctx: Context, length: Duration) -> datetime:
    """Now plus the length: months and days on the wall clock (in 2 days is this time of day two
    days on, across a clock change too), hours and minutes in real time."""
    due = ctx.now
    if length.months or length.days:
        wall = ctx.now.astimezone(ctx.zone).replace(tzinfo=None) + relativedelta(months=length.months, days=length.days)
        due = to_utc(wall, ctx.settings.timezone)
    return due + timedelta(seconds=length.seconds)


def _latest(ctx: Context) -> datetime:
    """A year from now on the wall clock: the furthest a personal reminder may be."""
    wall = ctx.now.astimezone(ctx.zone).replace(tzinfo=None) + relativedelta(years=1)
    return to_utc(wall, ctx.settings.timezone)


def _checked(ctx: Context, due: _Due) -> str:
    """How the due moment is shown, once it is within the limits; a Refusal that says which it is not."""
    shown = format_moment(due.at.astimezone(ctx.zone))
    if due.from_now:
        if due.at - ctx.now < SHORTEST:
            raise Refusal(f"{LIMITS}; “{quote(due.words)}” is less than a minute.")
        if due.at > _latest(ctx):
            raise Refusal(f"{LIMITS}; “{quote(due.words)}” would be {shown}, further than that.")
        return shown
    if due.at <= ctx.now:
        raise Refusal(
            f"That's already passed ({shown}). Give me a time still to come, e.g. `remind me tomorrow at 9 to …`."
        )
    if due.at > _latest(ctx):
        raise Refusal(f"{LIMITS}; {shown} is further than that.")
    return shown


def _to_the_minute(instant: datetime) -> datetime:
    """The nearest whole minute: the same request twice (a retried message) is the same reminder."""
    return (instant + timedelta(seconds=30)).replace(second=0, microsecond=0)


def _unreadable(ctx: Context, words: str) -> str:
    """What is wrong with words meant as a when."""
    if words.lower().startswith("in "):
        return (
            f"I couldn't read “{quote(words)}” as a time from now: say e.g. `in 30 minutes`, `in 2 hours`, "
            "`in 3 days` or `in a fortnight`."
        )
    today = ctx.now.astimezone(ctx.zone).date()
    try:
        parse_moment(words.lower(), today, time(9, 0), default_day=today, next_week_monday=True)
    except DateError as exc:
        return str(exc)
    return f"I couldn't read “{quote(words)}” as a time."


def _personal(ctx: Context, due: _Due, what: str) -> Reply:
    what = what.strip().rstrip(".,;: ")
    shown = _checked(ctx, due)
    if not what:
        return Reply(
            f"What shall I remind you of on {shown}? Say it after `to`, e.g. `remind me {due.words} to call Medway`."
        )
    if len(what) > 500:
        return Reply("Please keep the reminder to 500 characters.")
    at = _to_the_minute(due.at) if due.from_now else due.at
    shown = format_moment(at.astimezone(ctx.zone))
    made = _record(ctx, at, f"You asked me to remind you: {what}", keys.personal_occurrence(at, what), None)
    if not made:
        return Reply(f"You already have that reminder, for {shown}.")
    return Reply(f"OK, I'll remind you on {shown}: “{what}”.", actions=(Action("My reminders", "reminders"),))


def _record(ctx: Context, due: datetime, text: str, occurrence: str, not_after: Optional[datetime]) -> bool:
    notice = Reply(text, title="Reminder")
    return bool(
        deliveries.record(
            ctx.session,
            DeliveryKind.PERSONAL_REMINDER,
            keys.subject(keys.Thing.PERSON, ctx.caller.person.id),
            occurrence,
            [ctx.caller.person.id],
            notice.to_data(),
            due_at=due,
            not_after=not_after,
        )
    )


# --- personal reminders before a meeting or an event ---------------------------------------------------


def _lead_of(words: str) -> Optional[str]:
    """'2 hours' -> '2h' (as parse_lead writes it), 'the day' -> '1d', 'half an hour' -> '30m',
    'a fortnight' -> '2w'; None for words that are no lead time."""
    text = " ".join(tidy(words).lower().split())
    if text in ("the day", "a day", "the day before"):
        return "1d"
    if text == "the week":
        return "1w"
    match = LEAD.match(" ".join(text.replace("an ", "1 ").replace("a ", "1 ").split()))
    if match:
        return f"{int(match[1])}{match[2][0]}"
    length = parse_duration(text)
    return None if length is None else length.lead()


def _thing_and_lead(tokens: list[str]) -> tuple[str, Optional[str]]:
    """'the GIS meeting the day' -> ('the GIS meeting', 'the day'): the lead is the last words that read as one."""
    for size in (1, 2, 3, 4):
        if len(tokens) > size and _lead_of(" ".join(tokens[-size:])) is not None:
            return " ".join(tokens[:-size]), " ".join(tokens[-size:])
    return " ".join(tokens), None


@dataclass(frozen=True)
class _Followed:
    """What a reminder before something follows: a group's next meeting, or an event."""

    name: str  # "the GIS meeting on Tuesday 8 December 2026, 10:00–12:00 GMT"
    text: str  # what the reminder says
    start_local: datetime
    timezone: str
    starts_at: datetime
    meeting: Optional[Meeting] = None


def _followed(ctx: Context, words: str) -> _Followed:
    """The group's next meeting ('the GIS meeting', 'the next infosec meeting') or the event
    ('future workplaces', 'event 3'); else a Refusal saying why not."""
    words = tidy(words)
    group_meeting = _GROUP_MEETING.match(words)
    if group_meeting:
        return _next_meeting(ctx, find_group(ctx, group_meeting["group"]))
    name = _EVENT_WORD.sub("", _THE_NEXT.sub("", words, count=1)) or words
    try:
        event = find_event(ctx, name)
    except Refusal as not_an_event:
        try:
            group = find_group(ctx, name)
        except Refusal:
            raise not_an_event from None
        return _next_meeting(ctx, group)
    if event.status is EventStatus.CANCELLED:
        raise Refusal(f"{event_label(event)} is cancelled, so there is nothing to remind you of.")
    if event.starts_at_utc <= ctx.now:
        raise Refusal(f"{event_label(event)} has already started or taken place.")
    when = event_when(ctx, event)
    return _Followed(
        f"{event.title} on {when}",
        f"{event.title} (event {event.id}) is on {when}",
        event.start_local,
        event.timezone,
        event.starts_at_utc,
    )


def _next_meeting(ctx: Context, group: Group) -> _Followed:
    if not ctx.caller.may_see(group):
        raise Refusal(closed_group(group))
    upcoming = meeting_queries.upcoming(ctx.session, ctx.now, [group.id], limit=1)
    if not upcoming:
        raise Refusal(f"{group.name} has no meeting scheduled yet, so there is nothing to remind you of.")
    meeting = upcoming[0]
    when = when_text(ctx, meeting)
    return _Followed(
        f"the {group.name} meeting on {when}",
        f"{group.name} meets on {when}",
        meeting.start_local,
        meeting.timezone,
        meeting.starts_at_utc,
        meeting,
    )


def _before(ctx: Context, lead_words: Optional[str], thing_words: str) -> Reply:
    """`remind me 2 hours before the GIS meeting`, `… the day before future workplaces`, and with
    no lead words `… the morning of …` (09:00 that day). One following a meeting moves with it."""
    try:
        thing = _followed(ctx, thing_words)
    except Refusal as not_found:
        what = _A_WHAT.search(thing_words)
        if what is None:
            raise
        try:  # "before the GIS meeting to bring slides": the thing reads without the words after it
            _followed(ctx, thing_words[: what.start()])
        except Refusal:
            raise not_found from None
        raise Refusal(
            "A reminder before a meeting or event is of the meeting or event itself, without words of your own: "
            f"say `remind me {quote(lead_words or 'the morning of')}"
            f"{' before' if lead_words else ''} {quote(thing_words[: what.start()])}`."
        ) from None
    if lead_words is None:
        nine = datetime.combine(thing.start_local.date(), time(9))
        if thing.start_local <= nine:
            raise Refusal(
                f"{thing.name[0].upper()}{thing.name[1:]} starts before 09:00, so there is no morning of it to "
                "remind you in: ask for e.g. `remind me an hour before …` or `remind me the day before …`."
            )
        minutes = int((thing.starts_at - to_utc(nine, thing.timezone)).total_seconds() // 60)
        lead = f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
        phrase = f"on the morning of {thing.name}"
    else:
        found = _lead_of(lead_words)
        if found is None:
            length = parse_duration(tidy(lead_words).lower())
            if length is not None and length.roughly_days() > 366:
                raise Refusal(LEAD_LIMITS)
            if length is not None:  # months, or days and hours together: no lead time says them
                raise Refusal(
                    f"Please say “{quote(lead_words)}” in weeks, days, hours or minutes, e.g. `4 weeks before` "
                    "or `2 hours before`."
                )
            raise Refusal(
                f"“{quote(lead_words)}” isn't a time before it; say e.g. `2 hours before`, `the day before` or "
                "`the morning of`."
            )
        lead = found
        if not SHORTEST <= lead_delta(lead) <= timedelta(days=366):
            raise Refusal(LEAD_LIMITS)
        phrase = f"{lead_text(lead)} before {thing.name}"
    due = due_before(thing.start_local, thing.timezone, lead)
    shown = format_moment(due.astimezone(ctx.zone))
    if due <= ctx.now:
        raise Refusal(f"That's already passed: {phrase} was {shown}.")
    if due > _latest(ctx):
        raise Refusal(f"{LIMITS}; {phrase} is {shown}, further than that.")
    if thing.meeting is not None:  # it follows the meeting when it moves (jobs.reminders)
        occurrence = keys.personal_meeting_occurrence(thing.meeting.id, lead, thing.start_local)
    else:
        occurrence = keys.personal_occurrence(due, thing.text)
    if not _record(ctx, due, f"You asked me to remind you: {thing.text}", occurrence, thing.starts_at):
        return Reply(f"You already have that reminder, for {shown}.")
    return Reply(f"OK, I'll remind you on {shown}, {phrase}.", actions=(Action("My reminders", "reminders"),))
