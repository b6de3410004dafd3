"""Messages the bot starts itself on Teams: stored conversation references, TeamsSender and the dispatcher.

A person talks to `serve` once (that stores the conversation reference); deliveries recorded for them
(storage.deliveries.record) are then sent by a bot.dispatcher.Dispatcher over [TeamsSender(...)] in this
process, on the same SQLite file, driven by a fake clock, or by the worker of a restarted `serve`.
The FakeConnector's answers are scripted for the 429 and 403 cases.

Each test talks as a person of its own in a tenant of its own (the senders' rate-limit bucket is per
tenant), on a server and database shared by this module.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from bot.dispatcher import Dispatcher
from bot.senders import Outcome, Recipient
from bot.teams_adapter import TeamsSender
from core.messages import Action, Reply
from core.settings import Settings
from storage import db, deliveries as delivery_queries
from storage.models import ConversationRef, Delivery, DeliveryStatus, Person
from tests.teams import harness
from tests.teams.harness import BOT_ID, Clock, TeamsServe, card_text, wait_until


class Proactive:
    """A server to talk to, and the same database seen from this process."""

    def __init__(self, server: TeamsServe):
        self.server = server
        self.fake = server.fake
        self.settings = Settings(
            database_url=server.database_url, timezone="Europe/London", teams_allowlist=("127.0.0.1",), emulator=True
        )
        self.engine = db.make_engine(server.database_url)
        self.sessions = db.make_session_factory(self.engine)
        self.sender = TeamsSender(self.sessions, self.settings)

    def close(self) -> None:
        self.sender.close()
        self.engine.dispose()

    def talk(self, email: str, text: str = "help") -> tuple[str, str, str]:
        """A new Teams person (in a tenant of their own) writes to the bot: (user id, conversation, tenant)."""
        user = self.server.person(email)
        tenant = "tenant-" + self.server.uid("t")
        response, activity = self.server.say(user, text, tenant=tenant)
        assert response.status == 201, response.body
        assert len(self.server.replies(activity)) == 1
        return user, activity["conversation"]["id"], tenant

    def person_id(self, email: str) -> int:
        with self.sessions() as session:
            return session.execute(select(Person.id).where(Person.email == email)).scalar_one()

    def record(self, email: str, text: str, due: datetime) -> int:
        reply = Reply(text, title="Reminder", actions=(Action("My meetings", "my meetings"),))
        subject = "test:" + self.server.uid("s")
        with self.sessions.begin() as session:
            assert (
                delivery_queries.record(
                    session, "personal_reminder", subject, "once", [self.person_id(email)], reply.to_data(), due_at=due
                )
                == 1
            )
            return session.execute(select(Delivery.id).where(Delivery.subject == subject)).scalar_one()

    def delivery(self, delivery_id: int) -> Delivery:
        with self.sessions() as session:
            return session.get(Delivery, delivery_id)

    def reference(self, user: str) -> ConversationRef:
        with self.sessions() as session:
            return session.execute(select(ConversationRef).where(ConversationRef.key == f"user:{user}")).scalar_one()

    def dispatcher(self, clock: Clock) -> Dispatcher:
        return Dispatcher(self.sessions, [self.sender], clock=clock)


@pytest.fixture(scope="module")
def proactive(template, workdir) -> Iterator[Proactive]:
    fake = harness.start_connector()
    path = harness.copy_database(template, workdir, "proactive.db")
    server = TeamsServe(fake, f"sqlite:///{path}", workdir, sqlite_path=path, name="proactive")
    server.start()
    harness.SERVERS.append(server)
    env = Proactive(server)
    yield env
    env.close()
    server.stop()
    harness.SERVERS.remove(server)
    fake.stop()


def _sent_text(sent) -> str:
    card = harness.check_activity(sent.body, sent.path)
    return card_text(card)


# --- a reference that outlives the process -------------------------------------------------------------


def test_reference_survives_a_restart_and_the_worker_delivers_a_reminder(template, workdir):
    """Talk once, stop serve, start it again with its worker: a reminder recorded now reaches the person
    in the conversation they used, through the connector."""
    fake = harness.start_connector()
    path = harness.copy_database(template, workdir, "restart.db")
    first = TeamsServe(fake, f"sqlite:///{path}", workdir, sqlite_path=path, name="restart-1")
    first.start()
    try:
        user = first.person("restart.person@medway.gov.uk")
        response, activity = first.say(user, "help")
        assert response.status == 201 and len(first.replies(activity)) == 1
    finally:
        first.stop()
    conversation = activity["conversation"]["id"]
    answered = len(fake.to_conversation(conversation))

    second = TeamsServe(fake, f"sqlite:///{path}", workdir, sqlite_path=path, name="restart-2", worker=True)
    second.start()
    harness.SERVERS.append(second)
    try:
        engine = db.make_engine(second.database_url)
        sessions = db.make_session_factory(engine)
        with sessions.begin() as session:
            person = session.execute(
                select(Person.id).where(Person.email == "restart.person@medway.gov.uk")
            ).scalar_one()
            delivery_queries.record(
                session,
                "personal_reminder",
                "test:restart",
                "once",
                [person],
                Reply("Your GIS meeting is tomorrow at 10:00.", title="Reminder").to_data(),
                due_at=datetime.now(timezone.utc),
            )
        arrived = wait_until(lambda: fake.to_conversation(conversation)[answered:], timeout=20)
        assert arrived, f"the reminder never reached the connector:\n{second.log()[-3000:]}"
        [sent] = arrived
        assert sent.body["recipient"]["id"] == user and sent.body["from"]["id"] == BOT_ID
        assert sent.body["conversation"]["id"] == conversation
        assert "Your GIS meeting is tomorrow at 10:00." in _sent_text(sent)
        assert "Your GIS meeting is tomorrow" in sent.body["text"]
        status = wait_until(
            lambda: second.scalar("SELECT status FROM delivery WHERE subject = 'test:restart'").lower() == "sent",
            timeout=10,
        )
        assert status, second.rows("SELECT status, last_error FROM delivery WHERE subject = 'test:restart'")
        engine.dispose()
    finally:
        second.stop()
        harness.SERVERS.remove(second)
        harness.audit(fake)
        fake.stop()


# --- the dispatcher with TeamsSender, on a fake clock ----------------------------------------------


def test_delivery_is_sent_into_the_stored_conversation(proactive):
    user, conversation, tenant = proactive.talk("sent.person@medway.gov.uk")
    clock = Clock()
    delivery = proactive.record("sent.person@medway.gov.uk", "The GIS meeting moved to Thursday.", clock.now)
    before = len(proactive.fake.to_conversation(conversation))
    assert proactive.dispatcher(clock).run_once() == 1
    new = proactive.fake.to_conversation(conversation)[before:]
    assert len(new) == 1
    assert new[0].body["recipient"]["id"] == user and new[0].body["conversation"]["id"] == conversation
    assert "The GIS meeting moved to Thursday." in _sent_text(new[0])
    done = proactive.delivery(delivery)
    assert done.status is DeliveryStatus.SENT and done.attempts == 0 and done.sent_at == clock.now


def test_429_puts_the_delivery_back_until_retry_after_then_it_is_sent(proactive):
    user, conversation, tenant = proactive.talk("limited.person@medway.gov.uk")
    clock = Clock()
    start = clock.now
    delivery = proactive.record("limited.person@medway.gov.uk", "Reminder after a rate limit.", clock.now)
    proactive.fake.script("POST", r"/activities", 429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": "2"})
    before = len(proactive.fake.to_conversation(conversation))
    dispatcher = proactive.dispatcher(clock)

    assert dispatcher.run_once() == 1
    waiting = proactive.delivery(delivery)
    assert waiting.status is DeliveryStatus.PENDING
    assert waiting.due_at == start + timedelta(seconds=2)
    assert waiting.attempts == 0 and "429" in (waiting.last_error or "")
    assert len(proactive.fake.to_conversation(conversation)) == before + 1  # the refused try

    clock.advance(1)  # before Retry-After is over: nothing is tried
    assert dispatcher.run_once() == 0
    assert len(proactive.fake.to_conversation(conversation)) == before + 1

    clock.advance(1.5)
    assert dispatcher.run_once() == 1
    new = proactive.fake.to_conversation(conversation)[before:]
    assert len(new) == 2 and "Reminder after a rate limit." in _sent_text(new[1])
    done = proactive.delivery(delivery)
    assert done.status is DeliveryStatus.SENT and done.attempts == 0


def test_403_fails_for_good_marks_the_person_blocked_and_stops_later_tries(proactive):
    email = "blocking.person@medway.gov.uk"
    user, conversation, tenant = proactive.talk(email)
    clock = Clock()
    first = proactive.record(email, "First reminder.", clock.now)
    proactive.fake.script("POST", r"/activities", 403, {"error": {"code": "ConversationBlockedByUser"}})
    dispatcher = proactive.dispatcher(clock)
    assert dispatcher.run_once() == 1
    failed = proactive.delivery(first)
    assert failed.status is DeliveryStatus.FAILED and "403" in failed.last_error
    assert proactive.reference(user).blocked_at is not None

    # a later delivery to that person is not attempted: the connector hears nothing
    before = len(proactive.fake.snapshot())
    clock.advance(60)
    later = proactive.record(email, "Second reminder.", clock.now)
    assert dispatcher.run_once() == 1
    assert len(proactive.fake.snapshot()) == before
    refused = proactive.delivery(later)
    assert refused.status is DeliveryStatus.FAILED and "blocked" in refused.last_error

    # writing to the bot again lifts the block: the next delivery goes
    response, _ = proactive.server.say(user, "help", conversation=conversation, tenant=tenant)
    assert response.status == 201
    assert proactive.reference(user).blocked_at is None
    clock.advance(60)
    third = proactive.record(email, "Third reminder.", clock.now)
    assert dispatcher.run_once() == 1
    assert proactive.delivery(third).status is DeliveryStatus.SENT
    assert "Third reminder." in _sent_text(proactive.fake.to_conversation(conversation)[-1])


def _known_without_a_reference(proactive, prefix: str) -> tuple[str, str, str]:
    """Someone known on Teams in a tenant the bot has a reference in, with no 1:1 reference of their own."""
    _, _, tenant = proactive.talk(f"{prefix}.first@medway.gov.uk")
    email = f"{prefix}.second@medway.gov.uk"
    user = proactive.server.person(email)
    response, _ = proactive.server.say(user, "help", tenant=tenant)
    assert response.status == 201
    with proactive.sessions.begin() as session:
        session.execute(ConversationRef.__table__.delete().where(ConversationRef.key == f"user:{user}"))
    return user, email, tenant


def test_a_new_chat_is_opened_in_the_tenant_for_someone_without_a_reference(proactive):
    """A person known on Teams (an identity) with no 1:1 reference of their own: the sender creates the
    chat with the tenant's service URL, then posts into it."""
    user, email, tenant = _known_without_a_reference(proactive, "tenant")
    before = len(proactive.fake.snapshot())
    result = proactive.sender.send(Recipient(email, "Second", user, tenant), Reply("Hello from a new chat."))
    assert result.outcome is Outcome.SENT, result
    new = proactive.fake.snapshot()[before:]
    assert [(s.method, s.path.split("/activities")[0]) for s in new] == [
        ("POST", "/v3/conversations"),
        ("POST", "/v3/conversations/a%3Anew-conversation"),
    ]
    create = new[0].body
    assert create["isGroup"] is False and create["members"] == [{"id": user}]
    assert create["channelData"] == {"tenant": {"id": tenant}}
    assert "Hello from a new chat." in _sent_text(new[1])


class FailingSaves:
    """A sessions factory whose reads work and whose transactions fail: the database going away after a read."""

    def __init__(self, sessions):
        self.sessions = sessions
        self.failed = 0

    def __call__(self, *args, **kwargs):
        return self.sessions(*args, **kwargs)

    def begin(self):
        self.failed += 1
        raise OperationalError("INSERT INTO conversation_ref ...", None, Exception("the database went away"))


def test_a_database_failure_after_a_new_chat_is_opened_does_not_send_twice(proactive, caplog):
    """The message went out in the new chat, then keeping the chat failed: SENT (and logged), never retried,
    since a retry would open another chat and send the message again."""
    user, email, tenant = _known_without_a_reference(proactive, "kept")
    recipient = Recipient(email, "Second", user, tenant)
    failing = FailingSaves(proactive.sessions)
    sender = TeamsSender(failing, proactive.settings)
    try:
        before = len(proactive.fake.snapshot())
        with caplog.at_level(logging.ERROR, logger="bot.teams_adapter"):
            result = sender.send(recipient, Reply("Only once, please."))
        assert result.outcome is Outcome.SENT, result
        new = proactive.fake.snapshot()[before:]
        assert [(s.method, s.path.split("/activities")[0]) for s in new] == [
            ("POST", "/v3/conversations"),
            ("POST", "/v3/conversations/a%3Anew-conversation"),
        ]
        assert "Only once, please." in _sent_text(new[1])
        assert failing.failed == 1
        [record] = [r for r in caplog.records if "could not be kept" in r.getMessage()]
        assert record.exc_info is not None and "the database went away" in str(record.exc_info[1])
    finally:
        sender.close()
    with proactive.sessions() as session:
        assert session.execute(select(ConversationRef).where(ConversationRef.key == f"user:{user}")).first() is None

    # The database is back: the next message opens a chat again and keeps it, the one after continues it.
    before = len(proactive.fake.snapshot())
    assert proactive.sender.send(recipient, Reply("The next one.")).outcome is Outcome.SENT
    new = proactive.fake.snapshot()[before:]
    assert [(s.method, s.path.split("/activities")[0]) for s in new] == [
        ("POST", "/v3/conversations"),
        ("POST", "/v3/conversations/a%3Anew-conversation"),
    ]
    kept = proactive.reference(user)
    assert kept.reference["conversation"]["id"] == "a:new-conversation" and kept.tenant_id == tenant
    before = len(proactive.fake.snapshot())
    assert proactive.sender.send(recipient, Reply("And the one after.")).outcome is Outcome.SENT
    new = proactive.fake.snapshot()[before:]
    assert [(s.method, s.path.split("/activities")[0]) for s in new] == [
        ("POST", "/v3/conversations/a%3Anew-conversation")
    ]  # no new chat this time
    assert "And the one after." in _sent_text(new[0])


def test_no_reference_in_the_tenant_is_a_permanent_failure_without_any_request(proactive):
    before = len(proactive.fake.snapshot())
    result = proactive.sender.send(
        Recipient("nobody@medway.gov.uk", None, "29:nobody", "tenant-unknown"), Reply("Hello?")
    )
    assert result.outcome is Outcome.PERMANENT
    assert len(proactive.fake.snapshot()) == before


# --- the allowlist, outbound ---------------------------------------------------------------------------


def test_stored_reference_with_a_service_url_off_the_allowlist_is_refused_without_a_request(proactive):
    email = "moved.person@medway.gov.uk"
    user, conversation, tenant = proactive.talk(email)
    other = harness.start_connector(host="127.0.0.2")  # reachable, not allowed
    try:
        with proactive.sessions.begin() as session:
            ref = session.execute(select(ConversationRef).where(ConversationRef.key == f"user:{user}")).scalar_one()
            reference = dict(ref.reference, serviceUrl=other.url)
            session.execute(
                update(ConversationRef)
                .where(ConversationRef.id == ref.id)
                .values(service_url=other.url, reference=reference)
            )
        before = len(proactive.fake.snapshot())
        result = proactive.sender.send(Recipient(email, None, user, tenant), Reply("Should not go."))
        assert result.outcome is Outcome.PERMANENT and "allowlist" in result.error
        # through the dispatcher too: the delivery fails for good, nothing is sent anywhere
        clock = Clock()
        delivery = proactive.record(email, "Should not go either.", clock.now)
        assert proactive.dispatcher(clock).run_once() == 1
        assert proactive.delivery(delivery).status is DeliveryStatus.FAILED
        assert other.snapshot() == []
        assert len(proactive.fake.snapshot()) == before
    finally:
        other.stop()


def test_the_reference_is_stored_as_the_sdk_needs_it(proactive):
    user, conversation, tenant = proactive.talk("stored.person@medway.gov.uk")
    ref = proactive.reference(user)
    reference = ref.reference if isinstance(ref.reference, dict) else json.loads(ref.reference)
    assert ref.service_url == proactive.fake.url and ref.tenant_id == tenant and ref.blocked_at is None
    assert reference["conversation"]["id"] == conversation and reference["channelId"] == "msteams"
    assert reference["bot"]["id"] == BOT_ID and reference["user"]["id"] == user
