"""Planning the automatic reminders (run by every worker): 7 days and 1 day before each meeting of
a person's groups and each event they have a place at, or the lead times they chose."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Union
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.messages import Action, Reply, field_list
from handlers.reminders import DEFAULT_LEADS, NOT_WORTH_SENDING, WITHDRAWN, due_before, lead_text
from handlers.when import meeting_span
from storage import (
    deliveries,
    delivery_keys as keys,
    events as event_queries,
    groups as group_queries,
    meetings as meeting_queries,
    reminders as reminder_settings,
)
from storage.models import (
    DeliveryKind,
    DeliveryStatus,
    Event,
    EventStatus,
    Meeting,
    MeetingStatus,
    ReminderSetting,
)

# Reminders are made this far ahead of their meeting (beyond the longest lead time allowed).
PLAN_AHEAD = timedelta(days=32)
KINDS = (DeliveryKind.MEETING_REMINDER, DeliveryKind.EVENT_REMINDER)


@dataclass(frozen=True)
class _Wanted:
    """One reminder of one meeting or event, `lead` before it, for everyone in `people`."""

    kind: DeliveryKind
    subject: str
    occurrence: str
    due_at: datetime
    not_after: datetime
    message: Reply
    people: tuple[int, ...]


def _leads(settings: dict[int, ReminderSetting], person_id: int) -> tuple[str, ...]:
    setting = settings.get(person_id)
    if setting is None:
        return DEFAULT_LEADS
    return tuple(setting.lead_times) if setting.enabled else ()


def plan(session: Session, now: datetime, zone_name: str) -> int:
    """Make the reminders due for meetings and events in the coming weeks; withdraw those that
    no longer apply (a meeting moved or cancelled, a person who left or turned reminders off).

    Safe to run by every worker at once: a reminder's unique key makes a second insert a no-op.
    Returns how many reminders were new.
    """
    settings = reminder_settings.all_settings(session)
    horizon = now + PLAN_AHEAD
    meetings = meeting_queries.upcoming(session, now, until=horizon, include_cancelled=True)
    events = event_queries.starting_between(session, now, horizon)
    members = group_queries.member_ids(
        session, {m.group_id for m in meetings if m.status is not MeetingStatus.CANCELLED}
    )
    places = event_queries.with_a_place(session, [e.id for e in events if e.status is not EventStatus.CANCELLED])
    wanted: list[_Wanted] = []
    # Every meeting and event in the coming weeks, with the (occurrence, person) pairs it should have.
    subjects: dict[tuple[DeliveryKind, str], set[tuple[str, int]]] = {}
    things: list[tuple[DeliveryKind, Union[Meeting, Event], list[int]]] = [
        (DeliveryKind.MEETING_REMINDER, m, members.get(m.group_id, [])) for m in meetings
    ]
    things += [(DeliveryKind.EVENT_REMINDER, e, places.get(e.id, [])) for e in events]
    for kind, thing, people in things:
        subject = keys.subject(
            keys.Thing.MEETING if kind is DeliveryKind.MEETING_REMINDER else keys.Thing.EVENT, thing.id
        )
        subjects[(kind, subject)] = set()
        if _cancelled(thing):
            continue
        for item in _for(thing, kind, subject, people, settings, now, zone_name):
            wanted.append(item)
            subjects[(kind, subject)].update((item.occurrence, person) for person in item.people)

    existing = deliveries.keyed_about(session, KINDS, {subject for _, subject in subjects})
    _withdraw_unwanted(session, subjects, existing)
    made = 0
    planned = {(d.kind, d.subject, d.occurrence, d.recipient_id): d for d in existing if d.channel == keys.DIRECT}
    for item in wanted:
        found = [planned.get((item.kind, item.subject, item.occurrence, p)) for p in item.people]
        new = [p for p, d in zip(item.people, found, strict=True) if d is None]
        # A reminder withdrawn earlier and wanted again (moved back, reminders on again).
        withdrawn = [
            d.recipient_id
            for d in found
            if d is not None and d.status is DeliveryStatus.SKIPPED and (d.last_error or "").startswith(WITHDRAWN)
        ]
        if not new and not withdrawn:
            continue  # all made already: the usual round
        payload = item.message.to_data()
        if new:
            made += deliveries.record(
                session,
                item.kind,
                item.subject,
                item.occurrence,
                new,
                payload,
                due_at=item.due_at,
                not_after=item.not_after,
            )
        if withdrawn:
            made += deliveries.revive(
                session,
                item.kind,
                item.subject,
                item.occurrence,
                withdrawn,
                payload,
                item.due_at,
                item.not_after,
                WITHDRAWN,
            )
    _follow_personal(session, now)
    return made


def _follow_personal(session: Session, now: datetime) -> None:
    """`remind me 2 hours before the GIS meeting` follows its meeting: moved, it moves; cancelled, it goes."""
    pending = deliveries.pending_following_meetings(session)
    follows = {d.id: keys.parse_personal_meeting_occurrence(d.occurrence) for d in pending}
    meetings = meeting_queries.by_ids(session, {f.meeting_id for f in follows.values() if f is not None})
    cancelled, moved = [], []
    for delivery in pending:
        following = follows[delivery.id]
        meeting = meetings.get(following.meeting_id) if following is not None else None
        if following is None or meeting is None or meeting.status is MeetingStatus.CANCELLED:
            cancelled.append(delivery.id)
        elif meeting.start_local != following.start_local:
            moved.append((delivery, following.lead, meeting))
    # A reminder moving onto the key of another (the person asked again for the new date) goes.
    new_keys = {keys.personal_meeting_occurrence(m.id, lead, m.start_local) for _, lead, m in moved}
    taken = {
        (d.subject, d.occurrence, d.recipient_id, d.channel)
        for d in deliveries.keyed_with_occurrences(session, DeliveryKind.PERSONAL_REMINDER, new_keys)
    }
    clashes, changes = [], []
    for delivery, lead, meeting in moved:  # in id order: the first of two moving onto one key keeps it
        occurrence = keys.personal_meeting_occurrence(meeting.id, lead, meeting.start_local)
        due = due_before(meeting.start_local, meeting.timezone, lead)
        key = (delivery.subject, occurrence, delivery.recipient_id, delivery.channel)
        if key in taken or due <= now:
            clashes.append(delivery.id)
            continue
        taken.add(key)
        text = (
            f"You asked me to remind you: {meeting.group.name} meets on "
            f"{meeting_span(meeting.start_local, meeting.end_local, meeting.timezone, ZoneInfo(meeting.timezone))}"
        )
        changes.append(
            {
                "id": delivery.id,
                "occurrence": occurrence,
                "due_at": due,
                "not_after": meeting.starts_at_utc,
                "payload": Reply(text, title="Reminder").to_data(),
            }
        )
    deliveries.skip_if_pending(session, cancelled, f"{WITHDRAWN} (meeting cancelled)")
    deliveries.skip_if_pending(session, clashes, f"{WITHDRAWN} (meeting moved)")
    deliveries.rewrite(session, changes)


def _for(
    thing: Union[Meeting, Event],
    kind: DeliveryKind,
    subject: str,
    people: Iterable[int],
    settings: dict[int, ReminderSetting],
    now: datetime,
    zone_name: str,
) -> Iterator[_Wanted]:
    """The reminders of one meeting or event: one per lead time anyone wants, for all who want it."""
    by_lead: dict[str, list[int]] = defaultdict(list)
    for person_id in people:
        for lead in _leads(settings, person_id):
            by_lead[lead].append(person_id)
    starts = thing.starts_at_utc
    for lead, who in by_lead.items():
        due = due_before(thing.start_local, thing.timezone, lead)
        if due < now - NOT_WORTH_SENDING or due >= starts:
            continue
        yield _Wanted(
            kind,
            subject,
            keys.reminder_occurrence(lead, thing.start_local),
            due,
            starts,
            _message(thing, lead, zone_name),
            tuple(who),
        )


def _message(thing: Union[Meeting, Event], lead: str, zone_name: str) -> Reply:
    span = meeting_span(thing.start_local, thing.end_local, thing.timezone, ZoneInfo(zone_name))
    if isinstance(thing, Meeting):
        return Reply(
            f"Reminder: {thing.group.name} meets in {lead_text(lead)}, on {span}.",
            title=f"{thing.group.name} meeting",
            fields=field_list(("Where", thing.place), ("Online", thing.online_url)),
            actions=(Action("Details", f"next {thing.group.slug} meeting"), Action("Reminder settings", "reminders")),
        )
    return Reply(
        f"Reminder: {thing.title} is in {lead_text(lead)}, on {span}.",
        title=thing.title,
        fields=field_list(("Venue", thing.venue)),
        actions=(Action("Details", f"event {thing.id}"), Action("Can't come? Unregister", f"unregister {thing.id}")),
    )


def _withdraw_unwanted(
    session: Session, subjects: dict[tuple[DeliveryKind, str], set[tuple[str, int]]], existing: list[deliveries.Keyed]
) -> None:
    unwanted = [
        d.id
        for d in existing
        if d.status is DeliveryStatus.PENDING
        and (d.kind, d.subject) in subjects
        and (d.occurrence, d.recipient_id) not in subjects[(d.kind, d.subject)]
    ]
    deliveries.skip_if_pending(session, unwanted, f"{WITHDRAWN} (moved, cancelled, left, or reminders changed)")
    # A meeting or event moved out of the planning window: its old reminders must not go.
    stale = []
    for reminder in deliveries.pending_reminders_except(
        session,
        meetings=[s for k, s in subjects if k is DeliveryKind.MEETING_REMINDER],
        events=[s for k, s in subjects if k is DeliveryKind.EVENT_REMINDER],
    ):
        occurrence = keys.parse_reminder_occurrence(reminder.occurrence)
        if (
            reminder.start_local is None
            or reminder.cancelled
            or occurrence is None
            or occurrence.start_local != reminder.start_local
        ):
            stale.append(reminder.id)
    deliveries.skip_if_pending(session, stale, f"{WITHDRAWN} (moved or cancelled)")


def _cancelled(thing: Union[Meeting, Event]) -> bool:
    return thing.status in (MeetingStatus.CANCELLED, EventStatus.CANCELLED)
