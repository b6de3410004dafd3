"""`help`: what the bot can do, for this person's roles."""
from __future__ import annotations

from bot.messages import Action, Item, Reply
from handlers.base import NO_ACCESS, Context

EVERYONE = (
    ("help", "this list"),
    ("whoami", "your partner organisation, groups and roles"),
    ("groups", "the Kent Connects groups"),
)
PARTNER_STAFF = (
    ("join GROUP / leave GROUP", "join or leave an open group, e.g. `join gis`"),
    ("meetings [GROUP]", "upcoming meetings, of all groups or one (e.g. `meetings infosec`)"),
    ("next GROUP meeting", "when and where a group meets next, e.g. `next gis meeting`"),
    ("my meetings", "the meetings of the groups you belong to"),
    ("meetings in MONTH", "e.g. `meetings in March` or `meetings on 9 March`"),
)
EXAMPLES = (
    "when does the GIS group meet next?",
    "which meetings are in March?",
    "join accessibility",
)


def _section(title: str, commands) -> Item:
    return Item(title=title, text="\n".join(f"`{words}`: {what}" for words, what in commands))


def help(ctx: Context) -> Reply:  # noqa: A001 - the command's name
    caller = ctx.caller
    items = [_section("Anyone", EVERYONE)]
    if caller.is_partner_staff:
        items.append(_section("Partner staff", PARTNER_STAFF))
        lead = "Hello! I'm the Kent Connects assistant. Here is what you can ask me:"
        footer = "You can also just ask, e.g. " + "; ".join(f"“{e}”" for e in EXAMPLES) + "."
        actions = (Action("My meetings", "my meetings"), Action("Groups", "groups"))
    else:
        lead = "Hello! I'm the Kent Connects assistant, for staff of the Kent Connects partners."
        footer = NO_ACCESS.format(email=caller.email)
        actions = (Action("Groups", "groups"),)
    if caller.chairs_any or caller.is_admin:
        items.append(
            Item(
                title="Chairs and the Partnership Office",
                text="Scheduling, moving and cancelling meetings in chat is on its way; until then "
                "the Partnership Office loads meetings for the groups.",
            )
        )
    return Reply(lead, title="Kent Connects Bot", items=tuple(items), footer=footer, actions=actions)
