"""When the groups meet: `meetings [GROUP]`, `next GROUP meeting`, `my meetings`, `meetings in MONTH`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Optional

from core.messages import Action, Item, Refusal, Reply, field_list
from handlers.base import Context, partner_staff_only, quote
from handlers.groups import find_group
from handlers.when import DateError, meeting_span, parse_period
from storage import groups as group_queries, meetings as meeting_queries
from storage.models import Group, Meeting

LIST_LIMIT = 10


def closed_group(group: Group) -> Reply:
    return Reply(
        f"The {group.name} is a closed group: its meetings are shown only to its members and the Partnership Office.",
        actions=(Action("Open groups", "groups"),),
    )


# Meeting ids are PostgreSQL INTEGERs: a longer number cannot be one, and must not reach the query.
MAX_MEETING_ID = 2**31 - 1


def unknown_meeting(number: str) -> Reply:
    # Also the answer for a closed group's meeting, so that a number gives nothing away.
    return Reply(
        f"I can't find meeting {quote(number[:12])}. Meeting numbers are shown in the lists of "
        "meetings: say `meetings GROUP` to see them.",
        actions=(Action("Meetings", "meetings"),),
    )


def find_meeting(ctx: Context, number: str) -> Meeting:
    """The meeting with this number, if the caller may see it; else a Refusal: "can't find"."""
    digits = number.strip().lower().removeprefix("meeting").strip().lstrip("#").lstrip("0") or "0"
    if not digits.isdigit() or not 0 < int(digits[:11]) <= MAX_MEETING_ID:
        raise Refusal(unknown_meeting(number.strip()))
    meeting = meeting_queries.get(ctx.session, int(digits))
    if meeting is None or not ctx.caller.may_see(meeting.group):
        raise Refusal(unknown_meeting(digits))
    return meeting


def when_text(ctx: Context, meeting: Meeting) -> str:
    return meeting_span(meeting.start_local, meeting.end_local, meeting.timezone, ctx.zone)


def meeting_item(ctx: Context, meeting: Meeting, with_group: bool = True) -> Item:
    title = when_text(ctx, meeting)
    if with_group:
        title = f"{meeting.group.name}: {title}"
    return Item(
        title=title,
        text=f"{meeting.title} (meeting {meeting.id})",
        fields=field_list(("Where", meeting.place), ("Online", meeting.online_url)),
    )


def meeting_details(ctx: Context, meeting: Meeting, lead: str, actions: tuple[Action, ...] = ()) -> Reply:
    return Reply(
        lead,
        title=f"{meeting.title} (meeting {meeting.id})",
        fields=field_list(
            ("Group", meeting.group.name),
            ("When", when_text(ctx, meeting)),
            ("Where", meeting.place),
            ("Online", meeting.online_url),
            ("Agenda", meeting.agenda),
        ),
        actions=actions,
    )


def _visible_group_ids(ctx: Context) -> list[int]:
    return [g.id for g in group_queries.catalogue(ctx.session) if ctx.caller.may_see(g)]


def _page(
    ctx: Context, group_ids: Sequence[int], since: Optional[datetime] = None, until: Optional[datetime] = None
) -> tuple[list[Meeting], int]:
    """The first LIST_LIMIT meetings to come, and how many there are in all."""
    since = since or ctx.now
    shown = meeting_queries.upcoming(ctx.session, since, group_ids, limit=LIST_LIMIT, until=until)
    total = (
        len(shown) if len(shown) < LIST_LIMIT else meeting_queries.count_upcoming(ctx.session, since, group_ids, until)
    )
    return shown, total


def _listing(
    ctx: Context,
    page: tuple[list[Meeting], int],
    lead: str,
    empty: str,
    with_group: bool = True,
    title: Optional[str] = None,
    more_hint: str = "",
) -> Reply:
    shown, total = page
    if not shown:
        return Reply(empty, title=title, actions=(Action("Groups", "groups"),))
    footer = None
    if total > len(shown):
        footer = f"…and {total - len(shown)} more. {more_hint}".strip()
    count = f"{total} meeting{'s' if total != 1 else ''}"
    return Reply(
        lead.format(count=count),
        title=title,
        items=tuple(meeting_item(ctx, m, with_group) for m in shown),
        footer=footer,
    )


@partner_staff_only
def meetings(ctx: Context, group: Optional[str] = None) -> Reply:
    if not group:
        return _listing(
            ctx,
            _page(ctx, _visible_group_ids(ctx)),
            "{count} coming up across the groups, soonest first:",
            "No meetings are scheduled yet.",
            title="Upcoming meetings",
            more_hint="Say `meetings GROUP` for one group's dates.",
        )
    found = find_group(ctx, group)
    if not ctx.caller.may_see(found):
        return closed_group(found)
    page = _page(ctx, [found.id])
    reply = _listing(
        ctx,
        page,
        "{count} coming up, soonest first:",
        f"{found.name} has no meetings scheduled yet. Its chairs add them.",
        with_group=False,
        title=f"{found.name} meetings",
    )
    if page[0] and not ctx.caller.is_member(found) and not found.is_restricted:
        reply = Reply(
            reply.text,
            title=reply.title,
            items=reply.items,
            footer=reply.footer,
            actions=(Action(f"Join {found.name}", f"join {found.slug}", "primary"),),
        )
    return reply


@partner_staff_only
def next_meeting(ctx: Context, group: Optional[str] = None) -> Reply:
    if not group:
        mine = list(ctx.caller.roles_by_group)
        ids = mine or _visible_group_ids(ctx)
        found_meetings = meeting_queries.upcoming(ctx.session, ctx.now, ids, limit=1)
        if not found_meetings:
            return Reply("There is no meeting coming up in your groups.", actions=(Action("Groups", "groups"),))
        meeting = found_meetings[0]
        scope = "your groups" if mine else "the groups"
        return meeting_details(
            ctx, meeting, f"The next meeting in {scope} is {meeting.group.name}'s, on {when_text(ctx, meeting)}."
        )
    found = find_group(ctx, group)
    if not ctx.caller.may_see(found):
        return closed_group(found)
    found_meetings = meeting_queries.upcoming(ctx.session, ctx.now, [found.id], limit=1)
    if not found_meetings:
        return Reply(f"{found.name} has no meeting scheduled yet. Its chairs add them.")
    meeting = found_meetings[0]
    return meeting_details(
        ctx,
        meeting,
        f"{found.name} meets next on {when_text(ctx, meeting)}.",
        actions=(Action("All its dates", f"meetings {found.slug}"),),
    )


@partner_staff_only
def my_meetings(ctx: Context) -> Reply:
    mine = list(ctx.caller.roles_by_group)
    if not mine:
        return Reply(
            "You're not in any group yet, so you have no meetings. Say `groups` to see them and "
            "`join GROUP` to join one.",
            actions=(Action("Groups", "groups"),),
        )
    return _listing(
        ctx,
        _page(ctx, mine),
        "{count} coming up in your groups, soonest first:",
        "None of your groups has a meeting scheduled yet.",
        title="Your meetings",
        more_hint="Say `meetings GROUP` for one group's dates.",
    )


@partner_staff_only
def meetings_in(ctx: Context, period: str) -> Reply:
    try:
        asked = parse_period(period, ctx.now.astimezone(ctx.zone).date())
    except DateError as exc:
        return Reply(str(exc))
    start, end = asked.bounds_utc(ctx.zone)
    if end <= ctx.now:
        return Reply(f"{asked.label} is in the past; I only show meetings still to come.")
    return _listing(
        ctx,
        _page(ctx, _visible_group_ids(ctx), since=max(start, ctx.now), until=end),
        "{count}, soonest first:",
        f"No meetings are scheduled {asked.phrase}.",
        title=f"Meetings {asked.phrase}",
    )
