"""Reminders: the automatic ones before meetings and events (each person's lead times, on or off),
the list of one's reminders and cancelling one. Personal ones (`remind me ...`) live in
handlers.personal_reminders and lead times in handlers.lead_times; what the router and the
worker's planner use of them is imported from here, as before."""

from __future__ import annotations

import re
from datetime import timedelta

from core.messages import Action, Item, Reply
from handlers.base import Context, partner_staff_only, quote
from handlers.lead_times import (
    DEFAULT_LEADS as DEFAULT_LEADS,
    due_before as due_before,
    lead_delta,
    lead_text as lead_text,
    parse_lead,
)
from handlers.personal_reminders import remind_me as remind_me
from handlers.when import DateError, format_moment
from storage import deliveries, reminders as reminder_settings
from storage.models import DeliveryKind, DeliveryStatus, ReminderSetting

# A reminder already this late when it is made is not made at all.
NOT_WORTH_SENDING = timedelta(hours=1)
WITHDRAWN = "no longer applies"


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
