"""What words mean while a form is open in chat (handlers/conversation.py): the controls
(`cancel`, `back`, `skip`...), agreeing at the summary, and naming a field."""

from __future__ import annotations

import re
from typing import Optional

from core.forms import Form, FormField, Values

CANCEL_WORDS = {
    "cancel",
    "cancel it",
    "cancel this",
    "cancel the form",
    "stop",
    "abandon",
    "quit",
    "never mind",
    "nevermind",
    "forget it",
}
BACK_WORDS = {"back", "go back", "previous", "previous question"}
# `skip` is never an answer; the others may be one to a field of its own (`none` places: no limit).
SKIP_ALWAYS = {"skip", "skip it", "skip this", "skip that"}
SKIP_WORDS = SKIP_ALWAYS | {"none", "no", "n", "n/a", "-", "nothing"}
CONTINUE_WORDS = {"continue", "resume", "carry on", "go on", "let's continue", "continue the form", "resume the form"}
KEEP_WORDS = {"keep it", "keep", "keep that", "leave it", "same", "the same", "no change", "as it is", "as it was"}
HELP_WORDS = {"help", "?", "what now", "what do i do", "what do i say"}
# Answers to "Is that your answer, or shall I do ...?"
ANSWER_WORDS = {"my answer", "it's my answer", "its my answer", "that's my answer", "it is my answer", "answer"}
ANSWER_WORDS |= {"yes", "y", "yes it is", "yes it's my answer"}
NO_WORDS = {"no", "n", "nope", "nah", "not yet", "not quite", "not right", "that's not right", "wrong", "incorrect"}
# What agrees at the summary, alone or one after another ("yes, looks good, submit it").
AGREEING = (
    {"yes", "y", "yep", "yeah", "yup", "ok", "okay", "sure", "fine", "great", "perfect", "good", "done"}
    | {"confirm", "confirmed", "correct", "right", "that's right", "that is right", "that's correct"}
    | {"that is correct", "all correct", "all good", "all fine", "looks good", "looks right", "looks fine"}
    | {"looks correct", "go", "go ahead", "go for it", "do it", "please do", "submit", "submit it"}
    | {"send", "send it", "save", "save it"}
)
AGREE = frozenset(tuple(phrase.split()) for phrase in AGREEING)
_FILLERS = {"please", "thanks", "thank", "you", "then", "now"}
EDIT = re.compile(r"^(?P<verb>edit|change|correct|fix|update|amend)\b\s*(?P<what>.*)$")
EDIT_TO = re.compile(
    r"^(?:edit|change|correct|fix|update|amend)\s+(?P<what>.+?)(?:\s+to\s+|\s*[:=]\s*)(?P<value>.+)$",
    re.IGNORECASE | re.DOTALL,
)


def tidy(text: str) -> str:
    """The words as controls are matched: lower case, single spaces, no end punctuation or please."""
    if text.strip() == "?":
        return "?"
    words = " ".join(text.lower().replace("’", "'").split()).strip(" .!?,;:")
    return re.sub(r"^please\s+|\s+please$", "", words)


def agrees(words: str) -> bool:
    tokens = [t for t in re.split(r"[\s,;:!.]+", words) if t and t not in _FILLERS]
    # Can the words be cut into agreeing phrases? (at most four words each)
    fits = [True] + [False] * len(tokens)
    for end in range(1, len(tokens) + 1):
        fits[end] = any(fits[begin] and tuple(tokens[begin:end]) in AGREE for begin in range(max(0, end - 4), end))
    return bool(tokens) and fits[-1]


def shown(form: Form, values: Values) -> list[FormField]:
    """The fields as the summary lists them: those that apply to the answers."""
    return [f for f in form.fields if f.applies(values)]


def field_named(form: Form, values: Values, words: str) -> Optional[FormField]:
    """The field the words name: its number in the summary, its name or label, or words that are
    all in its label and no other's ("cost" for Estimated cost)."""
    words = re.sub(r"^(?:the|my|that|this)\s+", "", " ".join(words.lower().split())).removesuffix(" field")
    if words.isdigit():
        listed = shown(form, values)
        return listed[int(words) - 1] if 1 <= int(words) <= len(listed) else None
    for f in form.fields:
        if words in (f.name.lower().replace("_", " "), f.label.lower()):
            return f
    wanted = set(words.split())
    fitting = [f for f in form.fields if wanted and wanted <= set(f.label.lower().split())]
    return fitting[0] if len(fitting) == 1 else None
