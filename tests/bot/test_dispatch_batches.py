"""The dispatcher in batches (bot/dispatcher.py): buckets side by side, each in its own order; a
429 that stops its bucket only; a batch's tokens taken at once, what waits due when its token is;
outcomes written while the batch is still being sent; a fixed number of statements per batch.

Timing is never asserted: where a test needs two sends to overlap, a send waits for an event
that only the other can set, with a time-out that fails the test instead of hanging it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Optional

import pytest
from sqlalchemy import event, select

from bot.dispatcher import Dispatcher, Policy
from bot.senders import Outcome, RateLimit, Recipient, SendResult
from core.messages import Reply
from storage import db, deliveries as delivery_queries
from storage.models import DeliveryStatus, RateBucket
from tests.bot.test_dispatcher import T0, Clock, add, make_people, rows, statuses
from tests.conftest import fresh_database

Script = Callable[[str, Recipient, Reply], SendResult]


class BucketSender:
    """A console sender whose bucket is named by the recipient's e-mail (`a3@…` is in bucket "a");
    records (bucket, text) in the order sent; `script(bucket, recipient, message)` may answer."""

    platform = "console"
    by_email = True

    def __init__(self, script: Optional[Script] = None, rate: float = 1000.0, burst: float = 1000.0):
        self.script = script
        self.rate, self.burst = rate, burst
        self.sent: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @staticmethod
    def bucket(recipient: Recipient) -> str:
        return recipient.email[0]

    def rate_limit(self, recipient: Recipient) -> RateLimit:
        return RateLimit(f"console:{self.bucket(recipient)}", self.rate, self.burst)

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        bucket = self.bucket(recipient)
        result = self.script(bucket, recipient, message) if self.script else SendResult.sent()
        if result.outcome is Outcome.SENT:
            with self.lock:
                self.sent.append((bucket, message.text))
        return result

    def texts(self, bucket: str) -> list[str]:
        return [text for b, text in self.sent if b == bucket]


def queue_for(session, buckets: str, each: int) -> dict[str, list[int]]:
    """`each` deliveries per bucket letter, due a second apart (so due order is known), to
    `each` people per bucket; returns the ids by bucket, in due order."""
    ids: dict[str, list[int]] = {}
    for letter in buckets:
        people = make_people(session, each, prefix=letter)
        ids[letter] = [
            add(session, [person], subject=f"{letter}:{k}", due=T0 - timedelta(seconds=100 - k))[0]
            for k, person in enumerate(people)
        ]
    return ids


def text_of(session, delivery_id: int) -> str:
    [row] = rows(session, [delivery_id])
    return Reply.from_data(row.payload).text


def test_buckets_are_sent_side_by_side_and_each_in_due_order(session, sessions):
    ids = queue_for(session, "ab", 6)
    b_done = threading.Event()
    waited: list[bool] = []

    def script(bucket, recipient, message):
        if bucket == "a" and not waited:
            waited.append(b_done.wait(10))  # only bucket b's lane can set it: they run side by side
        return SendResult.sent()

    sender = BucketSender(script)

    def sent_b(recipient, message):
        result = script("b", recipient, message)
        if len(sender.texts("b")) == 5:  # this is b's sixth and last
            b_done.set()
        return result

    class Both(BucketSender):
        def send(self, recipient, message):
            if self.bucket(recipient) == "b":
                result = sent_b(recipient, message)
                with self.lock:
                    self.sent.append(("b", message.text))
                return result
            return super().send(recipient, message)

    sender = Both(script)
    assert Dispatcher(sessions, [sender], Policy(concurrency=4), clock=Clock()).run_until_idle() == 12
    assert waited == [True], "bucket a's first send waited in vain for bucket b's last"
    for letter in "ab":
        assert sender.texts(letter) == [text_of(session, i) for i in ids[letter]]  # due order kept
    assert statuses(session) == {DeliveryStatus.SENT: 12}


def test_a_429_stops_its_own_bucket_and_no_other(session, sessions):
    ids = queue_for(session, "abc", 3)
    calls: Counter = Counter()

    def script(bucket, recipient, message):
        calls[bucket] += 1
        return SendResult(Outcome.RATE_LIMITED, "429", retry_after=7) if bucket == "a" else SendResult.sent()

    sender = BucketSender(script)
    Dispatcher(sessions, [sender], Policy(), clock=Clock()).run_until_idle()
    assert calls == {"a": 1, "b": 3, "c": 3}  # nothing more went to a after its 429
    assert statuses(session, ids["b"] + ids["c"]) == {DeliveryStatus.SENT: 6}
    for row in rows(session, ids["a"]):
        assert row.status is DeliveryStatus.PENDING and row.attempts == 0
        assert row.due_at == T0 + timedelta(seconds=7) and row.lease_owner is None
    [blocked] = session.execute(select(RateBucket).where(RateBucket.key == "console:a")).scalars()
    assert blocked.blocked_until == T0 + timedelta(seconds=7)


def test_a_batch_takes_its_tokens_at_once_and_what_waits_is_due_when_its_token_is(session, sessions):
    ids = queue_for(session, "a", 6)["a"]
    sender, clock = BucketSender(rate=2.0, burst=2.0), Clock()
    d = Dispatcher(sessions, [sender], Policy(max_attempts=1), clock=clock)
    assert d.run_until_idle() == 6
    assert len(sender.sent) == 2  # the burst
    waiting = rows(session, ids[2:])
    assert [r.due_at for r in waiting] == [T0 + timedelta(seconds=s) for s in (0.5, 1.0, 1.5, 2.0)]
    assert all(r.status is DeliveryStatus.PENDING and r.last_error == delivery_queries.RATE_WAIT for r in waiting)
    [bucket] = session.execute(select(RateBucket).where(RateBucket.key == "console:a")).scalars()
    assert bucket.tokens == pytest.approx(-4.0)  # the four waiting ones' tokens are reserved
    for step in range(1, 5):
        clock.advance(seconds=0.5)
        d.run_until_idle()
        assert len(sender.sent) == 2 + step  # each goes at its moment, without waiting again
    assert sender.texts("a") == [text_of(session, i) for i in ids]
    assert statuses(session, ids) == {DeliveryStatus.SENT: 6}
    assert all(r.attempts == 0 for r in rows(session, ids))


def test_messages_claimed_after_a_reserved_queue_wait_behind_it(session, sessions):
    first = queue_for(session, "a", 4)["a"]
    sender, clock = BucketSender(rate=1.0, burst=2.0), Clock()
    d = Dispatcher(sessions, [sender], Policy(), clock=clock)
    d.run_until_idle()  # two go, two wait until T0+1 and T0+2
    [late] = add(session, make_people(session, 1, prefix="a-late"), subject="a:late", due=T0)
    d.run_until_idle()
    [row] = rows(session, [late])
    assert row.due_at == T0 + timedelta(seconds=3)  # behind the two already waiting
    clock.advance(seconds=3)
    d.run_until_idle()
    assert statuses(session, first + [late]) == {DeliveryStatus.SENT: 5}


def test_a_stop_lets_the_sends_in_flight_finish_and_hands_back_the_rest(session, sessions):
    ids = queue_for(session, "abcd", 3)
    holder: list[Dispatcher] = []
    calls: Counter = Counter()

    all_in_flight = threading.Barrier(4, timeout=10)

    def script(bucket, recipient, message):
        calls[bucket] += 1
        all_in_flight.wait()  # every lane has a send in hand (a broken barrier fails the send)
        if bucket == "a":
            holder[0].stop()
        else:
            assert holder[0].stopping.wait(10), "bucket a's send never stopped the dispatcher"
        return SendResult.sent()

    d = Dispatcher(sessions, [BucketSender(script)], Policy(concurrency=4), clock=Clock())
    holder.append(d)
    assert d.run_until_idle() == 12
    assert calls == {"a": 1, "b": 1, "c": 1, "d": 1}  # one in flight in each lane, none started after
    found = rows(session, [i for group in ids.values() for i in group])
    assert Counter(r.status for r in found) == {DeliveryStatus.SENT: 4, DeliveryStatus.PENDING: 8}
    for row in found:
        if row.status is DeliveryStatus.PENDING:
            assert row.lease_owner is None and row.attempts == 0 and row.due_at == T0
            assert row.last_error == "released at shutdown"
    assert d.run_until_idle() == 0


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request, tmp_path):
    generator = fresh_database(request.param, tmp_path)
    try:
        yield next(generator)
    finally:
        generator.close()


def test_outcomes_are_written_while_the_batch_is_still_being_sent(fresh):
    sessions = db.make_session_factory(fresh.engine)
    with sessions.begin() as session:
        ids = queue_for(session, "ab", 3)
    seen_marked: list[bool] = []

    def b_marked() -> bool:
        with sessions() as look:
            return statuses(look, ids["b"]) == {DeliveryStatus.SENT: 3}

    def script(bucket, recipient, message):
        if bucket == "a" and not seen_marked:
            # Bucket a's first send holds the batch open until b's outcomes are in the database.
            stop_at = threading.Event()
            for _ in range(200):
                if b_marked():
                    break
                stop_at.wait(0.05)
            seen_marked.append(b_marked())
        return SendResult.sent()

    Dispatcher(sessions, [BucketSender(script)], Policy(concurrency=2, flush_every=0.1), clock=Clock()).run_until_idle()
    assert seen_marked == [True], "b's sends were not marked until the whole batch was done"
    with sessions() as look:
        assert statuses(look) == {DeliveryStatus.SENT: 6}


@pytest.mark.parametrize("count", [21, 300])
def test_claiming_a_batch_takes_the_same_statements_whatever_its_size(session, sessions, connection, count):
    queue_for(session, "abc", count // 3)
    statements: list[str] = []

    def counted(conn, cursor, statement, *args):
        statements.append(statement.split(None, 1)[0].upper())

    d = Dispatcher(sessions, [BucketSender()], Policy(batch=count), clock=Clock())
    event.listen(connection, "before_cursor_execute", counted)
    try:
        claimed, _, _ = d._claim()
    finally:
        event.remove(connection, "before_cursor_execute", counted)
    assert len(claimed) == count
    by_verb = Counter(verb for verb in statements if verb not in ("SAVEPOINT", "RELEASE"))
    # The claim's UPDATE, the people and their accounts, and per bucket (three here) its row
    # made if missing, locked, and given its new tokens: none of it grows with the batch.
    assert by_verb == {"UPDATE": 1 + 3, "SELECT": 2 + 3, "INSERT": 3}, statements
