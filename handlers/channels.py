"""Channels linked to groups (`link channel GROUP`): announcements go there too, and, if asked,
a weekly "what's on" digest (`channel digest on`)."""

from __future__ import annotations

from typing import Optional

from core.messages import ChannelAccess, Reply
from handlers.audit import record
from handlers.base import Context, partner_staff_only
from handlers.groups import find_group
from storage import channels as channel_queries
from storage.models import GroupChannel


def _where(ctx: Context) -> Optional[tuple[str, str]]:
    """The channel being written in, as (platform, channel), or None outside a shared channel."""
    request = ctx.request
    if request.platform == "slack" and request.conversation[:1] in ("C", "G"):
        return "slack", request.conversation
    if request.platform == "teams" and request.shared:
        return "teams", f"conversation:{request.conversation}"
    return None


def _linked(ctx: Context, where: tuple[str, str]) -> list[GroupChannel]:
    return channel_queries.linked_to(ctx.session, *where)


@partner_staff_only
def link(ctx: Context, group: str, remove: str = "") -> Reply:
    where = _where(ctx)
    if where is None:
        return Reply(
            "Say this in the Slack or Teams channel you want to link, e.g. `/kc link channel gis` "
            "(in Teams, @mention me in the channel)."
        )
    found = find_group(ctx, group)
    if not (ctx.caller.is_admin or ctx.caller.is_chair(found)):
        return Reply(f"Only the chairs of {found.name} and the Partnership Office can link channels to it.")
    if found.is_restricted:
        return Reply(f"The {found.name} is a closed group: its news is never posted to a channel.")
    existing = next((g for g in _linked(ctx, where) if g.group_id == found.id), None)
    if remove:
        if existing is None:
            return Reply(f"This channel isn't linked to {found.name}.")
        channel_queries.unlink(ctx.session, existing)
        record(ctx, "channel_unlinked", f"group:{found.slug}", channel=where[1])
        return Reply(f"This channel is no longer linked to {found.name}.")
    if existing is not None:
        return Reply(f"This channel is already linked to {found.name}.")
    access = ctx.request.channel_access() if ctx.request.channel_access is not None else ChannelAccess(True)
    if not access.can_post:
        return Reply(f"I can't post in this channel yet, so I haven't linked it to {found.name}. {access.advice}")
    workspace, enterprise = ctx.request.conversation_place
    channel_queries.link(ctx.session, found.id, where[0], workspace, where[1], ctx.caller.person.id, enterprise)
    record(ctx, "channel_linked", f"group:{found.slug}", channel=where[1])
    return Reply(
        " ".join(
            filter(
                None,
                (
                    access.note,
                    f"This channel is now linked to {found.name}: its announcements will be posted here too. "
                    "Say `channel digest on` for a weekly “what's on” every Monday morning.",
                    access.advice,
                ),
            )
        )
    )


@partner_staff_only
def digest(ctx: Context, state: str) -> Reply:
    where = _where(ctx)
    linked = _linked(ctx, where) if where else []
    if not linked:
        return Reply("This channel isn't linked to a group yet: a chair says `link channel GROUP` here first.")
    if not ctx.caller.is_admin and not any(ctx.caller.is_chair(g.group) for g in linked):
        return Reply("Only the chairs of the linked groups and the Partnership Office can change the digest.")
    on = state.lower() == "on"
    for channel in linked:
        channel.digest = on
    names = ", ".join(sorted(g.group.name for g in linked))
    return Reply(f"The weekly digest for {names} is {'on: every Monday morning' if on else 'off'}.")
