"""`help`: what the bot can do, for this person's roles, built from the commands' declarations."""

from __future__ import annotations

from core.commands import COMMANDS, TOPICS, Audience, Command
from core.messages import Action, Item, Reply
from handlers.base import Context, no_access_text

SECTIONS = (
    (Audience.ANYONE, "Anyone"),
    (Audience.PARTNER_STAFF, "Partner staff"),
    (Audience.CHAIRS, "Chairs and the Partnership Office"),
    (Audience.BOARD, "The Leadership Board"),
    (Audience.ADMINS, "The Partnership Office"),
)
EXAMPLES = (
    "when does the GIS group meet next?",
    "which meetings are in March?",
    "join accessibility",
)


def _section(title: str, commands: list[Command]) -> Item:
    listed = sorted((c for c in commands if c.help), key=lambda c: TOPICS.index(c.topic))
    return Item(title=title, text="\n".join(f"`{c.help[0]}`: {c.help[1]}" for c in listed if c.help))


def help(ctx: Context) -> Reply:
    caller = ctx.caller
    mine = caller.audiences()
    items = tuple(
        _section(title, COMMANDS.for_audiences([audience]))
        for audience, title in SECTIONS
        if audience in mine and any(c.help for c in COMMANDS.for_audiences([audience]))
    )
    if caller.is_partner_staff:
        lead = "Hello! I'm the Kent Connects assistant. Here is what you can ask me:"
        footer = "You can also just ask, e.g. " + "; ".join(f"“{e}”" for e in EXAMPLES) + "."
        actions: tuple[Action, ...] = (Action("My meetings", "my meetings"), Action("Groups", "groups"))
    else:
        lead = "Hello! I'm the Kent Connects assistant, for staff of the Kent Connects partners."
        footer = no_access_text(caller)
        actions = (Action("Groups", "groups"),)
    return Reply(lead, title="Kent Connects Bot", items=items, footer=footer, actions=actions)
