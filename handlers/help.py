"""`help`: what the bot can do, for this person's roles."""

from __future__ import annotations

from core.messages import Action, Item, Reply
from handlers.base import Context, no_access_text

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
    ("calendar GROUP", "the group's meetings as a calendar file for Outlook or Google (`calendar meeting 13` for one)"),
    ("events / past events", "business transformation events, free for every partner"),
    ("event EVENT", "an event's details, by number or part of its title, e.g. `event future workplaces`"),
    ("register EVENT / unregister EVENT", "book or give up a place (`register 3 online`); full events have a waitlist"),
    ("my events", "the events you're registered for"),
    ("idea", "submit a business case to the development fund; I ask the details step by step"),
    ("ideas [mine|approved|GROUP] / idea CASE", "the business cases, and one case's details and history"),
    ("fund", "the development fund: balance, contributions, awards and spending by year"),
    ("remind me ...", "e.g. `remind me 2 hours before the GIS meeting`, `remind me tomorrow at 9 to submit my idea`"),
    ("reminders / reminders off / reminders on", "your reminders; automatic ones come 7 days and 1 day before"),
    ("notices", "what I've sent you in the last 30 days (reminders, announcements, news of your ideas), and where"),
    ("announcements / announcement N / ack N", "the announcements your groups were sent; read one, acknowledge it"),
    ("calendar events", "all the events as a calendar file"),
    ("my data / forget me", "what I hold about you, as a file; or erase it"),
)
BOARD = (
    ("review", "the business cases waiting for assessment"),
    ("assess CASE", "mark a case as under assessment"),
    ("approve CASE AMOUNT / decline CASE REASON", "decide; the submitter is told"),
    (
        "in delivery CASE / outcome CASE TEXT",
        "follow a funded case to its outcome (`learning: ...` for shared learning)",
    ),
)
ADMINS = (
    ("create event", "a new event; I ask the details step by step"),
    ("edit event EVENT FIELD VALUE", "e.g. `edit event 3 places in person 60` or `edit event 3 venue Sessions House`"),
    ("cancel event EVENT", "cancel it; registrants are told"),
    ("attendees EVENT", "who is coming, by partner and format, with a CSV file"),
    ("fund add PARTNER AMOUNT [YEAR]", "record a partner's contribution, e.g. `fund add Medway £5,000 2026/27`"),
    ("fund spent CASE AMOUNT", "record what a funded case has spent"),
    ("chair GROUP EMAIL / unchair GROUP EMAIL", "who chairs a group"),
    ("board add|remove EMAIL / admin add|remove EMAIL", "the Leadership Board and the Partnership Office"),
    ("audit [FILTER]", "who did what, e.g. `audit approve`, `audit meeting 13`"),
)
CHAIRS = (
    ("schedule GROUP", "a one-off meeting or a series (quarterly by default); I ask the details step by step"),
    (
        "move MEETING to DAY TIME",
        "e.g. `move 13 to 16 March 2027 10:00-12:00`; add `and the rest of the series` for the later ones",
    ),
    ("cancel meeting MEETING", "e.g. `cancel meeting 13`; add `and the rest of the series` for the later ones"),
    ("announce GROUP TEXT", "to the group's members now, or `announce gis at 9 March 2027 09:00: TEXT` for later"),
    ("announcements / announcement N", "yours, and one's delivery report (sent, waiting, failed, acknowledged)"),
    (
        "link channel GROUP / channel digest on",
        "in a Slack or Teams channel: post the group's announcements there, and a weekly what's on",
    ),
)
EXAMPLES = (
    "when does the GIS group meet next?",
    "which meetings are in March?",
    "join accessibility",
)


def _section(title: str, commands) -> Item:
    return Item(title=title, text="\n".join(f"`{words}`: {what}" for words, what in commands))


def help(ctx: Context) -> Reply:
    caller = ctx.caller
    items = [_section("Anyone", EVERYONE)]
    if caller.is_partner_staff:
        items.append(_section("Partner staff", PARTNER_STAFF))
        lead = "Hello! I'm the Kent Connects assistant. Here is what you can ask me:"
        footer = "You can also just ask, e.g. " + "; ".join(f"“{e}”" for e in EXAMPLES) + "."
        actions: tuple[Action, ...] = (Action("My meetings", "my meetings"), Action("Groups", "groups"))
    else:
        lead = "Hello! I'm the Kent Connects assistant, for staff of the Kent Connects partners."
        footer = no_access_text(caller)
        actions = (Action("Groups", "groups"),)
    if caller.chairs_any or caller.is_admin:
        items.append(_section("Chairs and the Partnership Office", CHAIRS))
    if caller.is_board:
        items.append(_section("The Leadership Board", BOARD))
    if caller.is_admin:
        items.append(_section("The Partnership Office", ADMINS))
    return Reply(lead, title="Kent Connects Bot", items=tuple(items), footer=footer, actions=actions)
