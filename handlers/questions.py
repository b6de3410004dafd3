"""Questions answered as questions: "is there a GIS meeting in April?" gets yes or no with the
dates, "where…", "what time…", "is it online?" get that, "how many places are left?" the number,
"who chairs GIS?" the chairs. The commands' lists stay in handlers/meetings.py and events.py."""

from __future__ import annotations

from typing import Optional

from core.messages import Action, Refusal, Reply
from core.roles import MemberRole
from handlers.base import Context, partner_staff_only
from handlers.events import find_event, places_text, when as event_when_text
from handlers.fields import today
from handlers.groups import find_group
from handlers.meetings import closed_group, when_text
from handlers.when import DateError, parse_period
from storage import events as event_queries, groups as group_queries, meetings as meeting_queries
from storage.models import Group, Meeting


def _visible(ctx: Context, words: str) -> Group:
    group = find_group(ctx, words)
    if not ctx.caller.may_see(group):
        raise Refusal(closed_group(group))
    return group


def _next(ctx: Context, group: Group) -> Optional[Meeting]:
    found = meeting_queries.upcoming(ctx.session, ctx.now, [group.id], limit=1)
    return found[0] if found else None


def _none_yet(group: Group) -> Reply:
    return Reply(
        f"{group.name} has no meeting scheduled yet. Its chairs add them.", actions=(Action("Groups", "groups"),)
    )


def _where(meeting: Meeting) -> str:
    if meeting.place and meeting.online_url:
        return f"at {meeting.place}, and online at {meeting.online_url}"
    if meeting.place:
        return f"at {meeting.place} (in person only)"
    if meeting.online_url:
        return f"online only, at {meeting.online_url}"
    return "at a place its chairs haven't given yet"


@partner_staff_only
def meeting_where(ctx: Context, group: str) -> Reply:
    """Where is the next GIS meeting?"""
    found = _visible(ctx, group)
    meeting = _next(ctx, found)
    if meeting is None:
        return _none_yet(found)
    return Reply(
        f"The next {found.name} meeting, on {when_text(ctx, meeting)}, is {_where(meeting)}.",
        actions=(Action("Details", f"next {found.slug} meeting"),),
    )


@partner_staff_only
def meeting_when(ctx: Context, group: str) -> Reply:
    """What time does infosec meet? When is the next GIS meeting?"""
    found = _visible(ctx, group)
    meeting = _next(ctx, found)
    if meeting is None:
        return _none_yet(found)
    return Reply(
        f"{found.name} meets next on {when_text(ctx, meeting)}.",
        actions=(
            Action("All its dates", f"meetings {found.slug}"),
            Action("Add to calendar", f"calendar {found.slug}"),
        ),
    )


@partner_staff_only
def meeting_online(ctx: Context, group: str) -> Reply:
    """Is the next infosec meeting online?"""
    found = _visible(ctx, group)
    meeting = _next(ctx, found)
    if meeting is None:
        return _none_yet(found)
    when = when_text(ctx, meeting)
    if meeting.online_url and meeting.place:
        lead = (
            f"Both: the next {found.name} meeting, on {when}, is at {meeting.place} and online at {meeting.online_url}."
        )
    elif meeting.online_url:
        lead = f"Yes: the next {found.name} meeting, on {when}, is online, at {meeting.online_url}."
    else:
        where = f"in person, at {meeting.place}" if meeting.place else "in person"
        lead = f"No: the next {found.name} meeting, on {when}, is {where}; there's no online link for it."
    return Reply(lead, actions=(Action("Details", f"next {found.slug} meeting"),))


@partner_staff_only
def any_meeting_in(ctx: Context, period: str, group: Optional[str] = None) -> Reply:
    """Is there a GIS meeting in April? Yes or no, with the dates."""
    try:
        asked = parse_period(period, today(ctx))
    except DateError as exc:
        return Reply(str(exc))
    start, end = asked.bounds_utc(ctx.zone)
    if end <= ctx.now:
        return Reply(f"{asked.label} is in the past; I only know the meetings still to come.")
    if group:
        groups = [_visible(ctx, group)]
    else:
        groups = [g for g in group_queries.all_groups(ctx.session) if ctx.caller.may_see(g)]
    found = meeting_queries.upcoming(ctx.session, max(start, ctx.now), [g.id for g in groups], until=end, limit=5)
    name = groups[0].name if group else "any group"
    if not found:
        after = meeting_queries.upcoming(ctx.session, end, [g.id for g in groups], limit=1)
        nxt = f" The next is on {when_text(ctx, after[0])}." if after and group else ""
        return Reply(f"No: there's no meeting of {name} {asked.phrase}.{nxt}")
    dates = "; ".join(
        f"{when_text(ctx, m)} (meeting {m.id})" if group else f"{m.group.name}, {when_text(ctx, m)}" for m in found
    )
    if group:
        return Reply(
            f"Yes: {name} meets {asked.phrase}, on {dates}.",
            actions=(Action("All its dates", f"meetings {groups[0].slug}"),),
        )
    some = "there are meetings" if len(found) > 1 else "there is a meeting"
    return Reply(f"Yes: {some} {asked.phrase}: {dates}.")


def who_chairs(ctx: Context, group: str) -> Reply:
    """Who chairs GIS? Their names and partners (never their addresses)."""
    found = find_group(ctx, group)
    chairs = [m.person for m in group_queries.members(ctx.session, found) if m.role is MemberRole.CHAIR]
    if not chairs:
        return Reply(
            f"{found.name} has no chair recorded in the bot. The Partnership Office can tell you who leads it."
        )
    names = []
    for person in chairs:
        name = person.display_name or "a member"
        partner = person.partner.short_name or person.partner.name if person.partner else ""
        names.append(name if not partner or partner in name else f"{name} ({partner})")
    return Reply(f"{found.name} is chaired by {_and(names)}.")


@partner_staff_only
def my_groups(ctx: Context) -> Reply:
    """Which groups am I in?"""
    memberships = sorted(group_queries.memberships_of(ctx.session, ctx.caller.person), key=lambda m: m.group.name)
    if not memberships:
        return Reply(
            "You're not in any group yet. Say `groups` to see them and `join GROUP` to join one.",
            actions=(Action("Groups", "groups"),),
        )
    member = [m.group.name for m in memberships if m.role is not MemberRole.CHAIR]
    chair = [m.group.name for m in memberships if m.role is MemberRole.CHAIR]
    parts = []
    if member:
        parts.append("you're in " + _and(member))
    if chair:
        parts.append("you chair " + _and(chair))
    text = " and ".join(parts)
    return Reply(text[0].upper() + text[1:] + ".", actions=(Action("My meetings", "my meetings"),))


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@partner_staff_only
def how_to_join(ctx: Context, group: str) -> Reply:
    """How do I join the GIS group? Says how, and offers the button; joins nobody by itself."""
    found = find_group(ctx, group)
    if ctx.caller.is_member(found):
        return Reply(f"You're already in {found.name}.", actions=(Action("Its meetings", f"meetings {found.slug}"),))
    if found.is_restricted:
        return Reply(
            f"The {found.name} is for its members only: its membership comes with a partner's place on it. "
            "Ask the Partnership Office if you should be in it."
        )
    return Reply(
        f"Say `join {found.slug}` and you're in: you'll see its meetings and get their reminders.",
        actions=(Action(f"Join {found.name}", f"join {found.slug}", "primary"),),
    )


@partner_staff_only
def next_event(ctx: Context) -> Reply:
    """What's the next event?"""
    found = event_queries.upcoming(ctx.session, ctx.now, limit=1)
    if not found:
        return Reply("No events are announced yet. The Partnership Office adds them.")
    event = found[0]
    return Reply(
        f"The next event is {event.title}, on {event_when_text(ctx, event)}.",
        actions=(Action("Details", f"event {event.id}"), Action("Register", f"register {event.id}", "primary")),
    )


@partner_staff_only
def event_when(ctx: Context, target: str) -> Reply:
    """When is Future Workplaces?"""
    event = find_event(ctx, target, upcoming_only=False)
    where = ", ".join(filter(None, (event.venue and f"at {event.venue}",)))
    return Reply(
        f"{event.title} is on {event_when_text(ctx, event)}{', ' + where if where else ''}.",
        actions=(Action("Details", f"event {event.id}"),),
    )


@partner_staff_only
def places_left(ctx: Context, target: str) -> Reply:
    """How many places are left on Future Workplaces?"""
    event = find_event(ctx, target)
    return Reply(
        f"{event.title}: {places_text(ctx, event)}.",
        actions=(Action("Register", f"register {event.id}", "primary"), Action("Details", f"event {event.id}")),
    )
