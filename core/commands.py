"""What a command is: one declaration carries everything about it.

Each command the bot understands is declared once (bot/commands.py): its intent name, the
handler, the exact words (patterns), example utterances as staff type them, who may use it,
its help line, and whether it changes anything. Help, routing, "did you mean" suggestions and
the language model are all built from these declarations, never from lists kept in step by hand.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Optional

from core.messages import Reply

# The order of topics in help.
TOPICS = ("you", "groups", "meetings", "events", "cases", "reminders", "news", "admin")


class Audience(enum.Enum):
    """Who a command is for; help and suggestions show a person what theirs allow."""

    ANYONE = "anyone"
    PARTNER_STAFF = "partner staff"
    CHAIRS = "chairs and the Partnership Office"
    BOARD = "the Leadership Board"
    ADMINS = "the Partnership Office"


# The placeholders of suggestions (`join GROUP`) and the kinds of things that fill them.
SLOTS = {
    "GROUP": "group",
    "EVENT": "event",
    "CASE": "case",
    "MONTH": "period",
    "DAY": "period",
    "N": "number",
    "MEETING": "number",
    "AMOUNT": "money",
    "PARTNER": "partner",
    "EMAIL": "email",
    "WHEN": "moment",
}


@dataclass(frozen=True)
class Pattern:
    """Exact words of a command: a regular expression on the tidied text (case ignored), whose
    named groups are the handler's arguments."""

    regex: re.Pattern[str]
    # Catches the command word with anything after it, to explain its use (not a command itself).
    explains: bool = False


@dataclass(frozen=True)
class Command:
    intent: str
    handler: Callable[..., Reply]
    patterns: tuple[Pattern, ...]
    audience: Audience = Audience.PARTNER_STAFF
    # Where help lists it (see TOPICS), within its audience's section.
    topic: str = "you"
    # Utterances as staff would type them: the language model learns the intent from these.
    examples: tuple[str, ...] = ()
    # (the words to type, what it does) in help; None: not listed there.
    help: Optional[tuple[str, str]] = None
    # What "did you mean" offers to type; a whole command when `complete` (then it can be a button).
    suggestion: str = ""
    complete: bool = False
    # Changes something (registers, joins, erases, announces, decides, spends): never done on a guess.
    side_effects: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # The command's own words with the things it takes as slots, for the language model to act on
    # what it understood: "next {group} meeting". The first whose slots the message fills is
    # used; a slot in [brackets] may be left out. Empty: derived from `suggestion` (see canonicals).
    canonical: tuple[str, ...] = ()
    # What a command with side effects will do, to ask before doing it on a guess:
    # "cancel your place at {event}" (slots are named by their labels: "Future Workplaces").
    confirm: str = ""

    def match(self, text: str) -> Optional[tuple[Pattern, re.Match[str]]]:
        for pattern in self.patterns:
            found = pattern.regex.match(text)
            if found:
                return pattern, found
        return None

    def canonicals(self) -> tuple[str, ...]:
        """`canonical`, or the suggestion itself when it is a whole command (`my meetings`), or
        the suggestion with its placeholders as slots (`join GROUP` -> `join {group}`); () when
        the suggestion takes words no slot gives (`announce GROUP TEXT`)."""
        if self.canonical:
            return self.canonical
        if self.complete:
            return (self.suggestion,)
        words = self.suggestion.split()
        placeholders = [w for w in words if w.isupper() and len(w) > 1 or w in ("...", "N")]
        if not placeholders or any(w not in SLOTS for w in placeholders):
            return ()
        return (" ".join("{" + SLOTS[w] + "}" if w in placeholders else w for w in words),)


def words(*regexes: str, explains: bool = False) -> tuple[Pattern, ...]:
    """Patterns from regular expressions; matching ignores case, captures keep the person's capitals."""
    return tuple(Pattern(re.compile(r, re.IGNORECASE), explains) for r in regexes)


class Commands:
    """The declarations in routing order: the first command whose words match is the one."""

    def __init__(self) -> None:
        self._all: list[Command] = []
        self.version = 0  # moves with every declaration and withdrawal (the language model's cue)

    def declare(self, command: Command, first: bool = False, before: Optional[str] = None) -> Command:
        """Add a command, last in routing order (or `first`, or just `before` another intent)."""
        if any(c.intent == command.intent for c in self._all):
            raise ValueError(f"the intent {command.intent!r} is declared twice")
        if command.topic not in TOPICS:
            raise ValueError(f"{command.intent}: topic {command.topic!r} is not one of {TOPICS}")
        if before is not None:
            index = next((i for i, c in enumerate(self._all) if c.intent == before), None)
            if index is None:
                raise ValueError(f"{command.intent}: no intent {before!r} to go before")
            self._all.insert(index, command)
        elif first:
            self._all.insert(0, command)
        else:
            self._all.append(command)
        self.version += 1
        return command

    def withdraw(self, intent: str) -> None:
        self._all = [c for c in self._all if c.intent != intent]
        self.version += 1

    def __iter__(self):
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def get(self, intent: str) -> Optional[Command]:
        return next((c for c in self._all if c.intent == intent), None)

    def for_audiences(self, audiences: Iterable[Audience]) -> list[Command]:
        wanted = set(audiences)
        return [c for c in self._all if c.audience in wanted]


COMMANDS = Commands()
