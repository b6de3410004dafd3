"""Reminders: automatic ones before meetings and events, personal ones (`remind me ...`), settings."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Optional

from core.messages import Action, Item, Refusal, Reply
from handlers.base import Context, partner_staff_only, quote
from handlers.groups import find_group
from handlers.meetings import closed_group, when_text
from handlers.when import DateError, format_moment, parse_moment
from storage import deliveries, delivery_keys as keys, meetings as meeting_queries, reminders as reminder_settings
from storage.models import (
    DeliveryKind,
    DeliveryStatus,
    ReminderSetting,
)
from storage.wallclock import to_utc

DEFAULT_LEADS = ("7d", "1d")
MAX_LEAD = timedelta(days=28)
# A reminder already this late when it is made is not made at all.
NOT_WORTH_SENDING = timedelta(hours=1)
WITHDRAWN = "no longer applies"

_LEAD = re.compile(r"^(\d{1,3})\s*(d|days?|h|hours?|hrs?|m|mins?|minutes?|w|weeks?)$")
UNIT_NAMES = {"w": "week", "d": "day", "h": "hour", "m": "minute"}


# --- lead times ------------------------------------------------------------------------------


def parse_lead(words: str) -> str:
    """'7 days' -> '7d', '2 hours' -> '2h', 'a week' -> '1w'."""
    text = " ".join(words.lower().replace("an ", "1 ").replace("a ", "1 ").split())
    match = _LEAD.match(text)
    if not match:
        raise DateError(f"“{words.strip()[:30]}” isn't a lead time; say e.g. `7 days`, `1 day` or `2 hours`.")
    lead = f"{int(match[1])}{match[2][0]}"
    if not timedelta(minutes=5) <= lead_delta(lead) <= MAX_LEAD:
        raise DateError("A reminder can come between 5 minutes and 4 weeks before.")
    return lead


def lead_delta(lead: str) -> timedelta:
    amount, unit = int(lead[:-1]), lead[-1]
    return {
        "w": timedelta(weeks=amount),
        "d": timedelta(days=amount),
        "h": timedelta(hours=amount),
        "m": timedelta(minutes=amount),
    }[unit]


def lead_text(lead: str) -> str:
    amount, unit = int(lead[:-1]), UNIT_NAMES[lead[-1]]
    return f"{amount} {unit}{'s' if amount != 1 else ''}"


def due_before(start_local: datetime, zone: str, lead: str) -> datetime:
    """When a reminder `lead` before a local start is due, as a UTC instant.

    Days and weeks are counted on the wall clock: "7 days before 10:00" is 10:00 a week
    earlier, whatever the clocks did in between. Hours and minutes are counted in real time.
    """
    if lead[-1] in ("d", "w"):
        return to_utc(start_local - lead_delta(lead), zone)
    return to_utc(start_local, zone) - lead_delta(lead)


# --- chat: personal reminders and settings ---------------------------------------------------------

_BEFORE = re.compile(r"^(?:(?P<lead>.+?)\s+)?before\s+(?:the\s+)?(?:next\s+)?(?P<group>.+?)(?:\s+group)?\s+meeting$")
_IN = re.compile(r"^in\s+(?P<lead>.+?)\s+(?:to|about|that)\s+(?P<text>.+)$")
_AT = re.compile(r"^(?P<when>.+?)\s+(?:to|about|that)\s+(?P<text>.+)$")


@partner_staff_only
def remind_me(ctx: Context, words: str) -> Reply:
    words = " ".join(words.split())
    before = _BEFORE.match(words.lower())
    if before:
        return _before_meeting(ctx, before["lead"] or "1 day", words[before.start("group") : before.end("group")])
    inside = _IN.match(words)
    if inside:
        try:
            due = ctx.now + lead_delta(parse_lead(inside["lead"]))
        except DateError as exc:
            return Reply(str(exc))
        due = due.replace(second=0, microsecond=0)  # the same request twice is the same reminder
        return _personal(ctx, due, inside["text"])
    at = _AT.match(words)
    if at:
        return _personal(ctx, _moment(ctx, at["when"]), at["text"])
    return Reply(
        "Tell me when and what, e.g. `remind me 2 hours before the GIS meeting`, `remind me tomorrow at "
        "9 to submit my idea`, or `remind me in 30 minutes to call Medway`."
    )


def _moment(ctx: Context, words: str) -> datetime:
    """'tomorrow at 9', 'on 3 March at 10:00', 'at 14:00' (today), '9 March'; else a Refusal."""
    today = ctx.now.astimezone(ctx.zone).date()
    try:
        moment = parse_moment(words.lower(), today, time(9, 0), default_day=today)
    except DateError as exc:
        raise Refusal(str(exc)) from None
    return to_utc(moment.start, ctx.settings.timezone)


def _personal(
    ctx: Context, due: datetime, what: str, not_after: Optional[datetime] = None, occurrence: Optional[str] = None
) -> Reply:
    what = what.strip().rstrip(".")
    if len(what) > 500:
        return Reply("Please keep the reminder to 500 characters.")
    if due <= ctx.now:
        return Reply(f"{format_moment(due.astimezone(ctx.zone))} has already passed; give me a time to come.")
    if due > ctx.now + timedelta(days=366):
        return Reply("I keep reminders for up to a year ahead.")
    shown = format_moment(due.astimezone(ctx.zone))
    # The same request twice (a retried message) makes one reminder, not two.
    key = occurrence or keys.personal_occurrence(due, what)
    notice = Reply(f"You asked me to remind you: {what}", title="Reminder")
    made = deliveries.record(
        ctx.session,
        DeliveryKind.PERSONAL_REMINDER,
        keys.subject(keys.Thing.PERSON, ctx.caller.person.id),
        key,
        [ctx.caller.person.id],
        notice.to_data(),
        due_at=due,
        not_after=not_after,
    )
    if not made:
        return Reply(f"You already have that reminder, for {shown}.")
    return Reply(f"OK, I'll remind you on {shown}: “{what}”.", actions=(Action("My reminders", "reminders"),))


def _before_meeting(ctx: Context, lead_words: str, group_words: str) -> Reply:
    try:
        lead = parse_lead(lead_words)
    except DateError as exc:
        return Reply(str(exc))
    group = find_group(ctx, group_words)
    if not ctx.caller.may_see(group):
        return closed_group(group)
    upcoming = meeting_queries.upcoming(ctx.session, ctx.now, [group.id], limit=1)
    if not upcoming:
        return Reply(f"{group.name} has no meeting scheduled yet, so there is nothing to remind you of.")
    meeting = upcoming[0]
    due = due_before(meeting.start_local, meeting.timezone, lead)
    return _personal(
        ctx,
        due,
        f"{group.name} meets on {when_text(ctx, meeting)}",
        not_after=meeting.starts_at_utc,
        occurrence=keys.personal_meeting_occurrence(meeting.id, lead, meeting.start_local),
    )


def _setting(ctx: Context) -> ReminderSetting:
    return reminder_settings.settings_for_update(ctx.session, ctx.caller.person.id, DEFAULT_LEADS)


@partner_staff_only
def reminders(ctx: Context) -> Reply:
    setting = reminder_settings.settings_of(ctx.session, ctx.caller.person.id) if ctx.caller.person.id else None
    enabled = setting.enabled if setting else True
    leads = setting.lead_times if setting else list(DEFAULT_LEADS)
    mine = (
        deliveries.pending_of_kind(ctx.session, DeliveryKind.PERSONAL_REMINDER, ctx.caller.person.id)
        if ctx.caller.person.id
        else []
    )
    automatic = (
        "on: " + " and ".join(lead_text(x) for x in leads) + " before each of your meetings and events"
        if enabled
        else "off"
    )
    return Reply(
        f"Automatic reminders are {automatic}.",
        title="Your reminders",
        items=tuple(
            Item(
                title=f"Reminder {d.id}: {format_moment(d.due_at.astimezone(ctx.zone))}",
                text=d.payload.get("text", ""),
                actions=(Action("Cancel it", f"cancel reminder {d.id}", "danger"),),
            )
            for d in mine
        ),
        footer="Say `reminders off`, `reminders on`, or `reminders 3 days, 2 hours` to change the lead times; "
        "`remind me ...` for one of your own.",
    )


@partner_staff_only
def reminders_switch(ctx: Context, state: str) -> Reply:
    setting = _setting(ctx)
    setting.enabled = state.lower() == "on"
    if setting.enabled:
        return Reply(
            "Automatic reminders are on: "
            + " and ".join(lead_text(x) for x in setting.lead_times)
            + " before each of your meetings and events."
        )
    return Reply("Automatic reminders are off. Your own `remind me` reminders still come.")


@partner_staff_only
def reminder_leads(ctx: Context, leads: str) -> Reply:
    parts = [p for p in re.split(r",|\band\b", leads) if p.strip()]
    try:
        chosen = sorted({parse_lead(p) for p in parts}, key=lead_delta, reverse=True)
    except DateError as exc:
        return Reply(str(exc))
    if not chosen or len(chosen) > 4:
        return Reply("Give one to four lead times, e.g. `reminders 7 days, 1 day`.")
    setting = _setting(ctx)
    setting.enabled, setting.lead_times = True, chosen
    return Reply(
        "Done: I'll remind you "
        + " and ".join(lead_text(x) for x in chosen)
        + " before each of your meetings and events."
    )


@partner_staff_only
def cancel_reminder(ctx: Context, number: str) -> Reply:
    delivery = deliveries.get(ctx.session, int(number)) if number.isdigit() and len(number) < 10 else None
    if (
        delivery is None
        or delivery.recipient_id != ctx.caller.person.id
        or delivery.kind is not DeliveryKind.PERSONAL_REMINDER
        or delivery.status is not DeliveryStatus.PENDING
    ):
        return Reply(f"You have no reminder {quote(number)} waiting. Say `reminders` to see yours.")
    delivery.status, delivery.last_error = DeliveryStatus.SKIPPED, "cancelled by the person"
    return Reply("Cancelled that reminder.")
