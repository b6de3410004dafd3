"""Forms defined once, neutrally: asked step by step in chat, or filled at once in a modal or card.

A Form is a list of fields, each with its own parsing and validation, a cross-field check and
a submit function. The chat conversation (handlers/conversation.py) asks the fields one by one
and keeps the draft in the database; a Slack modal or Teams card sends all fields together
and gets the errors back by field (`fill`). The forms themselves are declared by the handlers
that own them (e.g. handlers/business_cases.py) and registered in FORMS.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from core.messages import Reply

Values = dict[str, Any]
# The handlers' Context (database session, request, caller): core cannot name it, so the form
# machinery passes it through untouched.
Context = Any


class FieldError(ValueError):
    """An answer that does not fit the field; the message is shown to the person."""


def always(values: Values) -> bool:
    return True


# A choice named by its place in the list: "2", "the second one", "the last".
_PLACES = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
_PLACE = re.compile(
    r"^(?:the |option |number )?(\d+|first|second|third|fourth|fifth|sixth|last)(?:st|nd|rd|th)?(?: one)?$"
)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    prompt: str
    # Turns the typed text into a JSON-serialisable value, or raises FieldError.
    parse: Callable[[str, Context, Values], Any]
    required: bool = True
    kind: str = "text"  # text, long_text, date, time, url, choice: renderers pick the input
    example: str = ""
    choices: tuple[str, ...] = ()
    max_length: int = 300
    show: Callable[[Any], str] = str
    # Whether the field is asked at all, given the answers so far (e.g. a venue only in person).
    applies: Callable[[Values], bool] = always
    # Fields this one's answer is worked out from: editing one of them asks this one again.
    depends_on: tuple[str, ...] = ()
    # How an empty answer reads ("no limit" for a capacity).
    none_text: str = "(none)"

    def choice_named(self, text: str) -> Optional[str]:
        """The choice the words name: itself in any case, its place in the list (`2`, `the first
        one`, `the last`), or a beginning that fits only it (`on` for online); else None."""
        words = " ".join(text.lower().replace("-", " ").split()).strip(" .!")
        words = words.removesuffix(" please").removeprefix("please ")
        lowered = [c.lower().replace("-", " ") for c in self.choices]
        if words in lowered:
            return self.choices[lowered.index(words)]
        place = _PLACE.match(words)
        if place:
            named = place[1]
            n = len(self.choices) if named == "last" else _PLACES.get(named) or int(named)
            return self.choices[n - 1] if 1 <= n <= len(self.choices) else None
        starting = [c for c, low in zip(self.choices, lowered, strict=True) if words and low.startswith(words)]
        return starting[0] if len(starting) == 1 else None

    @property
    def conditional(self) -> bool:
        """Asked only for some answers to other fields: a form showing every field at once
        (a modal, a card) must let it be empty, and the check on submission decides."""
        return self.applies is not always

    def display(self, value: Any) -> str:
        return self.none_text if value in (None, "") else self.show(value)

    def read(self, text: str, ctx: Context, values: Values) -> Any:
        text = text.strip()
        if not text:
            if self.required:
                raise FieldError(f"{self.label} is needed.")
            return None
        if len(text) > self.max_length:
            raise FieldError(f"{self.label} can be at most {self.max_length:,} characters (that was {len(text):,}).")
        if self.choices:
            text = self.choice_named(text) or text
        return self.parse(text, ctx, values)


@dataclass(frozen=True)
class Form:
    name: str
    title: str
    fields: tuple[FormField, ...]
    submit: Callable[[Context, Values], Reply]
    # Checks across fields; returns {field name: message}.
    check: Callable[[Context, Values], dict[str, str]] = field(default=lambda ctx, values: {})
    # Who may use the form at all: a refusal reply, or None (a Refusal raised counts the same).
    allowed: Callable[[Context, Values], Optional[Reply]] = field(default=lambda ctx, values: None)
    # Show the answers for a last check before submitting; False where the answer is the check.
    review: bool = True

    def effective(self, values: Values) -> Values:
        """The answers, with those to fields that do not apply (any more) set to None."""
        result = dict(values)
        for f in self.fields:
            if not f.applies(result):
                result[f.name] = None
        return result

    def field(self, name: str) -> FormField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def find_field(self, words: str) -> Optional[FormField]:
        words = words.strip().lower()
        for f in self.fields:
            if words in (f.name.lower(), f.label.lower()):
                return f
        return None


def fill(
    form: Form, ctx: Context, raw: Mapping[str, str], prefilled: Optional[Values] = None
) -> tuple[Values, dict[str, str]]:
    """Read all fields at once (a modal or card): the values, and the errors by field name.

    `prefilled` answers (the group named in `schedule gis`) are taken as they are."""
    values: Values = dict(prefilled or {})
    errors: dict[str, str] = {}
    for f in form.fields:
        if f.name in values:
            continue
        if not f.applies(values):
            values[f.name] = None
            continue
        try:
            values[f.name] = f.read(raw.get(f.name) or "", ctx, values)
        except FieldError as exc:
            errors[f.name] = str(exc)
    if not errors:
        errors = form.check(ctx, form.effective(values))
    return values, errors


FORMS: dict[str, Form] = {}


def register(form: Form) -> Form:
    FORMS[form.name] = form
    return form
