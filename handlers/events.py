"""Business transformation events: `events`, `event EVENT`, `register`, `unregister`, `my events`."""

from __future__ import annotations

from typing import Optional

from core.forms import FieldError, Form, FormField, Values, register as register_form
from core.messages import Action, Item, Refusal, Reply, field_list
from handlers import conversation
from handlers.base import Context, partner_staff_only, quote
from handlers.groups import find_group, join
from handlers.names import resolve
from handlers.when import format_moment, meeting_span
from storage import deliveries, delivery_keys as keys, events as event_queries
from storage.models import (
    AttendanceMode,
    DeliveryKind,
    Event,
    EventFormat,
    EventStatus,
    Registration,
    RegistrationStatus,
)

MODE_WORDS = {
    "in person": AttendanceMode.IN_PERSON,
    "in-person": AttendanceMode.IN_PERSON,
    "face to face": AttendanceMode.IN_PERSON,
    "face-to-face": AttendanceMode.IN_PERSON,
    "online": AttendanceMode.ONLINE,
    "remote": AttendanceMode.ONLINE,
    "remotely": AttendanceMode.ONLINE,
    "virtually": AttendanceMode.ONLINE,
}
LIST_LIMIT = 10
MODE_NAMES = {AttendanceMode.IN_PERSON: "in person", AttendanceMode.ONLINE: "online"}
FORMAT_NAMES = {
    EventFormat.IN_PERSON: "in person",
    EventFormat.ONLINE: "online",
    EventFormat.HYBRID: "in person and online",
}


def when(ctx: Context, event: Event) -> str:
    return meeting_span(event.start_local, event.end_local, event.timezone, ctx.zone)


def label(event: Event) -> str:
    return f"{event.title} (event {event.id})"


def places_text(ctx: Context, event: Event) -> str:
    """'in person: 12 of 40 places left; online: no limit', from the counters read with the event."""
    parts = []
    for mode in AttendanceMode:
        if not event_queries.offers(event, mode):
            continue
        limit = event_queries.capacity(event, mode)
        if limit is None:
            parts.append(f"{MODE_NAMES[mode]}: no limit")
            continue
        left = max(0, limit - event_queries.counted(event, mode))
        waiting = event_queries.counted(event, mode, RegistrationStatus.WAITLISTED)
        if left:
            parts.append(f"{MODE_NAMES[mode]}: {left} of {limit} places left")
        else:
            parts.append(
                f"{MODE_NAMES[mode]}: full, {waiting} on the waitlist" if waiting else f"{MODE_NAMES[mode]}: full"
            )
    return "; ".join(parts)


def status_text(ctx: Context, reg: Optional[Registration], position: Optional[int] = None) -> Optional[str]:
    """`position`: the waitlist position if already known (else it is counted)."""
    if reg is None or reg.status is RegistrationStatus.WITHDRAWN:
        return None
    if reg.status is RegistrationStatus.CONFIRMED:
        return f"you have a place ({MODE_NAMES[reg.mode]})"
    if position is None:
        position = event_queries.waitlist_position(ctx.session, reg)
    return f"you're number {position} on the {MODE_NAMES[reg.mode]} waitlist"


def _titles(event: Event) -> list[str]:
    return [event.title, *([event.theme] if event.theme else [])]


def _number(words: str) -> Optional[int]:
    """The event's number, if the words are one (`12`, `event 12`, `#12`)."""
    digits = " ".join(words.split()).strip().lower().removeprefix("event").strip().lstrip("#")
    return int(digits) if digits.isdigit() and len(digits) < 10 else None


def _no_such_number(number: int) -> Refusal:
    return Refusal(
        Reply(
            f"I can't find event {number}. Say `events` to see the ones coming up.",
            actions=(Action("Events", "events"),),
        )
    )


def find_event(ctx: Context, words: str, upcoming_only: bool = True) -> Event:
    """The event named by its number or a distinctive part of its title or theme; else a Refusal."""
    words = " ".join(words.split()).strip()
    number = _number(words)
    if number is not None:
        event = event_queries.get(ctx.session, number)
        if event is not None:
            return event
        raise _no_such_number(number)
    upcoming = event_queries.upcoming(ctx.session, ctx.now)
    pool = upcoming if upcoming_only else event_queries.all_events(ctx.session)
    lookup = resolve(words, [(e, _titles(e)) for e in pool])
    if lookup.found is not None:
        return lookup.found
    if upcoming_only:
        earlier = resolve(words, [(e, _titles(e)) for e in event_queries.past(ctx.session, ctx.now)]).found
        if earlier is not None:
            return earlier
    hint = ""
    if lookup.suggestions:
        hint = " Did you mean " + " or ".join(label(e) for e in lookup.suggestions) + "?"
    raise Refusal(
        Reply(
            f"I can't find an event called “{quote(words)}”.{hint} Say `events` to see the ones coming up.",
            actions=(Action("Events", "events"),),
        )
    )


def _event_item(ctx: Context, event: Event, booking: Optional[event_queries.Booking]) -> Item:
    mine = status_text(ctx, booking.registration, booking.position) if booking else None
    actions: tuple[Action, ...] = (Action("Details", f"event {event.id}"),)
    if mine is None:
        actions += (Action("Register", f"register {event.id}", "primary"),)
    return Item(
        title=label(event),
        text=event.theme or "",
        fields=field_list(
            ("When", when(ctx, event)),
            ("Format", FORMAT_NAMES[event.format]),
            ("Places", places_text(ctx, event)),
            ("You", mine),
        ),
        actions=actions,
    )


@partner_staff_only
def list_events(ctx: Context) -> Reply:
    # Two statements at any size: the page with its places (counted on the event rows) and how
    # many are coming, then the caller's registrations on the page with their waitlist positions.
    shown, total = event_queries.upcoming_page(ctx.session, ctx.now, LIST_LIMIT)
    if not shown:
        return Reply(
            "No events are announced yet. Say `past events` to see earlier ones.",
            actions=(Action("Past events", "past events"),),
        )
    mine = event_queries.bookings(ctx.session, [e.id for e in shown], ctx.caller.person)
    more = f" The first {len(shown)} are below." if total > len(shown) else ""
    return Reply(
        f"{total} business transformation event{'s' if total != 1 else ''} coming up, free for every partner.{more}",
        title="Events",
        items=tuple(_event_item(ctx, e, mine.get(e.id)) for e in shown),
        footer="Say `register EVENT` to book a place (an event's number or part of its title).",
    )


@partner_staff_only
def show_event(ctx: Context, target: str) -> Reply:
    event = find_event(ctx, target, upcoming_only=False)
    reg = event_queries.registration(ctx.session, event, ctx.caller.person)
    mine = status_text(ctx, reg)
    has_place = reg is not None and reg.status is RegistrationStatus.CONFIRMED
    past = event.starts_at_utc <= ctx.now
    window = None
    opens, closes = event.registration_opens_at, event.registration_closes_at
    if not past and opens and opens > ctx.now:
        window = f"opens {format_moment(opens.astimezone(ctx.zone))}"
    elif not past and closes:
        window = f"{'closed' if closes <= ctx.now else 'closes'} {format_moment(closes.astimezone(ctx.zone))}"
    actions: tuple[Action, ...] = ()
    if not past and event.status is EventStatus.PUBLISHED:
        actions = (
            (Action("Unregister", f"unregister {event.id}", "danger"),)
            if mine
            else (Action("Register", f"register {event.id}", "primary"),)
        )
        actions += (Action("Add to calendar", f"calendar event {event.id}"),)
    lead = event.description or event.theme or event.title
    if event.status is EventStatus.CANCELLED:
        lead = "This event has been cancelled. " + lead
    elif past:
        lead = "This event has taken place. " + lead
    return Reply(
        lead,
        title=label(event),
        fields=field_list(
            ("Theme", event.theme),
            ("When", when(ctx, event)),
            ("Format", FORMAT_NAMES[event.format]),
            ("Venue", event.venue if event_queries.offers(event, AttendanceMode.IN_PERSON) else None),
            # The joining link is for people with a place (and the Partnership Office).
            ("Online link", event.online_url if has_place or ctx.caller.is_admin else None),
            ("Speakers", event.speakers),
            ("Places", None if past else places_text(ctx, event)),
            ("Registration", window),
            ("You", mine),
        ),
        actions=actions,
    )


def _closed_for_registration(ctx: Context, event: Event) -> Optional[Reply]:
    if event.status is EventStatus.CANCELLED:
        return Reply(f"{label(event)} has been cancelled, so it takes no registrations.")
    if event.starts_at_utc <= ctx.now:
        return Reply(
            f"{label(event)} has already taken place. Say `events` to see the ones coming up.",
            actions=(Action("Events", "events"),),
        )
    opens, closes = event.registration_opens_at, event.registration_closes_at
    if opens is not None and opens > ctx.now:
        return Reply(f"Registration for {label(event)} opens on {format_moment(opens.astimezone(ctx.zone))}.")
    if closes is not None and closes <= ctx.now:
        return Reply(f"Registration for {label(event)} closed on {format_moment(closes.astimezone(ctx.zone))}.")
    return None


def _mode(event: Event, words: Optional[str]) -> AttendanceMode:
    """The way of attending the words name, or the one the event offers; else a Refusal asking which."""
    offered = [m for m in AttendanceMode if event_queries.offers(event, m)]
    if words:
        mode = MODE_WORDS.get(" ".join(words.lower().split()))
        if mode is None or mode not in offered:
            only = " and ".join(MODE_NAMES[m] for m in offered)
            raise Refusal(
                Reply(
                    f"{label(event)} is {only} only.",
                    actions=tuple(
                        Action(f"Register {MODE_NAMES[m]}", f"register {event.id} {MODE_NAMES[m]}") for m in offered
                    ),
                )
            )
        return mode
    if len(offered) == 1:
        return offered[0]
    raise Refusal(
        Reply(
            f"{label(event)} is both in person and online. Which would you like?",
            actions=tuple(
                Action(f"Register {MODE_NAMES[m]}", f"register {event.id} {MODE_NAMES[m]}", "primary") for m in offered
            ),
        )
    )


def _ask_mode(ctx: Context, event: Event) -> Reply:
    """In person or online? Asked as a one-question form, so that `online` typed back is the answer."""
    asked = conversation.start(ctx, PLACE_FORM, {"event": event.id})
    if asked.form is not None:  # a platform showing whole forms: the buttons say it at once
        try:
            _mode(event, None)
        except Refusal as refusal:
            return refusal.reply
    return Reply(
        f"{label(event)} is both in person and online. Which would you like? (`in person` or `online`)",
        actions=tuple(
            Action(f"Register {MODE_NAMES[m]}", f"register {event.id} {MODE_NAMES[m]}", "primary")
            for m in AttendanceMode
        ),
    )


def _read_place(text: str, ctx: Context, values: Values) -> str:
    mode = MODE_WORDS.get(" ".join(text.lower().split()))
    if mode is None:
        raise FieldError("Say `in person` or `online`.")
    return MODE_NAMES[mode]


def _submit_place(ctx: Context, values: Values) -> Reply:
    return register(ctx, str(values["event"]), values["mode"])


PLACE_FORM = register_form(
    Form(
        "event_place",
        "How you'll attend",
        (
            FormField(
                "mode", "How", "In person or online?", _read_place, kind="choice", choices=("in person", "online")
            ),
        ),
        _submit_place,
        review=False,
    )
)


def _locked_event(ctx: Context, target: str) -> event_queries.Locked:
    """The event named (as find_event finds it), locked and read with the caller's registration.
    By its number that is the one statement; by its title, after finding it."""
    number = _number(target)
    if number is None:
        number = find_event(ctx, target).id
    held = event_queries.locked(ctx.session, number, ctx.caller.person)
    if held is None:
        raise _no_such_number(number)
    return held


@partner_staff_only
def register(ctx: Context, target: str, mode: Optional[str] = None) -> Reply:
    # Two statements for `register N`: the event locked and read, counters and the caller's
    # registration with it, then the registration's INSERT (the database's triggers count it).
    # Reminders need nothing now: jobs/reminders plans them from the places when one is due.
    held = _locked_event(ctx, target)
    event, existing = held.event, held.registration
    closed = _closed_for_registration(ctx, event)
    if closed:
        return closed
    if mode is None and existing is not None and existing.status is not RegistrationStatus.WITHDRAWN:
        return Reply(
            f"You're already registered for {label(event)}: {status_text(ctx, existing, held.position)}.",
            actions=(Action("Unregister", f"unregister {event.id}", "danger"), Action("My events", "my events")),
        )
    if mode is None and all(event_queries.offers(event, m) for m in AttendanceMode):
        return _ask_mode(ctx, event)
    conversation.end(ctx, PLACE_FORM.name)  # answered with the whole command (a button)
    chosen = _mode(event, mode)
    # Read under the lock, a cancelled event was refused above (it cannot be cancelled meanwhile).
    outcome = event_queries.register(ctx.session, event, ctx.caller.person, chosen, held)
    reg = outcome.registration
    actions = (Action("Unregister", f"unregister {event.id}", "danger"), Action("My events", "my events"))
    if outcome.already:  # not answered above: a mode was given
        return Reply(
            f"You're already registered for {label(event)}: {status_text(ctx, reg, held.position)}.", actions=actions
        )
    if outcome.status is RegistrationStatus.CONFIRMED:
        return Reply(
            f"You have a place at {label(event)}, {MODE_NAMES[reg.mode]}, on {when(ctx, event)}.",
            fields=field_list(
                ("Venue", event.venue if reg.mode is AttendanceMode.IN_PERSON else None),
                ("Online link", event.online_url if reg.mode is AttendanceMode.ONLINE else None),
            ),
            actions=(Action("Add to calendar", f"calendar event {event.id}"),) + actions,
        )
    position = outcome.position or event_queries.waitlist_position(ctx.session, reg)
    return Reply(
        f"{label(event)} is full {MODE_NAMES[reg.mode]}, so you're on the waitlist: number {position}. "
        "I'll tell you as soon as a place frees up.",
        actions=actions,
    )


def notify_promoted(ctx: Context, event: Event, promoted: list[Registration]) -> None:
    for reg in promoted:
        notice = Reply(
            f"Good news: a place has come up at {label(event)} on {when(ctx, event)}, and it's yours "
            f"({MODE_NAMES[reg.mode]}). If you can no longer come, say `unregister {event.id}` so that "
            "the next person can have it.",
            title="You have a place",
            actions=(Action("Event details", f"event {event.id}"),),
        )
        deliveries.record(
            ctx.session,
            DeliveryKind.EVENT_PROMOTED,
            keys.subject(keys.Thing.EVENT, event.id),
            keys.waitlist_turn(reg.id, reg.queued_at),
            [reg.person_id],
            notice.to_data(),
            due_at=ctx.now,
        )


@partner_staff_only
def unregister(ctx: Context, target: str) -> Reply:
    event = find_event(ctx, target)
    reg = event_queries.registration(ctx.session, event, ctx.caller.person)
    if reg is None or reg.status is RegistrationStatus.WITHDRAWN:
        return Reply(f"You're not registered for {label(event)}, so there's nothing to cancel.")
    if event.starts_at_utc <= ctx.now:
        return Reply(f"{label(event)} has already started or taken place.")
    was = reg.status
    promoted = event_queries.unregister(ctx.session, event, reg)
    notify_promoted(ctx, event, promoted)
    if was is RegistrationStatus.WAITLISTED:
        return Reply(f"You've left the waitlist for {label(event)}.")
    return Reply(
        f"You've given up your place at {label(event)}; thank you for letting someone else have it.",
        actions=(Action("Register again", f"register {event.id}"),),
    )


@partner_staff_only
def my_events(ctx: Context) -> Reply:
    regs = event_queries.registrations_of(ctx.session, ctx.caller.person, ctx.now)
    if not regs:
        return Reply(
            "You're not registered for any event coming up. Say `events` to see them.",
            actions=(Action("Events", "events"),),
        )
    positions = event_queries.waitlist_positions(ctx.session, regs)  # one statement, if any is waiting
    return Reply(
        f"You're registered for {len(regs)} event{'s' if len(regs) != 1 else ''}:",
        title="Your events",
        items=tuple(
            Item(
                title=label(r.event),
                fields=field_list(("When", when(ctx, r.event)), ("You", status_text(ctx, r, positions.get(r.id)))),
                actions=(Action("Details", f"event {r.event.id}"),),
            )
            for r in regs
        ),
    )


@partner_staff_only
def past_events(ctx: Context) -> Reply:
    earlier = event_queries.past(ctx.session, ctx.now)
    if not earlier:
        return Reply("No past events are recorded yet.")
    return Reply(
        "Earlier business transformation events:",
        title="Past events",
        items=tuple(
            Item(title=label(e), text=e.theme or "", fields=field_list(("When", when(ctx, e)))) for e in earlier
        ),
    )


@partner_staff_only
def sign_up(ctx: Context, target: str) -> Reply:
    """'sign me up for Future Workplaces' registers for an event; 'for the GIS group' joins it."""
    words, mode = " ".join(target.split()), None
    for phrase in sorted(MODE_WORDS, key=len, reverse=True):
        if words.lower().endswith(" " + phrase):
            words, mode = words[: -len(phrase) - 1], phrase
            break
    for pool in (event_queries.upcoming(ctx.session, ctx.now), event_queries.past(ctx.session, ctx.now)):
        event = resolve(words, [(e, _titles(e)) for e in pool]).found
        if event is not None:
            return register(ctx, str(event.id), mode)  # a past one is refused there, with the reason
    try:
        group = find_group(ctx, target)
    except Refusal:
        return Reply(
            f"I can't find an event or a group called “{quote(target)}”. Say `events` or `groups` to see them.",
            actions=(Action("Events", "events"), Action("Groups", "groups")),
        )
    return join(ctx, group.slug)
