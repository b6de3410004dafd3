"""Every control of a step-by-step form at every question, in chat (handlers/conversation.py):
`cancel`, `back`, `skip` (and `none`, `no`, `n/a`), `continue`/`resume`, `edit FIELD`, an unknown
`edit`, `help`, a bare command, a command with more words, and `continue` after a restart. For
the business case (`idea`), the schedule form (`schedule`, the group asked first) and the event
form (`create event`, online), at each of their questions and at the summary; then what only the
summary, a choice and a paused draft understand. On SQLite and PostgreSQL, with the demo loaded
as of Wednesday 25 November 2026 (see conftest): demo@kent.gov.uk chairs Smart Kent and Medway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

import pytest
from sqlalchemy import func, select

from bot.router import Router
from core.forms import FORMS, FieldError
from handlers.conversation import PAUSED_NOTE
from storage import groups as group_queries, meetings as meeting_queries
from storage.models import (
    BusinessCase,
    ConversationState,
    ConversationStep,
    Delivery,
    Event,
    Meeting,
    MeetingStatus,
    Person,
)
from tests.conftest import ADMIN, NOW, Chat

DEMO = "demo@kent.gov.uk"
GENERIC_ERROR = "something went wrong"
SUMMARY = "Please check, then say `yes` to confirm"
GIS_MEETING = "GIS meets next on"  # the answer to `next gis meeting`


@dataclass(frozen=True)
class Question:
    name: str
    answer: str  # a good answer, as typed
    prompt: str  # what the question says
    required: bool
    # Whether the words `next gis meeting` read as an answer here (any words are a title; a
    # group's name is found in them); if so the bot asks whether they are the answer.
    takes_command_words: bool
    # What a skip word means to a required field that reads it as an answer of its own.
    own_words: tuple[tuple[str, Any], ...] = ()
    # What `Next GIS meeting` is stored as where it reads as an answer (None: the words as typed).
    command_value: Any = None


@dataclass(frozen=True)
class Spec:
    start: str
    user: str
    questions: tuple[Question, ...]
    # `edit ...` as typed, the field it names, a new answer and the value stored for it.
    edit: tuple[str, str, str, Any]

    def index(self, position: str) -> int:
        return len(self.questions) if position == "summary" else [q.name for q in self.questions].index(position)

    def question(self, position: str) -> Question:
        return self.questions[self.index(position)]


IDEA = Spec(
    "idea",
    DEMO,
    (
        Question("title", "Shared desk booking", "What is the idea called?", True, True),
        Question("problem", "Staff cannot find a desk.", "What problem does it solve?", True, True),
        Question("proposal", "Buy one booking service.", "What do you propose to do?", True, True),
        Question("partners", "Medway, Kent Police", "Which partners benefit?", True, False),
        Question(
            "groups", "gis", "Which groups benefit?", False, True, command_value={"slugs": ["gis"], "names": "GIS"}
        ),
        Question(
            "sponsor",
            "smart kent",
            "Which group sponsors it?",
            True,
            True,
            command_value={"slug": "gis", "name": "GIS"},
        ),
        Question("cost", "£25,000", "What is the estimated cost, in pounds?", True, False),
        Question("timescale", "9 months", "Over what timescale?", True, True),
        Question("contact", "me", "Who is the contact?", True, True),
    ),
    ("edit title", "title", "A better title", "A better title"),
)
SCHEDULE = Spec(
    "schedule",
    DEMO,
    (
        Question("group", "smart kent", "Which group is the meeting for?", True, False),
        Question("date", "9 March 2027", "Which day (the first, if it repeats)?", True, False),
        Question("time", "10:00-11:00", "From what time to what time?", True, False),
        Question("repeat", "quarterly", "Does it repeat?", False, False),
        Question("place", "Room 1, Sessions House", "Where is it held?", False, True),
        Question("link", "https://meet.example.org/x", "What is the online meeting link?", False, False),
        Question("agenda", "updates from partners", "What is on the agenda?", False, True),
    ),
    ("change the date", "date", "10 March 2027", "2027-03-10"),
)
EVENT = Spec(
    "create event",
    ADMIN,
    (
        Question("title", "Future Workplaces Forum", "What is the event called?", True, True),
        Question("theme", "hybrid working", "What is its theme?", False, True),
        Question("description", "A morning of talks.", "Describe it in a few sentences.", False, True),
        Question("speakers", "Demo speakers", "Who is speaking?", False, True),
        Question("date", "3 February 2027", "Which day?", True, False),
        Question("time", "14:00-15:30", "From what time to what time?", True, False),
        Question("format", "online", "In person, online or hybrid?", True, False),
        Question("link", "https://meet.example.org/forum", "What is the link to join online?", True, False),
        Question(
            "capacity_online",
            "40",
            "How many places online?",
            True,
            False,
            own_words=(("none", None), ("no", None)),  # no limit
        ),
        Question("opens", "now", "When does registration open?", False, False),
        Question("closes", "1 February 2027 17:00", "When does registration close?", False, False),
    ),
    ("edit theme", "theme", "culture change", "culture change"),
)
SPECS = {"idea": IDEA, "schedule": SCHEDULE, "event": EVENT}
POSITIONS = [(name, q.name) for name, spec in SPECS.items() for q in spec.questions] + [
    (name, "summary") for name in SPECS
]
QUESTIONS = [p for p in POSITIONS if p[1] != "summary"]
TAKING_COMMAND_WORDS = [p for p in QUESTIONS if SPECS[p[0]].question(p[1]).takes_command_words]


def ids(positions) -> list[str]:
    return [f"{form}-{position}" for form, position in positions]


# --- helpers ----------------------------------------------------------------------------------


def say(chat: Chat, *texts: str, user: str) -> str:
    """Send each message in turn; the last reply's text. No reply may be the generic error."""
    text = ""
    for message in texts:
        text = chat(message, user=user)
        assert GENERIC_ERROR not in text, f"{message!r} -> {text}"
    return text


def draft(session, email: str) -> Optional[ConversationState]:
    session.expire_all()
    return session.execute(
        select(ConversationState).join(Person, Person.id == ConversationState.person_id).where(Person.email == email)
    ).scalar_one_or_none()


def answers(state: Optional[ConversationState]) -> dict[str, Any]:
    assert state is not None
    return {k: v for k, v in state.values.items() if not k.startswith("_")}


def where(state: Optional[ConversationState]) -> tuple[ConversationStep, Optional[str], dict[str, Any]]:
    assert state is not None
    return state.step, state.field, answers(state)


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def written(session) -> tuple[int, ...]:
    return tuple(count(session, model) for model in (BusinessCase, Meeting, Event, Delivery))


def asked(spec: Spec, position: str) -> str:
    return SUMMARY if position == "summary" else spec.question(position).prompt


def reach(chat: Chat, spec: Spec, position: str) -> str:
    """Start the form and answer every question before `position`; the reply that asks it."""
    reply = say(chat, spec.start, *(q.answer for q in spec.questions[: spec.index(position)]), user=spec.user)
    assert asked(spec, position) in reply, reply
    return reply


@pytest.fixture(params=POSITIONS, ids=ids(POSITIONS))
def at(request, chat, session):
    """(spec, position, the draft as it stands there) with the form open at that position."""
    name, position = request.param
    spec = SPECS[name]
    reach(chat, spec, position)
    return spec, position, where(draft(session, spec.user))


def opened_at(request, chat, session):
    name, position = request.param
    spec = SPECS[name]
    reach(chat, spec, position)
    return spec, spec.question(position), where(draft(session, spec.user))


@pytest.fixture(params=QUESTIONS, ids=ids(QUESTIONS))
def at_question(request, chat, session):
    """(spec, question, the draft as it stands) with the form open at that question."""
    return opened_at(request, chat, session)


@pytest.fixture(params=TAKING_COMMAND_WORDS, ids=ids(TAKING_COMMAND_WORDS))
def at_question_taking_any_words(request, chat, session):
    return opened_at(request, chat, session)


# --- every control at every position ----------------------------------------------------------


def test_the_table_is_the_forms_own():
    """The questions above are the forms' questions, in order, required as they say."""
    for form, spec in (("business_case", IDEA), ("schedule_meeting", SCHEDULE), ("create_event", EVENT)):
        fields = [f for f in FORMS[form].fields if f.name in {q.name for q in spec.questions}]
        assert [(f.name, f.required) for f in fields] == [(q.name, q.required) for q in spec.questions]


@pytest.mark.parametrize("words", ["cancel", "Cancel.", "stop", "never mind"])
def test_cancel_drops_the_draft_and_saves_nothing(chat, session, at, words):
    spec, position, _ = at
    before = written(session)
    assert "nothing was saved" in say(chat, words, user=spec.user)
    assert draft(session, spec.user) is None
    assert written(session) == before


def test_back_asks_the_question_before(chat, session, at):
    spec, position, (_, field, values) = at
    reply = say(chat, "back", user=spec.user)
    index = spec.index(position)
    state = draft(session, spec.user)
    if index == 0:
        assert "That's the first question." in reply and asked(spec, position) in reply
        assert where(state) == (ConversationStep.ASKING, field, values)
        return
    previous = spec.questions[index - 1]
    assert previous.prompt in reply
    assert state is not None and state.step is ConversationStep.ASKING and state.field == previous.name
    assert previous.name not in answers(state)
    assert answers(state) == {k: v for k, v in values.items() if k != previous.name}  # the rest kept


@pytest.mark.parametrize("words", ["skip", "none", "no", "n/a"])
def test_skip_leaves_an_optional_question_empty_and_refuses_a_required_one(chat, session, at_question, words):
    spec, question, before = at_question
    reply = say(chat, words, user=spec.user)
    state = draft(session, spec.user)
    own = dict(question.own_words)
    if question.required and words not in own:
        assert reply.startswith(f"This one is needed: {question.prompt}")
        assert where(state) == before  # nothing stored, not even the word
        return
    expected = own.get(words) if question.required else None
    assert answers(state)[question.name] == expected
    following = spec.questions[spec.index(question.name) + 1 :]
    assert (following[0].prompt if following else SUMMARY) in reply


@pytest.mark.parametrize("words", ["continue", "resume", "Continue please"])
def test_continue_asks_the_same_question_again(chat, session, at, words):
    spec, position, before = at
    reply = say(chat, words, user=spec.user)
    assert "Let's carry on." in reply and asked(spec, position) in reply
    assert where(draft(session, spec.user)) == before


def test_help_says_which_form_and_asks_again(chat, session, at):
    spec, position, before = at
    reply = say(chat, "help", user=spec.user)
    assert "You're filling in" in reply and asked(spec, position) in reply
    assert where(draft(session, spec.user)) == before


def test_edit_a_field_asks_it_then_goes_on_where_it_was(chat, session, at):
    spec, position, (_, _, values) = at
    typed, name, new_answer, stored = spec.edit
    target = spec.question(name)
    reply = say(chat, typed, user=spec.user)
    assert target.prompt in reply
    state = draft(session, spec.user)
    assert state is not None and state.step is ConversationStep.ASKING and state.field == name
    assert answers(state) == values  # nothing lost by asking
    if name in values:
        assert "(Now: " in reply and "say `keep it`" in reply
    reply = say(chat, new_answer, user=spec.user)
    assert answers(draft(session, spec.user))[name] == stored
    answered = {q.name for q in spec.questions[: spec.index(position)]} | {name}
    unanswered = [q for q in spec.questions if q.name not in answered]
    assert (unanswered[0].prompt if unanswered else SUMMARY) in reply


def test_edit_an_unknown_field_lists_the_fields(chat, session, at):
    spec, position, before = at
    reply = say(chat, "edit colour", user=spec.user)
    assert "Which one? You can edit: " in reply
    assert f"`{spec.edit[1]}`" in reply  # a field's name among them
    assert where(draft(session, spec.user)) == before


def test_a_bare_command_pauses_the_draft_and_continue_resumes_it(chat, session, at):
    spec, position, before = at
    reply = say(chat, "my events", user=spec.user)
    assert PAUSED_NOTE in reply and asked(spec, position) not in reply
    state = draft(session, spec.user)
    assert state is not None and state.step is ConversationStep.PAUSED and answers(state) == before[2]
    resumed = say(chat, "continue", user=spec.user)
    assert "Let's carry on." in resumed and asked(spec, position) in resumed
    assert where(draft(session, spec.user)) == before


def test_a_command_with_words_runs_or_is_asked_about(chat, session, at):
    spec, position, before = at
    reply = say(chat, "next gis meeting", user=spec.user)
    state = draft(session, spec.user)
    if position != "summary" and spec.question(position).takes_command_words:
        assert "Is that your answer, or shall I do `next gis meeting`?" in reply
        assert "You can say: `my answer`, `next gis meeting`" in reply
        assert where(state) == before
        # Sent again (its button), it runs, and the draft waits.
        again = say(chat, "next gis meeting", user=spec.user)
        assert GIS_MEETING in again and PAUSED_NOTE in again
    else:
        assert GIS_MEETING in reply and PAUSED_NOTE in reply
    state = draft(session, spec.user)
    assert state is not None and state.step is ConversationStep.PAUSED and answers(state) == before[2]


@pytest.mark.parametrize("words", ["my answer", "yes"])
def test_my_answer_takes_the_command_words_as_the_answer(chat, session, at_question_taking_any_words, words):
    spec, question, _ = at_question_taking_any_words
    assert "Is that your answer" in say(chat, "Next GIS meeting", user=spec.user)
    reply = say(chat, words, user=spec.user)
    state = draft(session, spec.user)
    expected = "Next GIS meeting" if question.command_value is None else question.command_value
    assert answers(state)[question.name] == expected
    following = spec.questions[spec.index(question.name) + 1 :]
    assert (following[0].prompt if following else SUMMARY) in reply  # on to the next question
    assert state.step is (ConversationStep.ASKING if following else ConversationStep.CONFIRMING)


def test_continue_after_a_restart_asks_the_same_question(chat, session, sessions, settings, at):
    spec, position, before = at
    restarted = Chat(Router(sessions, settings))  # a new process, the same database
    reply = say(restarted, "continue", user=spec.user)
    assert "Let's carry on." in reply and asked(spec, position) in reply
    assert where(draft(session, spec.user)) == before


def test_a_paused_draft_resumes_after_a_restart(chat, session, sessions, settings, at):
    spec, position, before = at
    say(chat, "whoami", user=spec.user)
    assert draft(session, spec.user).step is ConversationStep.PAUSED
    restarted = Chat(Router(sessions, settings))
    reply = say(restarted, "resume", user=spec.user)
    assert "Let's carry on." in reply and asked(spec, position) in reply
    assert where(draft(session, spec.user)) == before


# --- the summary ------------------------------------------------------------------------------


def summary(chat: Chat, spec: Spec) -> str:
    return reach(chat, spec, "summary")


@pytest.mark.parametrize(
    "words",
    [
        "yes",
        "Yes please",
        "y",
        "go ahead",
        "looks good",
        "correct",
        "submit it",
        "that's right",
        "OK, submit it!",
        "yes, looks good, go ahead",
    ],
)
@pytest.mark.parametrize("name", ["idea", "schedule"])
def test_agreeing_at_the_summary_submits(chat, session, name, words):
    spec = SPECS[name]
    summary(chat, spec)
    before = count(session, BusinessCase), count(session, Meeting)
    reply = say(chat, words, user=spec.user)
    assert "submitted as" in reply or "Scheduled" in reply
    assert draft(session, spec.user) is None
    made = (count(session, BusinessCase) - before[0], count(session, Meeting) - before[1])
    assert made == ((1, 0) if name == "idea" else (0, 4))


@pytest.mark.parametrize("words", ["maybe", "yes but the cost is wrong", "not right", "correct the cost later"])
def test_other_words_at_the_summary_submit_nothing(chat, session, words):
    summary(chat, IDEA)
    before = written(session)
    reply = say(chat, words, user=DEMO)
    assert "submitted" not in reply
    assert written(session) == before
    assert draft(session, DEMO) is not None


def test_no_at_the_summary_asks_what_to_change(chat, session):
    summary(chat, IDEA)
    before = where(draft(session, DEMO))
    reply = say(chat, "no", user=DEMO)
    assert "What would you like to change? Say `edit` and its name, e.g. `edit title`" in reply
    assert "Estimated cost: £25,000" in reply  # the summary is shown again
    assert where(draft(session, DEMO)) == before
    assert "What is the estimated cost" in say(chat, "the cost", user=DEMO)  # a field's name alone
    changed = say(chat, "£30,000", user=DEMO)
    assert SUMMARY in changed and "Estimated cost: £30,000" in changed


@pytest.mark.parametrize(
    "words, field, prompt",
    [
        ("edit cost", "cost", "What is the estimated cost"),
        ("change the cost", "cost", "What is the estimated cost"),
        ("Change the estimated cost", "cost", "What is the estimated cost"),
        ("edit 7", "cost", "What is the estimated cost"),
        ("edit the 1st", None, "Which one?"),
        ("edit 99", None, "Which one?"),
        ("edit sponsor", "sponsor", "Which group sponsors it?"),
        ("edit benefit", None, "Which one?"),  # two labels have it
        ("fix the timescale", "timescale", "Over what timescale?"),
    ],
)
def test_edit_at_the_summary_by_name_label_word_or_number(chat, session, words, field, prompt):
    summary(chat, IDEA)
    assert prompt in say(chat, words, user=DEMO)
    state = draft(session, DEMO)
    assert state is not None
    assert (state.step, state.field) == (
        (ConversationStep.ASKING, field) if field else (ConversationStep.CONFIRMING, None)
    )


def test_change_a_field_to_a_value_at_the_summary(chat, session):
    summary(chat, IDEA)
    reply = say(chat, "change the cost to £30,000", user=DEMO)
    assert SUMMARY in reply and "Estimated cost: £30,000" in reply
    refused = say(chat, "change the cost to lots", user=DEMO)
    assert "isn't a sum of money" in refused
    state = draft(session, DEMO)
    assert state is not None and state.field == "cost" and state.values["cost"] == 3_000_000
    assert "Title: Go to market" in say(chat, "keep it", "edit title: Go to market", user=DEMO)


def test_keep_it_leaves_an_answer_as_it_was(chat, session):
    summary(chat, SCHEDULE)
    assert "(Now: Tuesday 9 March 2027; say `keep it`" in say(chat, "edit date", user=DEMO)
    reply = say(chat, "keep it", user=DEMO)
    assert SUMMARY in reply and "Date: Tuesday 9 March 2027" in reply


def a_smart_kent_meeting(session) -> int:
    smart = group_queries.group_by_slug(session, "smart-kent-and-medway")
    assert smart is not None
    return meeting_queries.upcoming(session, NOW, [smart.id])[0].id


def test_no_to_a_form_given_whole_by_its_command_drops_it(chat, session):
    number = a_smart_kent_meeting(session)
    assert SUMMARY in say(chat, f"cancel meeting {number}", user=DEMO)
    assert "nothing was saved" in say(chat, "no", user=DEMO)
    assert draft(session, DEMO) is None
    session.expire_all()
    assert session.get(Meeting, number).status is MeetingStatus.SCHEDULED


def test_no_after_changing_a_given_answer_asks_what_to_change(chat, session):
    say(chat, f"cancel meeting {a_smart_kent_meeting(session)}", "edit which", user=DEMO)
    assert "Which: this one and the rest of its series" in say(chat, "the second one", user=DEMO)
    assert "What would you like to change?" in say(chat, "no", user=DEMO)
    assert draft(session, DEMO) is not None


# --- choices and yes/no -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words, chosen",
    [
        ("online", "online"),
        ("Online", "online"),
        ("ONLINE.", "online"),
        ("on", "online"),
        ("in person", "in_person"),
        ("In-Person", "in_person"),
        ("in", "in_person"),
        ("face to face", "in_person"),
        ("hybrid", "hybrid"),
        ("h", "hybrid"),
        ("both", "hybrid"),
        ("in person and online", "hybrid"),
        ("the first one", "in_person"),
        ("1", "in_person"),
        ("the second", "online"),
        ("2nd", "online"),
        ("3", "hybrid"),
        ("the last one", "hybrid"),
        ("online only", "online"),
    ],
)
def test_a_choice_takes_its_name_any_case_a_beginning_or_its_place(chat, session, words, chosen):
    reply = reach(chat, EVENT, "format")
    assert "You can say: `in person`, `online`, `hybrid`" in reply  # the choices are buttons
    say(chat, words, user=ADMIN)
    assert answers(draft(session, ADMIN))["format"] == chosen


@pytest.mark.parametrize("words", ["the fourth", "4", "0", "o line", "in or out"])
def test_a_choice_that_fits_none_is_asked_again(chat, session, words):
    reach(chat, EVENT, "format")
    reply = say(chat, words, user=ADMIN)
    assert "Say `in person`, `online` or `hybrid`." in reply
    assert "format" not in answers(draft(session, ADMIN))


@pytest.mark.parametrize("words", ["yes", "y", "Yes it does"])
def test_yes_to_does_it_repeat_asks_how_often(chat, session, words):
    reach(chat, SCHEDULE, "repeat")
    assert "How often? Say `quarterly`" in say(chat, words, user=DEMO)
    assert draft(session, DEMO).field == "repeat"


@pytest.mark.parametrize("words", ["no", "n", "No."])
def test_no_to_does_it_repeat_is_a_one_off(chat, session, words):
    reach(chat, SCHEDULE, "repeat")
    assert "Where is it held?" in say(chat, words, user=DEMO)
    assert answers(draft(session, DEMO))["repeat"] is None


def test_a_field_that_does_not_apply_is_not_asked(chat, session):
    summary(chat, EVENT)  # online
    reply = say(chat, "edit venue", user=ADMIN)
    assert "“Venue” isn't asked with your answers so far." in reply and SUMMARY in reply
    assert draft(session, ADMIN).step is ConversationStep.CONFIRMING
    assert "Where is it held?" in say(chat, "edit format", "hybrid", user=ADMIN)  # now it is


# --- a paused draft, and answers that look like commands ---------------------------------------


@pytest.mark.parametrize(
    "words, prompt, field",
    [
        ("back", "What problem does it solve?", "problem"),
        ("edit title", "What is the idea called?", "title"),
        ("skip", "This one is needed: What do you propose to do?", "proposal"),
    ],
)
def test_back_skip_and_edit_resume_a_paused_draft(chat, session, words, prompt, field):
    say(chat, "idea", "A title", "A problem", "groups", user=DEMO)
    assert draft(session, DEMO).step is ConversationStep.PAUSED
    assert prompt in say(chat, words, user=DEMO)
    state = draft(session, DEMO)
    assert state is not None and (state.step, state.field) == (ConversationStep.ASKING, field)


def test_other_words_while_paused_leave_the_draft_waiting(chat, session):
    say(chat, "idea", "A title", "groups", user=DEMO)
    assert "Sorry, I don't understand" in say(chat, "A problem", user=DEMO)
    state = draft(session, DEMO)
    assert state is not None and state.step is ConversationStep.PAUSED and answers(state) == {"title": "A title"}


def test_several_lines_are_an_answer_even_with_commands_in_them(chat, session):
    reach(chat, SCHEDULE, "agenda")
    reply = say(chat, "my events\nnext gis meeting", user=DEMO)
    assert SUMMARY in reply
    assert answers(draft(session, DEMO))["agenda"] == "my events\nnext gis meeting"


def test_no_to_is_that_your_answer_keeps_asking(chat, session):
    reach(chat, SCHEDULE, "place")
    assert "Is that your answer" in say(chat, "join gis", user=DEMO)
    reply = say(chat, "no", user=DEMO)
    assert "Then send `join gis` again" in reply and "Where is it held?" in reply
    assert "place" not in answers(draft(session, DEMO))  # not skipped
    assert PAUSED_NOTE in say(chat, "join gis", user=DEMO)  # done, as asked
    assert draft(session, DEMO).step is ConversationStep.PAUSED


def test_an_answer_after_is_that_your_answer_is_just_the_answer(chat, session):
    reach(chat, SCHEDULE, "place")
    say(chat, "next gis meeting", user=DEMO)
    assert "What is the online meeting link?" in say(chat, "Room 2", user=DEMO)
    assert answers(draft(session, DEMO))["place"] == "Room 2"


def test_an_unknown_edit_that_may_be_the_answer_can_be_kept(chat, session):
    reach(chat, IDEA, "title")
    reply = say(chat, "Edit tracker", user=DEMO)
    assert "Which one? You can edit: `title`, `problem`" in reply and "You can say: `my answer`" in reply
    assert "What problem does it solve?" in say(chat, "my answer", user=DEMO)
    assert answers(draft(session, DEMO))["title"] == "Edit tracker"


def test_change_at_the_start_of_an_answer_is_the_answer(chat, session):
    reach(chat, IDEA, "title")
    assert "What problem does it solve?" in say(chat, "Change management training", user=DEMO)
    assert answers(draft(session, DEMO))["title"] == "Change management training"


def test_a_title_kept_by_my_answer_is_submitted(chat, session):
    summary(chat, IDEA)
    say(chat, "edit title", "next gis meeting", "my answer", user=DEMO)
    reply = say(chat, "yes", user=DEMO)
    number = int(re.search(r"\(case (\d+)\)", reply)[1])
    session.expire_all()
    assert session.get(BusinessCase, number).title == "next gis meeting"


def test_edit_event_at_the_summary_is_the_command_not_a_field(chat, session):
    summary(chat, IDEA)
    reply = say(chat, "edit event 1 title Another name", user=DEMO)
    assert "Which one?" not in reply and PAUSED_NOTE in reply  # routed: the Partnership Office's command
    assert draft(session, DEMO).step is ConversationStep.PAUSED


# --- the readers, without a chat ---------------------------------------------------------------

FORMAT = FORMS["create_event"].field("format")
SCOPE = FORMS["cancel_meeting"].field("scope")


@pytest.mark.parametrize(
    "words, chosen",
    [
        ("Hybrid", "hybrid"),
        (" ONLINE ", "online"),
        ("in-person", "in person"),
        ("in person please", "in person"),
        ("the third one", "hybrid"),
        ("number 2", "online"),
        ("last", "hybrid"),
        ("on", "online"),
        ("0", None),
        ("4th", None),
        ("", None),
        ("both", None),  # a synonym: the field's own reader knows it
    ],
)
def test_a_choice_is_named(words, chosen):
    assert FORMAT.choice_named(words) == chosen


@pytest.mark.parametrize(
    "words, scope",
    [
        ("this one", "one"),
        ("only this one", "one"),
        ("the second", "rest"),
        ("1", "one"),
        ("the rest of the series too", "rest"),
        ("all of them", "rest"),
    ],
)
def test_the_scope_of_a_cancellation(words, scope):
    assert SCOPE.read(words, None, {}) == scope


@pytest.mark.parametrize("words", ["none", "nothing", "phone"])
def test_a_scope_is_read_by_whole_words(words):
    with pytest.raises(FieldError, match="Say `this one` or `the rest of the series`"):
        SCOPE.read(words, None, {})
