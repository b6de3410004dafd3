"""The partnership's groups: listing them, joining and leaving the open ones."""

from __future__ import annotations

from collections.abc import Sequence

from core.messages import Action, Item, Refusal, Reply
from handlers.base import Context, partner_staff_only, quote
from handlers.names import Lookup, resolve
from storage import deliveries, groups as group_queries
from storage.groups import GroupRecord
from storage.models import Group, MemberRole


def _lookup(groups: Sequence[GroupRecord], words: str) -> Lookup[GroupRecord]:
    return resolve(words, [(g, list(g.names)) for g in groups])


def find_group(ctx: Context, words: str) -> Group:
    """The group the words name; a Refusal saying none does (with suggestions) otherwise. The
    names are read from the catalogue the process holds; the group found is the session's row."""
    groups = group_queries.catalogue(ctx.session)
    lookup = _lookup(groups, words)
    if lookup.found is not None:
        return group_queries.attach(ctx.session, lookup.found)
    if lookup.suggestions:
        names = " or ".join(g.name for g in lookup.suggestions)
        hint = f"Did you mean {names}?"
        actions = tuple(Action(g.name, f"meetings {g.slug}") for g in lookup.suggestions)
    else:
        hint = "The groups are: " + ", ".join(g.name for g in groups) + "."
        actions = (Action("List groups", "groups"),)
    raise Refusal(Reply(f"I don't know a group called “{quote(words)}”. {hint}", actions=actions))


def list_groups(ctx: Context) -> Reply:
    caller = ctx.caller
    items = []
    for group in group_queries.catalogue(ctx.session):
        status = []
        if group.is_restricted:
            status.append("closed: members only")
        if caller.is_chair(group):
            status.append("you chair it")
        elif caller.is_member(group):
            status.append("you're a member")
        actions: tuple[Action, ...] = ()
        if caller.is_partner_staff and caller.may_see(group):
            actions = (Action("Next meeting", f"next {group.slug} meeting"),)
            if not group.is_restricted and not caller.is_member(group):
                actions += (Action("Join", f"join {group.slug}", "primary"),)
        items.append(
            Item(
                title=group.name + (f" ({'; '.join(status)})" if status else ""),
                text=group.description,
                actions=actions,
            )
        )
    lead = f"Kent Connects has {len(items)} groups; each meets quarterly."
    footer = "Say `join GROUP` to join an open group, or `meetings GROUP` to see its dates."
    if not caller.is_partner_staff:
        footer = "Joining groups and seeing their meetings is for staff of Kent Connects partners."
    return Reply(lead, title="Groups", items=tuple(items), footer=footer)


@partner_staff_only
def join(ctx: Context, group: str) -> Reply:
    found = find_group(ctx, group)
    if found.is_restricted and not ctx.caller.is_admin:
        return Reply(
            f"The {found.name} is a closed group: its membership is managed by the Partnership "
            "Office. Ask them if you should be a member."
        )
    if ctx.caller.is_member(found):
        return Reply(
            f"You're already a member of {found.name}.", actions=(Action("Next meeting", f"next {found.slug} meeting"),)
        )
    group_queries.add_member(ctx.session, ctx.caller.person, found, MemberRole.MEMBER)
    return Reply(
        f"Welcome to {found.name}! You'll see its meetings under `my meetings`.",
        actions=(
            Action("Next meeting", f"next {found.slug} meeting"),
            Action("Leave", f"leave {found.slug}", "danger"),
        ),
    )


@partner_staff_only
def leave(ctx: Context, group: str) -> Reply:
    found = find_group(ctx, group)
    if not ctx.caller.is_member(found):
        return Reply(f"You're not a member of {found.name}, so there is nothing to leave.")
    if ctx.caller.is_chair(found):
        return Reply(
            f"You chair {found.name}, so I can't simply remove you: ask the Partnership Office to "
            "hand the chair to someone else first."
        )
    if found.is_restricted and not ctx.caller.is_admin:
        return Reply(f"Membership of the {found.name} is managed by the Partnership Office: ask them to remove you.")
    group_queries.remove_member(ctx.session, ctx.caller.person, found)
    deliveries.withdraw_about_group(ctx.session, ctx.caller.person.id, found.id, "left the group")
    return Reply(f"You've left {found.name}.", actions=(Action("Join again", f"join {found.slug}"),))
