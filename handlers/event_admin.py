"""The Partnership Office runs events: `create event`, `edit event`, `cancel event`, `attendees`."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, Optional

from core.forms import FieldError, Form, FormField, Values, register as register_form
from core.messages import Action, Attachment, Field, Item, Refusal, Reply, field_list
from handlers import conversation
from handlers.audit import record
from handlers.base import Context, guarded_by, needs_partner
from handlers.events import FORMAT_NAMES, MODE_NAMES, find_event, label, notify_promoted, places_text, when
from handlers.fields import (
    as_moment,
    moment_of,
    read_capacity,
    read_future_day,
    read_link,
    read_moment,
    read_text,
    read_times,
    show_day,
    show_span,
)
from storage import deliveries, delivery_keys as keys, events as event_queries
from storage.models import AttendanceMode, DeliveryKind, Event, EventFormat, EventStatus, RegistrationStatus
from storage.wallclock import exists, to_utc

FORMAT_WORDS = {
    "in person": EventFormat.IN_PERSON,
    "face to face": EventFormat.IN_PERSON,
    "online": EventFormat.ONLINE,
    "remote": EventFormat.ONLINE,
    "remotely": EventFormat.ONLINE,
    "virtual": EventFormat.ONLINE,
    "virtually": EventFormat.ONLINE,
    "hybrid": EventFormat.HYBRID,
    "both": EventFormat.HYBRID,
    "in person and online": EventFormat.HYBRID,
    "online and in person": EventFormat.HYBRID,
}


def _only_admins(ctx: Context, values: Optional[Values] = None) -> Optional[Reply]:
    refusal = needs_partner(ctx)
    if refusal:
        return refusal
    if not ctx.caller.is_admin:
        return Reply("Only the Partnership Office can create and change events. Say `events` to see them.")
    return None


def _read_format(text: str, ctx: Context, values: Values) -> str:
    words = " ".join(text.lower().replace("-", " ").split()).removesuffix(" only")
    chosen = FORMAT_WORDS.get(words)
    if chosen is None:
        raise FieldError("Say `in person`, `online` or `hybrid`.")
    return chosen.value


def _in_person(values: Values) -> bool:
    return values.get("format") in (EventFormat.IN_PERSON.value, EventFormat.HYBRID.value)


def _online(values: Values) -> bool:
    return values.get("format") in (EventFormat.ONLINE.value, EventFormat.HYBRID.value)


def _read_opens(text: str, ctx: Context, values: Values) -> dict[str, str]:
    return read_moment(text, ctx, time(9, 0))


def _read_closes(text: str, ctx: Context, values: Values) -> dict[str, str]:
    return read_moment(text, ctx, time(17, 0))


def _show_moment(value: dict[str, str]) -> str:
    return value["shown"]


def _show_capacity(value: Optional[int]) -> str:
    return "no limit" if value is None else f"{value} place{'s' if value != 1 else ''}"


EVENT_FIELDS = (
    FormField("title", "Title", "What is the event called?", read_text, example="Future Workplaces", max_length=150),
    FormField(
        "theme",
        "Theme",
        "What is its theme?",
        read_text,
        required=False,
        example="workstyles, culture change toward hybrid working",
    ),
    FormField(
        "description",
        "Description",
        "Describe it in a few sentences.",
        read_text,
        required=False,
        kind="long_text",
        max_length=3000,
    ),
    FormField("speakers", "Speakers", "Who is speaking?", read_text, required=False, kind="long_text", max_length=1000),
    FormField("date", "Date", "Which day?", read_future_day, kind="date", example="12 May 2027", show=show_day),
    FormField(
        "time", "Time", "From what time to what time?", read_times, kind="time", example="09:30-13:00", show=show_span
    ),
    FormField(
        "format",
        "Format",
        "In person, online or hybrid?",
        _read_format,
        kind="choice",
        choices=("in person", "online", "hybrid"),
        show=lambda v: FORMAT_NAMES[EventFormat(v)],
    ),
    FormField("venue", "Venue", "Where is it held?", read_text, applies=_in_person),
    FormField("link", "Online link", "What is the link to join online?", read_link, kind="url", applies=_online),
    FormField(
        "capacity_in_person",
        "Places in person",
        "How many places in person? (a number, or `unlimited`)",
        read_capacity,
        example="40",
        applies=_in_person,
        show=_show_capacity,
        none_text="no limit",
    ),
    FormField(
        "capacity_online",
        "Places online",
        "How many places online? (a number, or `unlimited`)",
        read_capacity,
        example="unlimited",
        applies=_online,
        show=_show_capacity,
        none_text="no limit",
    ),
    FormField(
        "opens",
        "Registration opens",
        "When does registration open?",
        _read_opens,
        required=False,
        example="now, or 1 March 2027 09:00",
        show=_show_moment,
    ),
    FormField(
        "closes",
        "Registration closes",
        "When does registration close?",
        _read_closes,
        required=False,
        example="10 May 2027 17:00",
        show=_show_moment,
    ),
)


def _start_end(values: Values) -> tuple[datetime, datetime]:
    day = date.fromisoformat(values["date"])
    return (
        datetime.combine(day, time.fromisoformat(values["time"]["start"])),
        datetime.combine(day, time.fromisoformat(values["time"]["end"])),
    )


def _check_event(ctx: Context, values: Values) -> dict[str, str]:
    start, _ = _start_end(values)
    zone = ctx.settings.timezone
    if not exists(start, zone):
        return {"time": f"{start:%H:%M} doesn't exist that day: the clocks go forward. Please choose another time."}
    begins = to_utc(start, zone)
    if begins <= ctx.now:
        return {"date": "That time has already passed; please give a day and time to come."}
    opens, closes = moment_of(values.get("opens")), moment_of(values.get("closes"))
    if closes and closes > begins:
        return {"closes": "Registration has to close before the event starts."}
    if opens and closes and closes <= opens:
        return {"closes": "Registration has to close after it opens."}
    return {}


def _apply(event: Event, values: Values, zone: str) -> None:
    start, end = _start_end(values)
    event_queries.set_times(event, start, end, zone)
    event.title, event.theme = values["title"], values.get("theme")
    event.description, event.speakers = values.get("description"), values.get("speakers")
    event.format = EventFormat(values["format"])
    event.venue, event.online_url = values.get("venue"), values.get("link")
    event.capacity_in_person = values.get("capacity_in_person") if _in_person(values) else 0
    event.capacity_online = values.get("capacity_online") if _online(values) else 0
    event.registration_opens_at = moment_of(values.get("opens"))
    event.registration_closes_at = moment_of(values.get("closes"))


def _submit_event(ctx: Context, values: Values) -> Reply:
    event = Event(status=EventStatus.PUBLISHED, created_by_id=ctx.caller.person.id)
    _apply(event, values, ctx.settings.timezone)
    event_queries.add(ctx.session, event)
    record(ctx, "event_created", f"event:{event.id}", title=event.title)
    return Reply(
        f"{label(event)} is published: partner staff can see it under `events` and register.",
        fields=field_list(("When", when(ctx, event)), ("Places", places_text(ctx, event))),
        actions=(Action("See it", f"event {event.id}"),),
    )


EVENT_FORM = register_form(
    Form("create_event", "Create an event", EVENT_FIELDS, _submit_event, check=_check_event, allowed=_only_admins)
)


@guarded_by(_only_admins)
def create_event(ctx: Context) -> Reply:
    return conversation.start(ctx, EVENT_FORM, {})


# --- editing one field of a published event ---------------------------------------------------


def _values_of(ctx: Context, event: Event) -> Values:
    """The event as the form's answers, so that a field's own reader can check an edit."""
    return {
        "title": event.title,
        "theme": event.theme,
        "description": event.description,
        "speakers": event.speakers,
        "date": event.start_local.date().isoformat(),
        "time": {"start": event.start_local.strftime("%H:%M"), "end": event.end_local.strftime("%H:%M")},
        "format": event.format.value,
        "venue": event.venue,
        "link": event.online_url,
        "capacity_in_person": event.capacity_in_person,
        "capacity_online": event.capacity_online,
        "opens": as_moment(event.registration_opens_at, ctx),
        "closes": as_moment(event.registration_closes_at, ctx),
    }


# Changes registrants must hear about.
NOTIFIED = {"date", "time", "format", "venue", "link"}


@guarded_by(_only_admins)
def edit_event(ctx: Context, target: str, field: str, value: str) -> Reply:
    event = find_event(ctx, target)
    if event.status is EventStatus.CANCELLED or event.starts_at_utc <= ctx.now:
        return Reply(f"{label(event)} is cancelled or over, so it can't be changed.")
    form_field = EVENT_FORM.find_field(field) or EVENT_FORM.find_field(field.replace("capacity", "places"))
    if form_field is None:
        names = ", ".join(f"`{f.label.lower()}`" for f in EVENT_FIELDS)
        return Reply(f"I can't change “{field[:30]}”. You can change: {names}.")
    event_queries.lock(ctx.session, event)  # another admin's edit lands first, not overwritten
    values, errors = _values_of(ctx, event), {}
    if not form_field.applies(values):
        return Reply(
            f"{form_field.label} doesn't apply to an event that is {FORMAT_NAMES[event.format]}; "
            "change its format first."
        )
    try:
        values[form_field.name] = form_field.read(value, ctx, values)
    except FieldError as exc:
        errors[form_field.name] = str(exc)
    if not errors:
        errors = EVENT_FORM.check(ctx, EVENT_FORM.effective(values))
    if errors:
        return Reply(next(iter(errors.values())))
    for mode, name in ((AttendanceMode.IN_PERSON, "capacity_in_person"), (AttendanceMode.ONLINE, "capacity_online")):
        new = values.get(name)
        taken = event_queries.counted(event, mode)  # read again after the lock, with the event
        if form_field.name == name and new is not None and new < taken:
            return Reply(f"{taken} places are already taken {MODE_NAMES[mode]}; the capacity can't go below that.")
        offered = _in_person(values) if mode is AttendanceMode.IN_PERSON else _online(values)
        registered = taken + event_queries.counted(event, mode, RegistrationStatus.WAITLISTED)
        if not offered and registered:
            return Reply(
                f"{registered} {'person is' if registered == 1 else 'people are'} registered "
                f"{MODE_NAMES[mode]}, so the event can't stop being {MODE_NAMES[mode]}. Ask them to "
                "change first, or cancel the event."
            )
    _apply(event, EVENT_FORM.effective(values), event.timezone)
    promoted = [r for mode in AttendanceMode for r in event_queries.fill_places(ctx.session, event, mode)]
    notify_promoted(ctx, event, promoted)
    told = 0
    if form_field.name in NOTIFIED:
        event.sequence += 1
        told = _notify_registrants(
            ctx,
            event,
            DeliveryKind.EVENT_CHANGED,
            keys.version(event.sequence),
            lambda has_place: Reply(
                f"{label(event)} has changed: {form_field.label.lower()} is now {form_field.display(values[form_field.name])}.",
                title=f"{event.title}: change",
                fields=field_list(
                    ("When", when(ctx, event)),
                    ("Venue", event.venue),
                    # The joining link is for people with a place only.
                    ("Online link", event.online_url if has_place else None),
                ),
                actions=(Action("Event details", f"event {event.id}"),),
            ),
        )
    shown = form_field.display(values[form_field.name])
    record(ctx, "event_edited", f"event:{event.id}", field=form_field.label, value=shown)
    extra = f" A notice to its {told} registrant{'s' if told != 1 else ''} is queued." if told else ""
    if promoted:
        extra += f" {len(promoted)} {'person' if len(promoted) == 1 else 'people'} moved up from the waitlist."
    return Reply(
        f"{label(event)}: {form_field.label.lower()} is now {shown}.{extra}",
        actions=(Action("See it", f"event {event.id}"),),
    )


def _notify_registrants(
    ctx: Context, event: Event, kind: DeliveryKind, occurrence: str, notice: Callable[[bool], Reply]
) -> int:
    """Tell everyone registered; `notice(has_place)` words it for people with a place or waiting."""
    regs = event_queries.registrants(ctx.session, event)
    for has_place in (True, False):
        people = [r.person_id for r in regs if (r.status is RegistrationStatus.CONFIRMED) == has_place]
        deliveries.record(
            ctx.session,
            kind,
            keys.subject(keys.Thing.EVENT, event.id),
            occurrence,
            people,
            notice(has_place).to_data(),
            due_at=ctx.now,
        )
    return len(regs)


# --- cancelling, with confirmation ------------------------------------------------------------


def _read_event(text: str, ctx: Context, values: Values) -> dict[str, Any]:
    try:
        found = find_event(ctx, text)
    except Refusal as refusal:
        raise FieldError(refusal.reply.text) from None
    return {"id": found.id, "label": f"{label(found)}, {when(ctx, found)}"}


def _submit_cancel(ctx: Context, values: Values) -> Reply:
    event = event_queries.get(ctx.session, values["event"]["id"])
    if event is not None:
        event_queries.lock(ctx.session, event)  # registrations in flight finish first, or see it cancelled
    if event is None or event.status is EventStatus.CANCELLED:
        return Reply("That event is already cancelled.")
    event.status = EventStatus.CANCELLED
    event.sequence += 1
    record(ctx, "event_cancelled", f"event:{event.id}")
    told = _notify_registrants(
        ctx,
        event,
        DeliveryKind.EVENT_CANCELLED,
        keys.version(event.sequence),
        lambda has_place: Reply(
            f"{label(event)} on {when(ctx, event)} has been cancelled. We're sorry for the change.",
            title=f"{event.title}: cancelled",
        ),
    )
    return Reply(f"{label(event)} is cancelled. A notice to its {told} registrant{'s' if told != 1 else ''} is queued.")


CANCEL_EVENT = register_form(
    Form(
        "cancel_event",
        "Cancel an event",
        (FormField("event", "Event", "Which event (its number)?", _read_event, show=lambda v: v["label"]),),
        _submit_cancel,
        allowed=_only_admins,
    )
)


@guarded_by(_only_admins)
def cancel_event(ctx: Context, target: str) -> Reply:
    try:
        chosen = _read_event(target, ctx, {})
    except FieldError as exc:
        return Reply(str(exc))
    return conversation.start(ctx, CANCEL_EVENT, {"event": chosen})


# --- who is coming ------------------------------------------------------------------------------


@guarded_by(_only_admins)
def attendees(ctx: Context, target: str) -> Reply:
    event = find_event(ctx, target, upcoming_only=False)
    regs = event_queries.registrants(ctx.session, event)
    confirmed = [r for r in regs if r.status is RegistrationStatus.CONFIRMED]
    waiting = [r for r in regs if r.status is RegistrationStatus.WAITLISTED]
    by_partner = Counter(r.person.partner.name if r.person.partner else "no partner" for r in confirmed)
    by_mode = Counter(MODE_NAMES[r.mode] for r in confirmed)
    return Reply(
        f"{len(confirmed)} with a place, {len(waiting)} on the waitlist.",
        title=f"Attendees: {label(event)}",
        fields=(Field("By format", ", ".join(f"{mode} {n}" for mode, n in sorted(by_mode.items())) or "none"),),
        items=(
            Item(
                title="By partner", text="\n".join(f"{name}: {n}" for name, n in sorted(by_partner.items())) or "none"
            ),
        ),
        footer="The full list is attached as a CSV file.",
        attachment=Attachment(f"event-{event.id}-attendees.csv", "text/csv; charset=utf-8", _csv(ctx, regs)),
    )


def _csv(ctx: Context, regs) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "email", "partner", "attending", "status", "registered"])
    for r in regs:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    r.person.display_name or "",
                    r.person.email,
                    r.person.partner.name if r.person.partner else "",
                    MODE_NAMES[r.mode],
                    r.status.value,
                    r.queued_at.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M"),
                )
            ]
        )
    return out.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the accents right


def _cell(text: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
