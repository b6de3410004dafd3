"""Arbitrary words from every kind of person: always a reply, never a crash or the error apology."""
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.router import normalise
from tests.conftest import ADMIN

PEOPLE = ["demo@kent.gov.uk", "board.demo@kent.police.uk", "someone@medway.gov.uk", "someone@gmail.com", ADMIN]
APOLOGY = "something went wrong on my side"

# Text shaped like commands, so the fuzzing reaches the handlers, not only "I don't understand".
command_like = st.builds(
    lambda verb, rest: f"{verb} {rest}",
    st.sampled_from(["join", "leave", "meetings", "next", "meetings in", "meetings on", "sign me up for",
                     "when does the", "which meetings are in", "/kc", "help", "groups", "whoami"]),
    st.text(max_size=80),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=200), command_like), who=st.sampled_from(PEOPLE))
def test_any_message_gets_a_polite_reply(chat, text, who):
    reply = chat.reply(text, user=who)
    assert reply.plain_text().strip()
    assert APOLOGY not in reply.text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_normalise_is_idempotent(text):
    once = normalise(text)
    assert normalise(once) == once
