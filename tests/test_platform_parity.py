"""The same words give the same answers in Slack, Teams and the console.

One conversation of everyday messages (questions, a request the bot is not sure of and asks
about, `no`, `yes`, a word alone, a slip, capitals and emoji), typed by the same demo person on
each platform, each on its own copy of one seeded database: over signed Slack HTTP requests
to `serve` (the Web API a local fake), over Bot Framework activities to another `serve` (the
connector a local fake), and through the console adapter. The plain text of every answer and the
commands of its buttons must agree.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from bot.console import NOTICE_MARK, run_lines
from bot.router import Router
from core.settings import Settings
from storage import db
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import SlackBot
from tests.teams import harness as teams_harness
from tests.teams.harness import DEMO, TeamsServe

CONVERSATION = [
    "what time does infosec meet",
    "WHEN IS THE NEXT GIS MEETING 🙂",
    "is there a GIS meeting in april?",
    "register future workplaces online",
    "I can't make future workplaces any more",  # not sure enough: "Shall I ...?"
    "no thanks",
    "I CAN'T MAKE FUTURE WORKPLACES ANY MORE 😕",
    "yes please",
    "join",  # the command's word alone: which group?
    "meetigns",  # a slip
    "what is govroam",
    "how many places are left on future workplaces?",
    "who chairs GIS?",
    "wibble wobble",
    "yes",  # nothing asked
]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return teams_harness.seed_template(tmp_path_factory.mktemp("parity"))


@pytest.fixture(scope="module")
def slack(template, tmp_path_factory) -> Iterator[SlackBot]:
    workdir = tmp_path_factory.mktemp("parity-slack")
    path = teams_harness.copy_database(template, workdir, "slack.db")
    fake = FakeSlack().start()
    bot = SlackBot(fake, f"sqlite:///{path}", workdir, sqlite_path=path).start()
    yield bot
    bot.stop()
    fake.stop()


@pytest.fixture(scope="module")
def teams(template, tmp_path_factory) -> Iterator[TeamsServe]:
    workdir = tmp_path_factory.mktemp("parity-teams")
    path = teams_harness.copy_database(template, workdir, "teams.db")
    fake = teams_harness.start_connector()
    server = TeamsServe(fake, f"sqlite:///{path}", workdir, sqlite_path=path, name="parity").start()
    yield server
    server.stop()
    fake.stop()


def _plain(text: str) -> str:
    """The words of an answer, whatever the platform's markup: no mrkdwn marks, entities or
    Slack link forms, and whitespace made single."""
    text = re.sub(r"<(?:https?|mailto):[^|>]+\|([^>]+)>", r"\1", text)
    text = re.sub(r"<((?:https?|mailto):[^>]+)>", r"\1", text)
    text = unescape(text).replace("*", "").replace("`", "").replace("_", " ")
    return " ".join(text.split())


def _lead(text: str) -> str:
    """The answer's first line, which every platform shows as text."""
    return _plain(text.strip().split("\n", 1)[0])


def _console(template: Path, workdir: Path) -> list[tuple[str, list[str]]]:
    path = teams_harness.copy_database(template, workdir, "console.db")
    engine = db.make_engine(f"sqlite:///{path}")
    router = Router(sessionmaker(engine), Settings(database_url=f"sqlite:///{path}", timezone="Europe/London"))
    answers = []
    try:
        for words in CONVERSATION:
            out = io.StringIO()
            run_lines(router, DEMO, io.StringIO(words + "\n"), out)
            blocks = [b for b in out.getvalue().strip().split("\n\n") if not b.startswith(NOTICE_MARK)]
            # The console's own line for the buttons: "You can say: `a`, `b`".
            text = "\n\n".join(blocks)
            said = re.search(r"^You can say: (.*)$", text, re.M)
            commands = re.findall(r"`([^`]+)`", said[1]) if said else []
            answers.append((_lead(text), commands))
    finally:
        engine.dispose()
    return answers


def _slack(bot: SlackBot) -> list[tuple[str, list[str]]]:
    user, channel = bot.person(DEMO), bot.uid("D")
    answers = []
    for i, words in enumerate(CONVERSATION, start=1):
        assert bot.dm(user, words, channel).status == 200
        posted = bot.fake.wait_for("chat.postMessage", count=i, channel=channel)
        assert len(posted) == i, (words, len(posted))
        payload = posted[-1].args
        buttons = [
            e["value"]
            for b in payload.get("blocks") or []
            if b.get("type") == "actions"
            for e in b.get("elements") or []
            if e.get("type") == "button"
        ]
        answers.append((_lead(payload["text"]), buttons))
    return answers


def _teams(server: TeamsServe) -> list[tuple[str, list[str]]]:
    user = server.person(DEMO)
    conversation = "a:" + server.uid("c")
    answers = []
    for words in CONVERSATION:
        response, activity = server.say(user, words, conversation=conversation)
        assert response.status in (200, 201), (words, response.status)
        cards = server.reply_cards(activity)
        assert len(cards) == 1, (words, len(cards))
        body, card = cards[0]
        answers.append((_lead(body.get("text") or teams_harness.card_text(card)), teams_harness.commands(card)))
    return answers


def test_the_same_words_give_the_same_answers_everywhere(slack, teams, template, tmp_path):
    console = _console(template, tmp_path)
    in_slack = _slack(slack)
    in_teams = _teams(teams)
    for words, here, there, elsewhere in zip(CONVERSATION, console, in_slack, in_teams, strict=True):
        assert here[0], words
        assert here == there == elsewhere, f"{words!r}:\n console {here}\n slack   {there}\n teams   {elsewhere}"
    # The conversation did what it says: asked first, did nothing on no, cancelled on yes.
    leads = [lead for lead, _ in console]
    assert leads[4].startswith("Shall I cancel your place at Future Workplaces?")
    assert "left everything as it was" in leads[5]
    assert "given up your place" in leads[7]
    assert "nothing waiting for a yes" in leads[-1]
