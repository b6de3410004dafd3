"""From words to a handler: commands and natural questions, one database transaction each."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Optional

from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session, sessionmaker

from bot import logs, platforms
from core.forms import FORMS, fill
from core.messages import Action, Refusal, Reply, Request
from core.settings import Settings
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
    groups,
    help as help_handler,
    home,
    meeting_admin,
    meetings,
    notices,
    people,
    privacy,
    reminders,
    roles,
)
from handlers.base import Context, quote
from storage import deliveries, inbound
from storage.models import ConversationStep

logger = logging.getLogger(__name__)

MAX_LENGTH = 1000

Handler = Callable[..., Reply]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    handler: Handler
    # A route that catches a command word with anything after it, to explain its use.
    catch_all: bool = False


def _r(pattern: str, handler: Handler, catch_all: bool = False) -> Route:
    # Matching ignores case, but what a pattern captures keeps the person's own capitals
    # (an idea's title, a decline reason, an event's venue).
    return Route(re.compile(pattern, re.IGNORECASE), handler, catch_all)


_G = r"(?:the\s+)?(?P<group>.+?)"  # a group's name, "the" optional
_P = r"(?P<period>.+)"  # a month or a day

# First match wins; patterns run on normalised text (lower case, no trailing punctuation).
ROUTES: tuple[Route, ...] = (
    _r(r"^(?:help|\?|commands|menu|start|what can you do|how does this work)$", help_handler.help),
    _r(r"^(?:whoami|who am i|my details|my profile)$", people.whoami),
    _r(
        r"^(?:groups|list groups|show groups|(?:what|which) groups (?:are there|exist|can i join))$", groups.list_groups
    ),
    _r(rf"^(?:join|add me to|subscribe(?: me)? to)\s+{_G}(?:\s+group)?$", groups.join),
    _r(rf"^(?:leave|remove me from|unsubscribe(?: me)? from)\s+{_G}(?:\s+group)?$", groups.leave),
    _r(r"^sign me up (?:for|to)\s+(?:the\s+)?(?P<target>.+)$", events.sign_up),
    _r(
        r"^(?:events|upcoming events|all events|(?:what|which) events are (?:there|coming up|on|planned)|what'?s on|when are the events)$",
        events.list_events,
    ),
    _r(r"^(?:past|previous|earlier|old) events$", events.past_events),
    _r(
        r"^(?:my events|my registrations|my bookings|(?:which|what) events am i (?:registered|booked) (?:for|on))$",
        events.my_events,
    ),
    _r(r"^(?:create|new|add)\s+(?:an?\s+)?event$", event_admin.create_event),
    _r(
        r"^(?:edit|change|update|set)\s+event\s+(?P<target>.+?)\s+(?P<field>title|theme|description|speakers|date|time|format|venue|online link|link|places in person|places online|capacity in person|capacity online|registration opens|registration closes)\s*(?:to\s+|=\s*|:\s*)?(?P<value>.+)$",
        event_admin.edit_event,
    ),
    _r(r"^cancel\s+(?:the\s+)?event\s+(?P<target>.+)$", event_admin.cancel_event),
    _r(
        r"^(?:attendees|registrations|who(?: is|'s) coming)(?:\s+(?:for|to|of|at))?\s+(?:the\s+)?(?:event\s+)?(?P<target>.+)$",
        event_admin.attendees,
    ),
    _r(r"^(?:event|event details|details of event)\s+(?P<target>.+)$", events.show_event),
    _r(
        r"^(?:unregister|deregister|withdraw|cancel my (?:place|registration|booking))(?:\s+(?:me\s+)?(?:from|for|at|on))?\s+(?:the\s+)?(?:event\s+)?(?P<target>.+)$",
        events.unregister,
    ),
    _r(
        r"^(?:register|book|reserve)(?:\s+me)?(?:\s+(?:a\s+)?place)?(?:\s+(?:for|on|onto|at|to))?\s+(?:the\s+)?(?:event\s+)?(?P<target>.+?)(?:\s+(?P<mode>in person|in-person|face to face|face-to-face|online|remotely|remote|virtually))?$",
        events.register,
    ),
    _r(
        r"^(?:my meetings|my next meetings|what meetings do i have|(?:which|what) meetings am i in)$",
        meetings.my_meetings,
    ),
    _r(r"^(?:next meeting|my next meeting|when is (?:the|my) next meeting)$", meetings.next_meeting),
    _r(rf"^next\s+{_G}\s+(?:group\s+)?meeting$", meetings.next_meeting),
    _r(rf"^next meeting (?:of|for)\s+{_G}(?:\s+group)?$", meetings.next_meeting),
    _r(rf"^when(?:'s| is| will be) the next\s+{_G}\s+(?:group\s+)?meeting$", meetings.next_meeting),
    _r(
        rf"^(?:when|where)\s+(?:does|do|will)\s+{_G}(?:\s+group)?\s+(?:next\s+)?meet(?:\s+next)?$",
        meetings.next_meeting,
    ),
    _r(rf"^(?:(?:which|what) )?meetings\s+(?:are\s+)?(?:there\s+)?(?:in|on|during)\s+{_P}$", meetings.meetings_in),
    _r(
        r"^(?:(?:which|what) )?meetings\s+(?:are\s+)?(?:there\s+)?for\s+(?P<period>(?:today|tomorrow|this week|next week|this month|next month|\d.*|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?:\s+\d.*)?|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\s+\d.*))$",
        meetings.meetings_in,
    ),
    _r(rf"^(?:(?:which|what) )?meetings are (?:there )?(?:in|on)\s+{_P}$", meetings.meetings_in),
    _r(
        r"^(?:(?:which|what) )?meetings (?:are (?:there )?)?(?P<period>today|tomorrow|this week|next week|this month|next month)$",
        meetings.meetings_in,
    ),
    _r(rf"^(?:what'?s on|what is on)\s+(?:in|on)?\s*{_P}$", meetings.meetings_in),
    _r(
        r"^(?:idea|ideas?\s+form|new idea|new business case|submit an? (?:idea|business case)|propose an? idea|i have an idea)$",
        business_cases.new_idea,
    ),
    _r(
        r"^(?:new idea|new business case|submit an? (?:idea|business case))\s*:?\s+(?P<title>.+)$",
        business_cases.new_idea,
    ),
    _r(
        r"^(?:ideas|business cases|cases|list ideas|list business cases)(?:\s+(?P<which>.+))?$",
        business_cases.list_cases,
    ),
    _r(r"^(?P<which>my) (?:ideas|business cases|cases)$", business_cases.list_cases),
    _r(r"^(?:review|(?:cases|ideas) to (?:review|assess))$", assessment.review),
    _r(r"^assess\s+(?:case\s+)?(?P<target>.+)$", assessment.assess),
    _r(
        r"^approve\s+(?:case\s+)?(?P<target>.+?)\s+(?:for\s+|with\s+|at\s+)?(?P<amount>-?\s*£?\s*\d[\d,]*(?:\.\d+)?\s*(?:k|m|mn|thousand|million|bn)?|lots|some|£\S*)$",
        assessment.approve,
    ),
    _r(r"^approve\b(?P<words>.*)$", assessment.approve_help, catch_all=True),
    _r(r"^decline\s+(?:case\s+)?(?P<target>\d+)(?:\s*[:,-]\s*|\s+because\s+|\s+)?(?P<reason>.*)$", assessment.decline),
    _r(
        r"^decline\s+(?:case\s+)?(?P<target>.+?)(?:\s*[:,]\s*|\s+because\s+|\s+reason:?\s+)(?P<reason>.+)$",
        assessment.decline,
    ),
    _r(r"^(?:start delivery(?: of)?|in delivery|delivering)\s+(?:case\s+)?(?P<target>.+)$", assessment.start_delivery),
    _r(r"^outcome\s+(?:of\s+)?(?:case\s+)?(?P<target>\d+)(?:\s*[:,-]\s*|\s+)?(?P<text>.*)$", assessment.outcome),
    _r(
        r"^(?:fund|the fund|development fund|the development fund|fund balance|(?:what is|what's) (?:in )?the fund(?: balance)?)$",
        assessment.fund,
    ),
    _r(
        r"^fund (?:add|contribution)\s+(?P<partner>.+?)\s+(?P<amount>-?\s*£?\s*\d[\d,]*(?:\.\d+)?\s*(?:k|m|mn|thousand|million|bn)?|lots|some|£\S*)(?:\s+(?:for\s+)?(?P<year>\d{4}(?:/\d{2})?))?$",
        assessment.add_contribution,
    ),
    _r(r"^fund (?:spend|spent)\s+(?:case\s+)?(?P<target>\d+)\s+(?P<amount>.+)$", assessment.record_spend),
    _r(r"^(?:idea|case|business case)\s+(?P<target>.+)$", business_cases.show_case),
    _r(r"^(?:my data|what do you (?:hold|know|store) about me|export my data)$", privacy.my_data),
    _r(r"^(?:forget me|erase me|delete me|erase my data|delete my data)$", privacy.forget_me),
    _r(r"^audit(?:\s+log)?(?:\s+(?P<words>.+))?$", audit.show),
    _r(r"^(?P<remove>un)?chair\s+(?P<group>.+?)\s+(?P<email>\S+@\S+)$", roles.set_chair),
    _r(r"^(?P<role>board|admin)\s+(?P<change>add|remove|grant|revoke)\s+(?P<email>\S+@\S+)$", roles.set_role),
    _r(
        r"^(?P<remove>un)?link\s+(?:this\s+)?channel\s+(?:to\s+|from\s+)?(?:the\s+)?(?P<group>.+?)(?:\s+group)?$",
        channels.link,
    ),
    _r(r"^(?:channel\s+)?digest\s+(?P<state>on|off)$", channels.digest),
    _r(r"^announce(?:\s+(?P<words>.+))?$", announcements.announce),
    _r(r"^(?:announcements|my announcements)$", announcements.list_announcements),
    _r(r"^(?:announcement|delivery report(?: for)?(?: announcement)?)\s+#?(?P<number>\d+)$", announcements.report),
    _r(r"^cancel\s+(?:the\s+)?announcement\s+#?(?P<number>\d+)$", announcements.cancel_announcement),
    _r(r"^(?:ack|acknowledge)\s+(?:announcement\s+)?#?(?P<number>\d+)$", announcements.acknowledge),
    _r(
        r"^(?:notices|my notices|notifications|my notifications|messages|my messages|(?:my )?inbox|what did i miss|"
        r"what have you sent me|(?:what|which) (?:messages|notices|notifications) (?:did you send|have you sent)(?: me)?)$",
        notices.notices,
    ),
    _r(r"^remind me\s+(?P<words>.+)$", reminders.remind_me),
    _r(r"^(?:reminders|my reminders|reminder settings|list reminders)$", reminders.reminders),
    _r(r"^(?:reminders|turn reminders)\s+(?P<state>on|off)$", reminders.reminders_switch),
    _r(r"^turn\s+(?P<state>on|off)\s+reminders$", reminders.reminders_switch),
    _r(r"^reminders\s+(?P<leads>\d.*|an?\s.*)$", reminders.reminder_leads),
    _r(r"^cancel\s+(?:the\s+|my\s+)?reminder\s+#?(?P<number>\d+)$", reminders.cancel_reminder),
    _r(
        r"^(?:calendar|ics|ical|icalendar|calendar file)\s+(?:file\s+)?(?:for\s+|of\s+)?(?:the\s+)?(?P<target>.+)$",
        calendar.calendar,
    ),
    _r(r"^schedule(?:\s+an?)?(?:\s+(?:new\s+)?meetings?)?$", meeting_admin.schedule),
    _r(
        rf"^schedule(?:\s+an?)?(?:\s+(?:new\s+)?meetings?)?(?:\s+(?:for|of|with))?\s+{_G}(?:\s+(?:group|meetings?))?$",
        meeting_admin.schedule,
    ),
    _r(
        r"^(?:move|reschedule)\s+(?:meeting\s+)?#?(?P<meeting>\w+)\s+to\s+(?P<when>.+?)(?P<rest>,?\s+and\s+(?:the\s+)?(?:rest(?:\s+of\s+(?:the|its)\s+series)?|following(?:\s+ones)?|(?:all\s+)?later\s+ones))?$",
        meeting_admin.move,
    ),
    _r(r"^(?:move|reschedule)\b(?P<words>.*)$", meeting_admin.move_help, catch_all=True),
    _r(
        r"^cancel\s+(?:the\s+)?(?:meeting|series)?\s*#?(?P<meeting>\d+)(?P<rest>,?\s+and\s+(?:the\s+)?(?:rest(?:\s+of\s+(?:the|its)\s+series)?|following(?:\s+ones)?|(?:all\s+)?later\s+ones))?$",
        meeting_admin.cancel,
    ),
    _r(r"^cancel\b(?P<words>.*)$", meeting_admin.cancel_help, catch_all=True),
    _r(
        r"^(?:meetings|upcoming meetings|all meetings|(?:what|which) meetings are (?:coming up|there|scheduled)|when are the meetings)$",
        meetings.meetings,
    ),
    _r(rf"^(?:meetings|dates)\s+(?:of|for)\s+{_G}(?:\s+group)?$", meetings.meetings),
    _r(rf"^(?:when|where)\s+(?:does|do)\s+{_G}(?:\s+group)?\s+meet$", meetings.meetings),
    _r(rf"^{_G}\s+meetings$", meetings.meetings),
    _r(rf"^meetings\s+{_G}$", meetings.meetings),
)

# Everything a person might have meant to type, for "did you mean".
VOCABULARY = (
    "help",
    "whoami",
    "groups",
    "join",
    "leave",
    "meetings",
    "next meeting",
    "my meetings",
    "meetings in",
    "calendar",
    "schedule",
    "move",
    "cancel meeting",
    "events",
    "event",
    "register",
    "unregister",
    "my events",
    "past events",
    "attendees",
    "create event",
    "edit event",
    "idea",
    "ideas",
    "review",
    "approve",
    "decline",
    "outcome",
    "fund",
    "remind me",
    "reminders",
    "announce",
    "announcements",
    "notices",
    "my data",
    "forget me",
    "audit",
)

# Suggestions that are whole commands by themselves, so they can be buttons.
COMPLETE_COMMANDS = {
    "help",
    "whoami",
    "groups",
    "meetings",
    "next meeting",
    "my meetings",
    "events",
    "my events",
    "past events",
    "idea",
    "ideas",
    "review",
    "fund",
    "reminders",
    "announcements",
    "notices",
}

_POLITE = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay)\b[\s,!]*)?(?:(?:please|pls|kindly|can you|could you|would you|will you|"
    r"can i|could i|i'd like to|i would like to|i want to|tell me|show me|list|give me|the)\s+)*",
    re.IGNORECASE,
)
_TRAILING = re.compile(r"(?:[\s?!.,;:]+|\s+please)+$", re.IGNORECASE)
_GREETING = re.compile(r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks|thank you|cheers)$", re.IGNORECASE)
_THANKS = re.compile(r"^(?:thanks|thank you|cheers)$", re.IGNORECASE)


def _without_symbols(text: str) -> str:
    # Emoji and other pictographs carry no command words: "📅 meetings?" means "meetings".
    return "".join(" " if unicodedata.category(ch) == "So" else ch for ch in text)


def normalise(text: str) -> str:
    """Tidy words for matching: spacing, emoji, `/kc`, politeness and end punctuation go; case stays."""
    text = " ".join(_without_symbols(unicodedata.normalize("NFKC", text)).split())
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"^/?kc\b\s*", "", text, flags=re.IGNORECASE)
    text = _TRAILING.sub("", text)
    if _GREETING.match(text):
        return text
    text = _POLITE.sub("", text)
    return _TRAILING.sub("", text)


def _route(text: str) -> Optional[tuple[Route, re.Match[str]]]:
    for route in ROUTES:
        found = route.pattern.match(text)
        if found:
            return route, found
    return None


def match(text: str) -> Optional[tuple[Handler, dict[str, str]]]:
    routed = _route(text)
    if routed is None:
        return None
    route, found = routed
    return route.handler, {k: v for k, v in found.groupdict().items() if v is not None}


def understand(text: str) -> tuple[Optional[Handler], dict[str, str], Optional[Reply]]:
    """The handler and its arguments for the words, or else a reply saying why not."""
    if not text.strip():
        return None, {}, Reply("I didn't catch anything there. Say `help` to see what I can do.")
    if text.strip() in ("?", "/kc", "kc"):
        return help_handler.help, {}, None
    if len(text) > MAX_LENGTH:
        return (
            None,
            {},
            Reply(
                f"That message is {len(text):,} characters long; I read up to {MAX_LENGTH:,}. "
                "Please send a shorter one, e.g. `next gis meeting`."
            ),
        )
    words = normalise(text)
    if _THANKS.match(words):
        return None, {}, Reply("You're welcome! Say `help` any time.")
    if _GREETING.match(words):
        return (
            None,
            {},
            Reply("Hello! Say `help` to see what I can do, or ask e.g. “when does the GIS group meet next?”"),
        )
    found = match(words)
    if found:
        return found[0], found[1], None
    return None, {}, _not_understood(text, words.split(" ", 1)[0].lower())


def _not_understood(text: str, first_word: str) -> Reply:
    guesses = process.extract(first_word, VOCABULARY, scorer=fuzz.ratio, limit=2, score_cutoff=60)
    suggestions = [g[0] for g in guesses]
    lead = f"Sorry, I don't understand “{quote(text)}”."
    if suggestions:
        lead += " Did you mean " + " or ".join(f"`{s}`" for s in suggestions) + "?"
    buttons = tuple(Action(s.capitalize(), s) for s in suggestions if s in COMPLETE_COMMANDS)
    return Reply(lead + " Say `help` to see everything I can do.", actions=buttons or (Action("Help", "help"),))


def is_command(text: str) -> Optional[str]:
    """ "standalone" for a command with nothing after it (`my meetings`), "command" for one with
    arguments (`case 12`), None for words that are no command (say, an answer to a form)."""
    routed = _route(normalise(text))
    if routed is None or routed[0].catch_all:
        return None
    return "command" if any(v for v in routed[1].groupdict().values()) else "standalone"


SORRY = Reply(
    "Sorry, something went wrong on my side and nothing was changed. Please try again in a moment; "
    "if it keeps happening, tell the Partnership Office."
)


def _answered(handler: Callable[..., Optional[Reply]], *args: Any, **kwargs: Any) -> Optional[Reply]:
    """What a handler answers: its reply, or the one its Refusal carries.

    Called inside the unit of work, so that a refusal commits what came before it (a draft
    paused by this command, a retry's key) exactly as a refusal returned does. The request's
    work as a whole goes through here, and so does the handler within it, so that a refusal
    still gets the note that a draft is kept.
    """
    try:
        return handler(*args, **kwargs)
    except Refusal as refusal:
        return refusal.reply


class Router:
    """Runs one request: who is asking, which handler, in one transaction; never raises."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings):
        self.session_factory = session_factory
        self.settings = settings

    def _run(self, request: Request, work: Callable[[Context], Reply], once: Optional[str] = None) -> Optional[Reply]:
        """`work` in one transaction for the caller. With `once`, a key of the platform's delivery:
        a repeat of it (a retry) does nothing and gives None."""
        logs.new_request_id()
        try:
            with self.session_factory.begin() as session:
                if once is not None and not inbound.first_time(session, request.platform, once, request.now):
                    return None
                caller = people.resolve_caller(session, request, self.settings)
                return _answered(work, Context(session, request, caller, self.settings))
        except _Rejected:
            raise
        except Exception:
            logger.exception("request failed: platform=%s user=%s", request.platform, request.user_id)
            return SORRY

    def handle(self, request: Request, once: Optional[str] = None) -> Optional[Reply]:
        handler, args, early = understand(request.text)

        def work(ctx: Context) -> Reply:
            state = conversation.active(ctx)
            just_paused = False
            if state is not None:
                reply = conversation.take(ctx, state, request.text, is_command)
                if reply is not None:
                    return reply
                if state.step is not ConversationStep.PAUSED:
                    conversation.pause(state)
                    just_paused = True
            reply = early if handler is None else _answered(handler, ctx, **args)
            assert reply is not None
            # Say the draft is kept only if it still is: the command may have replaced it.
            if (
                just_paused
                and state is not None
                and conversation.active(ctx) is state
                and state.step is ConversationStep.PAUSED
            ):
                reply = replace(reply, footer=" ".join(filter(None, (reply.footer, conversation.PAUSED_NOTE))))
            return reply

        return self._run(request, work, once)

    def waiting(self, request: Request) -> list[Reply]:
        """Messages held for the person (no configured platform reached them), for the console to
        show before its answer; each is marked delivered there."""
        if request.email:
            try:
                with self.session_factory() as session:
                    if not deliveries.may_be_waiting(session, request.email, request.now):
                        return []
            except Exception:  # the chat goes on; the next message looks again
                logger.exception("the inbox check failed")
                return []
        reachable = platforms.configured(self.settings)
        shown: list[Reply] = []
        done = Reply("")

        def work(ctx: Context) -> Reply:
            shown.extend(notices.waiting_for(ctx, reachable))
            return done

        return shown if self._run(request, work) is done else []

    def home(self, request: Request) -> Reply:
        return self._run(request, home.home) or SORRY

    def submit_form(
        self,
        request: Request,
        form_name: str,
        raw: dict[str, str],
        prefilled: dict[str, Any],
        once: Optional[str] = None,
    ) -> tuple[Optional[Reply], dict[str, str]]:
        """A whole form at once (a modal, a card): (the reply, {}) or (None, errors by field name).

        With `once`, a repeated submission of the same form does nothing: (None, {})."""
        errors: dict[str, str] = {}

        def work(ctx: Context) -> Reply:
            form = FORMS[form_name]
            refusal = form.allowed(ctx, prefilled)
            if refusal:
                return refusal
            values, found = fill(form, ctx, raw, prefilled)
            if found:
                errors.update(found)
                # Nothing may be written for a rejected form (a retry with the same key must
                # still work), so roll the transaction back by raising past it.
                raise _Rejected
            return form.submit(ctx, values)

        try:
            reply = self._run(request, work, once)
        except _Rejected:
            return None, errors
        return reply, {}


class _Rejected(Exception):
    """A form with errors: its transaction is rolled back."""
