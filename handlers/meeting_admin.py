"""Chairs and the Partnership Office manage meetings: schedule, move, cancel; members are told."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Optional

from core.forms import FieldError, Form, FormField, Values, register
from core.messages import Action, Refusal, Reply, field_list
from handlers import conversation
from handlers.audit import record
from handlers.base import Caller, Context, guarded_by, needs_partner, partner_staff_only
from handlers.fields import read_future_day, read_link, read_text, read_times, show_day, show_span, today
from handlers.groups import find_group
from handlers.meetings import find_meeting, when_text
from handlers.recurrence import Repeat, parse_repeat
from handlers.when import DateError, SpanError, format_day, parse_moment
from storage import deliveries, delivery_keys as keys, groups as group_queries, meetings as meeting_queries
from storage.models import DeliveryKind, Group, Meeting, MeetingSeries, MeetingStatus
from storage.wallclock import exists, to_utc

HOW_TO_MOVE = (
    "To move a meeting, give its number and the new day and/or time, e.g. "
    "`move 13 to 16 March 2027 10:00-12:00`; add `and the rest of the series` to move "
    "the later ones too."
)
HOW_TO_CANCEL = (
    "To cancel a meeting, give its number, e.g. `cancel meeting 13`; add `and the rest "
    "of the series` to cancel the later ones too. The numbers are shown by `meetings GROUP`."
)


def may_manage(caller: Caller, group: Group) -> bool:
    return caller.is_admin or caller.is_chair(group)


def _not_yours(group: Group) -> str:
    return f"Only the chairs of {group.name} and the Partnership Office can change its meetings."


def _notify(ctx: Context, group: Group, kind: DeliveryKind, subject: str, occurrence: str, notice: Reply) -> int:
    """Queue the notice for every member of the group but the person making the change."""
    recipients = [m.person_id for m in group_queries.members(ctx.session, group) if m.person_id != ctx.caller.person.id]
    deliveries.record(ctx.session, kind, subject, occurrence, recipients, notice.to_data(), due_at=ctx.now)
    return len(recipients)


def _told(count: int) -> str:
    if count == 0:
        return "The group has no other members to tell."
    return f"A notice to its {count} other member{'s' if count != 1 else ''} is queued."


# --- scheduling: a form, asked step by step in chat (and, later, as a modal or card) ----------


def _read_group(text: str, ctx: Context, values: Values) -> dict[str, str]:
    try:
        found = find_group(ctx, text)
    except Refusal as refusal:
        raise FieldError(refusal.reply.text) from None
    if not may_manage(ctx.caller, found):
        raise FieldError(_not_yours(found))
    return {"slug": found.slug, "name": found.name}


def _read_repeat(text: str, ctx: Context, values: Values) -> Optional[dict[str, str]]:
    if " ".join(text.lower().split()).strip(" .!") in ("yes", "y", "yes it does", "it does"):
        raise FieldError(
            "How often? Say `quarterly`, `monthly`, or e.g. `every 3 months on the second Tuesday, 4 times`."
        )
    first_day = date.fromisoformat(values["date"]) if values.get("date") else today(ctx)
    start = time.fromisoformat(values["time"]["start"]) if values.get("time") else time(10)
    try:
        repeat = parse_repeat(text, first_day, start)
    except DateError as exc:
        raise FieldError(str(exc)) from None
    return None if repeat is None else {"rule": repeat.rule, "text": repeat.text}


SCHEDULE_FIELDS = (
    FormField(
        "group", "Group", "Which group is the meeting for?", _read_group, example="gis", show=lambda v: v["name"]
    ),
    FormField(
        "date",
        "Date",
        "Which day (the first, if it repeats)?",
        read_future_day,
        kind="date",
        example="9 March 2027",
        show=show_day,
    ),
    FormField(
        "time", "Time", "From what time to what time?", read_times, kind="time", example="10:00-12:00", show=show_span
    ),
    FormField(
        "repeat",
        "Repeats",
        "Does it repeat? Say `no`, `quarterly`, or e.g. `every 3 months on the second Tuesday, 4 times`.",
        _read_repeat,
        required=False,
        example="quarterly",
        show=lambda v: v["text"],
        depends_on=("date", "time"),
    ),
    FormField(
        "place", "Place", "Where is it held?", read_text, required=False, example="Map Room, Sessions House, Maidstone"
    ),
    FormField(
        "link",
        "Online link",
        "What is the online meeting link?",
        read_link,
        required=False,
        kind="url",
        example="https://teams.microsoft.com/l/meetup-join/...",
    ),
    FormField(
        "agenda",
        "Agenda",
        "What is on the agenda?",
        read_text,
        required=False,
        kind="long_text",
        max_length=2000,
        example="updates from partners; project reports",
    ),
)


def _check_schedule(ctx: Context, values: Values) -> dict[str, str]:
    if not values.get("place") and not values.get("link"):
        return {"place": "A meeting needs a place or an online link (or both)."}
    day, times = date.fromisoformat(values["date"]), values["time"]
    start = datetime.combine(day, time.fromisoformat(times["start"]))
    starts = [start]
    if values.get("repeat"):
        starts = Repeat(values["repeat"]["rule"], values["repeat"]["text"]).starts(start)
        start = starts[0]
    zone = ctx.settings.timezone
    skipped = next((s for s in starts if not exists(s, zone)), None)
    if skipped is not None:
        return {
            "time": f"{times['start']} doesn't exist on {format_day(skipped)}: the clocks go forward "
            "that night. Please choose another time."
        }
    if to_utc(start, zone) <= ctx.now:
        return {"date": "That time has already passed; please give a day and time to come."}
    return {}


def _may_schedule(ctx: Context, values: Optional[Values] = None) -> Optional[Reply]:
    refusal = needs_partner(ctx)
    if refusal:
        return refusal
    if not (ctx.caller.is_admin or ctx.caller.chairs_any):
        return Reply(
            "Only the chairs of a group and the Partnership Office can schedule its meetings. "
            "Ask your group's chair, or see `meetings GROUP`."
        )
    return None


def _submit_schedule(ctx: Context, values: Values) -> Reply:
    group = group_queries.group_by_slug(ctx.session, values["group"]["slug"])
    if group is None or not may_manage(ctx.caller, group):
        return Reply("That group can no longer be scheduled by you; nothing was saved.")
    day, times = date.fromisoformat(values["date"]), values["time"]
    start = datetime.combine(day, time.fromisoformat(times["start"]))
    duration = datetime.combine(day, time.fromisoformat(times["end"])) - start
    zone = ctx.settings.timezone
    details = dict(place=values.get("place"), online_url=values.get("link"), agenda=values.get("agenda"))
    repeat = values.get("repeat")
    if repeat:
        first = Repeat(repeat["rule"], repeat["text"]).starts(start)[0]
        series = MeetingSeries(
            group=group,
            title=f"{group.name} meeting",
            first_start_local=first,
            duration_minutes=int(duration.total_seconds() // 60),
            timezone=zone,
            rrule=repeat["rule"],
            status=MeetingStatus.SCHEDULED,
            **details,
        )
        made = meeting_queries.add_series(ctx.session, series, until_local=datetime.max.replace(year=9000))
        subject = keys.subject(keys.Thing.SERIES, series.id)
    else:
        made = [
            meeting_queries.add_meeting(
                ctx.session, group, f"{group.name} meeting", start, start + duration, zone, **details
            )
        ]
        subject = keys.subject(keys.Thing.MEETING, made[0].id)
    dates = tuple(f"{when_text(ctx, m)} (meeting {m.id})" for m in made)
    notice = Reply(
        f"{group.name}: {'a new meeting has' if len(made) == 1 else f'{len(made)} new meetings have'} been scheduled.",
        title=f"New {group.name} meeting{'s' if len(made) != 1 else ''}",
        fields=field_list(
            ("When", "\n".join(dates)),
            ("Where", details["place"]),
            ("Online", details["online_url"]),
            ("Agenda", details["agenda"]),
        ),
        actions=(Action("My meetings", "my meetings"),),
    )
    told = _notify(ctx, group, DeliveryKind.MEETING_SCHEDULED, subject, keys.SCHEDULED, notice)
    record(ctx, "meeting_scheduled", subject, group=group.slug, meetings=len(made), first=dates[0])
    lead = f"Scheduled {len(made)} {group.name} meeting{'s' if len(made) != 1 else ''}."
    return Reply(
        f"{lead} {_told(told)}",
        title=notice.title,
        fields=notice.fields,
        actions=(Action("Its meetings", f"meetings {group.slug}"),),
    )


SCHEDULE = register(
    Form(
        "schedule_meeting",
        "Schedule a meeting",
        SCHEDULE_FIELDS,
        _submit_schedule,
        check=_check_schedule,
        allowed=_may_schedule,
    )
)


@guarded_by(_may_schedule)
def schedule(ctx: Context, group: Optional[str] = None) -> Reply:
    prefilled: Values = {}
    if group:
        try:
            prefilled["group"] = _read_group(group, ctx, prefilled)
        except FieldError as exc:
            return Reply(str(exc), actions=(Action("Groups", "groups"),))
    return conversation.start(ctx, SCHEDULE, prefilled)


# --- moving and cancelling: by meeting number --------------------------------------------------


def _managed_meeting(ctx: Context, number: str) -> Meeting:
    """The meeting with this number, locked and read afresh, if the caller may change it; else
    a Refusal saying why not."""
    meeting = find_meeting(ctx, number)
    meeting_queries.lock(ctx.session, meeting)
    if not may_manage(ctx.caller, meeting.group):
        raise Refusal(_not_yours(meeting.group))
    if meeting.status is MeetingStatus.CANCELLED:
        raise Refusal(f"Meeting {meeting.id} ({when_text(ctx, meeting)}) is already cancelled.")
    if meeting.starts_at_utc <= ctx.now:
        raise Refusal(f"Meeting {meeting.id} ({when_text(ctx, meeting)}) has already started or taken place.")
    return meeting


def _new_times(meeting: Meeting, words: str, this_day: date) -> tuple[datetime, datetime]:
    """The new local start and end from '16 March 2027 10:00-12:00', '16 March', '14:00', ...;
    what is not given stays as it was, and so does the length without an end."""
    was = meeting.start_local
    try:
        moment = parse_moment(words, this_day, was.time(), default_day=was.date(), span=True)
    except SpanError:
        raise  # the day is fine and the times are a range: their problem is the answer
    except DateError as exc:
        # One word was meant as the day: say what is wrong with it; more, and the command is explained.
        raise (exc if len(words.split()) == 1 else DateError(HOW_TO_MOVE)) from None
    return moment.start, moment.end or moment.start + (meeting.end_local - meeting.start_local)


@partner_staff_only
def move(ctx: Context, meeting: str, when: str, rest: Optional[str] = None) -> Reply:
    found = _managed_meeting(ctx, meeting)
    try:
        start, end = _new_times(found, when, today(ctx))
    except DateError as exc:
        return Reply(str(exc))
    zone = found.timezone
    if not exists(start, zone):
        return Reply(f"{start:%H:%M} doesn't exist on {format_day(start)}: the clocks go forward that night.")
    if to_utc(start, zone) <= ctx.now:
        return Reply("That time has already passed; please give a day and time to come.")
    if end <= start:
        return Reply("A meeting must end after it starts.")
    if (start, end) == (found.start_local, found.end_local):
        return Reply(f"Meeting {found.id} is already on {when_text(ctx, found)}; nothing to change.")
    before = when_text(ctx, found)
    shift, duration = start - found.start_local, end - start
    later = meeting_queries.later_in_series(ctx.session, found) if rest else []
    meeting_queries.move(found, start, end)
    for other in later:
        meeting_queries.move(other, other.start_local + shift, other.start_local + shift + duration)
    after = when_text(ctx, found)
    also = (
        f" The {len(later)} later meeting{'s' if len(later) != 1 else ''} in the series moved the same way."
        if later
        else ""
    )
    notice = Reply(
        f"{found.group.name}: the meeting on {before} has moved to {after}.{also}",
        title=f"{found.group.name} meeting moved",
        fields=field_list(("Now", after), ("Where", found.place), ("Online", found.online_url)),
        actions=(Action("My meetings", "my meetings"),),
    )
    told = _notify(
        ctx,
        found.group,
        DeliveryKind.MEETING_MOVED,
        keys.subject(keys.Thing.MEETING, found.id),
        keys.version(found.sequence),
        notice,
    )
    record(ctx, "meeting_moved", f"meeting:{found.id}", before=before, after=after, later=len(later) or None)
    return Reply(
        f"Moved meeting {found.id} from {before} to {after}.{also} {_told(told)}",
        actions=(Action("Its meetings", f"meetings {found.group.slug}"),),
    )


def move_help(ctx: Context, words: str = "") -> Reply:
    return Reply(HOW_TO_MOVE)


def _read_meeting(text: str, ctx: Context, values: Values) -> dict[str, Any]:
    try:
        found = _managed_meeting(ctx, text)
    except Refusal as refusal:
        raise FieldError(refusal.reply.text) from None
    return {"id": found.id, "label": f"{found.group.name}: {when_text(ctx, found)} (meeting {found.id})"}


SCOPES = ("this one only", "the rest of the series too")


def _read_scope(text: str, ctx: Context, values: Values) -> str:
    words = set(re.findall(r"[a-z]+", text.lower()))  # whole words: "none" is not "one"
    if words & {"rest", "later", "following", "all", "series"}:
        return "rest"
    if words & {"this", "one", "only", "just"}:
        return "one"
    raise FieldError("Say `this one` or `the rest of the series`.")


def _submit_cancel(ctx: Context, values: Values) -> Reply:
    found = _managed_meeting(ctx, str(values["meeting"]["id"]))
    cancelled = [found] + (meeting_queries.later_in_series(ctx.session, found) if values["scope"] == "rest" else [])
    dates = [when_text(ctx, m) for m in cancelled]
    for m in cancelled:
        meeting_queries.cancel(m)
    group = found.group
    notice = Reply(
        f"{group.name}: {'the meeting on ' + dates[0] + ' is' if len(dates) == 1 else f'{len(dates)} meetings are'} cancelled.",
        title=f"{group.name} meeting{'s' if len(dates) != 1 else ''} cancelled",
        fields=field_list(("Cancelled", "\n".join(dates))),
        actions=(Action("My meetings", "my meetings"),),
    )
    told = _notify(
        ctx,
        group,
        DeliveryKind.MEETING_CANCELLED,
        keys.subject(keys.Thing.MEETING, found.id),
        keys.version(found.sequence),
        notice,
    )
    record(ctx, "meeting_cancelled", f"meeting:{found.id}", meetings=len(dates))
    return Reply(
        f"Cancelled {len(dates)} {group.name} meeting{'s' if len(dates) != 1 else ''}. {_told(told)}",
        fields=notice.fields,
    )


CANCEL = register(
    Form(
        "cancel_meeting",
        "Cancel a meeting",
        (
            FormField("meeting", "Meeting", "Which meeting (its number)?", _read_meeting, show=lambda v: v["label"]),
            FormField(
                "scope",
                "Which",
                "Only this one, or the rest of the series too?",
                _read_scope,
                kind="choice",
                choices=SCOPES,
                show=lambda v: "this one and the rest of its series" if v == "rest" else "this one only",
            ),
        ),
        _submit_cancel,
    )
)


@partner_staff_only
def cancel(ctx: Context, meeting: str, rest: Optional[str] = None) -> Reply:
    try:
        chosen = _read_meeting(meeting, ctx, {})
    except FieldError as exc:
        return Reply(str(exc))
    return conversation.start(ctx, CANCEL, {"meeting": chosen, "scope": "rest" if rest else "one"})


def cancel_help(ctx: Context, words: str = "") -> Reply:
    return Reply("There's nothing to cancel right now. " + HOW_TO_CANCEL)
