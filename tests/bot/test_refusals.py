"""A Refusal raised below the router (core.messages.Refusal) is answered exactly as a refusal
returned is: with its reply, inside the request's transaction, which commits. Each test runs a
stand-in command and form both ways, raising and returning, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from bot import router
from core.forms import FORMS, Form, FormField
from core.messages import Action, Refusal, Reply, Request
from handlers import conversation
from storage.models import ConversationState, ConversationStep, InboundSeen, Person
from tests.conftest import NOW

DEMO = "demo@kent.gov.uk"
REFUSED = Reply("Not for you, I'm afraid.", actions=(Action("Help", "help"),))


@pytest.fixture(params=["raising", "returning"])
def refuse(request):
    """Refuses with REFUSED, by raising a Refusal or by returning the reply."""
    def refuse() -> Reply:
        if request.param == "raising":
            raise Refusal(REFUSED)
        return REFUSED
    return refuse


@pytest.fixture
def form(refuse, monkeypatch) -> Form:
    """A one-field form that refuses the words `not allowed` in `allowed`, and `refused on
    submit` in `submit`; `refusal check` starts it, `refused command` is a command that refuses."""
    def allowed(ctx, values):
        return refuse() if values.get("words") == "not allowed" else None

    def submit(ctx, values):
        return refuse() if values["words"] == "refused on submit" else Reply(f"Submitted: {values['words']}.")

    made = Form("refusal_check", "Refusal check",
                (FormField("words", "Words", "What are the words?", lambda text, ctx, values: text),),
                submit, allowed=allowed)
    monkeypatch.setitem(FORMS, made.name, made)
    monkeypatch.setattr(router, "ROUTES", (
        router.Route(re.compile(r"^refusal check$"), lambda ctx: conversation.start(ctx, made, {})),
        router.Route(re.compile(r"^refused command$"), lambda ctx: refuse()),
        *router.ROUTES,
    ))
    return made


def draft(session) -> ConversationState | None:
    session.expire_all()
    return session.execute(
        select(ConversationState).join(Person, Person.id == ConversationState.person_id).where(Person.email == DEMO)
    ).scalar_one_or_none()


def request(text: str) -> Request:
    return Request(text=text, platform="console", user_id=DEMO, email=DEMO, now=NOW)


def seen(session, key: str) -> int:
    return session.execute(select(func.count()).select_from(InboundSeen).where(InboundSeen.key == key)).scalar_one()


def test_a_command_that_refuses_answers_with_the_refusal(chat, form):
    assert chat.reply("refused command") == REFUSED


def test_a_refusal_while_a_form_is_open_pauses_the_draft_and_says_it_is_kept(chat, session, form):
    assert "What are the words?" in chat("refusal check")
    assert chat.reply("refused command") == replace(REFUSED, footer=conversation.PAUSED_NOTE)
    assert draft(session).step is ConversationStep.PAUSED  # the pause is committed with the refusal
    assert "What are the words?" in chat("continue")
    assert draft(session).step is ConversationStep.ASKING


def test_a_refusal_while_a_draft_is_paused_keeps_it_paused_without_saying_so_again(chat, session, form):
    chat("refusal check")
    chat("refused command")
    assert chat.reply("refused command") == REFUSED
    assert draft(session).step is ConversationStep.PAUSED


@pytest.mark.parametrize("words", ["not allowed", "refused on submit"])
def test_a_refusal_on_confirming_ends_the_draft(chat, session, form, words):
    chat("refusal check")
    assert "Please check" in chat(words)
    assert chat.reply("yes") == REFUSED
    assert draft(session) is None


def test_the_form_still_submits_when_nothing_refuses(chat, session, form):
    chat("refusal check")
    chat("hello")
    assert chat("yes") == "Submitted: hello."
    assert draft(session) is None


@pytest.mark.parametrize("raw, prefilled", [
    ({"words": "refused on submit"}, {}),
    ({}, {"words": "not allowed"}),  # `allowed` sees the prefilled answers, before any field is read
])
def test_a_whole_form_refused_is_answered_and_its_key_kept(chat, session, form, raw, prefilled):
    """A modal or card (Router.submit_form): the refusal is the reply, with no field errors, and
    the retry key is recorded, so that a repeat of the submission does nothing."""
    assert chat.router.submit_form(request("refusal check"), form.name, raw, prefilled, once="form-1") == (REFUSED, {})
    assert seen(session, "form-1") == 1
    assert chat.router.submit_form(request("refusal check"), form.name, raw, prefilled, once="form-1") == (None, {})


def test_a_refused_command_keeps_its_retry_key(chat, session, form):
    assert chat.router.handle(request("refused command"), once="event-1") == REFUSED
    assert seen(session, "event-1") == 1
    assert chat.router.handle(request("refused command"), once="event-1") is None
