"""Messages the bot started itself, seen from the person's side: `notices` lists what was sent to
them recently on every platform, and the console shows what waited for them at their next chat."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from core.messages import Action, Item, Reply
from handlers.base import Context, partner_staff_only, private_only, quote
from handlers.when import format_moment
from storage import deliveries
from storage.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

RECENT = timedelta(days=30)
SHOWN_AT_ONCE = 10
PLACES = {"slack": "in Slack", "teams": "in Teams", "console": "in the console"}


def _summary(delivery: Delivery) -> tuple[str, str]:
    """A delivered message's title and first words, from its stored Reply."""
    payload = delivery.payload or {}
    text = str(payload.get("text") or "")
    title = str(payload.get("title") or "") or quote(text.splitlines()[0] if text else "a message")
    return title, quote(text) if payload.get("title") else ""


def waiting_for(ctx: Context, reachable: Iterable[str]) -> list[Reply]:
    """The console's share: messages held for this person (or due, with no platform reaching
    them), each as it would have arrived, marked delivered in the console."""
    if ctx.caller.person.id is None:
        return []
    taken = deliveries.take_held(ctx.session, ctx.caller.person.id, ctx.now, reachable, SHOWN_AT_ONCE)
    shown = []
    for delivery in taken:
        try:
            message = Reply.from_data(delivery.payload)
        except (KeyError, TypeError, ValueError, AttributeError):
            logger.exception("delivery %s has an unreadable payload", delivery.id)
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, "unreadable message"
            delivery.sent_at = delivery.delivered_via = None
            continue
        sent = format_moment(delivery.due_at.astimezone(ctx.zone))
        shown.append(
            Reply(
                message.text,
                title=" · ".join(filter(None, (message.title, f"sent {sent}"))),
                fields=message.fields,
                items=message.items,
                actions=message.actions,
                footer=message.footer,
            )
        )
    left = deliveries.count_waiting(ctx.session, ctx.caller.person.id, ctx.now) if len(taken) == SHOWN_AT_ONCE else 0
    if left:
        shown.append(
            Reply(
                f"{left} more message{'s' if left != 1 else ''} wait for you: I'll show them with "
                "your next message, or say `notices`."
            )
        )
    return shown


@partner_staff_only
@private_only
def notices(ctx: Context) -> Reply:
    """What the bot sent the person in the last 30 days, on every platform, newest first."""
    if ctx.caller.person.id is None:
        return Reply("I haven't sent you anything yet.")
    found, total = deliveries.recent_for(ctx.session, ctx.caller.person.id, ctx.now - RECENT)
    if not found:
        return Reply(
            "I haven't sent you anything in the last 30 days. Reminders, announcements of your groups "
            "and news of your ideas and event places will show here.",
            actions=(Action("Reminders", "reminders"), Action("Announcements", "announcements")),
        )
    items = []
    for delivery in found:
        title, first_words = _summary(delivery)
        if delivery.status is DeliveryStatus.SENT and delivery.sent_at is not None:
            when = f"{format_moment(delivery.sent_at.astimezone(ctx.zone))}, {PLACES.get(delivery.delivered_via or '', 'sent')}"
        else:
            when = f"{format_moment(delivery.due_at.astimezone(ctx.zone))}, not delivered yet"
        items.append(Item(title=title, text="\n".join(filter(None, (when, first_words)))))
    more = f" (the newest {len(found)} of {total})" if total > len(found) else ""
    return Reply(f"What I sent you in the last 30 days{more}:", title="Your notices", items=tuple(items))
