"""A Refusal raised below the router (core.messages.Refusal) is answered exactly as a refusal
returned is: with its reply, inside the request's transaction, which commits. The first tests run
a stand-in command and form both ways, raising and returning; the last ones the real finders
(find_group, find_meeting, ...) inside commands and forms. On SQLite and PostgreSQL, with the demo
loaded as of Wednesday 25 November 2026 (demo@kent.gov.uk chairs Smart Kent and Medway Projects).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from core.forms import FORMS, Form, FormField
from core.messages import Action, Refusal, Reply, Request
from handlers import conversation
from storage import groups as group_queries, meetings as meeting_queries
from storage.models import (
    AuditEntry,
    ConversationState,
    ConversationStep,
    Delivery,
    InboundSeen,
    Meeting,
    MeetingStatus,
    Person,
)
from storage.people import person_by_email
from tests.conftest import ADMIN, NOW

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
def form(refuse, monkeypatch, declare_command) -> Form:
    """A one-field form that refuses the words `not allowed` in `allowed`, and `refused on
    submit` in `submit`; `refusal check` starts it, `refused command` is a command that refuses."""

    def allowed(ctx, values):
        return refuse() if values.get("words") == "not allowed" else None

    def submit(ctx, values):
        return refuse() if values["words"] == "refused on submit" else Reply(f"Submitted: {values['words']}.")

    made = Form(
        "refusal_check",
        "Refusal check",
        (FormField("words", "Words", "What are the words?", lambda text, ctx, values: text),),
        submit,
        allowed=allowed,
    )
    monkeypatch.setitem(FORMS, made.name, made)
    declare_command("refusal_check", r"^refusal check$", lambda ctx: conversation.start(ctx, made, {}))
    declare_command("refused_command", r"^refused command$", lambda ctx: refuse())
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


@pytest.mark.parametrize(
    "raw, prefilled",
    [
        ({"words": "refused on submit"}, {}),
        ({}, {"words": "not allowed"}),  # `allowed` sees the prefilled answers, before any field is read
    ],
)
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


# --- the real finders ---------------------------------------------------------------------------


def rows(session, model) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_group_not_found_mid_form_pauses_the_draft_and_says_it_is_kept(chat, session):
    chat("schedule smart kent")
    assert "From what time to what time?" in chat("9 March 2027")
    reply = chat.reply("join underwater basket weaving")
    assert reply.text.startswith("I don't know a group called “underwater basket weaving”.")
    assert reply.actions == (Action("List groups", "groups"),)  # the finder's own reply, whole
    assert reply.footer == conversation.PAUSED_NOTE
    assert draft(session).step is ConversationStep.PAUSED
    assert draft(session).values["date"] == "2027-03-09"


def test_a_meeting_cancelled_while_its_cancel_form_waited_is_refused_on_yes(chat, session):
    """The form's submit looks the meeting up again and refuses: the draft ends, and nothing else
    is written (no second notice, no second audit entry)."""
    smart = group_queries.group_by_slug(session, "smart-kent-and-medway")
    number = meeting_queries.upcoming(session, NOW, [smart.id], limit=1)[0].id
    assert "say `yes` to confirm" in chat(f"cancel meeting {number}")
    assert "say `yes` to confirm" in chat(f"cancel meeting {number}", user=ADMIN)
    assert "Cancelled 1 " in chat("yes", user=ADMIN)
    before = rows(session, Delivery), rows(session, AuditEntry)
    reply = chat("yes")
    assert reply.startswith(f"Meeting {number} (") and reply.endswith("is already cancelled.")
    assert draft(session) is None
    assert (rows(session, Delivery), rows(session, AuditEntry)) == before
    assert session.get(Meeting, number).status is MeetingStatus.CANCELLED


def test_a_refusal_by_a_finder_stores_nobody_it_has_not_stored_before(chat, session):
    """`chair GROUP EMAIL` stores the person named only once the group is found."""
    assert chat("chair underwater basket weaving new.chair@swale.gov.uk", user=ADMIN).startswith(
        "I don't know a group called"
    )
    assert person_by_email(session, "new.chair@swale.gov.uk") is None
    assert "isn't at a Kent Connects partner's e-mail domain" in chat("chair gis someone@gmail.com", user=ADMIN)
    assert person_by_email(session, "someone@gmail.com") is None


def test_a_refusal_keeps_what_came_before_the_handler(chat, session):
    """Partner staff are stored on first contact, before any handler runs; a refusal, raised as
    a returned one was, leaves them stored."""
    newcomer = "new.face@swale.gov.uk"
    assert chat("join underwater basket weaving", user=newcomer).startswith("I don't know a group called")
    assert person_by_email(session, newcomer) is not None


@pytest.mark.parametrize(
    "words, answer",
    [
        ("decline 1", "Please give the reason"),  # the words are checked before who is asking
        ("outcome 1", "Please give the outcome"),
        ("decline 1 too costly", "I can't match someone@gmail.com to a Kent Connects partner"),
        ("meetings gis", "I can't match someone@gmail.com to a Kent Connects partner"),
        ("move 1 to 16 March 2027 14:00", "I can't match someone@gmail.com to a Kent Connects partner"),
    ],
)
def test_checks_come_in_the_same_order_as_before(chat, words, answer):
    assert chat(words, user="someone@gmail.com").startswith(answer)
