"""Planning the automatic reminders (run by every worker): 7 days and 1 day before each meeting of
a person's groups and each event they have a place at, or the lead times they chose."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Optional, Union
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.messages import Action, Reply, field_list
from handlers.reminders import DEFAULT_LEADS, NOT_WORTH_SENDING, WITHDRAWN, due_before, lead_text
from handlers.when import meeting_span
from storage import deliveries
from storage import delivery_keys as keys
from storage import events as event_queries
from storage import groups as group_queries
from storage import meetings as meeting_queries
from storage.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Event,
    EventStatus,
    Meeting,
    MeetingStatus,
    ReminderSetting,
    RegistrationStatus,
)

# Reminders are made this far ahead of their meeting (beyond the longest lead time allowed).
PLAN_AHEAD = timedelta(days=32)


@dataclass(frozen=True)
class _Wanted:
    kind: DeliveryKind
    subject: str
    occurrence: str
    recipient_id: int
    due_at: datetime
    not_after: datetime
    message: Reply


def _settings(session: Session) -> dict[int, ReminderSetting]:
    return {s.person_id: s for s in session.execute(select(ReminderSetting)).scalars()}


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
    settings = _settings(session)
    wanted: list[_Wanted] = []
    subjects: dict[tuple[DeliveryKind, str], set[tuple[str, int]]] = {}
    horizon = now + PLAN_AHEAD
    for meeting in meeting_queries.upcoming(session, now, until=horizon, include_cancelled=True):
        subject = keys.subject(keys.Thing.MEETING, meeting.id)
        subjects[(DeliveryKind.MEETING_REMINDER, subject)] = set()
        if meeting.status is MeetingStatus.CANCELLED:
            continue
        people = [m.person_id for m in group_queries.members(session, meeting.group)]
        for item in _for(meeting, DeliveryKind.MEETING_REMINDER, subject, people, settings, now, zone_name):
            wanted.append(item)
            subjects[(DeliveryKind.MEETING_REMINDER, subject)].add((item.occurrence, item.recipient_id))
    for event in event_queries.all_events(session):
        if not now <= event.starts_at_utc < horizon:
            continue
        subject = keys.subject(keys.Thing.EVENT, event.id)
        subjects[(DeliveryKind.EVENT_REMINDER, subject)] = set()
        if event.status is EventStatus.CANCELLED:
            continue
        people = [r.person_id for r in event_queries.registrants(session, event)
                  if r.status is RegistrationStatus.CONFIRMED]
        for item in _for(event, DeliveryKind.EVENT_REMINDER, subject, people, settings, now, zone_name):
            wanted.append(item)
            subjects[(DeliveryKind.EVENT_REMINDER, subject)].add((item.occurrence, item.recipient_id))

    _withdraw_unwanted(session, subjects)
    made = 0
    by_key: dict[tuple, list[_Wanted]] = defaultdict(list)
    for item in wanted:
        by_key[(item.kind, item.subject, item.occurrence, item.due_at, item.not_after)].append(item)
    for (kind, subject, occurrence, due_at, not_after), items in by_key.items():
        people, payload = [i.recipient_id for i in items], items[0].message.to_data()
        made += deliveries.record(session, kind, subject, occurrence, people, payload, due_at=due_at,
                                  not_after=not_after)
        # A reminder withdrawn earlier and wanted again (moved back, reminders on again).
        made += deliveries.revive(session, kind, subject, occurrence, people, payload, due_at, not_after, WITHDRAWN)
    _follow_personal(session, now)
    return made


def _follow_personal(session: Session, now: datetime) -> None:
    """`remind me 2 hours before the GIS meeting` follows its meeting: moved, it moves; cancelled, it goes."""
    for delivery in session.execute(
        select(Delivery).where(Delivery.kind == DeliveryKind.PERSONAL_REMINDER, Delivery.status == DeliveryStatus.PENDING,
                               keys.follows_a_meeting_sql(Delivery.occurrence))
    ).scalars():
        follows = keys.parse_personal_meeting_occurrence(delivery.occurrence)
        meeting = session.get(Meeting, follows.meeting_id) if follows else None
        if follows is None or meeting is None or meeting.status is MeetingStatus.CANCELLED:
            delivery.status, delivery.last_error = DeliveryStatus.SKIPPED, f"{WITHDRAWN} (meeting cancelled)"
            continue
        if meeting.start_local == follows.start_local:
            continue
        due = due_before(meeting.start_local, meeting.timezone, follows.lead)
        moved = keys.personal_meeting_occurrence(meeting.id, follows.lead, meeting.start_local)
        clash = session.execute(select(Delivery.id).where(
            Delivery.kind == delivery.kind, Delivery.subject == delivery.subject,
            Delivery.occurrence == moved,
            Delivery.recipient_id == delivery.recipient_id, Delivery.channel == delivery.channel)).first()
        if clash is not None or due <= now:
            delivery.status, delivery.last_error = DeliveryStatus.SKIPPED, f"{WITHDRAWN} (meeting moved)"
            continue
        delivery.occurrence = moved
        delivery.due_at, delivery.not_after = due, meeting.starts_at_utc
        text = f"You asked me to remind you: {meeting.group.name} meets on " \
               f"{meeting_span(meeting.start_local, meeting.end_local, meeting.timezone, ZoneInfo(meeting.timezone))}"
        delivery.payload = Reply(text, title="Reminder").to_data()
    session.flush()


def _for(thing: Union[Meeting, Event], kind: DeliveryKind, subject: str, people: Iterable[int],
         settings: dict[int, ReminderSetting], now: datetime, zone_name: str) -> Iterable[_Wanted]:
    starts = thing.starts_at_utc
    for person_id in people:
        for lead in _leads(settings, person_id):
            due = due_before(thing.start_local, thing.timezone, lead)
            if due < now - NOT_WORTH_SENDING or due >= starts:
                continue
            yield _Wanted(kind, subject, keys.reminder_occurrence(lead, thing.start_local), person_id, due, starts,
                          _message(thing, lead, zone_name))


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


def _withdraw_unwanted(session: Session, subjects: dict[tuple[DeliveryKind, str], set[tuple[str, int]]]) -> None:
    if not subjects:
        return
    pending = session.execute(
        select(Delivery).where(
            Delivery.kind.in_({kind for kind, _ in subjects}),
            Delivery.subject.in_({subject for _, subject in subjects}),
            Delivery.status == DeliveryStatus.PENDING,
        )
    ).scalars()
    unwanted = [d.id for d in pending if (d.kind, d.subject) in subjects
                and (d.occurrence, d.recipient_id) not in subjects[(d.kind, d.subject)]]
    deliveries.skip_if_pending(session, unwanted, f"{WITHDRAWN} (moved, cancelled, left, or reminders changed)")
    stale = []
    # A meeting or event moved out of the planning window: its old reminders must not go.
    for delivery in session.execute(
        select(Delivery).where(Delivery.kind.in_((DeliveryKind.MEETING_REMINDER, DeliveryKind.EVENT_REMINDER)),
                               Delivery.status == DeliveryStatus.PENDING)
    ).scalars():
        if (delivery.kind, delivery.subject) in subjects:
            continue
        thing = _subject(session, delivery.subject)
        occurrence = keys.parse_reminder_occurrence(delivery.occurrence)
        if thing is None or _cancelled(thing) or occurrence is None or thing.start_local != occurrence.start_local:
            stale.append(delivery.id)
    deliveries.skip_if_pending(session, stale, f"{WITHDRAWN} (moved or cancelled)")


def _subject(session: Session, subject: str) -> Optional[Union[Meeting, Event]]:
    about = keys.parse_subject(subject)
    model = {keys.Thing.MEETING: Meeting, keys.Thing.EVENT: Event}.get(about.thing) if about else None
    return session.get(model, about.id) if model and about else None


def _cancelled(thing: Union[Meeting, Event]) -> bool:
    return thing.status in (MeetingStatus.CANCELLED, EventStatus.CANCELLED)
