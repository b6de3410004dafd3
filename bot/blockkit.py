"""Reply -> Slack Block Kit, within Slack's limits, with every piece of text escaped for mrkdwn.

Pure functions over plain dicts: no Slack SDK here, so the renderer is easy to test and to
check against slack_sdk's own models.
"""

from __future__ import annotations

import json
from typing import Any

from core.forms import Form
from core.messages import Action, Item, Reply

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
FIELDS_PER_SECTION = 10
ELEMENTS_PER_ACTIONS = 25
CONTEXT_TEXT = 3000
FALLBACK_TEXT = 3000
MODAL_TITLE = 24
ACTION_PREFIX = "kc:"
FORM_PREFIX = "kc_form:"


def escape(text: str) -> str:
    """Slack mrkdwn: only &, < and > are special; escaping them defuses <!channel> and links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut_escaped(escaped: str, limit: int) -> str:
    """Shorten already-escaped mrkdwn to `limit`, never inside an entity such as &amp;."""
    if len(escaped) <= limit:
        return escaped
    escaped = escaped[: limit - 1]
    amp = escaped.rfind("&")
    if amp >= 0 and ";" not in escaped[amp:]:
        escaped = escaped[:amp]
    return escaped + "…"


def _mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    # Cutting before escaping would let "&amp;" grow past the limit: cut the escaped text.
    # verbatim: Slack must not turn bare URLs or #channel names in people's words into links.
    return {"type": "mrkdwn", "text": cut_escaped(escape(text), limit), "verbatim": True}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit) or " ", "emoji": True}


def button(action: Action, index: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(action.label, BUTTON_TEXT),
        "value": action.command[:BUTTON_VALUE],
        "action_id": f"{ACTION_PREFIX}{index}",
    }
    if action.style in ("primary", "danger"):
        element["style"] = action.style
    return element


def _sections(text: str, max_sections: int = 10) -> list[dict[str, Any]]:
    """Long text as several sections, each within the limit once escaped, split at line breaks
    where possible; nothing is lost unless the text outgrows `max_sections`."""
    blocks: list[dict[str, Any]] = []
    rest = text
    while rest and len(blocks) < max_sections:
        size, room = 0, 0
        for room, char in enumerate(rest, start=1):  # how much raw text fits once escaped
            size += len(escape(char))
            if size > SECTION_TEXT - 1:
                room -= 1
                break
        else:
            room = len(rest)
        if room < len(rest):
            newline = rest.rfind("\n", 0, room)
            room = newline if newline > room // 2 else room
        blocks.append({"type": "section", "text": _mrkdwn(rest[:room])})
        rest = rest[room:].lstrip("\n")
    return blocks


def _item_blocks(item: Item, counter: list[int]) -> list[dict[str, Any]]:
    lines = [f"*{escape(item.title)}*"]
    if item.text:
        lines.append(escape(item.text))
    lines.extend(f"{escape(f.label)}: {escape(f.value)}" for f in item.fields)
    body = cut_escaped("\n".join(lines), SECTION_TEXT)
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": body, "verbatim": True}}]
    if item.actions:
        elements = []
        for action in item.actions[:ELEMENTS_PER_ACTIONS]:
            elements.append(button(action, counter[0]))
            counter[0] += 1
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def blocks(reply: Reply, max_blocks: int = MAX_BLOCKS_MESSAGE) -> list[dict[str, Any]]:
    """The reply as blocks, never more than `max_blocks`: long lists are cut with a note."""
    head: list[dict[str, Any]] = []
    if reply.title:
        head.append({"type": "header", "text": _plain(reply.title, HEADER_TEXT)})
    if reply.text:
        head.extend(_sections(reply.text))
    for start in range(0, len(reply.fields), FIELDS_PER_SECTION):
        chunk = reply.fields[start : start + FIELDS_PER_SECTION]
        head.append(
            {
                "type": "section",
                "fields": [
                    {
                        "type": "mrkdwn",
                        "text": cut_escaped(f"*{escape(f.label)}*\n{escape(f.value)}", FIELD_TEXT),
                        "verbatim": True,
                    }
                    for f in chunk
                ],
            }
        )
    tail: list[dict[str, Any]] = []
    counter = [0]
    if reply.actions:
        tail.append(
            {
                "type": "actions",
                "elements": [button(a, i) for i, a in enumerate(reply.actions[:ELEMENTS_PER_ACTIONS], start=1000)],
            }
        )
    if reply.footer:
        tail.append({"type": "context", "elements": [_mrkdwn(reply.footer, CONTEXT_TEXT)]})
    room = max_blocks - len(head) - len(tail) - 1  # one spare for the "more" note
    body: list[dict[str, Any]] = []
    shown = 0
    for item in reply.items:
        rendered = _item_blocks(item, counter)
        if len(body) + len(rendered) > room:
            break
        body.extend(rendered)
        shown += 1
    if shown < len(reply.items):
        body.append(
            {
                "type": "context",
                "elements": [
                    _mrkdwn(
                        f"…and {len(reply.items) - shown} more not shown here; ask a narrower question to see them."
                    )
                ],
            }
        )
    return (head + body + tail)[:max_blocks]


def message(reply: Reply) -> dict[str, Any]:
    """Arguments for chat.postMessage / respond / ack: blocks plus the plain-text fallback."""
    return {"text": cut_escaped(escape(reply.plain_text()), FALLBACK_TEXT) or " ", "blocks": blocks(reply)}


def home_view(reply: Reply) -> dict[str, Any]:
    return {"type": "home", "blocks": blocks(reply, MAX_BLOCKS_VIEW)}


def modal(form: Form, prefilled: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """A neutral Form as a Slack modal; each input's block_id is the field's name."""
    inputs = []
    for f in form.fields:
        if f.name in prefilled:
            continue
        element: dict[str, Any]
        if f.kind == "date":
            element = {"type": "datepicker", "action_id": "value"}
        elif f.kind == "choice" and f.choices:
            element = {
                "type": "static_select",
                "action_id": "value",
                "options": [{"text": _plain(c, 75), "value": c[:150]} for c in f.choices],
            }
        else:
            element = {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": f.kind == "long_text",
                "max_length": min(f.max_length, 3000),
            }
            if f.example:
                element["placeholder"] = _plain(f.example, 150)
        block: dict[str, Any] = {
            "type": "input",
            "block_id": f.name,
            "label": _plain(f.label, 2000),
            "element": element,
            # Fields that apply only to some answers (a venue only in person) are checked on submission.
            "optional": not f.required or f.conditional,
        }
        hint = f.prompt if f.prompt != f.label else ""
        if hint:
            block["hint"] = _plain(hint, 2000)
        inputs.append(block)
    return {
        "type": "modal",
        "callback_id": f"{FORM_PREFIX}{form.name}",
        "title": _plain(form.title, MODAL_TITLE),
        "submit": _plain("Submit", MODAL_TITLE),
        "close": _plain("Cancel", MODAL_TITLE),
        "private_metadata": json.dumps(metadata)[:3000],
        "blocks": inputs[:MAX_BLOCKS_VIEW],
    }


def modal_values(view: dict[str, Any]) -> dict[str, str]:
    """The text of each input of a submitted modal, by field name."""
    raw = {}
    for block_id, actions in (view.get("state", {}).get("values") or {}).items():
        value = actions.get("value") or {}
        if value.get("type") == "datepicker":
            raw[block_id] = value.get("selected_date") or ""
        elif value.get("type") == "static_select":
            raw[block_id] = (value.get("selected_option") or {}).get("value") or ""
        else:
            raw[block_id] = value.get("value") or ""
    return raw


def form_errors(errors: dict[str, str]) -> dict[str, str]:
    """Errors for `response_action: errors`, by block id (the field's name), each within limits."""
    return {name: _cut(text, 2000) for name, text in errors.items()}
