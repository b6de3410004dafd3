"""Every command is declared once (bot/commands.py); help, routing and "did you mean" are built
from the declarations, for what each person may use."""

from __future__ import annotations

import pytest

from bot.language import understand
from core.commands import COMMANDS, TOPICS, Audience
from core.messages import Reply
from tests.conftest import ADMIN

PARTNER = "someone@medway.gov.uk"
OUTSIDER = "someone@gmail.com"
BOARD = "board.demo@kent.police.uk"


def test_a_new_command_shows_in_help_routing_and_suggestions_with_one_declaration(chat, declare_command):
    def tea(ctx) -> Reply:
        return Reply("The kettle is on.")

    declare_command(
        "tea",
        r"^(?:tea|make (?:me )?(?:a )?tea)$",
        tea,
        topic="you",
        help=("tea", "a cup of tea, on the house"),
        suggestion="tea",
        complete=True,
        examples=("tea", "make me a tea"),
    )
    assert chat("make me a tea please", user=PARTNER) == "The kettle is on."  # routing
    assert "`tea`: a cup of tea, on the house" in chat("help", user=PARTNER)  # help
    reply = chat.reply("make me a teea", user=PARTNER)  # suggestions
    assert "Did you mean `tea`" in reply.text and [a.command for a in reply.actions][:1] == ["tea"]


def test_a_command_is_offered_only_to_those_who_may_use_it(chat, declare_command):
    declare_command(
        "drill",
        r"^data drill$",
        lambda ctx: Reply("Drill!"),
        audience=Audience.ADMINS,
        topic="admin",
        help=("data drill", "run the data drill"),
        suggestion="data drill",
        complete=True,
        examples=("data drill",),
    )
    assert "`data drill`" in chat("help", user=ADMIN)
    assert "`data drill`" not in chat("help", user=PARTNER)
    assert "`data drill`" not in chat("data drilll", user=PARTNER)
    assert "Did you mean `data drill`" in chat("data drilll", user=ADMIN)


def test_every_declaration_is_whole():
    intents = [c.intent for c in COMMANDS]
    assert len(intents) == len(set(intents)) and len(intents) > 40
    for command in COMMANDS:
        assert command.patterns and command.topic in TOPICS
        explains_only = all(p.explains for p in command.patterns)
        if not explains_only:
            assert command.suggestion, command.intent
            assert command.examples, command.intent
            for example in command.examples:  # no example's exact words lead to another command
                found = understand(example).command
                assert found is None or found is command, (command.intent, example, found and found.intent)


def test_a_command_word_alone_says_how_it_is_used(chat):
    reply = chat("join", user=PARTNER)
    assert reply.startswith("To use `join`, say `join GROUP`, e.g. `join gis`")
    assert "Did you mean" not in reply


@pytest.mark.parametrize("words", ["tell me about future workplaces", "audit please?"])
def test_nothing_an_admin_alone_may_use_is_suggested_to_others(chat, words):
    reply = chat(words, user=PARTNER)
    assert "`audit" not in reply


def test_someone_outside_the_partnership_is_offered_only_what_anyone_may_use(chat):
    reply = chat.reply("meetigns", user=OUTSIDER)
    offered = {a.command for a in reply.actions}
    allowed = {c.suggestion for c in COMMANDS.for_audiences([Audience.ANYONE])} | {"help"}
    assert offered <= allowed, offered
    assert "meetings" not in reply.text.split("Did you mean", 1)[-1]


def test_help_has_a_section_for_each_role_the_person_has(chat):
    board = chat("help", user=BOARD)
    assert "The Leadership Board" in board and "`review`" in board
    assert "The Leadership Board" not in chat("help", user=PARTNER)
    admin = chat("help", user=ADMIN)
    assert "The Partnership Office" in admin and "`audit [FILTER]`" in admin
