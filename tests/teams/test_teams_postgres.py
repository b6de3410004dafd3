"""The Teams path on PostgreSQL: `serve` on a fresh schema (tests/conftest.py's _open_postgres), seeded
with `python -m bot seed --demo`, dropped afterwards. Skipped with the reason when no server answers,
except under CI (CI=true or KC_REQUIRE_POSTGRES=1), where that is a failure.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.dispatcher import Dispatcher
from bot.teams_adapter import TeamsSender
from core.messages import Reply
from core.settings import Settings
from storage import db, deliveries as delivery_queries
from storage.models import Delivery, DeliveryStatus, Person
from tests.conftest import _drop_schema, _open_postgres, _postgres_required
from tests.teams import harness
from tests.teams.harness import CASE, ROOT, TENANT, TeamsServe, card_text, form_value


@pytest.fixture(scope="module")
def on_postgres(workdir):
    url, reason = _open_postgres()
    if reason:
        if _postgres_required():
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests")
        pytest.skip(f"{reason}; set KC_TEST_DATABASE_URL to run the PostgreSQL tests")
    fake = harness.start_connector()
    server = TeamsServe(fake, url, workdir, name="postgres")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "seed", "--demo"],
            env=server.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        server.start()
        harness.SERVERS.append(server)
        yield server
    finally:
        server.stop()
        if server in harness.SERVERS:
            harness.SERVERS.remove(server)
        fake.stop()
        _drop_schema(url)


def test_message_form_and_reminder_on_postgres(on_postgres):
    server = on_postgres
    assert server.scalar("SELECT current_schema()").startswith("kc_test_")
    email = "postgres.person@medway.gov.uk"
    user = server.person(email)

    # a personal message: answered, the reference stored
    response, activity = server.say(user, "next gis meeting")
    assert response.status == 201
    [(body, card)] = server.reply_cards(activity)
    assert "GIS meets next on" in card_text(card)
    conversation = activity["conversation"]["id"]
    assert server.rows("SELECT service_url, tenant_id FROM conversation_ref WHERE key = ?", (f"user:{user}",)) == [
        (server.fake.url, TENANT)
    ]

    # a form: invalid stores nothing, valid stores once (a retry adds nothing)
    before = server.scalar("SELECT COUNT(*) FROM business_case")
    bad = server.activity(user, "", conversation=conversation, value=form_value(dict(CASE, cost="lots")))
    server.post(bad)
    [(_, again)] = server.reply_cards(bad)
    assert "isn't a sum of money" in card_text(again)
    assert server.scalar("SELECT COUNT(*) FROM business_case") == before
    title = "Postgres desk booking " + server.uid("t")
    good = server.activity(user, "", conversation=conversation, value=form_value(dict(CASE, title=title)))
    server.post(good)
    server.post(good)
    assert server.rows("SELECT estimated_cost_pence FROM business_case WHERE title = ?", (title,)) == [(2_500_000,)]
    assert len(server.replies(good)) == 1

    # a reminder through the dispatcher and TeamsSender, on the same schema
    settings = Settings(database_url=server.database_url, teams_allowlist=("127.0.0.1",), emulator=True)
    engine = db.make_engine(server.database_url)
    sessions = db.make_session_factory(engine)
    sender = TeamsSender(sessions, settings)
    try:
        now = datetime.now(timezone.utc)
        with sessions.begin() as session:
            person = session.execute(select(Person.id).where(Person.email == email)).scalar_one()
            delivery_queries.record(
                session,
                "personal_reminder",
                "test:pg",
                "once",
                [person],
                Reply("Postgres reminder.").to_data(),
                due_at=now,
            )
        before_sent = len(server.fake.to_conversation(conversation))
        # only this test's delivery is due for this person; others (the board's notices) may be claimed too
        Dispatcher(sessions, [sender], clock=lambda: now).run_until_idle()
        with sessions() as session:
            delivery = session.execute(select(Delivery).where(Delivery.subject == "test:pg")).scalar_one()
            assert delivery.status is DeliveryStatus.SENT, delivery.last_error
        new = server.fake.to_conversation(conversation)[before_sent:]
        assert len(new) == 1 and "Postgres reminder." in card_text(harness.check_activity(new[0].body))
        assert new[0].body["recipient"]["id"] == user
    finally:
        sender.close()
        engine.dispose()
