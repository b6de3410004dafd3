"""Arbitrary words from every kind of person: always a reply, never a crash, never over a platform's limits."""

import json

from hypothesis import HealthCheck, example, given, settings, strategies as st

from bot import blockkit, cards
from bot.router import normalise
from tests.conftest import ADMIN

PEOPLE = [
    "demo@kent.gov.uk",
    "board.demo@kent.police.uk",
    "someone@medway.gov.uk",
    "someone@gmail.com",
    ADMIN,
    "gis.chair.demo@maidstone.gov.uk",
]
APOLOGY = "something went wrong on my side"

# Text shaped like commands, so the fuzzing reaches the handlers, not only "I don't understand".
VERBS = [
    "join",
    "leave",
    "meetings",
    "next",
    "meetings in",
    "meetings on",
    "sign me up for",
    "when does the",
    "which meetings are in",
    "/kc",
    "help",
    "groups",
    "whoami",
    "events",
    "event",
    "register",
    "unregister",
    "idea",
    "ideas",
    "review",
    "approve",
    "decline",
    "outcome",
    "fund",
    "fund add",
    "remind me",
    "reminders",
    "announce",
    "announcement",
    "ack",
    "schedule",
    "move",
    "cancel meeting",
    "cancel event",
    "edit event 1",
    "attendees",
    "calendar",
    "my data",
    "audit",
    "chair",
    "board add",
    "assess",
]
command_like = st.builds(lambda verb, rest: f"{verb} {rest}", st.sampled_from(VERBS), st.text(max_size=80))


def within_slack_limits(reply) -> None:
    message = blockkit.message(reply)
    assert message["text"].strip()
    assert len(message["blocks"]) <= blockkit.MAX_BLOCKS_MESSAGE
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= blockkit.SECTION_TEXT
            assert len(block.get("fields", [])) <= blockkit.FIELDS_PER_SECTION
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= blockkit.HEADER_TEXT
        if block["type"] == "actions":
            assert len(block["elements"]) <= blockkit.ELEMENTS_PER_ACTIONS
            assert all(len(e["text"]["text"]) <= blockkit.BUTTON_TEXT for e in block["elements"])
        assert "<!channel>" not in json.dumps(block) and "<!here>" not in json.dumps(block)


def within_teams_limits(reply) -> None:
    card = cards.card(reply)
    assert len(json.dumps(card).encode()) <= cards.MAX_BYTES
    assert card["version"] == "1.5"


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=200), command_like), who=st.sampled_from(PEOPLE))
@example(text="join <!channel> & <@U123>", who="demo@kent.gov.uk")
@example(text="new idea <!here> *bold* [link](https://evil.example)", who="demo@kent.gov.uk")
@example(text="x" * 5000, who="someone@gmail.com")
def test_any_message_gets_a_polite_reply_within_every_platforms_limits(chat, text, who):
    reply = chat.reply(text, user=who)
    assert reply.plain_text().strip()
    assert APOLOGY not in reply.text
    within_slack_limits(reply)
    within_teams_limits(reply)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_normalise_is_idempotent(text):
    once = normalise(text)
    assert normalise(once) == once
