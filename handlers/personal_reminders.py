"""Personal reminders (`remind me ...`): at a moment ('tomorrow at 9', 'in 30 minutes'), or before
a group's next meeting ('2 hours before the GIS meeting'), which the reminder then follows."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Optional

from core.messages import Action, Refusal, Reply
from handlers.base import Context, partner_staff_only
from handlers.groups import find_group
from handlers.lead_times import due_before, lead_delta, parse_lead
from handlers.meetings import closed_group, when_text
from handlers.when import DateError, format_moment, parse_moment
from storage import deliveries, delivery_keys as keys, meetings as meeting_queries
from storage.models import DeliveryKind
from storage.wallclock import to_utc

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
