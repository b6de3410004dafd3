"""The delivery dispatcher (bot.dispatcher) with its senders and shared token buckets.

Deliveries are claimed under a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, serial BEGIN
IMMEDIATE on SQLite), sent outside any transaction, and marked done only while the lease is
still held. Most tests run on both databases through the shared `session`/`sessions` fixtures
(rolled back afterwards) and drive the dispatcher with a fake clock. The tests of several
processes, of a SIGKILL, of a downtime and of a platform answering 429 run on PostgreSQL in a
schema of their own (conftest.fresh_database), skipped with the reason when no server answers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

import pytest
from sqlalchemy import func, insert, select

from bot.dispatcher import Dispatcher, Policy
from bot.senders import Outcome, RateLimit, Recipient, SendResult
from core.messages import Reply
from storage import db, deliveries as delivery_queries, ratelimit
from storage.models import Delivery, DeliveryStatus, Person, PlatformIdentity
from tests.conftest import fresh_database

UTC = timezone.utc
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CHILD = Path(__file__).with_name("dispatch_child.py")


# --- helpers ----------------------------------------------------------------------------------


class Clock:
    """A fake clock for the dispatcher: it moves only when the test says so."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


Script = Callable[[Recipient, Reply, int], SendResult]


class RecordingSender:
    """A console-platform sender that records every call; `script` decides each answer.

    The script gets the recipient, the message and how many times this message (by its text)
    was handed over before; it may return a SendResult or raise.
    """

    def __init__(self, script: Optional[Script] = None, limit: Optional[RateLimit] = None, platform: str = "console"):
        self.platform = platform
        self.by_email = platform == "console"  # reaches anyone by e-mail, as a test stand-in
        self.calls: list[tuple[str, str, str]] = []  # (email, address, text), every attempt
        self.script = script
        self.limit = limit

    def rate_limit(self, recipient: Recipient) -> Optional[RateLimit]:
        return self.limit

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        before = sum(1 for _, _, text in self.calls if text == message.text)
        self.calls.append((recipient.email, recipient.address, message.text))
        return self.script(recipient, message, before) if self.script else SendResult.sent()

    @property
    def texts(self) -> list[str]:
        return [text for _, _, text in self.calls]


def make_people(session, count: int, prefix: str = "dispatch") -> list[Person]:
    people = [Person(email=f"{prefix}{i}@example.test", display_name=f"Person {i}") for i in range(count)]
    session.add_all(people)
    session.flush()
    return people


def add(
    session,
    people: list[Person],
    kind: str = "notice",
    due: datetime = T0,
    subject: str = "test:1",
    occurrence: str = "1",
    not_after: Optional[datetime] = None,
    payload=None,
    channel: str = "direct",
) -> list[int]:
    """One delivery per person; each message text names its recipient, so that sends can be told apart."""
    ids = []
    for person in people:
        data = payload if payload is not None else Reply(f"{kind} {subject}/{occurrence} to {person.email}").to_data()
        delivery_queries.record(
            session, kind, subject, occurrence, [person.id], data, due_at=due, not_after=not_after, channel=channel
        )
        ids.append(
            session.execute(
                select(Delivery.id).where(
                    Delivery.kind == kind,
                    Delivery.subject == subject,
                    Delivery.occurrence == occurrence,
                    Delivery.recipient_id == person.id,
                    Delivery.channel == channel,
                )
            ).scalar_one()
        )
    session.flush()
    return ids


def rows(session, ids: Optional[list[int]] = None) -> list[Delivery]:
    session.expire_all()
    query = select(Delivery).order_by(Delivery.id)
    if ids is not None:
        query = query.where(Delivery.id.in_(ids))
    return list(session.execute(query).scalars())


def statuses(session, ids: Optional[list[int]] = None) -> Counter:
    return Counter(d.status for d in rows(session, ids))


def dispatcher(sessions, *senders, clock: Optional[Clock] = None, owner: Optional[str] = None, **policy) -> Dispatcher:
    return Dispatcher(sessions, list(senders), Policy(**policy), owner=owner, clock=clock or Clock())


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request, tmp_path):
    """A fresh, migrated database of each kind, for tests that commit."""
    generator = fresh_database(request.param, tmp_path)
    database = next(generator)
    try:
        yield database
    finally:
        generator.close()


def bulk(database, count: int, people: int = 300, kind: str = "notice", due: Optional[datetime] = None) -> set[str]:
    """`count` pending deliveries to `people` new people, inserted directly; returns their texts."""
    due = due or datetime.now(UTC) - timedelta(minutes=1)
    now = datetime.now(UTC)
    with database.engine.begin() as connection:
        connection.execute(
            insert(Person),
            [{"email": f"bulk{i}@example.test", "display_name": f"Bulk {i}", "created_at": now} for i in range(people)],
        )
        person_ids = connection.execute(select(Person.id).order_by(Person.id)).scalars().all()
        texts = [f"delivery-token {k}" for k in range(count)]
        connection.execute(
            insert(Delivery),
            [
                {
                    "kind": kind,
                    "subject": f"bulk:{k}",
                    "occurrence": "1",
                    "recipient_id": person_ids[k % len(person_ids)],
                    "channel": "direct",
                    "payload": Reply(texts[k]).to_data(),
                    "due_at": due,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "created_at": now,
                }
                for k in range(count)
            ],
        )
    return set(texts)


def read(sessions, ids: Optional[list[int]] = None) -> list[Delivery]:
    """The rows, read in a short transaction of their own (on SQLite every transaction holds the write lock)."""
    with sessions() as session:
        return rows(session, ids)


def db_counts(database) -> Counter:
    with database.engine.connect() as connection:
        return Counter(
            {
                status: n
                for status, n in connection.execute(
                    select(Delivery.status, func.count()).group_by(Delivery.status)
                ).all()
            }
        )


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def child(database, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(CHILD), "--url", database.url, "--out", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


# --- sending, retrying, failing: both databases --------------------------------------------


def test_due_deliveries_are_sent_once_and_marked_sent(session, sessions):
    people = make_people(session, 3)
    due_now = add(session, people, subject="now")
    later = add(session, people[:1], subject="later", due=T0 + timedelta(minutes=5))
    sender, clock = RecordingSender(), Clock()
    assert dispatcher(sessions, sender, clock=clock).run_until_idle() == 3
    assert sorted(email for email, _, _ in sender.calls) == sorted(p.email for p in people)
    for row in rows(session, due_now):
        assert row.status is DeliveryStatus.SENT and row.sent_at == T0
        assert row.lease_owner is None and row.lease_expires_at is None and row.attempts == 0
    assert statuses(session, later) == {DeliveryStatus.PENDING: 1}
    # Running again sends nothing new; the later one goes when its time comes.
    assert dispatcher(sessions, sender, clock=clock).run_until_idle() == 0
    clock.advance(minutes=5)
    assert dispatcher(sessions, sender, clock=clock).run_until_idle() == 1
    assert len(sender.calls) == 4 and len(set(sender.texts)) == 4


def test_max_attempts_leads_to_failed_with_the_last_error(session, sessions):
    [person] = make_people(session, 1)
    [other] = make_people(session, 1, prefix="fine")
    [failing] = add(session, [person], subject="failing")
    [fine] = add(session, [other], subject="fine")
    sender = RecordingSender(
        lambda r, m, n: (
            SendResult(Outcome.RETRY, f"HTTP 503 (try {n + 1})") if r.email == person.email else SendResult.sent()
        )
    )
    clock = Clock()
    d = dispatcher(sessions, sender, clock=clock, max_attempts=3, backoff_base=10)
    d.run_until_idle()
    [row] = rows(session, [failing])
    assert row.status is DeliveryStatus.PENDING and row.attempts == 1 and row.last_error == "HTTP 503 (try 1)"
    # Back-off with jitter: 10 s +-20% after the first failure, and nothing before it.
    assert T0 + timedelta(seconds=8) <= row.due_at <= T0 + timedelta(seconds=12)
    clock.now = row.due_at - timedelta(milliseconds=1)
    assert d.run_until_idle() == 0
    for _ in range(5):
        clock.advance(hours=1)
        d.run_until_idle()
    [row] = rows(session, [failing])
    assert row.status is DeliveryStatus.FAILED
    assert row.last_error == "HTTP 503 (try 3)"
    assert row.lease_owner is None and row.sent_at is None
    assert sender.texts.count(Reply.from_data(row.payload).text) == 3  # exactly max_attempts tries
    assert statuses(session, [fine]) == {DeliveryStatus.SENT: 1}


def test_the_back_off_grows_with_each_failure(session, sessions):
    [person] = make_people(session, 1)
    [one] = add(session, [person])
    clock = Clock()
    d = dispatcher(
        sessions,
        RecordingSender(lambda r, m, n: SendResult(Outcome.RETRY, "busy")),
        clock=clock,
        max_attempts=10,
        backoff_base=10,
        backoff_max=35,
    )
    waits = []
    for _ in range(4):
        d.run_until_idle()
        [row] = rows(session, [one])
        waits.append((row.due_at - clock.now).total_seconds())
        clock.now = row.due_at
    # 10, 20, 40 -> capped at 35, 35; each +-20% jitter.
    for wait, base in zip(waits, (10, 20, 35, 35), strict=True):
        assert 0.8 * base <= wait <= 1.2 * base, waits


def test_a_permanent_error_fails_at_once(session, sessions):
    people = make_people(session, 2)
    ids = add(session, people)
    blocked = people[0].email
    sender = RecordingSender(
        lambda r, m, n: (
            SendResult(Outcome.PERMANENT, "user blocked the bot") if r.email == blocked else SendResult.sent()
        )
    )
    clock = Clock()
    d = dispatcher(sessions, sender, clock=clock, max_attempts=8)
    d.run_until_idle()
    clock.advance(days=1)
    d.run_until_idle()
    by_id = {r.recipient_id: r for r in rows(session, ids)}
    assert by_id[people[0].id].status is DeliveryStatus.FAILED
    assert by_id[people[0].id].last_error == "user blocked the bot"
    assert by_id[people[1].id].status is DeliveryStatus.SENT
    assert [email for email, _, _ in sender.calls].count(blocked) == 1  # never tried again


def test_a_sender_that_raises_is_retried(session, sessions):
    people = make_people(session, 2)
    ids = add(session, people)

    def flaky(recipient, message, before):
        if before == 0:
            raise ConnectionResetError("connection reset by peer")
        return SendResult.sent()

    sender, clock = RecordingSender(flaky), Clock()
    d = dispatcher(sessions, sender, clock=clock, backoff_base=15)
    assert d.run_until_idle() == 2  # the exception stopped neither delivery
    for row in rows(session, ids):
        assert row.status is DeliveryStatus.PENDING and row.attempts == 1
        assert row.last_error == "ConnectionResetError: connection reset by peer"
        assert row.due_at > T0
    clock.advance(seconds=30)
    d.run_until_idle()
    assert statuses(session, ids) == {DeliveryStatus.SENT: 2}
    assert len(sender.calls) == 4


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "no text"},
        {"text": "fields of the wrong shape", "fields": [{"label": "only a label"}]},
        {"text": "an item without a title", "items": [{"text": "x"}]},
        ["not", "an", "object"],
        "just a string",
    ],
    ids=["no-text", "bad-field", "bad-item", "list", "string"],
)
def test_an_unreadable_payload_fails_permanently_without_blocking_the_others(session, sessions, payload):
    people = make_people(session, 4)
    [bad] = add(session, people[:1], subject="bad", payload=payload, due=T0 - timedelta(minutes=1))  # first in line
    good = add(session, people[1:], subject="good")
    sender = RecordingSender()
    d = dispatcher(sessions, sender, batch=2)
    d.run_until_idle()
    [row] = rows(session, [bad])
    assert row.status is DeliveryStatus.FAILED and row.last_error == "unreadable message"
    assert statuses(session, good) == {DeliveryStatus.SENT: 3}
    assert sorted(email for email, _, _ in sender.calls) == sorted(p.email for p in people[1:])


def test_a_lease_lost_to_another_dispatcher_is_not_overwritten(session, sessions):
    [person] = make_people(session, 1)
    [one] = add(session, [person])
    lease = timedelta(seconds=30)
    with sessions.begin() as s:
        [claimed], _ = delivery_queries.claim(s, "A", T0, 10, lease, {}, timedelta(days=1))
        assert claimed.id == one
    with sessions.begin() as s:  # before A's lease runs out, nobody else may take it
        assert delivery_queries.claim(s, "B", T0 + timedelta(seconds=29), 10, lease, {}, timedelta(days=1))[0] == []
    later = T0 + timedelta(seconds=31)
    with sessions.begin() as s:
        [taken], _ = delivery_queries.claim(s, "B", later, 10, lease, {}, timedelta(days=1))
        assert taken.id == one
    with sessions.begin() as s:
        assert delivery_queries.mark_sent(s, one, "A", later) is False
        assert delivery_queries.mark_failed(s, one, "A", "A's error") is False
        assert delivery_queries.retry_later(s, one, "A", later, "A's retry", count_attempt=True) is False
    [row] = rows(session, [one])
    assert (row.status, row.lease_owner, row.lease_expires_at) == (DeliveryStatus.SENDING, "B", later + lease)
    assert row.attempts == 0 and row.last_error is None and row.sent_at is None
    with sessions.begin() as s:
        assert delivery_queries.mark_sent(s, one, "B", later) is True
    [row] = rows(session, [one])
    assert row.status is DeliveryStatus.SENT and row.sent_at == later and row.lease_owner is None


def test_a_dispatcher_that_lost_its_lease_does_not_overwrite_the_new_owners_result(session, sessions, caplog):
    """A is slow; its lease runs out, B takes the delivery over and sends it; A then fails it: the row stays sent."""
    [person] = make_people(session, 1)
    [one] = add(session, [person])
    b_sender = RecordingSender()
    b = dispatcher(sessions, b_sender, clock=Clock(T0 + timedelta(minutes=3)), owner="B")

    def slow_then_permanent(recipient, message, before):
        b.run_until_idle()  # meanwhile A's 2-minute lease has run out
        return SendResult(Outcome.PERMANENT, "A's late failure")

    a = dispatcher(sessions, RecordingSender(slow_then_permanent), owner="A")
    with caplog.at_level(logging.WARNING, logger="bot.dispatcher"):
        a.run_until_idle()
    [row] = rows(session, [one])
    assert row.status is DeliveryStatus.SENT and row.last_error is None
    assert row.sent_at == T0 + timedelta(minutes=3)
    assert len(b_sender.calls) == 1
    assert any("lease lost" in r.getMessage() for r in caplog.records)


def test_not_after_in_the_past_is_skipped_with_the_reason(session, sessions):
    people = make_people(session, 3)
    passed = add(session, people[:2], subject="passed", due=T0 - timedelta(minutes=10), not_after=T0)
    coming = add(
        session, people[2:], subject="coming", due=T0 - timedelta(minutes=10), not_after=T0 + timedelta(minutes=1)
    )
    sender = RecordingSender()
    dispatcher(sessions, sender).run_until_idle()
    for row in rows(session, passed):
        assert row.status is DeliveryStatus.SKIPPED and row.last_error == "its moment has passed"
        assert row.lease_owner is None
    assert statuses(session, coming) == {DeliveryStatus.SENT: 1}
    assert [email for email, _, _ in sender.calls] == [people[2].email]


def test_stop_hands_the_rest_of_the_batch_back(session, sessions):
    people = make_people(session, 5)
    ids = add(session, people)
    holder: list[Dispatcher] = []

    def stop_on_first(recipient, message, before):
        holder[0].stop()
        return SendResult.sent()

    # One bucket: its messages go one after another, so the stop comes before any other is sent.
    d = dispatcher(sessions, RecordingSender(stop_on_first, limit=RateLimit("console:all", 100, 100)), batch=10)
    holder.append(d)
    assert d.run_until_idle() == 5
    found = rows(session, ids)
    assert Counter(r.status for r in found) == {DeliveryStatus.SENT: 1, DeliveryStatus.PENDING: 4}
    for row in found:
        if row.status is DeliveryStatus.PENDING:
            assert row.lease_owner is None and row.attempts == 0 and row.due_at == T0
    assert d.run_until_idle() == 0  # a stopped dispatcher claims nothing more


def test_each_person_is_reached_on_the_first_platform_they_are_on(session, sessions):
    on_slack, console_only = make_people(session, 2)
    session.add(PlatformIdentity(person_id=on_slack.id, platform="slack", workspace="T1", external_id="U123"))
    session.flush()
    ids = add(session, [on_slack, console_only])
    slack, console = RecordingSender(platform="slack"), RecordingSender()
    dispatcher(sessions, slack, console).run_until_idle()
    assert [(e, a) for e, a, _ in slack.calls] == [(on_slack.email, "U123")]
    assert [(e, a) for e, a, _ in console.calls] == [(console_only.email, console_only.email)]
    assert statuses(session, ids) == {DeliveryStatus.SENT: 2}


def test_a_person_on_no_configured_platform_is_held_with_the_reason_never_sent(session, sessions):
    [person] = make_people(session, 1)
    [one] = add(session, [person])
    slack = RecordingSender(platform="slack")
    dispatcher(sessions, slack).run_until_idle()
    [row] = rows(session, [one])
    assert row.status is DeliveryStatus.HELD and row.sent_at is None and row.delivered_via is None
    assert "no Slack account is known for this person" in row.last_error and "console" in row.last_error
    assert slack.calls == []


def test_with_no_platform_configured_everything_is_held_and_nothing_sent(session, sessions):
    people = make_people(session, 2)
    session.add(PlatformIdentity(person_id=people[0].id, platform="slack", workspace="T1", external_id="U9"))
    session.flush()
    ids = add(session, people)
    assert dispatcher(sessions).run_until_idle() == 2
    found = rows(session, ids)
    assert {r.status for r in found} == {DeliveryStatus.HELD}
    reasons = sorted(r.last_error for r in found)
    assert all(r.startswith("neither Slack nor Teams is configured here") for r in reasons)


def test_a_channel_post_to_an_unconfigured_platform_fails_with_the_reason(session, sessions):
    [person] = make_people(session, 1)
    [one] = add(session, [person], channel="teams:conversation:19:abc")
    dispatcher(sessions, RecordingSender(platform="slack")).run_until_idle()
    [row] = rows(session, [one])
    assert row.status is DeliveryStatus.FAILED and row.last_error == "Teams is not configured in this deployment"


def test_a_sent_delivery_records_the_platform_that_took_it(session, sessions):
    on_slack, console_only = make_people(session, 2)
    session.add(PlatformIdentity(person_id=on_slack.id, platform="slack", workspace="T1", external_id="U77"))
    session.flush()
    ids = add(session, [on_slack, console_only])
    dispatcher(sessions, RecordingSender(platform="slack"), RecordingSender()).run_until_idle()
    assert sorted(r.delivered_via for r in rows(session, ids)) == ["console", "slack"]


# --- the shared token bucket ---------------------------------------------------------------


def test_take_spends_the_burst_then_says_how_long_to_wait(session):
    take = lambda at: ratelimit.take(session, "slack:T1", rate=1.0, burst=2.0, now=at)  # noqa: E731
    assert take(T0) == 0 and take(T0) == 0
    assert take(T0) == pytest.approx(1.0)
    assert take(T0 + timedelta(seconds=0.5)) == pytest.approx(0.5)
    assert take(T0 + timedelta(seconds=1)) == 0  # one token has come back
    assert take(T0 + timedelta(seconds=1)) == pytest.approx(1.0)
    assert take(T0 + timedelta(seconds=100)) == 0 and take(T0 + timedelta(seconds=100)) == 0  # refilled to the burst
    assert take(T0 + timedelta(seconds=100)) > 0  # but never beyond it
    assert ratelimit.take(session, "slack:T2", 1.0, 2.0, T0) == 0  # another key has its own bucket


def test_a_block_makes_every_user_of_the_key_wait(sessions):
    with sessions.begin() as s:
        assert ratelimit.take(s, "teams:tenant", 10.0, 10.0, T0) == 0
        ratelimit.block(s, "teams:tenant", T0 + timedelta(seconds=30), T0)
        ratelimit.block(s, "teams:tenant", T0 + timedelta(seconds=5), T0)  # a shorter block does not shorten it
    for _replica in range(3):  # each "replica" in a transaction of its own sees the same block
        with sessions.begin() as s:
            assert ratelimit.take(s, "teams:tenant", 10.0, 10.0, T0 + timedelta(seconds=10)) == pytest.approx(20.0)
    with sessions.begin() as s:
        assert ratelimit.take(s, "teams:other", 10.0, 10.0, T0 + timedelta(seconds=10)) == 0
        assert ratelimit.take(s, "teams:tenant", 10.0, 10.0, T0 + timedelta(seconds=30)) == 0  # over


def test_the_token_bucket_spaces_the_dispatchers_messages(session, sessions):
    people = make_people(session, 5)
    ids = add(session, people)
    sender = RecordingSender(limit=RateLimit("console:all", rate=1.0, burst=2.0))
    clock = Clock()
    d = dispatcher(sessions, sender, clock=clock, max_attempts=1)  # a wait must not use up an attempt
    sent_by = []
    for step in (0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5):
        clock.advance(seconds=step)
        d.run_until_idle()
        sent_by.append(len(sender.calls))
    # Two at once (the burst), then one a second.
    assert sent_by == [2, 2, 3, 3, 4, 4, 5, 5]
    found = rows(session, ids)
    assert all(r.status is DeliveryStatus.SENT and r.attempts == 0 for r in found)
    assert len(set(sender.texts)) == 5


def test_a_rate_limited_answer_blocks_the_key_and_keeps_the_attempt(session, sessions):
    people = make_people(session, 3)
    ids = add(session, people)
    sender = RecordingSender(
        lambda r, m, n: (
            SendResult(Outcome.RATE_LIMITED, "429", retry_after=7) if len(sender.calls) == 1 else SendResult.sent()
        ),
        limit=RateLimit("console:all", rate=100.0, burst=100.0),
    )
    clock = Clock()
    d = dispatcher(sessions, sender, clock=clock, max_attempts=1)
    d.run_until_idle()
    assert len(sender.calls) == 1  # after the 429 nobody else went to that key
    for row in rows(session, ids):
        assert row.status is DeliveryStatus.PENDING and row.attempts == 0 and row.due_at == T0 + timedelta(seconds=7)
    clock.advance(seconds=6.9)
    d.run_until_idle()
    assert len(sender.calls) == 1
    clock.advance(seconds=0.1)
    d.run_until_idle()
    assert statuses(session, ids) == {DeliveryStatus.SENT: 3}
    assert len(sender.calls) == 4


def test_run_until_idle_goes_on_past_a_batch_of_stale_deliveries(session, sessions):
    people = make_people(session, 13)
    stale = add(session, people[:10], kind="meeting_reminder", due=T0 - timedelta(hours=3))
    fresh = add(session, people[10:], kind="notice", due=T0 - timedelta(minutes=1))
    dispatcher(sessions, RecordingSender(), batch=5).run_until_idle()
    assert statuses(session, fresh) == {DeliveryStatus.SENT: 3}
    assert statuses(session, stale) == {DeliveryStatus.SKIPPED: 10}


# --- PostgreSQL: several processes, a SIGKILL, a downtime --------------------------------------


def test_four_dispatcher_processes_send_every_delivery_exactly_once(pg, tmp_path):
    texts = bulk(pg, 5000, people=300)
    go = tmp_path / "go"
    outs = [tmp_path / f"sent-{i}.txt" for i in range(4)]
    readies = [tmp_path / f"ready-{i}" for i in range(4)]
    procs = [
        child(pg, out, "--batch", str(Policy().batch // 4), "--ready", str(ready), "--go", str(go))
        for out, ready in zip(outs, readies, strict=True)
    ]
    try:
        wait_for(
            lambda: all(r.exists() for r in readies) or any(p.poll() is not None for p in procs),
            60,
            "the dispatchers to connect",
        )
        go.touch()
        for proc in procs:
            output, _ = proc.communicate(timeout=90)
            assert proc.returncode == 0, output.decode(errors="replace")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    per_process = [lines(out) for out in outs]
    sent = Counter(line for found in per_process for line in found)
    assert set(sent) == texts
    assert [text for text, n in sent.items() if n != 1] == []
    assert sum(sent.values()) == 5000
    assert all(len(found) > 0 for found in per_process), [len(f) for f in per_process]
    print("sends per process:", [len(found) for found in per_process])
    assert db_counts(pg) == {DeliveryStatus.SENT: 5000}


def test_a_dispatcher_killed_mid_fan_out_is_taken_over_after_its_leases_run_out(pg, tmp_path):
    batch = Policy().batch  # the default: sends side by side, outcomes written as they come
    texts = bulk(pg, 4 * batch, people=200)
    killed_out, restart_out = tmp_path / "killed.txt", tmp_path / "restart.txt"
    killed = child(pg, killed_out, "--batch", str(batch), "--lease", "2", "--delay", "0.005")
    try:
        # Early in its second batch: the kill lands among leased deliveries, not between batches.
        wait_for(lambda: len(lines(killed_out)) >= batch + 10 or killed.poll() is not None, 60, "the first sends")
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=10)
    finally:
        if killed.poll() is None:
            killed.kill()
            killed.wait()
    assert killed.returncode == -signal.SIGKILL  # it was still working when killed
    at_kill = db_counts(pg)
    with pg.engine.connect() as connection:
        in_flight = {
            Reply.from_data(payload).text
            for payload in connection.execute(
                select(Delivery.payload).where(Delivery.status == DeliveryStatus.SENDING)
            ).scalars()
        }
    assert at_kill[DeliveryStatus.PENDING] > 0 and 0 < len(in_flight) <= batch
    restart = child(pg, restart_out, "--batch", str(batch), "--lease", "2")
    output, _ = restart.communicate(timeout=90)
    assert restart.returncode == 0, output.decode(errors="replace")

    first, second = lines(killed_out), lines(restart_out)
    assert len(first) >= batch + 10 and len(second) > 0
    assert set(first) | set(second) == texts  # nothing lost
    assert len(first) == len(set(first)) and len(second) == len(set(second))
    duplicates = set(first) & set(second)
    # Only what the killed process had in hand can go twice (a send done but not yet marked).
    assert duplicates <= in_flight and len(duplicates) <= batch
    assert in_flight - set(first) <= set(second)  # its unsent leases were taken over
    print(
        f"killed after {len(first)} sends with {len(in_flight)} in flight; restart sent {len(second)}, "
        f"{len(duplicates)} twice"
    )
    assert db_counts(pg) == {DeliveryStatus.SENT: 4 * batch}


def test_after_a_three_hour_downtime_recent_deliveries_go_once_and_stale_ones_are_skipped(pg):
    sessions = db.make_session_factory(pg.engine)
    back = T0  # the dispatcher comes back at T0, after being down since T0 - 3h
    expected_sent, expected_skipped = set(), {}
    with sessions.begin() as session:
        [person] = make_people(session, 1)
        for minutes in range(5, 180, 10):  # due every 10 minutes while it was down
            due = back - timedelta(minutes=minutes)
            for kind, cutoff in (
                ("meeting_reminder", 60),
                ("event_reminder", 60),
                ("personal_reminder", 360),
                ("announcement", 1440),
                ("notice", 2880),
            ):
                [one] = add(
                    session,
                    [person],
                    kind=kind,
                    subject=f"down:{minutes}",
                    due=due,
                    not_after=back + timedelta(hours=1),
                )
                if minutes <= cutoff:
                    expected_sent.add(one)
                else:
                    expected_skipped[one] = "too late to send"
        # A reminder still within its cut-off whose meeting has already started.
        [started] = add(
            session,
            [person],
            kind="meeting_reminder",
            subject="started",
            due=back - timedelta(minutes=30),
            not_after=back - timedelta(minutes=15),
        )
        expected_skipped[started] = "its moment has passed"
    sender, clock = RecordingSender(), Clock(back)
    d = Dispatcher(sessions, [sender], Policy(batch=20), owner="back", clock=clock)
    for _ in range(20):  # as the worker's ticks would
        d.run_until_idle()
    clock.advance(minutes=1)
    d.run_until_idle()
    found = {r.id: r for r in read(sessions)}
    assert {i for i, r in found.items() if r.status is DeliveryStatus.SENT} == expected_sent
    assert {i: r.last_error for i, r in found.items() if r.status is DeliveryStatus.SKIPPED} == expected_skipped
    assert len(sender.calls) == len(expected_sent) == len(set(sender.texts))  # each sent once
    assert len(expected_sent) == 18 * 5 - 12 * 2  # 12 of the 18 reminder times were over an hour late


# --- a fake platform answering 429 with Retry-After ---------------------------------------------


class FakePlatform:
    """A local HTTP server standing in for Slack or Teams: records every POST; answers 429 with
    Retry-After: 2 to the first `throttle` requests, 403 for blocked addresses, 503 once for
    flaky ones, and 200 otherwise."""

    def __init__(self, throttle: int = 0, blocked: frozenset = frozenset(), flaky: frozenset = frozenset()):
        self.requests: list[tuple[str, str, int]] = []  # (address, text, status)
        self.lock = threading.Lock()
        self.throttle, self.blocked, self.flaky = throttle, blocked, flaky
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with platform.lock:
                    seen = [r for r in platform.requests if r[0] == body["to"]]
                    if len(platform.requests) < platform.throttle:
                        status = 429
                    elif body["to"] in platform.blocked:
                        status = 403
                    elif body["to"] in platform.flaky and not seen:
                        status = 503
                    else:
                        status = 200
                    platform.requests.append((body["to"], body["text"], status))
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "2")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/chat.postMessage"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePlatform:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def statuses(self) -> list[int]:
        with self.lock:
            return [status for _, _, status in self.requests]

    def accepted(self) -> Counter:
        with self.lock:
            return Counter(text for _, text, status in self.requests if status == 200)


class HttpSender:
    """A Sender for the fake platform: POSTs with urllib; 429 -> RATE_LIMITED with the header's
    Retry-After, 5xx -> RETRY, 403 -> PERMANENT. One bucket per workspace."""

    platform = "fakechat"

    def __init__(self, url: str):
        self.url = url

    def rate_limit(self, recipient: Recipient) -> Optional[RateLimit]:
        return RateLimit(f"fakechat:{recipient.workspace}", rate=50.0, burst=50.0)

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        body = json.dumps({"to": recipient.address, "text": message.text}).encode()
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10):
                return SendResult.sent()
        except urllib.error.HTTPError as exc:
            if exc.code == 429:
                return SendResult(Outcome.RATE_LIMITED, "HTTP 429", retry_after=float(exc.headers["Retry-After"]))
            if exc.code == 403:
                return SendResult(Outcome.PERMANENT, "HTTP 403: the bot may not message this person")
            return SendResult(Outcome.RETRY, f"HTTP {exc.code}")
        except urllib.error.URLError as exc:
            return SendResult(Outcome.RETRY, f"unreachable: {exc.reason}")


def fakechat_people(session, count: int) -> list[Person]:
    people = make_people(session, count, prefix="fakechat")
    session.add_all(
        PlatformIdentity(person_id=p.id, platform="fakechat", workspace="W1", external_id=f"U{i}")
        for i, p in enumerate(people)
    )
    session.flush()
    return people


def test_a_429_with_retry_after_delays_everything_and_loses_nothing(fresh):
    sessions = db.make_session_factory(fresh.engine)
    with sessions.begin() as session:
        ids = add(session, fakechat_people(session, 6))
    with FakePlatform(throttle=2) as platform:
        clock = Clock()
        # max_attempts=1: were a 429 to use up an attempt, the delivery would fail at once.
        d = Dispatcher(sessions, [HttpSender(platform.url)], Policy(max_attempts=1), owner="d", clock=clock)
        d.run_until_idle()
        assert platform.statuses() == [429]  # the first answer blocks the workspace's bucket
        for moment in (1.0, 1.999):
            clock.now = T0 + timedelta(seconds=moment)
            d.run_until_idle()
            assert platform.statuses() == [429]  # nothing sent before Retry-After expires
        assert Counter(r.status for r in read(sessions, ids)) == {DeliveryStatus.PENDING: 6}
        clock.now = T0 + timedelta(seconds=2)
        d.run_until_idle()
        assert platform.statuses() == [429, 429]  # the second try is throttled again: 2 more seconds
        clock.now = T0 + timedelta(seconds=3.5)
        d.run_until_idle()
        assert platform.statuses() == [429, 429]
        clock.now = T0 + timedelta(seconds=4)
        d.run_until_idle()
        assert platform.statuses() == [429, 429] + [200] * 6
        assert set(platform.accepted().values()) == {1} and len(platform.accepted()) == 6  # each exactly once
        for row in read(sessions, ids):
            assert row.status is DeliveryStatus.SENT and row.attempts == 0 and row.last_error is None


def test_the_fake_platforms_403_fails_and_its_503_is_retried(fresh):
    sessions = db.make_session_factory(fresh.engine)
    with sessions.begin() as session:
        people = fakechat_people(session, 3)
        ids = add(session, people)
    with FakePlatform(blocked=frozenset({"U0"}), flaky=frozenset({"U1"})) as platform:
        clock = Clock()
        d = Dispatcher(sessions, [HttpSender(platform.url)], Policy(max_attempts=3, backoff_base=10), clock=clock)
        d.run_until_idle()
        clock.advance(minutes=1)
        d.run_until_idle()
        by_person = {r.recipient_id: r for r in read(sessions, ids)}
        blocked, flaky, fine = (by_person[p.id] for p in people)
        assert blocked.status is DeliveryStatus.FAILED and blocked.last_error.startswith("HTTP 403")
        assert flaky.status is DeliveryStatus.SENT and flaky.attempts == 1
        assert fine.status is DeliveryStatus.SENT and fine.attempts == 0
        assert sorted(platform.statuses()) == [200, 200, 403, 503]


def test_a_channel_post_goes_to_the_address_after_the_platform_colons_and_all(session, sessions):
    [person] = make_people(session, 1)
    [one] = add(session, [person], channel="teams:conversation:19:abc@thread.tacv2")
    teams = RecordingSender(platform="teams")
    dispatcher(sessions, teams).run_until_idle()
    assert [address for _, address, _ in teams.calls] == ["conversation:19:abc@thread.tacv2"]
    assert rows(session, [one])[0].status is DeliveryStatus.SENT


def test_a_delivery_to_a_channel_that_is_no_channel_fails_with_the_reason(session, sessions):
    [person] = make_people(session, 1)
    [one] = add(session, [person], channel="email")
    sender = RecordingSender(platform="slack")
    dispatcher(sessions, sender).run_until_idle()
    [row] = rows(session, [one])
    assert (row.status, row.last_error) == (DeliveryStatus.FAILED, "“email” is not a channel")
    assert sender.calls == []
