"""The deployment the Procfile describes, end to end: `serve --no-worker` and a separate `worker`.

Both processes run against one database (a SQLite file, then a PostgreSQL schema), with Slack
configured against FakeSlack and Teams in Emulator mode against a FakeConnector. People talk to
`serve` as Slack and Teams would: a Slack member and a Teams member of Smart Kent and Medway
Projects set a reminder lead time and submit ideas; its chair schedules a meeting and announces;
a Board member approves both ideas. `serve` answers but sends none of the messages the bot starts
itself; the worker, started afterwards, delivers the announcement, the meeting reminder and the
Board's decision to each member on their own platform, each exactly once, and prints nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import _drop_schema, _open_postgres, _postgres_required
from tests.serving import stop_process
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import SlackBot
from tests.teams import harness as teams_harness
from tests.teams.fake_connector import FakeConnector
from tests.teams.harness import TeamsServe

ROOT = Path(__file__).resolve().parents[1]
LONDON = ZoneInfo("Europe/London")
CHAIR = "demo@kent.gov.uk"  # chairs Smart Kent and Medway Projects in the demo
ON_SLACK = "member.demo@swale.gov.uk"  # a member of it, who uses Slack
ON_TEAMS = "member.demo@uca.ac.uk"  # a member of it, who uses Teams
BOARD = "board.demo@kent.police.uk"
ANNOUNCEMENT = "The sensor pilot report is out: comments by Friday, please."


def _meeting_time(now: datetime) -> tuple[datetime, int]:
    """A meeting about 40 minutes from now (the same day, local time), and a lead time in minutes
    that makes its reminder due a few minutes ago, so the worker's first planning round sends it."""
    start = (now.astimezone(LONDON) + timedelta(minutes=41)).replace(second=0, microsecond=0)
    if start.hour == 23 and start.minute > 35:  # keep its end on the same day
        start = start.replace(hour=0, minute=5) + timedelta(days=1)
    lead = int((start - now).total_seconds() // 60) + 5
    return start, lead


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kc.db'}"
        return
    url, reason = _open_postgres()
    if reason:
        if _postgres_required():
            pytest.fail(f"{reason}; the PostgreSQL tests must run here")
        pytest.skip(f"{reason}; set KC_TEST_DATABASE_URL to run the PostgreSQL tests")
    yield url
    _drop_schema(url)


def test_serve_without_worker_plus_a_worker_deliver_every_message_once_on_each_platform(database_url, tmp_path):
    slack_api, connector = FakeSlack().start(), FakeConnector().start()
    slack = SlackBot(slack_api, database_url, tmp_path, sqlite_path=None)
    slack.env.update(BOT_EMULATOR="1", TEAMS_SERVICE_URL_ALLOWLIST="127.0.0.1")
    teams = TeamsServe(connector, database_url, tmp_path)  # activities and replies only: it posts to `slack`'s serve
    teams.url = slack.base + "/api/messages"
    worker = None
    try:
        slack.seed()
        slack.start()
        assert "deliveries go out" not in slack.log()  # --no-worker: serve builds no senders at all

        # Who is who: each person's first message links them on their platform.
        swale, chair, board = slack.person(ON_SLACK), slack.person(CHAIR), slack.person(BOARD)
        uca = teams.person(ON_TEAMS)
        for user in (swale, chair, board):
            assert slack.dm(user, "whoami", "D" + user[1:]).status == 200
            _wait(
                lambda dm="D" + user[1:]: slack_api.matching("chat.postMessage", channel=dm), 20, "the answer in Slack"
            )
        response, uca_chat = teams.say(uca, "whoami")
        assert response.status == 201, response.body
        conversation = uca_chat["conversation"]["id"]

        # Reminders 'lead' minutes before meetings, for both members.
        now = datetime.now(timezone.utc)
        start, lead = _meeting_time(now)
        assert "Done: I'll remind you" in slack.command(f"reminders {lead} minutes", swale).json["text"]
        response, said = teams.say(uca, f"reminders {lead} minutes", conversation=conversation)
        assert response.status == 201
        assert "Done: I'll remind you" in teams_harness.card_text(teams.reply_cards(said)[-1][1])

        # The chair schedules a meeting (the Slack modal's submission) and announces.
        scheduled = slack.submit_view(
            chair,
            {
                "group": "smart kent",
                "date": start.strftime("%d %B %Y"),
                "time": f"{start:%H:%M}-{start + timedelta(minutes=20):%H:%M}",
                "repeat": "no",
                "place": "Estuary Room, Demo Works, Ashford",
                "link": "",
                "agenda": "",
            },
            form="schedule_meeting",
            prefilled={},
        )
        assert scheduled.status == 200 and scheduled.body in ("", "{}"), scheduled.body
        announced = slack.command(f"announce smart-kent-and-medway {ANNOUNCEMENT}", chair).json["text"]
        assert "goes to its 2 other members now" in announced, announced

        # Each member submits an idea; the Board approves both.
        assert slack.submit_view(swale, dict(teams_harness.CASE, title="Desk booking (Slack)")).status == 200
        response = teams.post(
            teams.activity(
                uca,
                "",
                conversation=conversation,
                value=teams_harness.form_value(dict(teams_harness.CASE, title="Sensor map (Teams)")),
            )
        )
        assert response.status == 201
        cases = dict(
            slack.rows(
                "SELECT title, id FROM business_case WHERE title IN (?, ?)",
                ("Desk booking (Slack)", "Sensor map (Teams)"),
            )
        )
        assert len(cases) == 2
        for title, number in cases.items():
            answer = slack.command(f"approve {number} £100", board).json["text"]
            assert answer.startswith(f"Approved {title} (case {number}): £100 awarded"), answer

        # serve --no-worker sent none of it: the deliveries wait.
        time.sleep(3)
        notices = (ANNOUNCEMENT, "Reminder: Smart Kent", "Your business case: approved")
        answers = [json.dumps(c.args) for c in slack_api.named("chat.postMessage") if c.args.get("channel") == swale]
        answers += [json.dumps(s.body) for s in connector.to_conversation(conversation)]
        assert not [a for a in answers if any(n in a for n in notices)]
        pending = slack.scalar("SELECT COUNT(*) FROM delivery WHERE status = 'pending'")
        assert pending > 0

        # The Procfile's worker, a process of its own with the same settings.
        log = open(tmp_path / "worker.log", "w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env=slack.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )

        def delivered(kind: str, email: str):
            return slack.rows(
                "SELECT d.status, d.delivered_via FROM delivery d JOIN person p ON p.id = d.recipient_id "
                "WHERE d.kind = ? AND p.email = ? AND d.channel = 'direct'",
                (kind, email),
            )

        expected = {
            ("announcement", ON_SLACK): "slack",
            ("announcement", ON_TEAMS): "teams",
            ("meeting_reminder", ON_SLACK): "slack",
            ("meeting_reminder", ON_TEAMS): "teams",
            ("case_update", ON_SLACK): "slack",
            ("case_update", ON_TEAMS): "teams",
        }
        for (kind, email), via in expected.items():
            rows = _wait(
                lambda kind=kind, email=email: [
                    r for r in delivered(kind, email) if r[0] not in ("pending", "sending")
                ],
                60,
                f"{kind} to {email}",
            )
            assert rows == [("sent", via)], (kind, email, rows)

        time.sleep(2)  # anything sent twice would have gone by now
        to_swale = [c.args for c in slack_api.named("chat.postMessage") if c.args.get("channel") == swale]
        to_uca = [s.body for s in connector.to_conversation(conversation)]

        def count(sent: list, needle: str) -> int:
            return sum(needle in json.dumps(message, ensure_ascii=False) for message in sent)

        for sent in (to_swale, to_uca):
            assert count(sent, ANNOUNCEMENT) == 1
            assert count(sent, "Reminder: Smart Kent and Medway Projects meets in") == 1
            assert count(sent, "Your business case: approved") == 1
        assert count(to_swale, "Desk booking (Slack)") >= 1 and count(to_uca, "Sensor map (Teams)") >= 1
        for call in slack_api.snapshot():  # every Block Kit payload the worker sent is valid
            slack_harness_check(call)
        for body in to_uca:
            teams_harness.check_activity(body)
    finally:
        if worker is not None:
            stop_process(worker)
        slack.stop()
        slack_api.stop()
        connector.stop()
    output = worker.stdout.read() if worker.stdout else ""
    assert output == "", f"the worker printed messages: {output[:500]}"
    worker_log = (tmp_path / "worker.log").read_text()
    assert "deliveries go out on Slack and Teams" in worker_log
    assert ANNOUNCEMENT not in worker_log and "Traceback" not in worker_log
    assert "Traceback" not in slack.log()


def slack_harness_check(call) -> None:
    from tests.slack.harness import check_call

    check_call(call)
