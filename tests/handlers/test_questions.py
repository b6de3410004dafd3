"""Questions answered as questions (handlers/questions.py) and the partnership's FAQ
(storage/data/faq.yaml, handlers/faq.py), through the router as people type them, on SQLite and
PostgreSQL with the demo loaded as of Wednesday 25 November 2026 (conftest)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import faq as faq_file, meetings as meeting_queries
from storage.faq import FaqError, read
from storage.groups import group_by_slug
from tests.conftest import ADMIN, NOW

DEMO = "demo@kent.gov.uk"  # in GIS and Information Security, chairs Smart Kent and Medway Projects
MEDWAY = "someone@medway.gov.uk"  # partner staff in no group
OUTSIDER = "someone@gmail.com"


def next_of(session, slug: str):
    group = group_by_slug(session, slug)
    [meeting] = meeting_queries.upcoming(session, NOW, [group.id], limit=1)
    return meeting


def test_where_is_the_next_meeting_gives_the_place_and_the_link(chat, session):
    meeting = next_of(session, "gis")
    reply = chat("where is the next GIS meeting being held?")
    assert reply.startswith("The next GIS meeting, on ") and meeting.place in reply and meeting.online_url in reply
    assert chat("where does the gis group meet") == reply


def test_is_the_next_meeting_online_answers_yes_no_or_both(chat, session):
    infosec = next_of(session, "information-security")  # online only in the demo
    assert chat("Is the next infosec meeting online?").startswith("Yes: the next Information Security meeting")
    assert infosec.online_url in chat("is the next cyber meeting online")
    assert chat("is the next GIS meeting online?").startswith("Both: ")  # a place and a link
    smart = next_of(session, "smart-kent-and-medway")  # in person only
    reply = chat("is the next smart kent meeting online")
    assert reply.startswith("No: ") and smart.place in reply and "no online link" in reply


def test_what_time_does_a_group_meet(chat, session):
    reply = chat("what time does infosec meet?")
    assert reply.startswith("Information Security meets next on ") and "10:00–12:00 GMT" in reply


def test_is_there_a_meeting_in_a_month_is_yes_with_dates_or_no_with_the_next(chat, session):
    meeting = next_of(session, "gis")
    month = meeting.start_local.strftime("%B")
    yes = chat(f"is there a GIS meeting in {month.lower()}?")
    assert yes.startswith(f"Yes: GIS meets in {month} ") and f"(meeting {meeting.id})" in yes
    empty = (meeting.start_local + timedelta(days=31)).strftime("%B")
    no = chat(f"Is there a gis meeting in {empty}")
    assert no.startswith(f"No: there's no meeting of GIS in {empty}") and "The next is on" in no
    assert chat("is there any meeting in " + month).startswith("Yes: there ")


def test_a_closed_groups_dates_are_not_given_away_by_a_question(chat):
    for words in (
        "where is the next leadership meeting",
        "is there a leadership meeting in march",
        "what time does the leadership group meet",
    ):
        assert "closed group" in chat(words, user=MEDWAY)


def test_who_chairs_names_the_chairs_and_never_their_addresses(chat):
    reply = chat("who chairs GIS?", user=MEDWAY)
    assert reply == "GIS is chaired by Demo GIS Chair (Maidstone)."
    assert "@" not in chat("who is the chair of smart kent")


def test_which_groups_am_i_in_and_how_to_join_one(chat, session):
    assert chat("which groups am I in?") == (
        "You're in GIS and Information Security and you chair Smart Kent and Medway Projects.\n"
        "You can say: `my meetings`"
    )
    assert chat("which groups am I in", user=MEDWAY).startswith("You're not in any group yet.")
    how = chat.reply("How do I join the GIS group?", user=MEDWAY)
    assert "`join gis`" in how.text and [a.command for a in how.actions] == ["join gis"]
    assert "Groups: none yet" in chat("whoami", user=MEDWAY)  # asking how joins nobody
    assert "already in GIS" in chat("how do i join gis")
    assert "for its members only" in chat("how can I join the leadership group", user=MEDWAY)


def test_events_asked_about_in_plain_words(chat):
    assert chat("What's the next event?").startswith("The next event is Future Workplaces, on ")
    assert chat("when is future workplaces?").startswith("Future Workplaces is on ")
    places = chat("how many places are left on future workplaces?")
    assert places.startswith("Future Workplaces: in person: 40 of 40 places left; online: 150 of 150 places left.")
    assert "register" in places


@pytest.mark.parametrize(
    "question, answer",
    [
        ("what is kent connects?", "Kent Connects is a partnership of Kent's public bodies"),
        ("What is the development fund?", "part of each subscription goes into a development fund"),
        ("how do i submit a business case", "Say `idea`"),
        ("what is GovRoam", "roaming network access across public sector sites"),
        ("what is KPSN?", "Kent Public Services Network Partnership"),
        ("tell me about kent connects", "Kent Connects is a partnership"),
        ("what has the fund paid for", "county-wide roll-out of GovRoam"),
    ],
)
def test_the_partnerships_questions_are_answered_from_the_file(chat, question, answer):
    assert answer in chat(question, user=OUTSIDER)  # facts anyone may read


def test_the_partners_and_groups_answers_come_from_the_data(chat):
    partners = chat("who are the partners?", user=OUTSIDER)
    assert "Kent Connects has 19 partners" in partners and "Tunbridge Wells Borough Council" in partners
    assert "National Cyber Security Centre" in chat("what do the groups do", user=MEDWAY)


def test_every_faq_entry_is_declared_and_reached_by_its_questions(chat):
    for entry in faq_file.entries():
        for question in entry.questions:
            reply = chat.reply(question, user=ADMIN)
            assert "I don't understand" not in reply.text, (entry.id, question)


@pytest.mark.parametrize(
    "text, message",
    [
        ("entries:\n  - {id: a}\n", "needs an id and some questions"),
        ("entries:\n  - {id: a, questions: [x]}\n", "give an answer, or answer_from"),
        ("entries:\n  - {id: a, questions: [x], answer: y}\n  - {id: a, questions: [z], answer: w}\n", "used twice"),
        ("entries:\n  - {id: a, questions: [x], answer_from: people}\n", "answer_from: partners | groups"),
    ],
)
def test_a_faq_file_with_a_mistake_is_refused_with_where(tmp_path, text, message):
    path = tmp_path / "faq.yaml"
    path.write_text(text)
    with pytest.raises(FaqError, match=message):
        read(path)
