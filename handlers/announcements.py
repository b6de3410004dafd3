"""Chairs' announcements to their groups, now or later, with a delivery report and acknowledgements."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Optional

from core.forms import FieldError
from core.messages import Action, Field, Item, Refusal, Reply
from handlers.audit import record
from handlers.base import Context, partner_staff_only, quote
from handlers.fields import read_moment, today
from handlers.names import normalise
from handlers.when import format_moment
from storage import (
    announcements as announcement_queries,
    channels as channel_queries,
    deliveries,
    delivery_keys as keys,
    groups as group_queries,
)
from storage.models import (
    Announcement,
    AnnouncementStatus,
    DeliveryKind,
    DeliveryStatus,
    Group,
    MemberRole,
)

MAX_TEXT = 3000


def _subject(announcement_id: int) -> str:
    return keys.subject(keys.Thing.ANNOUNCEMENT, announcement_id)


def _exact_group(ctx: Context, words: str) -> Optional[Group]:
    """A group named exactly (name, slug or alias): the start of `announce GROUP TEXT`."""
    q = normalise(words)
    for group in group_queries.all_groups(ctx.session):
        if q in {normalise(n) for n in (group.name, group.slug, *(a.alias for a in group.aliases))}:
            return group
    return None


def _split_group(ctx: Context, words: str) -> tuple[Optional[Group], str]:
    """The group named at the start, and the rest exactly as typed (line breaks kept)."""
    spans = [m.span() for m in re.finditer(r"\S+", words)]
    for cut in range(min(len(spans), 6), 0, -1):
        group = _exact_group(ctx, words[: spans[cut - 1][1]])
        if group is not None:
            return group, words[spans[cut - 1][1] :].strip().lstrip(":,- ").strip()
    return None, words


# "at 9 March 2027 09:00: Hello": the colon that ends the time is followed by a space.
_WHEN = re.compile(r"^(?:at|on)\s+(?P<when>.+?)\s*:\s+(?P<text>.+)$", re.IGNORECASE | re.DOTALL)


def _split_when(ctx: Context, rest: str) -> tuple[Optional[datetime], str]:
    """'at 9 March 2027 09:00: Hello' or 'at tomorrow 9am Hello': the time, and the text; a
    Refusal for a time it can't read."""
    explicit = _WHEN.match(rest)
    if not explicit:
        return None, rest  # "On Friday the report is out" is the text itself
    words = explicit["when"]
    try:  # a time alone is today's
        moment = read_moment(words, ctx, time(9), default_day=today(ctx))
    except FieldError:
        raise Refusal(
            f"I couldn't read “{words[:40]}” as when to send it. Write e.g. "
            "`announce gis at 9 March 2027 09:00: Your text`."
        ) from None
    return datetime.fromisoformat(moment["utc"]), explicit["text"]


def _may_announce(ctx: Context, group: Group) -> bool:
    return ctx.caller.is_admin or ctx.caller.is_chair(group)


def _as_typed(ctx: Context, words: str) -> str:
    """The words after `announce` as the person typed them: the router's tidying drops emoji
    and end punctuation, which belong in an announcement."""
    typed = ctx.request.text
    at = typed.lower().find("announce")
    return typed[at + len("announce") :].strip() if at >= 0 else words


@partner_staff_only
def announce(ctx: Context, words: str = "") -> Reply:
    group, rest = _split_group(ctx, _as_typed(ctx, words))
    if group is None:
        return Reply(
            "Which group? Write `announce GROUP TEXT`, e.g. `announce gis The data drill report is out`, "
            "or `announce gis at 9 March 2027 09:00: TEXT` to send it later.",
            actions=(Action("Groups", "groups"),),
        )
    if not _may_announce(ctx, group):
        return Reply(f"Only the chairs of {group.name} and the Partnership Office can announce to it.")
    send_at, text = _split_when(ctx, rest)
    text = text.strip()
    if not text:
        return Reply(f"What should the announcement to {group.name} say? `announce {group.slug} TEXT`.")
    if len(text) > MAX_TEXT:
        return Reply(f"An announcement can be at most {MAX_TEXT:,} characters (that was {len(text):,}).")
    if send_at is not None and send_at <= ctx.now:
        return Reply(
            f"{format_moment(send_at.astimezone(ctx.zone))} has already passed; give a time to come, "
            "or leave the time out to send it now."
        )
    later = send_at is not None
    announcement = announcement_queries.add(
        ctx.session,
        group.id,
        ctx.caller.person.id,
        text,
        send_at or ctx.now,
        AnnouncementStatus.SCHEDULED if later else AnnouncementStatus.SENT,
    )
    author = ctx.caller.person.display_name or ctx.caller.email
    message = Reply(
        text,
        title=f"{group.name}: announcement from {author}",
        actions=(Action("Acknowledge", f"ack {announcement.id}", "primary"),),
    )
    recipients = [m.person_id for m in group_queries.members(ctx.session, group) if m.person_id != ctx.caller.person.id]
    deliveries.record(
        ctx.session,
        DeliveryKind.ANNOUNCEMENT,
        _subject(announcement.id),
        keys.ANNOUNCED,
        recipients,
        message.to_data(),
        due_at=announcement.send_at,
    )
    for linked in channel_queries.of_group(ctx.session, group.id):  # posted in the group's channels too
        deliveries.record(
            ctx.session,
            DeliveryKind.ANNOUNCEMENT,
            _subject(announcement.id),
            keys.ANNOUNCED,
            [ctx.caller.person.id],
            message.to_data(),
            due_at=announcement.send_at,
            channel=keys.channel(linked.platform, linked.channel),
        )
    record(
        ctx,
        "announcement_made",
        _subject(announcement.id),
        group=group.slug,
        send_at=announcement.send_at.isoformat(),
        recipients=len(recipients),
    )
    when_text = f"on {format_moment(announcement.send_at.astimezone(ctx.zone))}" if later else "now"
    return Reply(
        f"Announcement {announcement.id} to {group.name} goes to its {len(recipients)} other "
        f"member{'s' if len(recipients) != 1 else ''} {when_text}.",
        actions=(Action("Delivery report", f"announcement {announcement.id}"),)
        + ((Action("Cancel it", f"cancel announcement {announcement.id}", "danger"),) if later else ()),
    )


def _may_report(ctx: Context, found: Announcement) -> bool:
    return ctx.caller.is_admin or found.author_id == ctx.caller.person.id or ctx.caller.is_chair(found.group)


def _may_read(ctx: Context, found: Announcement) -> bool:
    """Members read what their group was sent (a closed group's, never where others see it)."""
    return (
        found.status is AnnouncementStatus.SENT
        and found.send_at <= ctx.now
        and ctx.caller.is_member(found.group)
        and ctx.caller.may_see(found.group)
    )


def _find(ctx: Context, number: str) -> Announcement:
    """The announcement with this number, if the caller may report on it; else a Refusal."""
    found = announcement_queries.get(ctx.session, int(number)) if number.isdigit() and len(number) < 10 else None
    if found is None or not _may_report(ctx, found):
        raise Refusal(f"I can't find announcement {quote(number)} of yours. Say `announcements` to see them.")
    return found


def _author(found: Announcement) -> str:
    if found.author is None:
        return "a former member"
    return found.author.display_name or found.author.email


def _ack_action(ctx: Context, found: Announcement) -> tuple[Action, ...]:
    person_id = ctx.caller.person.id
    if (
        person_id is None
        or not announcement_queries.was_sent_to(ctx.session, found.id, person_id)
        or announcement_queries.acknowledged_by(ctx.session, found.id, person_id)
    ):
        return ()
    return (Action("Acknowledge", f"ack {found.id}", "primary"),)


def _shown(ctx: Context, found: Announcement) -> Reply:
    """An announcement as a member of its group reads it."""
    return Reply(
        found.text,
        title=f"Announcement {found.id} to {found.group.name}",
        fields=(Field("From", _author(found)), Field("Sent", format_moment(found.send_at.astimezone(ctx.zone)))),
        actions=_ack_action(ctx, found),
    )


@partner_staff_only
def report(ctx: Context, number: str) -> Reply:
    found = announcement_queries.get(ctx.session, int(number)) if number.isdigit() and len(number) < 10 else None
    if found is None or not ctx.caller.may_see(found.group) or not (_may_report(ctx, found) or _may_read(ctx, found)):
        return Reply(
            f"I can't find announcement {quote(number)} for you. Say `announcements` to see yours and your groups'."
        )
    if not _may_report(ctx, found):
        return _shown(ctx, found)
    subject = _subject(found.id)
    counts = deliveries.counts(ctx.session, DeliveryKind.ANNOUNCEMENT, subject)
    failures = announcement_queries.not_delivered(ctx.session, found.id)
    acks = announcement_queries.count_acknowledgements(ctx.session, found.id)
    waiting = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
    held = counts.get(DeliveryStatus.HELD, 0)
    return Reply(
        f"“{quote(found.text)}” to {found.group.name}, {found.status.value}"
        f" ({'for' if found.status is AnnouncementStatus.SCHEDULED else 'from'} "
        f"{format_moment(found.send_at.astimezone(ctx.zone))}).",
        title=f"Announcement {found.id}: delivery report",
        fields=(Field("Sent", str(counts.get(DeliveryStatus.SENT, 0))), Field("Waiting", str(waiting)))
        + ((Field("Not on Slack or Teams", f"{held} (shown when they next use the console)"),) if held else ())
        + (
            Field("Failed", str(counts.get(DeliveryStatus.FAILED, 0))),
            Field("Not sent", str(counts.get(DeliveryStatus.SKIPPED, 0))),
            Field("Acknowledged", str(acks)),
        ),
        items=tuple(
            Item(title=d.recipient.display_name or d.recipient.email, text=d.last_error or d.status.value)
            for d in failures[:20]
        ),
    )


@partner_staff_only
def list_announcements(ctx: Context) -> Reply:
    """Admins: all recent ones. Others: the ones they made or chair, and those sent to their groups."""
    roles = ctx.caller.roles_by_group
    if ctx.caller.person.id is None:
        recent = []
    elif ctx.caller.is_admin:
        recent = announcement_queries.recent(ctx.session)
    else:
        recent = announcement_queries.recent(
            ctx.session,
            author_id=ctx.caller.person.id,
            member_of=roles,
            chair_of=[g for g, role in roles.items() if role is MemberRole.CHAIR],
            now=ctx.now,
        )
    # A closed group's news never shows where others can read it.
    found = [a for a in recent if ctx.caller.may_see(a.group)]
    if not found:
        return Reply(
            "There are no announcements for you yet: none made by you, and none sent to your groups. "
            "Chairs say `announce GROUP TEXT`."
        )
    items = []
    for a in found:
        when = format_moment(a.send_at.astimezone(ctx.zone))
        if _may_report(ctx, a):
            items.append(
                Item(
                    title=f"Announcement {a.id} to {a.group.name} ({a.status.value})",
                    text=f"{when}: {quote(a.text)}",
                    actions=(Action("Report", f"announcement {a.id}"),),
                )
            )
        else:
            items.append(
                Item(
                    title=f"Announcement {a.id} to {a.group.name}, from {_author(a)}",
                    text=f"{when}: {quote(a.text)}",
                    actions=(Action("Read", f"announcement {a.id}"),) + _ack_action(ctx, a),
                )
            )
    return Reply("Recent announcements:", title="Announcements", items=tuple(items))


@partner_staff_only
def cancel_announcement(ctx: Context, number: str) -> Reply:
    found = _find(ctx, number)
    if found.status is AnnouncementStatus.CANCELLED:
        return Reply(f"Announcement {found.id} is already cancelled.")
    stopped = deliveries.withdraw(ctx.session, DeliveryKind.ANNOUNCEMENT, _subject(found.id), "cancelled by its author")
    found.status = AnnouncementStatus.CANCELLED
    record(ctx, "announcement_cancelled", _subject(found.id), withdrawn=stopped)
    counts = deliveries.counts(ctx.session, DeliveryKind.ANNOUNCEMENT, _subject(found.id))
    sent = counts.get(DeliveryStatus.SENT, 0) + counts.get(DeliveryStatus.SENDING, 0)  # sending: on its way
    if sent:
        return Reply(
            f"Stopped announcement {found.id}: {stopped} not yet sent are withdrawn, but {sent} had already gone."
        )
    return Reply(f"Cancelled announcement {found.id}; nobody received it.")


@partner_staff_only
def acknowledge(ctx: Context, number: str) -> Reply:
    found = announcement_queries.get(ctx.session, int(number)) if number.isdigit() and len(number) < 10 else None
    if found is None or not announcement_queries.was_sent_to(
        ctx.session, found.id, ctx.caller.person.id, directly=False
    ):
        return Reply(f"I can't find an announcement {quote(number)} sent to you.")
    announcement_queries.acknowledge(ctx.session, found.id, ctx.caller.person.id, ctx.now)
    return Reply(f"Thanks: your acknowledgement of announcement {found.id} is recorded.")
