"""Every command the bot understands, declared once, in routing order (the first whose words
match is the one). Help, routing, "did you mean" and the language model are built from here:
to add a command, add its declaration; nothing else lists it.

Patterns run on tidied text (spacing, emoji, politeness and end punctuation gone; see
bot/router.py `normalise`), ignoring case; their named groups are the handler's arguments.
"""

from __future__ import annotations

import functools
import re
from typing import Optional

from bot.language import normalise
from core.commands import COMMANDS, Audience, Command, words
from handlers import (
    announcements,
    assessment,
    audit,
    business_cases,
    calendar,
    channels,
    conversation,
    event_admin,
    events,
    faq,
    groups,
    help as help_handler,
    meeting_admin,
    meetings,
    notices,
    people,
    privacy,
    questions,
    reach,
    reminders,
    roles,
    tenants,
)
from storage import faq as faq_file

_G = r"(?:the\s+)?(?P<group>.+?)"  # a group's name, "the" optional
_P = r"(?P<period>.+)"  # a month or a day


def declare(before: Optional[str] = None, **fields) -> Command:
    """Declare a command, last in routing order, or just `before` another intent whose words would
    otherwise take its own."""
    return COMMANDS.declare(Command(**fields), before=before)


declare(
    intent="help",
    handler=help_handler.help,
    patterns=words(
        r"^(?:help|\?|commands|menu|start|what can you do|how does this work)$",
    ),
    audience=Audience.ANYONE,
    topic="you",
    help=("help", "this list"),
    suggestion="help",
    complete=True,
    examples=(
        "help",
        "what can you do?",
        "how does this work",
        "what commands are there",
        "menu",
    ),
)

declare(
    intent="whoami",
    handler=people.whoami,
    patterns=words(
        r"^(?:whoami|who am i|my details|my profile)$",
    ),
    audience=Audience.ANYONE,
    topic="you",
    help=("whoami", "your partner organisation, groups and roles"),
    suggestion="whoami",
    complete=True,
    examples=(
        "whoami",
        "who am i",
        "what do you know about my account",
        "my profile",
        "which organisation am I with",
    ),
)

declare(
    intent="groups",
    handler=groups.list_groups,
    patterns=words(
        r"^(?:groups|list groups|show groups|(?:what|which) groups (?:are there|exist|can i join))$",
    ),
    audience=Audience.ANYONE,
    topic="groups",
    help=("groups", "the Kent Connects groups"),
    suggestion="groups",
    complete=True,
    examples=(
        "groups",
        "what groups are there",
        "list the groups",
        "which groups can I join",
    ),
)

declare(
    intent="join",
    canonical=("join {group}",),
    confirm="add you to {group}",
    handler=groups.join,
    patterns=words(
        # A meeting or an event is not a group: "join the next GIS meeting online" asks about a link.
        # "Add me to a group" names none: the language model asks which.
        rf"^(?:join|add me to|subscribe(?: me)? to)\s+(?!.*\b(?:meeting|meetings|event|events)\b)(?!(?:a|an|any|some|one of the|another)\s+groups?(?:\s+please)?$){_G}(?:\s+group)?$",
    ),
    topic="groups",
    help=("join GROUP / leave GROUP", "join or leave an open group, e.g. `join gis`"),
    suggestion="join GROUP",
    side_effects=True,
    examples=(
        "join gis",
        "add me to the accessibility group",
        "subscribe me to infosec",
        "join smart kent",
    ),
)

declare(
    intent="leave",
    canonical=("leave {group}",),
    confirm="take you off {group}",
    handler=groups.leave,
    patterns=words(
        rf"^(?:leave|remove me from|unsubscribe(?: me)? from)\s+(?!.*\b(?:meeting|meetings|event|events)\b)(?!(?:a|an|any|some|one of the|one of my)\s+groups?(?:\s+please)?$){_G}(?:\s+group)?$",
    ),
    topic="groups",
    suggestion="leave GROUP",
    side_effects=True,
    examples=(
        "leave gis",
        "remove me from the cyber group",
        "unsubscribe me from smart kent",
    ),
)

declare(
    intent="sign_up",
    # Left to its exact words: the model learns "sign me up for ..." as register or join.
    extra={"learned": False},
    canonical=("register {event} {mode}", "register {event}", "join {group}"),
    confirm="book you a place at {event}",
    handler=events.sign_up,
    patterns=words(
        r"^sign me up (?:for|to)\s+(?:the\s+)?(?P<target>.+)$",
    ),
    topic="events",
    suggestion="register EVENT",
    side_effects=True,
    examples=(
        "sign me up for future workplaces",
        "sign me up for the next event",
    ),
)

declare(
    intent="events",
    handler=events.list_events,
    patterns=words(
        r"^(?:events|upcoming events|all events|(?:what|which) events are (?:there|coming up|on|planned)|what'?s on|when are the events)$",
    ),
    topic="events",
    help=("events / past events", "business transformation events, free for every partner"),
    suggestion="events",
    complete=True,
    examples=(
        "events",
        "what events are coming up?",
        "what's on",
        "upcoming events",
    ),
)

declare(
    intent="past_events",
    handler=events.past_events,
    patterns=words(
        r"^(?:past|previous|earlier|old) events$",
    ),
    topic="events",
    suggestion="past events",
    complete=True,
    examples=(
        "past events",
        "previous events",
        "what events have there been",
    ),
)

declare(
    intent="my_events",
    handler=events.my_events,
    patterns=words(
        r"^(?:my events|my registrations|my bookings|(?:which|what) events am i (?:registered|booked) (?:for|on))$",
    ),
    topic="events",
    help=("my events", "the events you're registered for"),
    suggestion="my events",
    complete=True,
    examples=(
        "my events",
        "which events am I booked on",
        "my bookings",
    ),
)

declare(
    intent="create_event",
    confirm="start a new event",
    handler=event_admin.create_event,
    patterns=words(
        r"^(?:create|new|add)\s+(?:an?\s+)?event$",
    ),
    audience=Audience.ADMINS,
    topic="events",
    help=("create event", "a new event; I ask the details step by step"),
    suggestion="create event",
    complete=True,
    side_effects=True,
    examples=(
        "create event",
        "new event",
        "add an event",
    ),
)

declare(
    intent="edit_event",
    canonical=("edit event {event} {event_field} {value}",),
    confirm="change the {event_field} of {event} to {value}",
    handler=event_admin.edit_event,
    patterns=words(
        r"^(?:edit|change|update|set)\s+event\s+(?P<target>.+?)\s+(?P<field>title|theme|description|speakers|date|time|format|venue|online link|link|places in person|places online|capacity in person|capacity online|registration opens|registration closes)\s*(?:to\s+|=\s*|:\s*)?(?P<value>.+)$",
    ),
    audience=Audience.ADMINS,
    topic="events",
    help=(
        "edit event EVENT FIELD VALUE",
        "e.g. `edit event 3 places in person 60` or `edit event 3 venue Sessions House`",
    ),
    suggestion="edit event EVENT FIELD VALUE",
    side_effects=True,
    examples=(
        "edit event 3 venue Sessions House",
        "change event 2 date to 9 March 2027",
    ),
)

declare(
    intent="cancel_event",
    confirm="cancel {event} for everyone registered",
    handler=event_admin.cancel_event,
    patterns=words(
        r"^cancel\s+(?:the\s+)?event\s+(?P<target>.+)$",
    ),
    audience=Audience.ADMINS,
    topic="events",
    help=("cancel event EVENT", "cancel it; registrants are told"),
    suggestion="cancel event EVENT",
    side_effects=True,
    examples=(
        "cancel event 3",
        "cancel the event future workplaces",
    ),
)

declare(
    intent="attendees",
    handler=event_admin.attendees,
    patterns=words(
        r"^(?:attendees|registrations|who(?: is|'s) coming)(?:\s+(?:for|to|of|at))?\s+(?:the\s+)?(?:event\s+)?(?P<target>.+)$",
    ),
    audience=Audience.ADMINS,
    topic="events",
    help=("attendees EVENT", "who is coming, by partner and format, with a CSV file"),
    suggestion="attendees EVENT",
    examples=(
        "attendees future workplaces",
        "who's coming to event 3",
        "registrations for event 1",
    ),
)

declare(
    intent="event",
    handler=events.show_event,
    patterns=words(
        r"^(?:event|event details|details of event)\s+(?P<target>.+)$",
    ),
    topic="events",
    help=("event EVENT", "an event's details, by number or part of its title, e.g. `event future workplaces`"),
    suggestion="event EVENT",
    examples=(
        "event future workplaces",
        "event 3",
        "details of event 1",
    ),
)

declare(
    intent="unregister",
    confirm="cancel your place at {event}",
    handler=events.unregister,
    patterns=words(
        r"^(?:unregister|deregister|withdraw|cancel my (?:place|registration|booking))(?:\s+(?:me\s+)?(?:from|for|at|on))?\s+(?:the\s+)?(?:event\s+)?(?P<target>.+)$",
    ),
    topic="events",
    suggestion="unregister EVENT",
    side_effects=True,
    examples=(
        "unregister future workplaces",
        "cancel my place at event 3",
        "withdraw from future workplaces",
    ),
)

declare(
    intent="register",
    canonical=("register {event} {mode}", "register {event}"),
    confirm="book you a place at {event}",
    handler=events.register,
    patterns=words(
        r"^(?:register|book|reserve)(?:\s+me)?(?:\s+(?:a\s+)?place)?(?:\s+(?:for|on|onto|at|to))?\s+(?:the\s+)?(?:event\s+)?(?P<target>.+?)(?:\s+(?P<mode>in person|in-person|face to face|face-to-face|online|remotely|remote|virtually))?$",
    ),
    topic="events",
    help=(
        "register EVENT / unregister EVENT",
        "book or give up a place (`register 3 online`); full events have a waitlist",
    ),
    suggestion="register EVENT",
    side_effects=True,
    examples=(
        "register for future workplaces",
        "book me a place on event 3 online",
        "register 3 in person",
    ),
)

declare(
    intent="my_meetings",
    handler=meetings.my_meetings,
    patterns=words(
        r"^(?:my meetings|my next meetings|what meetings do i have|(?:which|what) meetings am i in)$",
    ),
    topic="meetings",
    help=("my meetings", "the meetings of the groups you belong to"),
    suggestion="my meetings",
    complete=True,
    examples=(
        "my meetings",
        "what meetings do I have",
        "which meetings am I in",
    ),
)

declare(
    intent="next_meeting",
    canonical=("next {group} meeting", "next meeting"),
    handler=meetings.next_meeting,
    patterns=words(
        r"^(?:next meeting|my next meeting|when is (?:the|my) next meeting)$",
        rf"^next\s+{_G}\s+(?:group\s+)?meeting$",
        rf"^next meeting (?:of|for)\s+{_G}(?:\s+group)?$",
        rf"^when(?:'s| is| will be) the next\s+{_G}\s+(?:group\s+)?meeting$",
        rf"^(?:when|where)\s+(?:does|do|will)\s+{_G}(?:\s+group)?\s+(?:next\s+)?meet(?:\s+next)?$",
    ),
    topic="meetings",
    help=("next GROUP meeting", "when and where a group meets next, e.g. `next gis meeting`"),
    suggestion="next meeting",
    complete=True,
    examples=(
        "next gis meeting",
        "when does the GIS group meet next?",
        "when is the next infosec meeting",
        "next meeting of smart kent",
    ),
)

declare(
    intent="meetings_in",
    handler=meetings.meetings_in,
    patterns=words(
        rf"^(?:(?:which|what) )?meetings\s+(?:are\s+)?(?:there\s+)?(?:in|on|during)\s+{_P}$",
        r"^(?:(?:which|what) )?meetings\s+(?:are\s+)?(?:there\s+)?for\s+(?P<period>(?:today|tomorrow|this week|next week|this month|next month|\d.*|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?:\s+\d.*)?|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\s+\d.*))$",
        rf"^(?:(?:which|what) )?meetings are (?:there )?(?:in|on)\s+{_P}$",
        r"^(?:(?:which|what) )?meetings (?:are (?:there )?)?(?P<period>today|tomorrow|this week|next week|this month|next month)$",
        rf"^(?:what'?s on|what is on)\s+(?:in|on)?\s*{_P}$",
    ),
    topic="meetings",
    help=("meetings in MONTH", "e.g. `meetings in March` or `meetings on 9 March`"),
    suggestion="meetings in MONTH",
    examples=(
        "meetings in March",
        "which meetings are in April?",
        "what's on in May",
        "meetings this week",
        "meetings on 9 March",
    ),
)

declare(
    intent="idea",
    handler=business_cases.new_idea,
    patterns=words(
        r"^(?:idea|ideas?\s+form|new idea|new business case|submit an? (?:idea|business case)|propose an? idea|i have an idea)$",
        # A title after a colon or "called"; after `new idea` also straight away, unless the words
        # go on as a sentence does ("submit an idea for funding", "new idea about desks" have none).
        r"^(?:new idea|new business case|submit an? (?:idea|business case))(?:\s*:\s*|\s+(?:called|titled|named)\s+)(?P<title>.+)$",
        r"^(?:new idea|new business case)\s+(?!(?:for|about|to|on|regarding|re|please|that|which)\b)(?P<title>.+)$",
    ),
    topic="cases",
    help=("idea", "submit a business case to the development fund; I ask the details step by step"),
    suggestion="idea",
    complete=True,
    examples=(
        "idea",
        "submit an idea",
        "new business case",
        "I have an idea",
    ),
)

# Before `ideas`, whose words ("cases ...") would take "cases to review".
declare(
    intent="review",
    handler=assessment.review,
    patterns=words(
        r"^(?:review|(?:cases|ideas) to (?:review|assess))$",
    ),
    audience=Audience.BOARD,
    topic="cases",
    help=("review", "the business cases waiting for assessment"),
    suggestion="review",
    complete=True,
    examples=(
        "review",
        "cases to review",
        "ideas to assess",
    ),
)

declare(
    intent="ideas",
    canonical=("ideas {status}", "ideas {group}", "ideas"),
    handler=business_cases.list_cases,
    patterns=words(
        r"^(?:ideas|business cases|cases|list ideas|list business cases)(?:\s+(?P<which>.+))?$",
        r"^(?P<which>my) (?:ideas|business cases|cases)$",
    ),
    topic="cases",
    help=("ideas [mine|approved|GROUP] / idea CASE", "the business cases, and one case's details and history"),
    suggestion="ideas",
    complete=True,
    examples=(
        "ideas",
        "list the business cases",
        "my ideas",
        "ideas approved",
    ),
)

declare(
    intent="assess",
    confirm="mark {case} as under assessment",
    handler=assessment.assess,
    patterns=words(
        r"^assess\s+(?:case\s+)?(?P<target>.+)$",
    ),
    audience=Audience.BOARD,
    topic="cases",
    help=("assess CASE", "mark a case as under assessment"),
    suggestion="assess CASE",
    side_effects=True,
    examples=(
        "assess case 4",
        "assess 12",
    ),
)

declare(
    intent="approve",
    confirm="approve {case} for {money}",
    handler=assessment.approve,
    patterns=words(
        # "approve case 4" names no sum: the case is never the word "case" with its number for a sum.
        r"^approve\s+(?:case\s+)?(?P<target>(?!case\b).+?)\s+(?:for\s+|with\s+|at\s+)?(?P<amount>-?\s*£?\s*\d[\d,]*(?:\.\d+)?\s*(?:k|m|mn|thousand|million|bn)?|lots|some|£\S*)$",
    ),
    audience=Audience.BOARD,
    topic="cases",
    help=("approve CASE AMOUNT / decline CASE REASON", "decide; the submitter is told"),
    suggestion="approve CASE AMOUNT",
    side_effects=True,
    examples=(
        "approve 4 £20,000",
        "approve case 7 for £5k",
    ),
)

declare(
    intent="approve_usage",
    handler=assessment.approve_help,
    patterns=words(
        r"^approve\b(?P<words>.*)$",
        explains=True,
    ),
    audience=Audience.BOARD,
    topic="cases",
)

declare(
    intent="decline",
    canonical=("decline {case}: {text}",),
    confirm="decline {case}, giving the reason {text}",
    handler=assessment.decline,
    patterns=words(
        r"^decline\s+(?:case\s+)?(?P<target>\d+)(?:\s*[:,-]\s*|\s+because\s+|\s+)?(?P<reason>.*)$",
        r"^decline\s+(?:case\s+)?(?P<target>.+?)(?:\s*[:,]\s*|\s+because\s+|\s+reason:?\s+)(?P<reason>.+)$",
    ),
    audience=Audience.BOARD,
    topic="cases",
    suggestion="decline CASE REASON",
    side_effects=True,
    examples=(
        "decline 4 because it duplicates GovRoam",
        "decline case 9: not enough partners",
    ),
)

declare(
    intent="in_delivery",
    confirm="mark {case} as in delivery",
    handler=assessment.start_delivery,
    patterns=words(
        r"^(?:start delivery(?: of)?|in delivery|delivering)\s+(?:case\s+)?(?P<target>.+)$",
    ),
    audience=Audience.BOARD,
    topic="cases",
    help=(
        "in delivery CASE / outcome CASE TEXT",
        "follow a funded case to its outcome (`learning: ...` for shared learning)",
    ),
    suggestion="in delivery CASE",
    side_effects=True,
    examples=(
        "in delivery 4",
        "start delivery of case 7",
    ),
)

declare(
    intent="outcome",
    canonical=("outcome {case}: {text}",),
    confirm="record the outcome of {case} as {text}",
    handler=assessment.outcome,
    patterns=words(
        r"^outcome\s+(?:of\s+)?(?:case\s+)?(?P<target>\d+)(?:\s*[:,-]\s*|\s+)?(?P<text>.*)$",
    ),
    audience=Audience.BOARD,
    topic="cases",
    suggestion="outcome CASE TEXT",
    side_effects=True,
    examples=(
        "outcome 4 the pilot reached 12 partners",
        "outcome of case 7: delivered",
    ),
)

declare(
    intent="fund",
    handler=assessment.fund,
    patterns=words(
        r"^(?:fund|the fund|development fund|the development fund|fund balance|(?:what is|what's) (?:in )?the fund(?: balance)?)$",
    ),
    topic="cases",
    help=("fund", "the development fund: balance, contributions, awards and spending by year"),
    suggestion="fund",
    complete=True,
    examples=(
        "fund",
        "what's in the fund?",
        "development fund balance",
    ),
)

declare(
    intent="fund_add",
    canonical=("fund add {partner} {money}",),
    confirm="record {money} from {partner}",
    handler=assessment.add_contribution,
    patterns=words(
        r"^fund (?:add|contribution)\s+(?P<partner>.+?)\s+(?P<amount>-?\s*£?\s*\d[\d,]*(?:\.\d+)?\s*(?:k|m|mn|thousand|million|bn)?|lots|some|£\S*)(?:\s+(?:for\s+)?(?P<year>\d{4}(?:/\d{2})?))?$",
    ),
    audience=Audience.ADMINS,
    topic="cases",
    help=("fund add PARTNER AMOUNT [YEAR]", "record a partner's contribution, e.g. `fund add Medway £5,000 2026/27`"),
    suggestion="fund add PARTNER AMOUNT",
    side_effects=True,
    examples=(
        "fund add Medway £5,000 2026/27",
        "fund contribution Swale 2000",
    ),
)

declare(
    intent="fund_spent",
    confirm="record {money} spent on {case}",
    handler=assessment.record_spend,
    patterns=words(
        r"^fund (?:spend|spent)\s+(?:case\s+)?(?P<target>\d+)\s+(?P<amount>.+)$",
    ),
    audience=Audience.ADMINS,
    topic="cases",
    help=("fund spent CASE AMOUNT", "record what a funded case has spent"),
    suggestion="fund spent CASE AMOUNT",
    side_effects=True,
    examples=(
        "fund spent 4 £1,200",
        "fund spend case 7 300",
    ),
)

declare(
    intent="case",
    handler=business_cases.show_case,
    patterns=words(
        # A number and more words is a sentence ("case 4 is finished, ..."), for the language model.
        r"^(?:idea|case|business case)\s+#?(?P<target>\d+)$",
        r"^(?:idea|case|business case)\s+(?!#?\d+\s)(?P<target>.+)$",
    ),
    topic="cases",
    suggestion="idea CASE",
    examples=(
        "idea 4",
        "case 7",
        "business case desk booking",
    ),
)

declare(
    intent="my_data",
    handler=privacy.my_data,
    patterns=words(
        r"^(?:my data|what do you (?:hold|know|store) about me|export my data)$",
    ),
    audience=Audience.ANYONE,
    topic="you",
    help=("my data / forget me", "what I hold about you, as a file; or erase it"),
    suggestion="my data",
    complete=True,
    examples=(
        "my data",
        "what do you know about me?",
        "export my data",
    ),
)

declare(
    intent="forget_me",
    confirm="erase what I hold about you",
    handler=privacy.forget_me,
    patterns=words(
        r"^(?:forget me|erase me|delete me|erase my data|delete my data)$",
    ),
    audience=Audience.ANYONE,
    topic="you",
    suggestion="forget me",
    complete=True,
    side_effects=True,
    examples=(
        "forget me",
        "delete my data",
        "erase me",
    ),
)

declare(
    intent="audit",
    handler=audit.show,
    patterns=words(
        r"^audit(?:\s+log)?(?:\s+(?P<words>.+))?$",
    ),
    audience=Audience.ADMINS,
    topic="admin",
    help=("audit [FILTER]", "who did what, e.g. `audit approve`, `audit meeting 13`"),
    suggestion="audit",
    complete=True,
    examples=(
        "audit",
        "audit approve",
        "audit log meeting 13",
    ),
)

declare(
    intent="partners_overview",
    handler=reach.partners_overview,
    patterns=words(
        r"^(?P<plain>partners)$",
        r"^(?:partners?\s+(?:overview|reach|installs?|usage)|(?:the\s+)?bot'?s\s+reach|reach|installs|"
        r"where\s+(?:is|are)\s+(?:the\s+bot|you|kent connects(?:\s+bot)?)\s+installed|"
        r"which\s+partners\s+(?:use|have used)\s+(?:the\s+bot|you))$",
    ),
    audience=Audience.ADMINS,
    topic="admin",
    help=(
        "partners",
        "each partner with its Slack workspaces and Teams tenants, how many of its staff use me, and when last",
    ),
    suggestion="partners",
    complete=True,
    examples=(
        "partners",
        "partners overview",
        "where is the bot installed",
        "which partners use the bot",
    ),
)

declare(
    intent="chair",
    confirm="make {email} a chair of {group}",
    handler=roles.set_chair,
    patterns=words(
        r"^(?P<remove>un)?chair\s+(?P<group>.+?)\s+(?P<email>\S+@\S+)$",
    ),
    audience=Audience.ADMINS,
    topic="admin",
    help=("chair GROUP EMAIL / unchair GROUP EMAIL", "who chairs a group"),
    suggestion="chair GROUP EMAIL",
    side_effects=True,
    examples=(
        "chair gis jo.bloggs@kent.gov.uk",
        "unchair infosec sam@medway.gov.uk",
    ),
)

declare(
    intent="role",
    canonical=("board add {email}",),
    confirm="make {email} a member of the Leadership Board",
    handler=roles.set_role,
    patterns=words(
        r"^(?P<role>board|admin)\s+(?P<change>add|remove|grant|revoke)\s+(?P<email>\S+@\S+)$",
    ),
    audience=Audience.ADMINS,
    topic="admin",
    help=("board add|remove EMAIL / admin add|remove EMAIL", "the Leadership Board and the Partnership Office"),
    suggestion="board add EMAIL",
    side_effects=True,
    examples=(
        "board add jo.bloggs@kent.gov.uk",
        "admin remove sam@medway.gov.uk",
    ),
)

declare(
    intent="partner_tenant",
    canonical=("partner tenant {partner} {tenant}",),
    confirm="record the Microsoft 365 tenant {tenant} for {partner}",
    handler=tenants.set_tenant,
    patterns=words(
        r"^partner\s+tenant\s+(?P<partner>.+?)\s+(?P<tenant>\S+)$",
    ),
    audience=Audience.ADMINS,
    topic="admin",
    help=(
        "partner tenant PARTNER TENANT_ID",
        "recognise a partner's staff on Teams by its Microsoft 365 tenant, whatever their e-mail address",
    ),
    suggestion="partner tenant PARTNER TENANT_ID",
    side_effects=True,
    examples=(
        "partner tenant Medway 3f2b6c1e-8d4a-4b7e-9c0f-5a1d2e3b4c5d",
        "partner tenant kent police 9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4",
    ),
)

declare(
    intent="partner_tenant_usage",
    handler=tenants.usage,
    patterns=words(
        r"^partner\s+tenant\b(?P<words>.*)$",
        explains=True,
    ),
    audience=Audience.ADMINS,
    topic="admin",
)

declare(
    intent="link_channel",
    confirm="link this channel to {group}",
    handler=channels.link,
    patterns=words(
        r"^(?P<remove>un)?link\s+(?:this\s+)?channel\s+(?:to\s+|from\s+)?(?:the\s+)?(?P<group>.+?)(?:\s+group)?$",
    ),
    audience=Audience.CHAIRS,
    topic="news",
    help=(
        "link channel GROUP / channel digest on",
        "in a Slack or Teams channel: post the group's announcements there, and a weekly what's on",
    ),
    suggestion="link channel GROUP",
    side_effects=True,
    examples=(
        "link channel gis",
        "link this channel to smart kent",
        "unlink channel gis",
    ),
)

declare(
    intent="digest",
    canonical=("channel digest {state}",),
    confirm="turn the channel digest {state}",
    handler=channels.digest,
    patterns=words(
        r"^(?:channel\s+)?digest\s+(?P<state>on|off)$",
    ),
    audience=Audience.CHAIRS,
    topic="news",
    suggestion="channel digest on",
    side_effects=True,
    examples=(
        "channel digest on",
        "digest off",
    ),
)

declare(
    intent="announce",
    canonical=("announce {group} {text}",),
    confirm="announce to {group}: {text}",
    handler=announcements.announce,
    patterns=words(
        r"^announce(?:\s+(?P<words>.+))?$",
    ),
    audience=Audience.CHAIRS,
    topic="news",
    help=("announce GROUP TEXT", "to the group's members now, or `announce gis at 9 March 2027 09:00: TEXT` for later"),
    suggestion="announce GROUP TEXT",
    side_effects=True,
    examples=(
        "announce gis The data drill report is out",
        "announce smart kent at 9 March 2027 09:00: Agenda attached",
    ),
)

declare(
    intent="announcements",
    handler=announcements.list_announcements,
    patterns=words(
        r"^(?:announcements|my announcements)$",
    ),
    topic="news",
    help=(
        "announcements / announcement N / ack N",
        "the announcements your groups were sent (and yours, with delivery reports); read one, acknowledge it",
    ),
    suggestion="announcements",
    complete=True,
    examples=(
        "announcements",
        "my announcements",
    ),
)

declare(
    intent="announcement",
    handler=announcements.report,
    patterns=words(
        r"^(?:announcement|delivery report(?: for)?(?: announcement)?)\s+#?(?P<number>\d+)$",
    ),
    topic="news",
    suggestion="announcement N",
    examples=(
        "announcement 3",
        "delivery report for announcement 2",
    ),
)

declare(
    intent="cancel_announcement",
    confirm="cancel announcement {number}",
    handler=announcements.cancel_announcement,
    patterns=words(
        r"^cancel\s+(?:the\s+)?announcement\s+#?(?P<number>\d+)$",
    ),
    audience=Audience.CHAIRS,
    topic="news",
    suggestion="cancel announcement N",
    side_effects=True,
    examples=("cancel announcement 3",),
)

declare(
    intent="ack",
    confirm="acknowledge announcement {number}",
    handler=announcements.acknowledge,
    patterns=words(
        r"^(?:ack|acknowledge)\s+(?:announcement\s+)?#?(?P<number>\d+)$",
    ),
    topic="news",
    suggestion="ack N",
    side_effects=True,
    examples=(
        "ack 3",
        "acknowledge announcement 2",
    ),
)

declare(
    intent="notices",
    handler=notices.notices,
    patterns=words(
        r"^(?:notices|my notices|notifications|my notifications|messages|my messages|(?:my )?inbox|what did i miss|"
        r"what have you sent me|(?:what|which) (?:messages|notices|notifications) (?:did you send|have you sent)(?: me)?)$",
    ),
    topic="news",
    help=(
        "notices",
        "what I've sent you in the last 30 days (reminders, announcements, news of your ideas), and where",
    ),
    suggestion="notices",
    complete=True,
    examples=(
        "notices",
        "what did I miss?",
        "my messages",
    ),
)

declare(
    intent="message_platform",
    canonical=("send my messages to {platform}",),
    confirm="change where I send your messages",
    handler=reach.send_messages_to,
    patterns=words(
        r"^(?:send|deliver|post)\s+(?:all\s+)?my\s+(?:messages|notices|notifications)\s+(?:to|on|in|via|through|over)\s+"
        r"(?P<platform>slack|(?:microsoft\s+|ms\s+)?teams)(?:\s+(?:only|instead))?$",
        r"^(?:send|deliver|post)\s+(?:all\s+)?my\s+(?:messages|notices|notifications)\s+"
        r"(?P<platform>(?:to\s+)?where(?:ever)?\s+i\s+(?:last\s+)?use[d]?(?:\s+(?:you|it|the\s+bot))?(?:\s+last)?|"
        r"automatically)$",
    ),
    topic="news",
    help=(
        "send my messages to teams|slack",
        "on Slack and Teams both? what I send you of my own accord goes to the one you choose, each message once "
        "(`send my messages where I last used` to go back)",
    ),
    suggestion="send my messages to teams",
    complete=True,
    side_effects=True,
    examples=(
        "send my messages to teams",
        "send my messages to slack",
        "send my messages where I last used",
        "send my notifications to microsoft teams",
    ),
)

declare(
    intent="remind_me",
    canonical=(
        "remind me {lead} before the {group} meeting",
        "remind me {lead} before event {event}",
        "remind me {moment} to {task}",
    ),
    confirm="set a reminder: {words}",
    handler=reminders.remind_me,
    patterns=words(
        # "Remind me what groups I'm in" is a question, for the language model.
        r"^(?:remind me|nudge me|ping me)(?![\s,]+(?:what|which|who|whom|whose|where|how|whether|if)\b)[\s,:;]+(?P<words>.+)$",
        r"^(?:set|make|add|create)\s+(?:me\s+)?an?\s+reminder\s+(?:for\s+)?(?P<words>.+)$",
        r"^reminder\s*:\s*(?P<words>.+)$",
        r"^(?:don't|do not)\s+let\s+me\s+forget\s+(?P<words>.+)$",
        # The when first: "tomorrow at 9 remind me to call Swale" reads as "remind me tomorrow at 9 to ...".
        r"^(?P<when>.+?)\s+remind me\s+(?P<words>.+)$",
    ),
    topic="reminders",
    help=(
        "remind me ...",
        "e.g. `remind me tomorrow morning to ring Swale`, `remind me to submit my idea on Friday at 10`, "
        "`remind me in 30 minutes to call Medway`, `remind me the day before the GIS meeting`",
    ),
    suggestion="remind me ...",
    side_effects=True,
    examples=(
        "remind me 2 hours before the GIS meeting",
        "remind me tomorrow at 9 to submit my idea",
        "remind me in 30 minutes to call Medway",
        "remind me tomorrow morning to ring Swale",
        "remind me to submit my idea on Friday at 10",
        "remind me the day before the GIS meeting",
        "remind me 2 days before future workplaces",
    ),
)

declare(
    intent="reminders",
    handler=reminders.reminders,
    patterns=words(
        r"^(?:reminders|my reminders|reminder settings|list reminders)$",
    ),
    topic="reminders",
    help=("reminders / reminders off / reminders on", "your reminders; automatic ones come 7 days and 1 day before"),
    suggestion="reminders",
    complete=True,
    examples=(
        "reminders",
        "my reminders",
        "reminder settings",
    ),
)

declare(
    intent="reminders_switch",
    canonical=("reminders {state}",),
    confirm="turn your automatic reminders {state}",
    handler=reminders.reminders_switch,
    patterns=words(
        r"^(?:reminders|turn reminders)\s+(?P<state>on|off)$",
        r"^turn\s+(?P<state>on|off)\s+reminders$",
    ),
    topic="reminders",
    suggestion="reminders off",
    complete=True,
    side_effects=True,
    examples=(
        "reminders off",
        "turn reminders on",
        "reminders on",
    ),
)

declare(
    intent="reminder_leads",
    canonical=("reminders {lead}",),
    confirm="send your automatic reminders {lead} before",
    handler=reminders.reminder_leads,
    patterns=words(
        r"^reminders\s+(?P<leads>\d.*|an?\s.*)$",
    ),
    topic="reminders",
    suggestion="reminders 3 days, 2 hours",
    side_effects=True,
    examples=(
        "reminders 3 days, 2 hours",
        "reminders 1 week",
    ),
)

declare(
    intent="cancel_reminder",
    confirm="cancel reminder {number}",
    handler=reminders.cancel_reminder,
    patterns=words(
        r"^cancel\s+(?:the\s+|my\s+)?reminder\s+#?(?P<number>\d+)$",
    ),
    topic="reminders",
    suggestion="cancel reminder N",
    side_effects=True,
    examples=(
        "cancel reminder 12",
        "cancel my reminder 3",
    ),
)

declare(
    intent="calendar",
    canonical=("calendar {group}", "calendar event {event}"),
    handler=calendar.calendar,
    patterns=words(
        r"^(?:calendar|ics|ical|icalendar|calendar file)\s+(?:file\s+)?(?:for\s+|of\s+)?(?:the\s+)?(?P<target>.+)$",
    ),
    topic="meetings",
    help=(
        "calendar GROUP",
        "the group's meetings as a calendar file for Outlook or Google (`calendar meeting 13` for one, `calendar events` for the events)",
    ),
    suggestion="calendar GROUP",
    examples=(
        "calendar gis",
        "calendar meeting 13",
        "calendar events",
        "ics file for infosec",
    ),
)

declare(
    intent="schedule",
    canonical=("schedule {group}", "schedule"),
    handler=meeting_admin.schedule,
    patterns=words(
        r"^schedule(?:\s+an?)?(?:\s+(?:new\s+)?meetings?)?$",
        rf"^schedule(?:\s+an?)?(?:\s+(?:new\s+)?meetings?)?(?:\s+(?:for|of|with))?\s+{_G}(?:\s+(?:group|meetings?))?$",
    ),
    audience=Audience.CHAIRS,
    topic="meetings",
    help=("schedule GROUP", "a one-off meeting or a series (quarterly by default); I ask the details step by step"),
    suggestion="schedule GROUP",
    examples=(
        "schedule gis",
        "schedule a meeting",
        "schedule a new meeting for smart kent",
    ),
)

declare(
    intent="move",
    canonical=("move {meeting} to {moment}",),
    confirm="move {meeting} to {moment}",
    handler=meeting_admin.move,
    patterns=words(
        r"^(?:move|reschedule)\s+(?:meeting\s+)?#?(?P<meeting>\w+)\s+to\s+(?P<when>.+?)(?P<rest>,?\s+and\s+(?:the\s+)?(?:rest(?:\s+of\s+(?:the|its)\s+series)?|following(?:\s+ones)?|(?:all\s+)?later\s+ones))?$",
    ),
    audience=Audience.CHAIRS,
    topic="meetings",
    help=(
        "move MEETING to DAY TIME",
        "e.g. `move 13 to 16 March 2027 10:00-12:00`; add `and the rest of the series` for the later ones",
    ),
    suggestion="move MEETING to DAY TIME",
    side_effects=True,
    examples=(
        "move 13 to 16 March 2027 10:00-12:00",
        "reschedule meeting 4 to 3 June 14:00-15:30 and the rest of the series",
    ),
)

declare(
    intent="move_usage",
    handler=meeting_admin.move_help,
    patterns=words(
        r"^(?:move|reschedule)\b(?P<words>.*)$",
        explains=True,
    ),
    audience=Audience.CHAIRS,
    topic="meetings",
)

declare(
    intent="cancel_meeting",
    canonical=("cancel meeting {meeting}",),
    confirm="cancel {meeting}",
    handler=meeting_admin.cancel,
    patterns=words(
        r"^cancel\s+(?:the\s+)?(?:meeting|series)?\s*#?(?P<meeting>\d+)(?P<rest>,?\s+and\s+(?:the\s+)?(?:rest(?:\s+of\s+(?:the|its)\s+series)?|following(?:\s+ones)?|(?:all\s+)?later\s+ones))?$",
    ),
    audience=Audience.CHAIRS,
    topic="meetings",
    help=("cancel meeting MEETING", "e.g. `cancel meeting 13`; add `and the rest of the series` for the later ones"),
    suggestion="cancel meeting MEETING",
    side_effects=True,
    examples=(
        "cancel meeting 13",
        "cancel meeting 4 and the rest of the series",
    ),
)

declare(
    intent="cancel_usage",
    handler=meeting_admin.cancel_help,
    patterns=words(
        r"^cancel\b(?P<words>.*)$",
        explains=True,
    ),
    topic="meetings",
)

declare(
    intent="meetings",
    canonical=("meetings {group}", "meetings"),
    handler=meetings.meetings,
    patterns=words(
        r"^(?:meetings|upcoming meetings|all meetings|(?:what|which) meetings are (?:coming up|there|scheduled)|when are the meetings)$",
        rf"^(?:meetings|dates)\s+(?:of|for)\s+{_G}(?:\s+group)?$",
        rf"^(?:when|where)\s+(?:does|do)\s+{_G}(?:\s+group)?\s+meet$",
        rf"^{_G}\s+meetings$",
        rf"^meetings\s+{_G}$",
    ),
    topic="meetings",
    help=("meetings [GROUP]", "upcoming meetings, of all groups or one (e.g. `meetings infosec`)"),
    suggestion="meetings",
    complete=True,
    examples=(
        "meetings",
        "upcoming meetings",
        "meetings gis",
        "infosec meetings",
        "dates for the accessibility group",
    ),
)


declare(
    intent="continue",
    handler=conversation.continue_form,
    patterns=words(r"^(?:continue|resume|carry on)(?: (?:my|the) (?:form|draft|idea))?$"),
    topic="you",
    suggestion="continue",
    complete=True,
    examples=("continue", "resume my form", "carry on"),
)


# --- questions answered as questions (handlers/questions.py) ---------------------------------

_E = r"(?:the\s+)?(?:event\s+)?(?P<target>.+?)"  # an event by number or title, "the" optional

declare(
    before="next_meeting",
    intent="meeting_where",
    handler=questions.meeting_where,
    patterns=words(
        rf"^where(?:'s| is| will be)\s+(?:the\s+)?next\s+{_G}\s+(?:group\s+)?meeting(?:\s+(?:being\s+)?(?:held|taking place))?$",
        rf"^where(?:'s| is| will be)\s+{_G}(?:\s+group)?(?:'s)?\s+(?:next\s+)?meeting(?:\s+(?:being\s+)?(?:held|taking place))?$",
        rf"^where\s+(?:does|do|will)\s+{_G}(?:\s+group)?\s+(?:next\s+)?meet(?:\s+next)?$",
        rf"^where\s+is\s+{_G}\s+meeting(?:\s+next)?$",
    ),
    topic="meetings",
    suggestion="where is the next GROUP meeting",
    examples=(
        "where is the next GIS meeting being held",
        "where does infosec meet",
        "where's the next smart kent meeting",
        "where is the accessibility group's next meeting",
    ),
)

declare(
    before="next_meeting",
    intent="meeting_online",
    handler=questions.meeting_online,
    patterns=words(
        rf"^(?:is|will)\s+(?:the\s+)?next\s+{_G}\s+(?:group\s+)?meeting\s+(?:be\s+)?(?:online|virtual|on teams|remote|in person|hybrid)$",
        # "can I join the next GIS meeting online?", its politeness gone
        rf"^(?:join|attend)\s+(?:the\s+)?(?:next\s+)?{_G}\s+(?:group\s+)?meeting\s+(?:online|remotely|virtually)$",
        rf"^is\s+there\s+an?\s+(?:online|teams|joining)\s+link\s+for\s+(?:the\s+)?(?:next\s+)?{_G}\s+(?:group\s+)?meeting$",
    ),
    topic="meetings",
    suggestion="is the next GROUP meeting online",
    examples=(
        "Is the next infosec meeting online?",
        "can I join the next GIS meeting remotely",
        "is there a teams link for the next accessibility meeting",
    ),
)

declare(
    before="next_meeting",
    intent="meeting_when",
    handler=questions.meeting_when,
    patterns=words(
        rf"^what\s+time\s+(?:does|do|will)\s+{_G}(?:\s+group)?\s+(?:next\s+)?meet(?:\s+next)?$",
        rf"^what\s+time\s+is\s+(?:the\s+)?(?:next\s+)?{_G}\s+(?:group\s+)?meeting$",
        rf"^what\s+time\s+(?:does|do|will)\s+(?:the\s+)?(?:next\s+)?{_G}\s+(?:group\s+)?meeting\s+(?:start|begin)$",
    ),
    topic="meetings",
    suggestion="what time does GROUP meet",
    examples=(
        "what time does infosec meet",
        "what time is the next GIS meeting",
        "what time does the smart kent meeting start",
    ),
)

declare(
    before="meetings_in",
    intent="any_meeting_in",
    canonical=("is there a {group} meeting in {period}", "is there a meeting in {period}"),
    handler=questions.any_meeting_in,
    patterns=words(
        # Without a group first: "is there any meeting in April" has no group called "any".
        rf"^(?:is|are)\s+there\s+(?:an?\s+|any\s+)?meetings?\s+(?:(?:in|on|during|for)\s+)?{_P}$",
        rf"^(?:is|are)\s+there\s+(?:an?\s+|any\s+)?{_G}\s+(?:group\s+)?meetings?\s+(?:(?:in|on|during|for)\s+)?{_P}$",
        rf"^(?:does|do|will)\s+{_G}(?:\s+group)?\s+meet\s+(?:in|on|during)\s+{_P}$",
    ),
    topic="meetings",
    suggestion="is there a GROUP meeting in MONTH",
    examples=(
        "is there a GIS meeting in april?",
        "does infosec meet in March",
        "are there any meetings next week",
    ),
)

declare(
    before="join",
    intent="who_chairs",
    handler=questions.who_chairs,
    patterns=words(
        rf"^who\s+(?:chairs|leads|runs)\s+{_G}(?:\s+group)?$",
        rf"^who(?:'s| is)\s+(?:the\s+)?(?:chair|chairs|lead|leader)\s+(?:of\s+)?{_G}(?:\s+group)?$",
    ),
    audience=Audience.ANYONE,
    topic="groups",
    suggestion="who chairs GROUP",
    examples=("who chairs GIS?", "who is the chair of infosec", "who leads the accessibility group"),
)

declare(
    before="join",
    intent="my_groups",
    handler=questions.my_groups,
    patterns=words(
        r"^(?:which|what)\s+groups\s+am\s+i\s+(?:in|a member of|on|part of)$",
        r"^my\s+groups$",
        r"^(?:which|what)\s+groups\s+do\s+i\s+(?:belong to|chair)$",
    ),
    topic="groups",
    suggestion="my groups",
    complete=True,
    examples=("which groups am I in?", "my groups", "what groups do I belong to"),
)

declare(
    before="join",
    intent="how_to_join",
    handler=questions.how_to_join,
    patterns=words(
        rf"^how\s+(?:do|can)\s+i\s+(?:join|become a member of|get into|sign up to)\s+{_G}(?:\s+group)?$",
    ),
    topic="groups",
    suggestion="how do I join GROUP",
    examples=("How do I join the GIS group?", "how can I join infosec", "how can I become a member of smart kent"),
)

declare(
    intent="next_event",
    handler=questions.next_event,
    patterns=words(
        r"^(?:what(?:'s| is)\s+)?(?:the\s+)?next\s+event$",
        r"^when(?:'s| is)\s+(?:the\s+)?next\s+event$",
        r"^(?:is there|are there)\s+(?:an?\s+|any\s+)?events?\s+coming up$",
    ),
    topic="events",
    suggestion="next event",
    complete=True,
    examples=("What's the next event?", "when is the next event", "is there an event coming up"),
)

declare(
    intent="places_left",
    handler=questions.places_left,
    patterns=words(
        rf"^how\s+many\s+(?:places|spaces|seats|tickets)\s+(?:are\s+)?(?:left|remaining|available|free)\s+(?:on|for|at|in)\s+{_E}$",
        rf"^(?:are there|is there)\s+(?:any\s+)?(?:places|spaces|room)\s+(?:left\s+)?(?:on|for|at)\s+{_E}$",
        rf"^is\s+{_E}\s+(?:full|sold out|booked up)$",
    ),
    topic="events",
    suggestion="how many places are left on EVENT",
    examples=(
        "how many places are left on future workplaces?",
        "are there any places left at event 1",
        "is future workplaces full",
    ),
)

declare(
    intent="event_when",
    handler=questions.event_when,
    patterns=words(
        rf"^when(?:'s| is)\s+{_E}(?:\s+event)?$",
        rf"^what\s+(?:date|day|time)\s+is\s+{_E}(?:\s+event)?$",
    ),
    topic="events",
    suggestion="when is EVENT",
    examples=("when is future workplaces", "what date is the future workplaces event"),
)


# --- questions about the partnership, from the Partnership Office's file (storage/data/faq.yaml) ---

# First in routing order: each is a whole question word for word, which no command's words should
# take ("can I book a desk at another partner's office" is no event booking).
for _entry in faq_file.entries():
    declare(
        before="help",
        intent=f"faq:{_entry.id}",
        handler=functools.partial(faq.answer, entry_id=_entry.id),
        patterns=words(*(rf"^{re.escape(normalise(q))}$" for q in _entry.questions)),
        audience=Audience.ANYONE,
        topic="you",
        suggestion=_entry.questions[0],
        complete=True,
        examples=_entry.questions,
    )
