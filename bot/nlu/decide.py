"""What to do with words that are no command's exact words: act, confirm, ask, or help.

The model ranks the intents this person may use; the things found fill in the command's own
words (its `canonical`), which then go through the exact patterns like typed words, so that
arguments are parsed in one place. With a confidence of ACT or more the command is run, unless
it changes something (`side_effects`): then the reply asks first, with a button that carries the
exact words. A thing the command needs and the words don't give is asked for, with buttons
where the choices are few. Between SUGGEST and ACT: "Did you mean ...?" with the one or two
likeliest. Below: a short help about what the words seem to be about.

The thresholds are chosen on the evaluation set (bench/nlu_eval.py prints how each band fares):
at ACT and above, what the model names is right on all but a few of its utterances; between
SUGGEST and ACT the right command is among the two offered on nearly all. See the README.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional

from rapidfuzz import fuzz

from bot.language import closest, route
from bot.nlu.entities import Catalogue, Entity, Found, Named, extract
from bot.nlu.model import Model
from core.commands import COMMANDS, TOPICS, Audience, Command
from core.messages import Action, Reply
from handlers.when import MONTHS

ACT = 0.25
SUGGEST = 0.1
# Answers to "Shall I ...?" that do nothing (the No button sends the first).
NO_THANKS = "no thanks"

_SLOT = re.compile(r"\{(\w+)\}")
_TASK_START = ("to", "about", "that")


@dataclass(frozen=True)
class Reading:
    """The words as the model and the entities read them."""

    found: Found
    ranked: list[tuple[str, float]]  # the intents this person may use, likeliest first

    @property
    def best(self) -> tuple[str, float]:
        return self.ranked[0] if self.ranked else ("", 0.0)


@dataclass(frozen=True)
class Outcome:
    """act: run `words` (exact words of `intent`); confirm/ask/suggest/help/note: reply with `reply`."""

    kind: str
    intent: str = ""
    confidence: float = 0.0
    words: str = ""
    reply: Optional[Reply] = None
    # Said before the command's own answer ("Yes: Swale Borough Council is a partner.").
    lead: str = ""


def read(
    text: str, model: Model, catalogue: Catalogue, audiences: Iterable[Audience], today: date, now: datetime
) -> Reading:
    found = extract(text, catalogue, today, now)
    usable = {c.intent for c in COMMANDS.for_audiences(audiences)}
    ranked = [(intent, p) for intent, p in model.rank(found.masked) if intent in usable]
    return Reading(found, ranked)


# --- filling in a command's words ---------------------------------------------------------------


@dataclass
class Filled:
    words: Optional[str]  # None when something is missing or could be one of several things
    missing: list[str] = field(default_factory=list)
    ambiguous: Optional[Entity] = None
    labels: dict[str, str] = field(default_factory=dict)


def _task(found: Found) -> Optional[str]:
    """What to be reminded of: the words after 'to' or 'about' that follow the moment."""
    when = found.get("moment") or found.get("period") or found.get("lead")
    words = list(found.words)
    start = when.end if when is not None else 0
    for i in range(start, len(words)):
        if words[i] in _TASK_START and i + 1 < len(words):
            return " ".join(words[i + 1 :])
    return None


# Free text (an announcement, a reason, an outcome) comes after a colon, a dash or a comma:
# "tell the gis group: the meeting has moved", "reject case 4, it duplicates GovRoam".
_TEXT_AFTER = re.compile(r"\s*:\s+|\s+[-–—]\s+|,\s+|\s+because\s+|\s+(?:that|saying)\s+(?=\S+\s+\S+\s+\S)", re.I)


def _text(found: Found) -> Optional[str]:
    """The free text the words end with, as typed; None when there is none to be sure of."""
    parts = _TEXT_AFTER.split(found.text, maxsplit=1)
    if len(parts) < 2 or len(parts[1].split()) < 2:
        return None
    return parts[1].strip()


# An event's fields as people name them, and the name `edit event` takes (longest first).
_EVENT_FIELDS = [
    (
        r"(?:number of )?(?:in[- ]person|face[- ]to[- ]face) (?:places|spaces|capacity)|places in person|capacity in person"
        r"|places in the room|seats in the room",
        "places in person",
    ),
    (r"(?:number of )?online (?:places|spaces|capacity)|places online|capacity online", "places online"),
    (r"registration (?:opening|opens?)(?: date)?", "registration opens"),
    (r"registration (?:closing|closes?)(?: date)?|closing date", "registration closes"),
    (r"(?:online |meeting |teams )?link", "online link"),
    (r"start time|starting time|time", "time"),
    (r"venue|location", "venue"),
    (r"title|name", "title"),
    (r"theme", "theme"),
    (r"description|blurb", "description"),
    (r"speakers?", "speakers"),
    (r"date|day", "date"),
    (r"format", "format"),
]
_FIELD = re.compile(r"\b(?:" + "|".join(f"(?P<f{i}>{rx})" for i, (rx, _) in enumerate(_EVENT_FIELDS)) + r")\b", re.I)
_NEW_VALUE = re.compile(r"\s(?:to|is now|should be|becomes)\s+|:\s*", re.I)


def _event_change(found: Found) -> tuple[Optional[str], Optional[str]]:
    """(the field `edit event` takes, the new value as typed) in "change the venue for future
    workplaces to Sessions House"; None for what the words don't say."""
    match = _FIELD.search(found.text)
    if match is None:
        return None, None
    field = next(name for i, (_, name) in enumerate(_EVENT_FIELDS) if match.group(f"f{i}"))
    after = list(_NEW_VALUE.finditer(found.text, match.end()))
    value = found.text[after[-1].end() :].strip(" .!?") if after else ""
    if not value:  # the number before the field: "so there are 80 in person places"
        before = re.search(r"(\d+)\s*$", found.text[: match.start()])
        value = before.group(1) if before else ""
    return field, value or None


def _meeting(found: Found) -> tuple[Optional[str], str]:
    """A meeting by its number ("meeting 13"), or by its group and "next" or a month said before
    any "to" ("the december gis meeting", "move the next GIS meeting to ..."): (number, label)."""
    number = found.get("number")
    if number is not None:
        return number.value, f"meeting {number.value}"
    group = found.get("group")
    if group is None or group.options:
        return None, ""
    words = list(found.words)
    before = words[: words.index("to")] if "to" in words else words
    months = {MONTHS[w] for w in before if w in MONTHS}
    for slug, meeting, day, label in found.meetings:
        if slug == group.value and (not months or day.month in months):
            return str(meeting), label
    return None, ""


def _slot(kind: str, found: Found) -> tuple[Optional[str], str, Optional[Entity]]:
    """(the words for the slot, its label for a person, the entity if it could be several things)."""
    if kind == "meeting":
        number, label = _meeting(found)
        return number, label, None
    if kind in ("event_field", "value"):
        field, value = _event_change(found)
        got = field if kind == "event_field" else value
        return got, (got if kind == "event_field" else f"“{got}”") if got else "", None
    if kind == "lead":  # every lead time named: "1 day and 1 hour before" -> "1 day, 1 hour"
        leads = [e for e in found.entities if e.kind == "lead" and not e.note]
        if leads:
            joined = ", ".join(e.value for e in leads)
            return joined, joined, None
    if kind == "text":
        typed = _text(found)
        return typed, f"“{typed}”" if typed else "", None
    if kind in ("state", "mode", "status", "platform", "tenant"):
        value = found.flags.get(kind)
        return value, value or "", None
    if kind == "task":
        task = _task(found)
        return task, task or "", None
    if kind == "words":
        return " ".join(found.words), " ".join(found.words), None
    entity = found.get(kind)
    if entity is None and kind == "moment":
        entity = found.get("period")
    if entity is None or entity.note:
        return None, "", None
    if entity.options:
        return None, entity.label, entity
    return entity.value, entity.label or entity.value, None


def fill(template: str, found: Found) -> Filled:
    filled = Filled(None)
    values: dict[str, str] = {}
    for kind in _SLOT.findall(template):
        value, label, ambiguous = _slot(kind, found)
        if ambiguous is not None and filled.ambiguous is None:
            filled.ambiguous = ambiguous
        if value is None:
            filled.missing.append(kind)
        else:
            values[kind] = value
            filled.labels[kind] = label
    if not filled.missing:
        filled.words = _SLOT.sub(lambda m: values[m.group(1)], template)
    return filled


def best_words(command: Command, found: Found) -> Filled:
    """The first of the command's words that the message fills in whole; else the one that
    lacks least (an ambiguous thing first), to ask for what is missing."""
    tried = [fill(t, found) for t in command.canonicals()]
    for filled in tried:
        if filled.words is not None:
            return filled
    if not tried:
        return Filled(None, missing=["words"])
    return min(tried, key=lambda f: (f.ambiguous is None, len(f.missing)))


def runs_as(command: Command, words: str) -> bool:
    """Whether the words reach this command through its exact patterns."""
    routed = route(words)
    return routed is not None and routed[0] is command and not routed[1].explains


# --- deciding ---------------------------------------------------------------------------------------


def decide(reading: Reading, catalogue: Catalogue, who: Optional[object] = None) -> Outcome:
    """What to do; `who` (the Caller) narrows the choices asked about to what they may see."""
    intent, confidence = reading.best
    command = COMMANDS.get(intent) if intent else None
    found = reading.found
    note = next((e.note for e in found.entities if e.note), "")
    if command is None or confidence < SUGGEST:
        return Outcome("help", intent, confidence)
    # One word that is no command ("meetigns") is too little to act on: offer, don't do; but a
    # command's own word alone (`join`) is asked about ("Which group?").
    alone = len(found.words) == 1 and not found.entities
    if alone and not (command.suggestion.split()[0] == found.words[0] and not command.complete):
        return Outcome("suggest", intent, confidence)
    if confidence < ACT:
        return Outcome("suggest", intent, confidence)
    if note and ("partner" in _kinds_of(command) or intent == "faq:partners"):
        return Outcome("note", intent, confidence, reply=Reply(note + ".", actions=(Action("Partners", _PARTNERS),)))
    if intent == "faq:partners":
        partner = found.get("partner")
        if partner is not None and partner.options:
            return _ask_which(intent, confidence, partner, "is {partner} a partner")
        if partner is not None:
            return Outcome("act", intent, confidence, words=_PARTNERS, lead=f"Yes: {partner.label} is a partner.")
    filled = best_words(command, found)
    if filled.ambiguous is not None:
        template = next(t for t in command.canonicals() if "{" + filled.ambiguous.kind + "}" in t)
        return _ask_which(intent, confidence, filled.ambiguous, _partly(template, found, filled.ambiguous.kind))
    if filled.words is None:
        return _ask_for(command, confidence, filled, found, catalogue, who)
    if not runs_as(command, filled.words):
        return Outcome("suggest", intent, confidence)
    if command.side_effects:
        return _confirm(command, confidence, filled)
    return Outcome("act", intent, confidence, words=filled.words)


_PARTNERS = "who are the partners"


def _kinds_of(command: Command) -> set[str]:
    return {k for t in command.canonicals() for k in _SLOT.findall(t)}


# Words around a thing's name that say nothing more: "the gis group", "the future workplaces event".
_AROUND = frozenset(
    [
        "the",
        "a",
        "an",
        "my",
        "our",
        "this",
        "that",
        "event",
        "events",
        "group",
        "groups",
        "meeting",
        "meetings",
        "for",
        "on",
        "at",
        "of",
        "in",
        "to",
        "please",
    ]
)


# What the words a pattern captures should name (a `target` names what the command's slots do).
_CAPTURES = {"group": {"group"}, "period": {"period", "moment"}, "when": {"period", "moment"}}


def named_kinds(command: Command, args: dict[str, str]) -> dict[str, set[str]]:
    """The captures of exact words that should name something, with the kinds they should name
    (a number names what it names: no capture of one is listed)."""
    kinds = _kinds_of(command) & {"group", "event", "case"}
    wanted = {}
    for capture, words in args.items():
        what = _CAPTURES.get(capture, kinds if capture == "target" else set())
        if what and not words.strip().lstrip("#").isdigit():
            wanted[capture] = what
    return wanted


def _coverage(words: str, wanted: set[str], catalogue: Catalogue, today: date):
    """How a capture's words read: (the words, the indexes a thing of the wanted kind covers, the
    indexes any thing covers, the other words but the little ones, as (index, word))."""
    found = extract(words, catalogue, today)
    spans = [(e, set(range(e.start, e.end))) for e in found.entities]
    covered = {i for e, at in spans if any(r.kind in wanted for r in e.readings()) for i in at}
    named = {i for _, at in spans for i in at}
    left = [(i, w) for i, w in enumerate(found.words) if i not in covered and w not in _AROUND]
    return found, covered, named, left


def names_just_that(command: Command, args: dict[str, str], catalogue: Catalogue, today: date) -> bool:
    """Whether every capture is a thing of the kind it should name and nothing more ("gis" in
    `next gis meeting`): then the exact words stand, whatever else the words could name. The
    cheap question, asked of a catalogue of those kinds only, before `names_nothing`."""
    for capture, wanted in named_kinds(command, args).items():
        _, covered, _, left = _coverage(args[capture], wanted, catalogue, today)
        if not covered or left:
            return False
    return True


def names_nothing(command: Command, args: dict[str, str], catalogue: Catalogue, today: date) -> bool:
    """Whether exact words took a sentence for a thing's name: `{group} meetings` matched by
    "what's in my diary for meetings", `when is {event}` by "when is my next meeting", `what time
    is {event}` by "what time is GIS". True when the words for a group, an event or a case (or a
    date) are all the bot's own words or names of other things, and more than a name of the kind
    wanted: a name the bot doesn't know ("idea hovercraft fleet") is still the command's to answer."""
    for capture, wanted in named_kinds(command, args).items():
        _, covered, named, left = _coverage(args[capture], wanted, catalogue, today)
        unknown = [w for i, w in left if i not in named and w not in catalogue.said]
        if left and not unknown and (len(left) > 1 or not covered):
            return True
        if covered and len(left) >= 3:  # a name inside a sentence: "what time do the gis lot start their"
            return True
        if not covered and not left:  # only the bot's little words: "my group", "the"
            return True
        if capture in ("period", "when") and not covered:  # no date at all: "in the way of events"
            return True
    return False


def _partly(template: str, found: Found, kind: str) -> str:
    """The template with every slot but `kind` filled in ({kind} kept for the choices)."""

    def value(match: re.Match[str]) -> str:
        if match.group(1) == kind:
            return "{" + kind + "}"
        got, _, _ = _slot(match.group(1), found)
        return got if got is not None else match.group(0)

    return _SLOT.sub(value, template)


def _ask_which(intent: str, confidence: float, entity: Entity, template: str) -> Outcome:
    names = [o.label for o in entity.options]
    listed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
    actions = tuple(Action(o.label, template.replace("{" + entity.kind + "}", o.value)) for o in entity.options[:5])
    return Outcome("ask", intent, confidence, reply=Reply(f"Which do you mean: {listed}?", actions=actions))


_QUESTIONS = {
    "group": "Which group?",
    "event": "Which event?",
    "case": "Which business case? Say its number or part of its title, e.g. `idea 4`.",
    "period": "Which month or day?",
    "moment": "When?",
    "state": "On or off?",
    "platform": "Slack or Teams?",
    "tenant": "Which tenant id? The partner's Teams admin finds it as the Directory (tenant) ID in the Microsoft Entra admin centre.",
    "partner": "Which partner?",
    "money": "How much?",
    "email": "Whose e-mail address?",
    "number": "Which number?",
    "meeting": "Which meeting? Say its number: `meetings GROUP` lists them with theirs.",
    "lead": "How long before?",
    "task": "What shall I remind you of?",
}
_PERIODS = (("This week", "this week"), ("Next week", "next week"), ("This month", "this month"))


def _ask_for(
    command: Command, confidence: float, filled: Filled, found: Found, catalogue: Catalogue, who: Optional[object]
) -> Outcome:
    kind = filled.missing[0]
    template = next((t for t in command.canonicals() if "{" + kind + "}" in t), "")
    partly = _partly(template, found, kind) if template else ""
    choices: list[tuple[str, str]] = []
    if kind == "group":
        choices = [(g.label, g.value) for g in _groups_for(command, catalogue, who)]
    elif kind == "event":
        choices = [(e.label, e.value) for e in catalogue.of_kind("event") if e.rank < 10_000][:5]
    elif kind == "period":
        choices = list(_PERIODS)
    elif kind == "state":
        choices = [("On", "on"), ("Off", "off")]
    elif kind == "platform":
        choices = [("Slack", "slack"), ("Teams", "teams"), ("Where I last used", "where i last used")]
    elif kind == "meeting" and found.get("group") is not None:
        slug = found.get("group").value  # type: ignore[union-attr]
        choices = [(label.removeprefix("the "), str(m)) for s, m, _, label in found.meetings if s == slug][:4]
    question = _QUESTIONS.get(kind, "")
    example = next((e for e in command.examples if len(e.split()) > 1), command.suggestion)
    text = f"{question} " if question else ""
    if choices and "{" not in _SLOT.sub("", partly):
        names = ", ".join(label for label, _ in choices[:6])
        text = f"{question} {names}." if kind in ("group", "event") else question
        if kind == "meeting":
            text = "Which meeting?"
        actions = tuple(Action(label, partly.replace("{" + kind + "}", value)) for label, value in choices[:6])
    else:
        text += f"Say e.g. `{example}`."
        actions = (Action("Help", "help"),)
    if len(found.words) == 1:  # the command's word alone: say how it is used first
        text = f"To use `{found.words[0]}`, say `{command.suggestion}`, e.g. `{example}`. " + text
    return Outcome("ask", command.intent, confidence, reply=Reply(text.strip(), actions=actions))


def _groups_for(command: Command, catalogue: Catalogue, who: Optional[object]) -> list[Named]:
    """The groups worth offering: those the person may see; to join, the open ones they're not in;
    to leave, theirs."""
    groups = catalogue.of_kind("group")
    if who is None:
        return groups
    visible = getattr(who, "visible_groups", None)
    if visible is None:
        return groups
    keep = visible(command.intent)
    return [g for g in groups if g.value in keep]


def _confirm(command: Command, confidence: float, filled: Filled) -> Outcome:
    words = filled.words or ""
    labels = dict(filled.labels, words=words)
    what = _SLOT.sub(lambda m: labels.get(m.group(1), m.group(0)), command.confirm) if command.confirm else ""
    question = f"Shall I {what}?" if what else f"Shall I do `{words}`?"
    short = len(words.split()) <= 3 and not any(ch.isdigit() for ch in words)
    yes = f"Yes, {words}" if short else f"Yes, {words.split()[0]}"
    return Outcome(
        "confirm",
        command.intent,
        confidence,
        words=words,
        reply=Reply(
            question + f" (That is `{words}`.) Say `yes` or `no`.",
            actions=(Action(yes, words, "primary"), Action("No", NO_THANKS)),
        ),
    )


# --- when the words are not clear enough ------------------------------------------------------------


# A typing slip of a command's own words ("make me a teea"), alike as whole strings, is offered
# first, whatever the model.
SLIP_CUTOFF = 85


def suggestions(reading: Reading, limit: int = 2) -> list[tuple[Command, Optional[str]]]:
    """The likeliest commands, each with its words filled in where the things found allow: a
    command whose words these are but for a slip first, then the model's likeliest."""
    offered: list[tuple[Command, Optional[str]]] = []
    usable = [c for c in (COMMANDS.get(i) for i, _ in reading.ranked) if c is not None and c.suggestion]
    slips = closest(" ".join(reading.found.words), usable, cutoff=SLIP_CUTOFF, limit=1, scorer=fuzz.ratio)
    ranked = [(c.intent, 1.0) for c in slips] + [
        pair for pair in reading.ranked if pair[0] not in {c.intent for c in slips}
    ]
    for intent, confidence in ranked[: limit + 2]:
        command = COMMANDS.get(intent)
        if command is None or not command.suggestion or (offered and confidence < SUGGEST / 3):
            continue
        filled = best_words(command, reading.found)
        words = filled.words if filled.words is not None and runs_as(command, filled.words) else None
        offered.append((command, words))
        if len(offered) == limit:
            break
    return offered


def did_you_mean(text: str, reading: Reading, quote) -> Reply:
    offered = suggestions(reading)
    shown = [f"`{words or command.suggestion}`" for command, words in offered]
    lead = f"Sorry, I don't understand “{quote(text)}”."
    if shown:
        lead += " Did you mean " + " or ".join(shown) + "?"
    actions = tuple(
        Action(_button(words or command.suggestion), words or command.suggestion)
        for command, words in offered
        if words or command.complete
    )
    return Reply(lead + " Say `help` to see everything I can do.", actions=actions or (Action("Help", "help"),))


def _button(words: str) -> str:
    return words[0].upper() + words[1:] if len(words) <= 40 else words[:39] + "…"


def short_help(text: str, reading: Reading, audiences: Iterable[Audience], quote) -> Reply:
    """Not understood: what can be said about the topic the words seem nearest to."""
    intent = reading.best[0]
    command = COMMANDS.get(intent) if intent else None
    topic = command.topic if command is not None else TOPICS[0]
    lines = [c.help[0] for c in COMMANDS.for_audiences(audiences) if c.topic == topic and c.help][:5]
    lead = f"Sorry, I don't understand “{quote(text)}”."
    if lines and topic != "you":
        lead += f" About {_TOPIC_NAMES.get(topic, topic)} you can say " + ", ".join(f"`{w}`" for w in lines) + "."
    return Reply(lead + " Say `help` to see everything I can do.", actions=(Action("Help", "help"),))


_TOPIC_NAMES = {
    "groups": "groups",
    "meetings": "meetings",
    "events": "events",
    "cases": "business cases and the fund",
    "reminders": "reminders",
    "news": "announcements",
    "admin": "roles and the audit log",
}
