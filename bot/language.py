"""From the words a person types to a command, on every platform alike.

The words are tidied (`normalise`), matched against the commands' declared patterns
(bot/commands.py) in routing order, and what matches nothing gets a reply that helps: how to
use a command whose word it starts with, or the likeliest commands this person may use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Optional

from rapidfuzz import fuzz, process

from core.commands import COMMANDS, Audience, Command, Pattern
from core.messages import Action, Reply
from handlers.spoken import is_decoration

MAX_LENGTH = 1000
# How alike the words must be to a command's suggestion or examples for "did you mean".
SUGGEST_CUTOFF = 72

_POLITE = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay)\b[\s,!]*)?(?:(?:please|pls|kindly|can you|could you|would you|will you|"
    r"can i|could i|i'd like to|i would like to|i want to|tell me|show me|list|give me|the)\s+)*",
    re.IGNORECASE,
)
_TRAILING = re.compile(r"(?:[\s?!.,;:]+|\s+please)+$", re.IGNORECASE)
_GREETING = re.compile(r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks|thank you|cheers)$", re.IGNORECASE)
_THANKS = re.compile(r"^(?:thanks|thank you|cheers)$", re.IGNORECASE)
# The answer to a no: to "Shall I ...?" (bot/router.py) or with nothing asked.
LEFT_AS_IT_WAS = "OK, I've left everything as it was."
_NO = re.compile(r"^(?:no|nope|no thanks|no thank you|no,? leave it|never ?mind|not now)$", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\b[A-Z]{2,}\b|\.\.\.|\[.*?\]")


def _without_symbols(text: str) -> str:
    # Emoji and other pictographs carry no command words: "📅 meetings?" means "meetings", and
    # "❤️ meetings" too (the heart's presentation selector is no word either).
    return "".join(" " if is_decoration(ch) else ch for ch in text)


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


@dataclass(frozen=True)
class Understood:
    """What the words are: a command with its arguments, or a reply that needs no handler
    (nothing typed, a greeting); neither means not understood."""

    command: Optional[Command] = None
    args: dict[str, str] = field(default_factory=dict)
    early: Optional[Reply] = None
    words: str = ""
    # Matched only a catch-all that explains a command's use (`cancel ...`): the language model
    # may still know better what the words mean.
    explains: bool = False


def route(text: str) -> Optional[tuple[Command, Pattern, re.Match[str]]]:
    """The first declared command whose words match the tidied text."""
    for command in COMMANDS:
        found = command.match(text)
        if found:
            return command, found[0], found[1]
    return None


def understand(text: str) -> Understood:
    if not text.strip():
        return Understood(early=Reply("I didn't catch anything there. Say `help` to see what I can do."))
    if text.strip() in ("?", "/kc", "kc"):
        return Understood(command=COMMANDS.get("help"), words="help")
    if len(text) > MAX_LENGTH:
        return Understood(
            early=Reply(
                f"That message is {len(text):,} characters long; I read up to {MAX_LENGTH:,}. "
                "Please send a shorter one, e.g. `next gis meeting`."
            )
        )
    words = normalise(text)
    if _THANKS.match(words):
        return Understood(early=Reply("You're welcome! Say `help` any time."))
    if _GREETING.match(words):
        return Understood(
            early=Reply("Hello! Say `help` to see what I can do, or ask e.g. “when does the GIS group meet next?”")
        )
    if _NO.match(words):  # "No" to "Shall I ...?" (a form's own questions take their answers first)
        return Understood(early=Reply(LEFT_AS_IT_WAS), words=words)
    routed = route(words)
    if routed is None:
        return Understood(words=words)
    command, pattern, found = routed
    args = {k: v for k, v in found.groupdict().items() if v is not None}
    return Understood(command=command, args=args, words=words, explains=pattern.explains)


def is_command(text: str) -> Optional[str]:
    """ "standalone" for a command with nothing after it (`my meetings`), "command" for one with
    arguments (`case 12`), None for words that are no command (say, an answer to a form)."""
    routed = route(normalise(text))
    if routed is None or routed[1].explains:
        return None
    return "command" if any(v for v in routed[2].groupdict().values()) else "standalone"


# --- when nothing matches ---------------------------------------------------------------------


def _lead_words(suggestion: str) -> str:
    """The literal words a suggestion starts with: `join GROUP` -> `join`."""
    return _PLACEHOLDER.split(suggestion, maxsplit=1)[0].strip().lower()


def usable(audiences: Iterable[Audience]) -> list[Command]:
    """Commands this person may use that can be suggested."""
    return [c for c in COMMANDS.for_audiences(audiences) if c.suggestion]


def not_understood(text: str, words: str, audiences: Iterable[Audience], quote: Callable[[str], str]) -> Reply:
    """A reply that helps: a command's use when the words are its word alone (`join`), or the
    likeliest commands this person may use, or help."""
    commands = usable(audiences)
    lowered = words.lower()
    for command in commands:
        lead = _lead_words(command.suggestion)
        if not command.complete and lead and lowered == lead:
            return _how_to(command)
    suggested = closest(lowered, commands)
    lead = f"Sorry, I don't understand “{quote(text)}”."
    if suggested:
        lead += " Did you mean " + " or ".join(f"`{c.suggestion}`" for c in suggested) + "?"
    buttons = tuple(Action(c.suggestion.capitalize(), c.suggestion) for c in suggested if c.complete)
    return Reply(lead + " Say `help` to see everything I can do.", actions=buttons or (Action("Help", "help"),))


def closest(
    words: str, commands: Iterable[Command], cutoff: float = SUGGEST_CUTOFF, limit: int = 2, scorer=fuzz.WRatio
) -> list[Command]:
    """The commands whose suggestion or examples the words are most alike (typing slips)."""
    choices: dict[str, Command] = {}
    for command in commands:
        for phrase in (command.suggestion, *command.examples):
            choices[phrase.lower()] = command
    guesses = process.extract(words.lower(), list(choices), scorer=scorer, limit=10, score_cutoff=cutoff)
    suggested: list[Command] = []
    for phrase, _, _ in guesses:
        if choices[phrase] not in suggested:
            suggested.append(choices[phrase])
        if len(suggested) == limit:
            break
    return suggested


def _how_to(command: Command) -> Reply:
    """`join` alone: say how `join` is used, with an example."""
    example = next((e for e in command.examples if e.lower() != _lead_words(command.suggestion)), "")
    lead = f"To use `{_lead_words(command.suggestion)}`, say `{command.suggestion}`"
    return Reply(lead + (f", e.g. `{example}`." if example else "."), actions=(Action("Help", "help"),))
