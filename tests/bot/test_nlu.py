"""The language model (bot/nlu): its held-out evaluation kept at 90 % or more, nothing with side
effects done on a guess, `yes`/`no` to the bot's own "Shall I ...?", and words that mean the same
whatever their case, punctuation, emoji or Unicode forms."""

from __future__ import annotations

import tempfile
from dataclasses import replace

import numpy
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import bot.commands  # noqa: F401  (declares every command)
from bot.language import understand
from bot.nlu import catalogue, decide, evaluation, fit, model, plan
from bot.nlu.decide import Reading
from bot.nlu.entities import extract
from core.commands import COMMANDS, Audience
from core.messages import Reply
from storage import db
from storage.demo import load_demo
from storage.models import FundEntry
from tests.conftest import ADMIN, DEMO_DAY, NOW

EVERYONE = tuple(Audience)
PARTNER = "someone@medway.gov.uk"


@pytest.fixture(scope="module")
def demo_session():
    """The demo in a SQLite file of its own, as bench/nlu_eval.py reads it."""
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{folder}/nlu.db")
        db.upgrade(engine)
        with engine.begin() as connection, Session(bind=connection) as session:
            load_demo(session, DEMO_DAY, "Europe/London")
            session.flush()
            yield session
        engine.dispose()


@pytest.fixture(scope="module")
def names(demo_session):
    trained = model.model()
    return catalogue.from_database(demo_session, NOW, trained.common, trained.said)


# --- the evaluation set ---------------------------------------------------------------------------


def test_the_evaluation_set_is_large_and_held_out():
    cases = evaluation.load()
    assert len(cases) >= 300
    assert evaluation.overlaps(cases) == []  # none is a training utterance or a declared example
    intents = {c.intent for c in cases}
    unknown = intents - {c.intent for c in COMMANDS}
    assert not unknown, unknown
    # Every intent the model learns is evaluated, and entities are checked on many of them.
    assert {c.intent for c in model.learnable()} <= intents
    assert sum(bool(c.entities) for c in cases) >= 150


def test_the_evaluation_stays_at_90_percent_or_more(demo_session):
    results = evaluation.run(evaluation.load(), demo_session, NOW)
    summary = evaluation.Summary(results)
    failures = "\n".join(evaluation.describe(r) for r in summary.failures())
    assert summary.accuracy >= 0.90, failures
    worst, rate = summary.worst()
    assert rate >= 0.70, f"{worst} at {rate:.0%}\n{failures}"
    issue = [r for r in results if r.case.issue]
    assert issue and all(r.right for r in issue), failures


def test_every_command_the_model_learns_has_thirty_utterances_or_more():
    data = model.corpus()
    texts = model.training_texts(model.learnable(), data)
    few = {intent: len(us) for intent, us in texts.items() if len(set(us)) < 30}
    assert not few, few
    # The corpus names no command that isn't declared (a typo there would teach nothing).
    assert set(data["intents"]) <= {c.intent for c in model.learnable()}


def test_the_model_decides_as_scikit_learn_does():
    """The numpy decision function (bot/nlu/model.py Weights) gives scikit-learn's own scores,
    for what the model learnt from and for messages it never saw (typos, emoji, other scripts)."""
    trained = model.model()
    fitted = fit.pipeline().fit(list(trained.texts), list(trained.targets))
    unseen = [
        "wen is teh nxt xgroupx meetin",
        "🙂 HOW MANY PLACES LEFT ON XEVENTX?",
        "café résumé naïve",
        "会議はいつですか",
        "",
        "   ",
        "a",
    ]
    texts = list(trained.texts[::7]) + unseen
    expected = fitted.decision_function(texts)
    assert list(fitted.classes_) == list(trained.labels)
    for text, row in zip(texts, expected, strict=True):
        assert numpy.allclose(trained.weights.decision(text), row, rtol=1e-9, atol=1e-9), text


def test_training_is_deterministic():
    first, second = model.train(), model.train()
    sample = ["when does infosec meet next", "cn i book a place on the xeventx", "what's the fund got left"]
    for words in sample:
        assert first.rank(words)[:3] == second.rank(words)[:3]


# --- nothing with side effects on a guess ------------------------------------------------------------


SIDE_EFFECTS = [c for c in model.learnable() if c.side_effects]


@pytest.mark.parametrize("command", SIDE_EFFECTS, ids=lambda c: c.intent)
@pytest.mark.parametrize("confidence", [decide.SUGGEST + 0.01, decide.ACT - 0.01, decide.ACT, 0.6, 0.99])
def test_a_command_that_changes_things_is_never_run_on_the_model_s_word(command, confidence, names):
    """At any confidence the model gives, a side-effecting intent is offered or asked about,
    never run; its words to run it come on a button (or with `yes`)."""
    example = (
        next(e for e in command.examples if len(e.split()) > 1) if len(command.examples) > 1 else command.examples[0]
    )
    found = extract(example, names, DEMO_DAY, NOW)
    reading = Reading(found, [(command.intent, confidence), ("help", 1 - confidence)])
    outcome = decide.decide(reading, names)
    assert outcome.kind != "act", (command.intent, confidence, outcome)
    if outcome.kind == "confirm":
        assert outcome.reply is not None and outcome.reply.text.startswith("Shall I ")
        assert any(a.command == outcome.words for a in outcome.reply.actions)


def test_every_command_the_model_may_name_can_be_acted_through_and_asked_about():
    for command in model.learnable():
        assert command.canonicals(), command.intent  # the words it acts through
        if command.side_effects:
            assert command.confirm, command.intent  # what "Shall I ...?" says


def test_a_middling_score_offers_and_does_not_act(names):
    """Between SUGGEST and ACT: "Did you mean ...?", whatever the intent."""
    for command in model.learnable():
        found = extract(command.examples[0], names, DEMO_DAY, NOW)
        reading = Reading(found, [(command.intent, (decide.SUGGEST + decide.ACT) / 2)])
        assert decide.decide(reading, names).kind in ("suggest", "help"), command.intent


def test_not_sure_whether_to_cancel_a_place_asks_first_and_yes_does_it(chat):
    assert "You have a place" in chat("register future workplaces online", user=PARTNER)
    asked = chat.reply("I can't make future workplaces any more", user=PARTNER)
    assert asked.text.startswith("Shall I cancel your place at Future Workplaces?")
    assert [a.command for a in asked.actions] == ["unregister 1", decide.NO_THANKS]
    assert "You're registered for 1 event" in chat("my events", user=PARTNER)  # nothing done yet
    # That message answered something else: a yes now has nothing to say yes to.
    assert "nothing waiting for a yes" in chat("yes", user=PARTNER)
    assert "You're registered for 1 event" in chat("my events", user=PARTNER)
    chat("i cant make future workplaces anymore", user=PARTNER)
    assert "left everything as it was" in chat("no thanks", user=PARTNER)
    assert "You're registered for 1 event" in chat("my events", user=PARTNER)
    chat("I CAN'T MAKE FUTURE WORKPLACES ANY MORE 😬", user=PARTNER)
    assert "given up your place at Future Workplaces" in chat("yes please", user=PARTNER)
    assert "not registered for any event" in chat("my events", user=PARTNER)


def test_an_offer_is_kept_beside_a_paused_form_and_does_not_touch_it(chat):
    chat("idea", user=PARTNER)
    chat("Shared mailroom", user=PARTNER)  # the title; the form asks its next question
    assert "Your unfinished form is kept" in chat("my events", user=PARTNER)  # a command pauses it
    asked = chat("put me in the gis group", user=PARTNER)
    assert asked.startswith("Shall I add you to GIS?"), asked
    assert "left everything as it was" in chat("nope", user=PARTNER)
    assert "not a member" in chat("leave gis", user=PARTNER)  # the no did nothing
    assert "What problem does it solve?" in chat("continue", user=PARTNER)
    assert "What is the idea called?" in chat("back", user=PARTNER)


def test_an_offer_is_for_its_own_person_and_conversation(chat):
    chat("register future workplaces online", user=PARTNER)
    chat("I can't make future workplaces any more", user=PARTNER)
    other = "someone.else@medway.gov.uk"
    assert "nothing waiting for a yes" in chat("yes", user=other)
    assert "given up your place" in chat("yes", user=PARTNER)


def test_a_question_the_model_is_sure_of_is_answered(chat):
    assert "Information Security" in chat("what time does infosec meet", user=PARTNER)
    reply = chat("Whereabouts is the next GIS meeting being held?", user=PARTNER)
    assert "GIS" in reply and "don't understand" not in reply


# --- the same meaning, however typed ------------------------------------------------------------------


VARIANTS = [
    lambda w: w.upper(),
    lambda w: w.capitalize() + "?!",
    lambda w: "🙂 " + w + " 🙏",
    lambda w: "❤️ " + w + " 👍🏽",  # a presentation selector and a skin tone, which are no words either
    lambda w: w.replace("'", "’"),
    lambda w: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w),  # full-width
    lambda w: "  ".join(w.split()) + " ...",
]
SAMPLES = [
    "is there a gis meeting in april",
    "what's the next event",
    "how many places are left on future workplaces",
    "remind me tomorrow morning to ring swale",
    "i can't make future workplaces any more",
    "how much is left in the development fund",
    "who chairs gis",
    "what do you know about me",
]


@pytest.mark.parametrize("words", SAMPLES)
def test_case_punctuation_emoji_and_unicode_never_change_the_meaning(words, names):
    trained = model.model()

    def meaning(text: str):
        understood = understand(text)
        outcome, _ = plan(understood, trained, names, EVERYONE, DEMO_DAY, NOW)
        if outcome is None:
            assert understood.command is not None
            return ("exact", understood.command.intent, {k: v.lower() for k, v in understood.args.items()})
        return (outcome.kind, outcome.intent, outcome.words.lower())

    expected = meaning(words)
    assert expected[1], words
    for variant in VARIANTS:
        assert meaning(variant(words)) == expected, variant(words)


# --- a command declared once is learnt too ------------------------------------------------------------


def test_a_new_command_s_examples_teach_the_model(chat, declare_command):
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
        examples=(
            "tea",
            "make me a tea",
            "i would love a cup of tea",
            "could i get a cuppa",
            "put the kettle on",
            "fancy a brew",
            "is there any tea going",
            "a nice hot cup of tea please",
        ),
    )
    assert model.model().rank("any chance of a cuppa and a brew")[0][0] == "tea"
    assert chat("any chance of a cuppa?", user=PARTNER) == "The kettle is on."
    assert "tea" not in {i for i, _ in model.model().rank("next gis meeting")[:1]}


def test_the_model_is_the_one_for_what_is_declared_now(declare_command):
    before = model.model()
    declare_command(
        "zzz", r"^zzz$", lambda ctx: Reply("z"), topic="you", suggestion="zzz", complete=True, examples=("zzz",)
    )
    assert model.model() is not before and "zzz" in model.model().labels
    assert model.model() is model.model()


def test_an_admin_only_command_is_never_offered_to_staff(names):
    staff = (Audience.ANYONE, Audience.PARTNER_STAFF)
    trained = model.model()
    for words in ("audit log for last week please", "approve the govroam case for 5k", "announce to gis"):
        reading = decide.read(words, trained, names, staff, DEMO_DAY, NOW)
        offered = {c.audience for c, _ in decide.suggestions(reading)}
        assert offered <= set(staff), (words, offered)
        assert all(COMMANDS.get(i).audience in staff for i, _ in reading.ranked), words


def test_exact_words_always_win(names):
    """A command's own words are never second-guessed by the model (but for the sentences that
    exact words take for a name, see decide.names_nothing)."""
    trained = model.model()
    for words in ("next gis meeting", "events", "my meetings", "register 1 online", "leave gis", "forget me"):
        outcome, _ = plan(understand(words), trained, names, EVERYONE, DEMO_DAY, NOW)
        assert outcome is None, words


def test_a_reading_keeps_what_the_words_named(names):
    reading = decide.read("is there a GIS meeting in april", model.model(), names, EVERYONE, DEMO_DAY, NOW)
    assert reading.found.get("group").value == "gis"
    assert reading.found.get("period") is not None
    assert replace(reading, ranked=[]).best == ("", 0.0)


def test_admins_are_asked_before_money_moves(chat, session):
    def entries() -> int:
        return session.execute(select(func.count()).select_from(FundEntry)).scalar_one()

    before = entries()
    reply = chat.reply("can we put 5k from swale into the fund", user=ADMIN)
    assert reply.text.startswith("Shall I record £5,000 from Swale"), reply.text
    assert "left everything as it was" in chat("no", user=ADMIN)
    session.expire_all()
    assert entries() == before
    chat("can we put 5k from swale into the fund", user=ADMIN)
    assert "£5,000" in chat("go ahead", user=ADMIN)
    session.expire_all()
    assert entries() == before + 1


def test_yes_to_a_single_did_you_mean_runs_what_was_offered(chat):
    assert "You have a place" in chat("register future workplaces online", user=PARTNER)
    asked = chat.reply("actually scrap that, i can't go to future workplaces", user=PARTNER)
    assert "Did you mean `unregister 1`?" in asked.text, asked.text
    assert [a.command for a in asked.actions] == ["unregister 1"]
    assert "given up your place" in chat("yes", user=PARTNER)
    # Two offered: a yes could mean either, so it means nothing. (Asked by an admin, for whom
    # `cancel event` is a close second; for staff the second offer hung on a score a hair above
    # its cut-off, which any new training utterance could move.)
    asked = chat.reply("actually scrap that, i cant go to future workplaces", user=ADMIN)
    assert len(asked.actions) == 2, asked.actions
    assert "nothing waiting for a yes" in chat("yes", user=ADMIN)


def test_a_tenant_id_in_everyday_words_is_read_and_asked_about_first(chat, session):
    from storage.models import PartnerTenant

    tenant = "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4"
    reply = chat.reply(f"Medway's tenant ID is {tenant.upper()}", user=ADMIN)
    assert reply.text.startswith(f"Shall I record the Microsoft 365 tenant {tenant} for Medway Council?"), reply.text
    assert session.execute(select(PartnerTenant).where(PartnerTenant.tenant_id == tenant)).first() is None
    assert "Medway" in chat("yes", user=ADMIN)
    session.expire_all()
    assert session.execute(select(PartnerTenant.tenant_id)).scalars().all() == [tenant]


@pytest.mark.parametrize(
    ("words", "platform"),
    [
        ("go back to sending wherever I last spoke to you", "where i last used"),
        ("send them where i last messaged you", "where i last used"),
        ("message me on teams rather than slack", "teams"),
        ("slack please", "slack"),
    ],
)
def test_the_platform_asked_for_is_read(words, platform, names):
    assert extract(words, names, DEMO_DAY).flags.get("platform") == platform
