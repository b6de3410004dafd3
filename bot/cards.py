"""Reply -> Adaptive Card 1.5 (the highest Teams shows from bots), with a plain-text fallback.

Pure functions over dicts. Buttons are Action.Submit with `{"kc_command": words}`; a form is a
card of inputs whose Action.Submit carries `{"kc_form": name, "kc_prefilled": {...}}`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from core.forms import Form
from core.messages import Action, Item, Reply

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_BYTES = 28 * 1024
MAX_ITEMS = 25
COMMAND_KEY = "kc_command"
FORM_KEY = "kc_form"
PREFILLED_KEY = "kc_prefilled"

# Teams renders a subset of Markdown in TextBlocks; people's words must stay words.
_MARKDOWN = re.compile(r"([\\`*_\[\]()#>~|])")
_BULLET = re.compile(r"^(\s*)([-+])(\s)", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)\.(\s)", re.MULTILINE)


def escape(text: str) -> str:
    """Defuse Markdown in text that came from people: links, emphasis, lists, headings."""
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _BULLET.sub(lambda m: m.group(1) + "\\" + m.group(2) + m.group(3), text)
    return _NUMBERED.sub(lambda m: m.group(1) + "\\." + m.group(2), text)  # "1\. first", as CommonMark has it


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escape(text), "wrap": True, **style}


def _submit(action: Action) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Action.Submit",
        "title": action.label[:80],
        "data": {COMMAND_KEY: action.command, "msteams": {"type": "messageBack", "text": action.command}},
    }
    if action.style == "primary":
        element["style"] = "positive"
    elif action.style == "danger":
        element["style"] = "destructive"
    return element


def _facts(fields) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": escape(f.label), "value": escape(f.value)} for f in fields]}


def _item(item: Item) -> dict[str, Any]:
    items: list[dict[str, Any]] = [_text(item.title, weight="Bolder")]
    if item.text:
        items.append(_text(item.text, isSubtle=True, spacing="None"))
    if item.fields:
        items.append(_facts(item.fields))
    if item.actions:
        items.append({"type": "ActionSet", "actions": [_submit(a) for a in item.actions[:5]]})
    return {"type": "Container", "separator": True, "items": items}


def card(reply: Reply) -> dict[str, Any]:
    """The reply as a card; lists longer than the card can carry are cut with a note."""
    head: list[dict[str, Any]] = []
    if reply.title:
        head.append(_text(reply.title, size="Medium", weight="Bolder"))
    if reply.text:
        head.append(_text(reply.text))
    if reply.fields:
        head.append(_facts(reply.fields))
    tail = [_text(reply.footer, isSubtle=True, size="Small")] if reply.footer else []
    actions = [_submit(a) for a in reply.actions[:6]]

    def build(count: int) -> dict[str, Any]:
        items = [_item(i) for i in reply.items[:count]]
        if count < len(reply.items):
            items.append(
                _text(
                    f"…and {len(reply.items) - count} more not shown here; ask a narrower question to see them.",
                    isSubtle=True,
                )
            )
        return {
            "type": "AdaptiveCard",
            "$schema": SCHEMA,
            "version": VERSION,
            "body": head + items + tail,
            "actions": actions,
        }

    count = min(len(reply.items), MAX_ITEMS)
    result = build(count)
    while count and len(json.dumps(result).encode()) > MAX_BYTES:  # Teams refuses cards over 28 KB
        count -= 1
        result = build(count)
    return result


def form_card(
    form: Form,
    prefilled: dict[str, Any],
    values: Optional[dict[str, str]] = None,
    errors: Optional[dict[str, str]] = None,
) -> dict[str, Any]:
    """A neutral Form as card inputs; with `errors`, shown again with what was typed and the errors."""
    values, errors = values or {}, errors or {}
    body: list[dict[str, Any]] = [_text(form.title, size="Medium", weight="Bolder")]
    if errors:
        body.append(_text("Please correct the fields marked below.", color="Attention"))
    for f in form.fields:
        element: dict[str, Any]
        if f.kind == "date":
            element = {"type": "Input.Date", "id": f.name}
        elif f.kind == "choice" and f.choices:
            element = {
                "type": "Input.ChoiceSet",
                "id": f.name,
                "style": "compact",
                "choices": [{"title": c, "value": c} for c in f.choices],
            }
        else:
            element = {
                "type": "Input.Text",
                "id": f.name,
                "maxLength": f.max_length,
                "isMultiline": f.kind == "long_text",
            }
            if f.example:
                element["placeholder"] = f.example
        element["label"] = f.label
        # Fields that apply only to some answers are checked on submission instead.
        element["isRequired"] = f.required and not f.conditional
        if element["isRequired"]:
            element["errorMessage"] = f"{f.label} is needed."
        if values.get(f.name):
            element["value"] = values[f.name]
        elif f.name in prefilled:  # answered already: shown, and read again on submission
            element["value"] = _typed(f, prefilled[f.name])
        body.append(element)
        if f.name in errors:
            body.append(_text(errors[f.name], color="Attention", size="Small", spacing="None"))
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
        "actions": [{"type": "Action.Submit", "title": "Submit", "data": {FORM_KEY: form.name}}],
    }


def _typed(field, value: Any) -> str:
    """An answer as a person would type it, to fill an input: dates as Input.Date wants them."""
    if field.kind == "date" and isinstance(value, str):
        return value  # ISO, as stored
    try:
        return field.display(value)
    except (KeyError, TypeError):  # a value in another shape than the field keeps: show it as it is
        return str(value)
