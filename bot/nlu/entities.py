"""The things a message names, found before its intent is guessed: groups, events, business
cases and partners (against what the database holds), dates and times, sums of money, lead times,
numbers, e-mail addresses, and the few words a command takes (online, off, approved).

`extract` returns the words with each thing masked by its kind ("when is the next xgroupx
meeting"), which is what the intent model reads, and the things themselves, which fill in the
command's words ("next gis meeting").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Optional

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from bot.nlu.text import tokens as tokenise
from handlers.lead_times import parse_lead
from handlers.money import MoneyError, format_pence, parse_pounds
from handlers.when import MONTHS, WEEKDAY_NAMES, DateError, parse_moment, parse_period
from storage import people as people_queries

# What each kind of thing reads as to the model.
MASKS = {
    "group": "xgroupx",
    "event": "xeventx",
    "case": "xcasex",
    "partner": "xpartnerx",
    "period": "xwhenx",
    "moment": "xwhenx",
    "lead": "xleadx",
    "money": "xmoneyx",
    "email": "xemailx",
    "number": "xnumx",
}
# When the same words name things of two kinds ("cyber security": a group and a past event).
_PRIORITY = {"group": 0, "event": 1, "case": 2, "partner": 3}
_MAX_WORDS = 6


@dataclass(frozen=True)
class Named:
    """Something the database holds that people name: a group (value: slug), an event or a case
    (value: its number), a partner (value: slug)."""

    kind: str
    value: str
    label: str
    names: tuple[str, ...]
    # Shown first when asked which one (e.g. upcoming events before past ones).
    rank: int = 0


@lru_cache(maxsize=8192)  # a request's catalogue names the same groups, partners and events as the last
def _key(text: str) -> str:
    return " ".join(tokenise(text))


@dataclass(frozen=True)
class Catalogue:
    """The names of everything that can be named, and the words that are not names."""

    named: tuple[Named, ...]
    # Words of the commands themselves ("meeting", "over"): never read as a misspelt name.
    common: frozenset[str] = frozenset()
    # Names that are not a partner's ("greenwich"), with what they are.
    not_partners: tuple[tuple[str, str], ...] = ()
    # Every word the commands are said with, names' words too.
    said: frozenset[str] = frozenset()
    # The meetings to come, soonest first, for "the next GIS meeting": (group slug, meeting
    # number, its day where it is held, how to name it to a person).
    meetings: tuple[tuple[str, int, date, str], ...] = ()

    def of_kind(self, kind: str) -> list[Named]:
        return sorted((n for n in self.named if n.kind == kind), key=lambda n: n.rank)

    @cached_property
    def _exact(self) -> dict[str, list[Named]]:
        found: dict[str, list[Named]] = {}
        for named in self.named:
            for name in named.names:
                key = _key(name)
                if key and named not in found.setdefault(key, []):
                    found[key].append(named)
        return found

    @cached_property
    def _fragments(self) -> dict[str, list[Named]]:
        """Distinctive runs of words from event and case titles: "workplaces", "govroam roll"."""
        found: dict[str, list[Named]] = {}
        for named in self.named:
            if named.kind not in ("event", "case"):
                continue
            for name in named.names:
                words = _key(name).split()
                for i in range(len(words)):
                    for j in range(i + 1, min(len(words), i + _MAX_WORDS) + 1):
                        run = words[i:j]
                        if run[0] in _FILLER or run[-1] in _FILLER:
                            continue
                        distinctive = [w for w in run if w not in self.common and w not in _FILLER and len(w) > 3]
                        if not distinctive or (len(run) == 1 and len(run[0]) < 5):
                            continue
                        if named not in found.setdefault(" ".join(run), []):
                            found[" ".join(run)].append(named)
        return found

    @cached_property
    def _fuzzy(self) -> dict[int, list[str]]:
        """The names long enough to be misspelt, by length."""
        by_length: dict[int, list[str]] = {}
        for key in self._exact:
            if len(key) >= 6:
                by_length.setdefault(len(key), []).append(key)
        return by_length

    def lookup(self, words: Sequence[str]) -> tuple[int, list[Named]]:
        """(how sure: 3 the name, 2 part of a title, 1 a slip of typing; 0 nothing), what the words name."""
        key = " ".join(words)
        if key in self._exact:
            return 3, self._exact[key]
        if key in self._fragments:
            return 2, self._fragments[key]
        if len(key) < 5 or all(w in self.common or w in _FILLER for w in words):
            return 0, []
        allowed = 1 if len(key) < 12 else 2
        choices = [k for n in range(len(key) - allowed, len(key) + allowed + 1) for k in self._fuzzy.get(n, ())]
        best = process.extractOne(key, choices, scorer=DamerauLevenshtein.distance, score_cutoff=allowed)
        if best is None:
            return 0, []
        return 1, self._exact[best[0]]


_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "our",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "and",
        "or",
        "is",
        "are",
        "what",
        "when",
        "where",
        "who",
        "how",
        "me",
        "i",
    ]
)


@dataclass(frozen=True)
class Entity:
    kind: str
    start: int  # the first word's index
    end: int  # after the last word
    words: str  # as found (folded)
    value: str = ""  # what the command's words take: a slug, a number, the words of a date
    label: str = ""  # how to name it to a person
    # Several things the words could mean, to ask which (an alias two partners answer to).
    options: tuple[Named, ...] = ()
    # Other readings of the same words, of another kind (a group's name that is also an event's).
    also: tuple[Entity, ...] = ()
    # Something to tell the person about the words ("the University of Greenwich isn't a partner").
    note: str = ""

    def readings(self) -> list[Entity]:
        return [self, *self.also]


@dataclass(frozen=True)
class Found:
    words: tuple[str, ...]
    entities: tuple[Entity, ...]
    masked: str
    # The small words a command takes, found anywhere: state (on/off), mode, status.
    flags: dict[str, str] = field(default_factory=dict)
    # The words as typed (their capitals kept), for a command's free text (bot/nlu/decide.py `_text`).
    text: str = ""
    # The meetings the words may mean (Catalogue.meetings).
    meetings: tuple[tuple[str, int, date, str], ...] = ()

    def get(self, kind: str) -> Optional[Entity]:
        """The first thing of this kind, in any of its readings."""
        for entity in self.entities:
            for reading in entity.readings():
                if reading.kind == kind:
                    return reading
        return None


# --- small words ----------------------------------------------------------------------------------

_MODE = [("in person", "in person"), ("face to face", "in person"), ("in the room", "in person")]
_MODE_WORDS = {"online": "online", "remotely": "online", "remote": "online", "virtually": "online", "teams": "online"}
_OFF = re.compile(
    r"\b(?:off|stop|stopped|no more|don't|dont|do not|disable|mute|pause|unsubscribe|cancel all|fewer|none|enough)\b"
)
_ON = re.compile(r"\b(?:on|start|resume|enable|again|back|restart|switch on|turn on|unmute|want|like)\b")
# The platform a person wants the bot's own messages on (`send my messages to teams`): where they
# last used it, or the one named after "to", "on", "in"... (not the one they want to stop).
_LAST_USED = re.compile(
    r"\b(?:where(?:ver)? i (?:last )?(?:used?|talk(?:ed)? to|messaged?|chat(?:ted)?|spoke(?: to)?|wrote)|"
    r"last used|automatic(?:ally)?|"
    r"whichever|anywhere|no preference)\b"
)
_PLATFORM = re.compile(r"\b(slack|teams)\b")
_TOWARD = re.compile(
    r"\b(?:to|on|in|via|through|over|into|use|using|prefer|only|just)\s+(?:ms |microsoft )?(slack|teams)\b"
)


# A Microsoft 365 tenant id (a GUID), read from the text as typed: the words split it at its hyphens.
_TENANT = re.compile(rf"\b{people_queries.GUID}\b")


def _platform(text: str) -> Optional[str]:
    if _LAST_USED.search(text):
        return "where i last used"
    named = set(_PLATFORM.findall(text))
    if len(named) == 1:
        return named.pop()
    toward = set(_TOWARD.findall(text))
    return toward.pop() if len(toward) == 1 else None


_STATUS = [
    (
        r"\b(?:my|mine|i (?:have |'ve )?(?:submitted|sent|proposed|put in)|i've (?:submitted|sent|put in)|my own)\b",
        "mine",
    ),
    (r"\b(?:in delivery|being delivered|underway|under way)\b", "in delivery"),
    (r"\b(?:under assessment|being assessed|assessing)\b", "under assessment"),
    (r"\b(?:approved|accepted|given the go ahead|green ?lit)\b", "approved"),
    (r"\b(?:declined|rejected|turned down|refused|unsuccessful)\b", "declined"),
    (r"\b(?:awaiting|pending|waiting|undecided|not yet decided|outstanding)\b", "awaiting"),
    (r"\b(?:funded|got funding|got money|received funding)\b", "funded"),
    (r"\b(?:completed|finished|done|delivered)\b", "completed"),
    (r"\b(?:new|newly submitted|recent|latest)\b", "submitted"),
]


def _flags(text: str) -> dict[str, str]:
    flags: dict[str, str] = {}
    for phrase, mode in _MODE:
        if phrase in text:
            flags["mode"] = mode
    for word, mode in _MODE_WORDS.items():
        if re.search(rf"\b{word}\b", text):
            flags.setdefault("mode", mode)
    if _OFF.search(text):
        flags["state"] = "off"
    elif _ON.search(text):
        flags["state"] = "on"
    for pattern, status in _STATUS:
        if re.search(pattern, text):
            flags["status"] = status
            break
    platform = _platform(text)
    if platform:
        flags["platform"] = platform
    return flags


# --- numbers, sums, addresses, lead times ------------------------------------------------------------

_NUMBERED = [
    (("event", "events", "evnt", "eveny"), "event"),
    (("case", "cases", "idea", "ideas", "bc", "proposal", "bid"), "case"),
    (("meeting", "meetings", "mtg", "series"), "meeting"),
    (("announcement", "announcements", "notice"), "announcement"),
    (("reminder", "reminders"), "reminder"),
]
_NUMBER = re.compile(r"^\d{1,9}$")
_MONEYISH = re.compile(r"^£|^\d[\d,]*(?:\.\d+)?(?:k|m|mn|bn)$|^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_MONEY_UNITS = ("pounds", "pound", "quid", "k", "thousand", "million", "grand")
_LEAD_UNITS = re.compile(r"^(?:min|mins|minute|minutes|hr|hrs|hour|hours|day|days|week|weeks|wk|wks)$")
_WORD_AMOUNTS = {"a": "1", "an": "1", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "ten": "10"}


def _numbers_and_sums(words: list[str], taken: list[bool]) -> list[Entity]:
    found: list[Entity] = []
    for i, word in enumerate(words):
        if taken[i]:
            continue
        if "@" in word:
            found.append(Entity("email", i, i + 1, word, word, word))
            continue
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if _MONEYISH.match(word) or (word[0].isdigit() and nxt in _MONEY_UNITS):
            span = 2 if nxt in _MONEY_UNITS else 1
            text = " ".join(words[i : i + span]).replace("grand", "k").replace("quid", "pounds")
            try:
                pence = parse_pounds(text.replace(" k", "k"))
            except MoneyError:
                pence = 0
            if pence or word.startswith("£"):
                label = format_pence(pence) if pence > 0 else text  # "5k" is shown as £5,000
                found.append(Entity("money", i, i + span, text, text, label))
                continue
    for entity in found:
        for j in range(entity.start, entity.end):
            taken[j] = True
    for i, word in enumerate(words):
        if taken[i] or not _NUMBER.match(word) or i == 0:
            continue
        before, before2 = words[i - 1], " ".join(words[max(0, i - 2) : i])
        kind = next((k for nouns, k in _NUMBERED if before in nouns), "")
        start = i - 2 if before2 == "business case" else i - 1
        if kind in ("event", "case") and not any(taken[start:i]):
            found.append(Entity(kind, start, i + 1, " ".join(words[start : i + 1]), word, f"{kind} {word}"))
            for j in range(start, i + 1):
                taken[j] = True
    return found


def _bare_numbers(words: list[str], taken: list[bool]) -> list[Entity]:
    """Numbers left over: a meeting's, an announcement's, a reminder's (their noun stays a word)."""
    found = []
    for i, word in enumerate(words):
        if not taken[i] and _NUMBER.match(word):
            found.append(Entity("number", i, i + 1, word, word, word))
            taken[i] = True
    return found


_LIST_WORDS = frozenset(["and", "or", "again", "also", "then", "plus"])


def _before(words: list[str], j: int) -> bool:
    """Whether "before" comes at words[j], or after a list of more lead times that it ends:
    "1 day and 1 hour before", "a week, a day and 2 hours before"."""
    while j < len(words):
        word = words[j]
        if word.startswith("before") or word == "beforehand" or word == "prior":
            return True
        if not (word in _LIST_WORDS or word.isdigit() or word in _WORD_AMOUNTS or _LEAD_UNITS.match(word)):
            return False
        j += 1
    return False


def _leads(words: list[str], taken: list[bool]) -> list[Entity]:
    found: list[Entity] = []
    for i in range(len(words) - 1):
        if taken[i]:
            continue
        # "2 hours before", "a day before", "the day before", "30 mins beforehand"
        amount, unit = words[i], words[i + 1]
        after = words[i + 2] if i + 2 < len(words) else ""
        if amount == "the" and unit in ("day", "week") and after in ("before", "beforehand", "prior"):
            lead = "1 day" if unit == "day" else "1 week"
        elif (amount.isdigit() or amount in _WORD_AMOUNTS) and _LEAD_UNITS.match(unit) and _before(words, i + 2):
            lead = f"{_WORD_AMOUNTS.get(amount, amount)} {unit}"
        else:
            continue
        if any(taken[i : i + 2]):
            continue
        try:
            value = parse_lead(lead)
        except DateError as exc:
            found.append(Entity("lead", i, i + 2, " ".join(words[i : i + 2]), lead, lead, note=str(exc)))
        else:
            found.append(Entity("lead", i, i + 2, " ".join(words[i : i + 2]), lead, value))
        taken[i] = taken[i + 1] = True
    return found


# --- dates and times ------------------------------------------------------------------------------------

_DAYISH = frozenset(
    [*MONTHS, *WEEKDAY_NAMES, *(w[:3] for w in WEEKDAY_NAMES), "tues", "thur", "thurs", "weds"]
    + [
        "today",
        "tomorrow",
        "tonight",
        "tmrw",
        "tmr",
        "week",
        "weekend",
        "fortnight",
        "month",
        "morning",
        "afternoon",
        "evening",
        "noon",
        "midday",
        "lunchtime",
    ]
)
_OPENERS = frozenset(["at", "on", "in", "next", "this", "the", "by", "from", "for", "during"])
_PARTS = {"morning": time(9), "afternoon": time(14), "evening": time(18), "night": time(19)}
_IN_TIME = re.compile(
    r"^in (?P<n>\d{1,3}|an?|one|two|three|four|five|ten|half an?) (?P<unit>min|mins|minute|minutes|hr|hrs|hour|hours)$"
)
_CLOCKISH = re.compile(r"^\d{1,2}(?:[:.]\d{2})?(?:am|pm)?$|^\d{1,2}(?:[:.]\d{2})?-\d{1,2}(?:[:.]\d{2})?$|^\d")


def _is_dayish(word: str) -> bool:
    return word in _DAYISH or bool(_CLOCKISH.match(word)) or word in ("o'clock", "half", "quarter")


def _reads_as_when(text: str, today: date, now: Optional[datetime]) -> Optional[tuple[str, str]]:
    """(kind, value) if the words are a day, a month or a moment: 'april', 'next week',
    'tomorrow at 9', 'friday morning', 'in 2 hours'."""
    words = text.split()
    if words[-1] in _OPENERS or words[0] in ("the", "for", "during") and len(words) == 1:
        return None
    if len(words) == 1 and words[0] == "may":
        return None  # "may I join?": a month only with a word that says so ("in may")
    body = re.sub(r"^(?:in|on|during|for|by)\s+", "", text)
    if body == "may" and words[0] not in ("in", "during", "for"):
        return None
    if body and body.split()[0] not in ("the",) or body.startswith("the "):
        try:
            period = parse_period(body, today)
            return "period", period.label
        except (DateError, ValueError, OverflowError):
            pass
    match = _IN_TIME.match(text)
    if match:
        return "moment", text
    parts = body.rsplit(" ", 1)
    if len(parts) == 2 and parts[1] in _PARTS:
        try:
            parse_period(parts[0].removesuffix(" in the"), today)
            return "moment", body
        except (DateError, ValueError, OverflowError):
            pass
    if not any(_is_dayish(w) for w in words) or all(w.isdigit() for w in words):
        return None
    try:
        moment = parse_moment(
            body if not body.startswith("at ") else text, today, time(9), default_day=today if "at" in words else None
        )
    except (DateError, ValueError, OverflowError):
        return None
    return "moment", moment.start.isoformat(timespec="minutes")


def _whens(words: list[str], taken: list[bool], today: date, now: Optional[datetime]) -> list[Entity]:
    found: list[Entity] = []
    i = 0
    while i < len(words):
        if taken[i] or not (words[i] in _OPENERS or _is_dayish(words[i])):
            i += 1
            continue
        for j in range(min(len(words), i + _MAX_WORDS), i, -1):
            if any(taken[i:j]) or not any(_is_dayish(w) for w in words[i:j]):
                continue
            read = _reads_as_when(" ".join(words[i:j]), today, now)
            if read is None:
                continue
            keep = read[0] == "moment" and words[i] == "in"  # "in 2 hours" is said with its "in"
            start = i + 1 if words[i] in ("in", "on", "during", "for", "by") and j - i > 1 and not keep else i
            text = " ".join(words[start:j])
            found.append(Entity(read[0], start, j, text, text, read[1]))
            for k in range(start, j):
                taken[k] = True
            i = j
            break
        else:
            i += 1
    return found


# --- names --------------------------------------------------------------------------------------------------


def _names(words: list[str], taken: list[bool], catalogue: Catalogue) -> list[Entity]:
    candidates: list[tuple[int, int, int, int, list[Named]]] = []  # (length, sureness, start, end, named)
    for i in range(len(words)):
        if taken[i] or words[i] in _FILLER:
            continue
        for j in range(i + 1, min(len(words), i + _MAX_WORDS) + 1):
            if taken[j - 1]:
                break
            sureness, named = catalogue.lookup(words[i:j])
            if not named and words[j - 1].endswith("'s") and len(words[j - 1]) > 3:
                # A possessive names the same thing: "medway's tenant", "the gis group's meeting".
                sureness, named = catalogue.lookup([*words[i : j - 1], words[j - 1][:-2]])
            if named:
                candidates.append((j - i, sureness, i, j, named))
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2]))
    found: list[Entity] = []
    for _, _, start, end, named in candidates:
        if any(taken[start:end]):
            continue
        by_kind: dict[str, list[Named]] = {}
        for thing in sorted(named, key=lambda n: (_PRIORITY[n.kind], n.rank)):
            by_kind.setdefault(thing.kind, []).append(thing)
        readings = [_entity(kind, start, end, " ".join(words[start:end]), things) for kind, things in by_kind.items()]
        found.append(replace(readings[0], also=tuple(readings[1:])))
        for k in range(start, end):
            taken[k] = True
    return found


def _entity(kind: str, start: int, end: int, text: str, things: list[Named]) -> Entity:
    if kind == "event" and len(things) > 1 and things[0].rank < things[1].rank:
        things = things[:1]  # an upcoming event before past ones of the same name
    if len(things) == 1:
        return Entity(kind, start, end, text, things[0].value, things[0].label)
    return Entity(kind, start, end, text, options=tuple(things), label=" or ".join(t.label for t in things))


def _not_partners(words: list[str], taken: list[bool], catalogue: Catalogue) -> list[Entity]:
    found = []
    text = " ".join(words)
    for name, what in catalogue.not_partners:
        match = re.search(rf"\b{re.escape(name)}\b", text)
        if match is None:
            continue
        start = len(text[: match.start()].split())
        end = start + len(name.split())
        if any(taken[start:end]):
            continue
        found.append(
            Entity("partner", start, end, name, note=f"{what[0].upper()}{what[1:]} isn't a Kent Connects partner")
        )
        for k in range(start, end):
            taken[k] = True
    return found


def extract(text: str, catalogue: Catalogue, today: date, now: Optional[datetime] = None) -> Found:
    """The things the text names, and the text with each one masked by its kind."""
    words = tokenise(text)
    taken = [False] * len(words)
    entities = [*_numbers_and_sums(words, taken), *_leads(words, taken), *_whens(words, taken, today, now)]
    entities += _bare_numbers(words, taken)
    entities += _not_partners(words, taken, catalogue)
    entities += _names(words, taken, catalogue)
    entities.sort(key=lambda e: e.start)
    masked: list[str] = []
    by_start = {e.start: e for e in entities}
    i = 0
    while i < len(words):
        entity = by_start.get(i)
        if entity is None:
            masked.append(words[i])
            i += 1
            continue
        if entity.kind in MASKS:
            masked.append(MASKS[entity.kind])
        else:  # a numbered meeting, announcement or reminder keeps its noun
            masked.append(words[i])
        i = entity.end
    flags = _flags(" ".join(words))
    tenant = _TENANT.search(text.lower())
    if tenant:
        flags["tenant"] = tenant.group(0)
    return Found(tuple(words), tuple(entities), " ".join(masked), flags, text, catalogue.meetings)


def soon(now: datetime, start: datetime) -> int:
    """Rank of an event by its start: upcoming ones first, sooner first."""
    days = int((start - now) / timedelta(days=1))
    return days if days >= 0 else 10_000 - days
