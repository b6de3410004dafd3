"""From words to a handler: commands and natural questions, one database transaction each."""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Callable, Optional

from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.messages import Action, Reply, Request
from handlers import calendar, conversation, groups, help as help_handler, meeting_admin, meetings, people
from handlers.base import Context, quote
from storage.models import ConversationStep

logger = logging.getLogger(__name__)

MAX_LENGTH = 1000

Handler = Callable[..., Reply]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    handler: Handler


def _r(pattern: str, handler: Handler) -> Route:
    return Route(re.compile(pattern), handler)


_G = r"(?:the\s+)?(?P<group>.+?)"  # a group's name, "the" optional
_P = r"(?P<period>.+)"  # a month or a day

# First match wins; patterns run on normalised text (lower case, no trailing punctuation).
ROUTES: tuple[Route, ...] = (
    _r(r"^(?:help|\?|commands|menu|start|what can you do|how does this work)$", help_handler.help),
    _r(r"^(?:whoami|who am i|my details|my profile)$", people.whoami),
    _r(r"^(?:groups|list groups|show groups|(?:what|which) groups (?:are there|exist|can i join))$", groups.list_groups),
    _r(rf"^(?:join|add me to|subscribe(?: me)? to)\s+{_G}(?:\s+group)?$", groups.join),
    _r(rf"^(?:leave|remove me from|unsubscribe(?: me)? from)\s+{_G}(?:\s+group)?$", groups.leave),
    _r(r"^sign me up (?:for|to)\s+(?:the\s+)?(?P<target>.+)$", groups.sign_up),
    _r(r"^(?:my meetings|my next meetings|what meetings do i have|(?:which|what) meetings am i in)$", meetings.my_meetings),
    _r(r"^(?:next meeting|my next meeting|when is (?:the|my) next meeting)$", meetings.next_meeting),
    _r(rf"^next\s+{_G}\s+(?:group\s+)?meeting$", meetings.next_meeting),
    _r(rf"^next meeting (?:of|for)\s+{_G}(?:\s+group)?$", meetings.next_meeting),
    _r(rf"^when(?:'s| is| will be) the next\s+{_G}\s+(?:group\s+)?meeting$", meetings.next_meeting),
    _r(rf"^(?:when|where)\s+(?:does|do|will)\s+{_G}(?:\s+group)?\s+(?:next\s+)?meet(?:\s+next)?$", meetings.next_meeting),
    _r(rf"^(?:(?:which|what) )?meetings\s+(?:are\s+)?(?:there\s+)?(?:in|on|during)\s+{_P}$", meetings.meetings_in),
    _r(rf"^(?:(?:which|what) )?meetings\s+(?:are\s+)?(?:there\s+)?for\s+(?P<period>(?:today|tomorrow|this week|next week|this month|next month|\d.*|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?:\s+\d.*)?|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\s+\d.*))$", meetings.meetings_in),
    _r(rf"^(?:(?:which|what) )?meetings are (?:there )?(?:in|on)\s+{_P}$", meetings.meetings_in),
    _r(rf"^(?:what'?s on|what is on)\s+(?:in|on)?\s*{_P}$", meetings.meetings_in),
    _r(r"^(?:calendar|ics|ical|icalendar|calendar file)\s+(?:file\s+)?(?:for\s+|of\s+)?(?:the\s+)?(?P<target>.+)$", calendar.calendar),
    _r(r"^schedule(?:\s+an?)?(?:\s+(?:new\s+)?meetings?)?$", meeting_admin.schedule),
    _r(rf"^schedule(?:\s+an?)?(?:\s+(?:new\s+)?meetings?)?(?:\s+(?:for|of|with))?\s+{_G}(?:\s+(?:group|meetings?))?$", meeting_admin.schedule),
    _r(r"^(?:move|reschedule)\s+(?:meeting\s+)?#?(?P<meeting>\w+)\s+to\s+(?P<when>.+?)(?P<rest>,?\s+and\s+(?:the\s+)?(?:rest(?:\s+of\s+(?:the|its)\s+series)?|following(?:\s+ones)?|(?:all\s+)?later\s+ones))?$", meeting_admin.move),
    _r(r"^(?:move|reschedule)\b(?P<words>.*)$", meeting_admin.move_help),
    _r(r"^cancel\s+(?:the\s+)?(?:meeting|series)?\s*#?(?P<meeting>\d+)(?P<rest>,?\s+and\s+(?:the\s+)?(?:rest(?:\s+of\s+(?:the|its)\s+series)?|following(?:\s+ones)?|(?:all\s+)?later\s+ones))?$", meeting_admin.cancel),
    _r(r"^cancel\b(?P<words>.*)$", meeting_admin.cancel_help),
    _r(r"^(?:meetings|upcoming meetings|all meetings|(?:what|which) meetings are (?:coming up|there|scheduled)|when are the meetings)$", meetings.meetings),
    _r(rf"^(?:meetings|dates)\s+(?:of|for)\s+{_G}(?:\s+group)?$", meetings.meetings),
    _r(rf"^(?:when|where)\s+(?:does|do)\s+{_G}(?:\s+group)?\s+meet$", meetings.meetings),
    _r(rf"^{_G}\s+meetings$", meetings.meetings),
    _r(rf"^meetings\s+{_G}$", meetings.meetings),
)

# Words of features still being built: a clear answer instead of "I don't understand".
COMING = {
    "events": "business transformation events",
    "event": "business transformation events",
    "past events": "business transformation events",
    "register": "event registration",
    "unregister": "event registration",
    "my events": "event registration",
    "attendees": "event registration",
    "idea": "business cases for the development fund",
    "ideas": "business cases for the development fund",
    "review": "business cases for the development fund",
    "approve": "business cases for the development fund",
    "decline": "business cases for the development fund",
    "outcome": "business cases for the development fund",
    "fund": "the development fund",
    "remind": "reminders",
    "reminders": "reminders",
    "announce": "announcements",
    "my data": "data protection requests",
    "forget me": "data protection requests",
}

# Everything a person might have meant to type, for "did you mean".
VOCABULARY = (
    "help", "whoami", "groups", "join", "leave", "meetings", "next meeting", "my meetings",
    "meetings in", "calendar", "schedule", "move", "cancel meeting", *COMING,
)

# Suggestions that are whole commands by themselves, so they can be buttons.
COMPLETE_COMMANDS = {"help", "whoami", "groups", "meetings", "next meeting", "my meetings"}

_POLITE = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay)\b[\s,!]*)?(?:(?:please|pls|kindly|can you|could you|would you|will you|"
    r"can i|could i|i'd like to|i would like to|i want to|tell me|show me|list|give me|the)\s+)*"
)
_TRAILING = re.compile(r"(?:[\s?!.,;:]+|\s+please)+$")
_GREETING = re.compile(r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks|thank you|cheers)$")


def _without_symbols(text: str) -> str:
    # Emoji and other pictographs carry no command words: "📅 meetings?" means "meetings".
    return "".join(" " if unicodedata.category(ch) == "So" else ch for ch in text)


def normalise(text: str) -> str:
    text = " ".join(_without_symbols(unicodedata.normalize("NFKC", text)).split()).lower()
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"^/?kc\b\s*", "", text)
    text = _TRAILING.sub("", text)
    if _GREETING.match(text):
        return text
    text = _POLITE.sub("", text)
    return _TRAILING.sub("", text)


def match(text: str) -> Optional[tuple[Handler, dict[str, str]]]:
    for route in ROUTES:
        found = route.pattern.match(text)
        if found:
            return route.handler, {k: v for k, v in found.groupdict().items() if v is not None}
    return None


def understand(text: str) -> tuple[Optional[Handler], dict[str, str], Optional[Reply]]:
    """The handler and its arguments for the words, or else a reply saying why not."""
    if not text.strip():
        return None, {}, Reply("I didn't catch anything there. Say `help` to see what I can do.")
    if text.strip() in ("?", "/kc", "kc"):
        return help_handler.help, {}, None
    if len(text) > MAX_LENGTH:
        return None, {}, Reply(
            f"That message is {len(text):,} characters long; I read up to {MAX_LENGTH:,}. "
            "Please send a shorter one, e.g. `next gis meeting`."
        )
    words = normalise(text)
    if _GREETING.match(words):
        return None, {}, Reply("Hello! Say `help` to see what I can do, or ask e.g. “when does the GIS group meet next?”")
    found = match(words)
    if found:
        return found[0], found[1], None
    first = words.split(" ", 1)[0]
    padded = f" {words} "
    for phrase in sorted(COMING, key=len, reverse=True):
        if f" {phrase} " in padded:
            return None, {}, Reply(
                f"“{phrase}” is part of {COMING[phrase]}, which isn't in the bot yet; it's on "
                "the way. Today I can help with groups and meetings.",
                actions=(Action("Help", "help"),),
            )
    return None, {}, _not_understood(text, first)


def _not_understood(text: str, first_word: str) -> Reply:
    guesses = process.extract(first_word, VOCABULARY, scorer=fuzz.ratio, limit=2, score_cutoff=60)
    suggestions = [g[0] for g in guesses]
    lead = f"Sorry, I don't understand “{quote(text)}”."
    if suggestions:
        lead += " Did you mean " + " or ".join(f"`{s}`" for s in suggestions) + "?"
    buttons = tuple(Action(s.capitalize(), s) for s in suggestions if s in COMPLETE_COMMANDS)
    return Reply(lead + " Say `help` to see everything I can do.", actions=buttons or (Action("Help", "help"),))


def is_command(text: str) -> bool:
    """Whether the words are one of the bot's commands (not, say, an answer to a form)."""
    return match(normalise(text)) is not None


class Router:
    """Runs one request: who is asking, which handler, in one transaction; never raises."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings):
        self.session_factory = session_factory
        self.settings = settings

    def handle(self, request: Request) -> Reply:
        handler, args, early = understand(request.text)
        try:
            with self.session_factory.begin() as session:
                caller = people.resolve_caller(session, request, self.settings)
                ctx = Context(session, request, caller, self.settings)
                note = None
                state = conversation.active(ctx)
                if state is not None:
                    reply = conversation.take(ctx, state, request.text, is_command)
                    if reply is not None:
                        return reply
                    if state.step is not ConversationStep.PAUSED:
                        note = conversation.pause(state)
                reply = early if handler is None else handler(ctx, **args)
                assert reply is not None
                return replace(reply, footer=" ".join(filter(None, (reply.footer, note)))) if note else reply
        except Exception:
            logger.exception("request failed: platform=%s user=%s", request.platform, request.user_id)
            return Reply(
                "Sorry, something went wrong on my side and nothing was changed. Please try "
                "again in a moment; if it keeps happening, tell the Partnership Office."
            )
