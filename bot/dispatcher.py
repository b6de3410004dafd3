"""The delivery dispatcher: claims due deliveries in batches under a lease, sends them, records the outcomes.

Any number of dispatchers may run against one database. Each round:

1. **Claim, route, take tokens** in one transaction: one UPDATE … RETURNING claims a batch (FOR
   UPDATE SKIP LOCKED on PostgreSQL), two set queries find the recipients and their platform
   accounts (one more for channel posts), and each rate-limit bucket (a Slack workspace, a
   Teams tenant) hands out the batch's tokens under one row lock. What has no token yet goes
   back to the queue, due when its reserved token will be free.
2. **Send** outside any transaction: a bounded pool of concurrent sends per platform
   (`Policy.concurrency`). Within a bucket the messages go one after another, in due order,
   so a 429 stops that bucket at once while the others go on; messages with no bucket go one
   after another per recipient.
3. **Mark** the outcomes while the sends go on, every `Policy.flush_every` (100 ms) and at the
   end of the batch, a few statements at a time, and only while this dispatcher still holds the
   lease.

A dispatcher that dies leaves its leases to run out; another then takes the deliveries over. A
message sent but not yet marked when the process died goes twice, since neither Slack nor Teams
takes an idempotency key: that is what was sent in the last `flush_every` before the crash, and
the sends in flight at that moment (at most `concurrency` per platform).
"""

from __future__ import annotations

import logging
import os
import queue
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.senders import Outcome, RateLimit, Recipient, Sender, SendResult
from core.messages import Reply
from storage import channels as channel_queries, db, deliveries as delivery_queries, delivery_keys as keys, ratelimit
from storage.models import DeliveryKind, DeliveryStatus, Person, PlatformIdentity

logger = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Policy:
    batch: int = 500
    # Sends in flight at once, per platform (each bucket's own go one at a time).
    concurrency: int = 32
    # Outcomes are written at least this often (seconds) while a batch is being sent, and at its end.
    flush_every: float = 0.1
    # Longer than the slowest send (HTTP time-outs included); rate-limit waits are not spent
    # holding a lease: the delivery goes back to the queue with a later due time instead.
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 8
    backoff_base: float = 15.0  # seconds; doubles with every failed attempt
    backoff_max: float = 3600.0
    # How late a delivery may still go out, by kind; older ones are skipped and recorded.
    cutoffs: dict[DeliveryKind, timedelta] = field(
        default_factory=lambda: {
            DeliveryKind.MEETING_REMINDER: timedelta(hours=1),
            DeliveryKind.EVENT_REMINDER: timedelta(hours=1),
            DeliveryKind.PERSONAL_REMINDER: timedelta(hours=6),
            DeliveryKind.ANNOUNCEMENT: timedelta(days=1),
        }
    )
    default_cutoff: timedelta = timedelta(days=2)


@dataclass(frozen=True)
class Claimed:
    """What a dispatcher needs of a claimed delivery once its claiming transaction is over."""

    id: int
    kind: DeliveryKind
    channel: str
    attempts: int
    message: Optional[Reply]
    recipient: Optional[Recipient]
    sender: Optional[Sender]
    reason: str = ""  # why no sender reaches the recipient
    limit: Optional[RateLimit] = None


# A lane's message that was not sent: the dispatcher is stopping, or its bucket met a 429.
_STOPPED = SendResult(Outcome.RETRY, "released at shutdown")


class Dispatcher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        senders: list[Sender],
        policy: Optional[Policy] = None,
        owner: Optional[str] = None,
        clock: Callable[[], datetime] = _utcnow,
    ):
        self.sessions = sessions
        self.senders = {s.platform: s for s in senders}
        self.order = [s.platform for s in senders]  # preference for people on several platforms
        self.policy = policy or Policy()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.stopping = threading.Event()
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._blocked: dict[str, datetime] = {}  # buckets that met a 429, until when

    # --- one round --------------------------------------------------------------------------

    def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many were claimed (those handed back to
        wait for their rate-limit token included)."""
        if self.stopping.is_set():
            return 0
        ready, claimed, _ = self._claim()
        if ready:
            self._send(ready, claim_next=False)
        return claimed

    def run_until_idle(self, max_batches: int = 1000) -> int:
        """Batch after batch until the queue has nothing due; returns how many were claimed.

        While a batch is being sent, the next is claimed (the database's work overlaps the
        platforms'); its sends start once the batch before has ended, so each bucket's order holds."""
        if self.stopping.is_set():
            return 0
        total, batches = 0, 0
        round_: Optional[tuple[list[Claimed], int, int]] = self._claim()
        while round_ is not None:
            ready, claimed, examined = round_
            total += claimed
            batches += 1
            # A batch of stale rows is no empty queue: only a short one says the queue is drained.
            more = examined >= self.policy.batch and batches < max_batches
            if ready:
                round_ = self._send(ready, claim_next=more)
            else:
                round_ = self._claim() if more and not self.stopping.is_set() else None
        return total

    def stop(self) -> None:
        """Finish the sends in hand, hand the rest of the batch back, and stop."""
        self.stopping.set()

    def close(self) -> None:
        """Stop, and let the send threads go once their sends are done."""
        self.stop()
        for pool in self._pools.values():
            pool.shutdown(wait=False)
        self._pools.clear()

    # --- 1. claim, route, take tokens: one transaction ---------------------------------------

    def _claim(self) -> tuple[list[Claimed], int, int]:
        """What may be sent now, how many were claimed, and how many rows were looked at."""
        now = self.clock()
        with self.sessions.begin() as session:
            rows, examined = delivery_queries.claim(
                session,
                self.owner,
                now,
                self.policy.batch,
                self.policy.lease,
                self.policy.cutoffs,
                self.policy.default_cutoff,
            )
            if not rows:
                return [], 0, examined
            routes = self._route_all(session, rows)
            items = [self._prepare(row, routes[row.id]) for row in rows]
            return self._take_tokens(session, items, rows, now), len(rows), examined

    def _prepare(
        self, row: delivery_queries.Claim, route: tuple[Optional[Recipient], Optional[Sender], str]
    ) -> Claimed:
        try:
            message: Optional[Reply] = Reply.from_data(row.payload)
        except (KeyError, TypeError):
            logger.exception("delivery %s has an unreadable payload", row.id)
            message = None  # fails permanently below, instead of blocking every later batch
        recipient, sender, reason = route
        limit = sender.rate_limit(recipient) if sender is not None and recipient is not None else None
        return Claimed(row.id, row.kind, row.channel, row.attempts, message, recipient, sender, reason, limit)

    def _route_all(
        self, session: Session, rows: list[delivery_queries.Claim]
    ) -> dict[int, tuple[Optional[Recipient], Optional[Sender], str]]:
        """Which sender reaches each recipient, and at what address; else why none does. Two
        statements for the batch (the people, their accounts), and one more if it posts to channels."""
        person_ids = sorted({row.recipient_id for row in rows})
        people = {
            p.id: p
            for p in session.execute(
                select(Person.id, Person.email, Person.display_name, Person.preferred_platform).where(
                    db.among(session, Person.id, person_ids)
                )
            )
        }
        direct = [row.recipient_id for row in rows if row.channel == keys.DIRECT]
        identities: dict[int, list[Any]] = {}
        if direct:
            for identity in session.execute(
                select(
                    PlatformIdentity.id,
                    PlatformIdentity.person_id,
                    PlatformIdentity.platform,
                    PlatformIdentity.external_id,
                    PlatformIdentity.workspace,
                    PlatformIdentity.enterprise,
                    PlatformIdentity.last_seen_at,
                    PlatformIdentity.gone_at,
                ).where(db.among(session, PlatformIdentity.person_id, sorted(set(direct))))
            ):
                identities.setdefault(identity.person_id, []).append(identity)
        posted = {row.channel: keys.parse_channel(row.channel) for row in rows if row.channel != keys.DIRECT}
        places = channel_queries.where_are(
            session, [(p.platform, p.address) for p in posted.values() if p is not None and p.platform in self.senders]
        )
        routes: dict[int, tuple[Optional[Recipient], Optional[Sender], str]] = {}
        for row in rows:
            person = people.get(row.recipient_id)
            if person is None:
                routes[row.id] = (None, None, "the recipient no longer exists")
            elif row.channel != keys.DIRECT:  # "slack:C0123" posts to a channel
                routes[row.id] = self._channel_route(row.channel, posted[row.channel], person, places)
            else:
                routes[row.id] = self._direct_route(person, identities.get(person.id, []))
        return routes

    def _channel_route(
        self,
        channel: str,
        posted: Optional[keys.ChannelAddress],
        person: Any,
        places: dict[tuple[str, str], tuple[str, str]],
    ) -> tuple[Optional[Recipient], Optional[Sender], str]:
        if posted is None:
            return None, None, f"“{channel}” is not a channel"
        sender = self.senders.get(posted.platform)
        if sender is None:
            return None, None, f"{posted.platform.capitalize()} is not configured in this deployment"
        # The channel's own workspace: its token and its rate limit.
        workspace, enterprise = places.get((posted.platform, posted.address), ("", ""))
        return Recipient(person.email, person.display_name, posted.address, workspace, enterprise), sender, ""

    def _direct_route(self, person: Any, identities: list[Any]) -> tuple[Optional[Recipient], Optional[Sender], str]:
        usable = [i for i in identities if i.platform in self.senders and i.gone_at is None]
        if usable:
            identity = min(usable, key=lambda i: self._preference(i, person.preferred_platform))
            return (
                Recipient(
                    person.email, person.display_name, identity.external_id, identity.workspace, identity.enterprise
                ),
                self.senders[identity.platform],
                "",
            )
        for platform in self.order:
            sender = self.senders[platform]
            if getattr(sender, "by_email", False):
                return Recipient(person.email, person.display_name, person.email), sender, ""
        return None, None, self._unreachable(identities)

    def _preference(self, identity: PlatformIdentity, preferred: Optional[str]) -> tuple:
        """How an identity ranks for a direct message (lowest first): on the platform the person
        chose; else the one used most recently; else, when that says nothing, the configured order
        (and the newest identity on one platform)."""
        seen = identity.last_seen_at
        return (
            identity.platform != preferred,
            seen is None,
            -seen.timestamp() if seen is not None else 0.0,
            self.order.index(identity.platform),
            -identity.id,
        )

    def _unreachable(self, identities: list[PlatformIdentity]) -> str:
        held = "held: shown when they next chat in the console, or sent once they message the bot"
        if not self.order:
            return f"neither Slack nor Teams is configured here; {held}"
        gone = sorted({i.platform for i in identities if i.platform in self.senders and i.gone_at is not None})
        if gone:
            places = " and ".join(f"{p.capitalize()} workspace" if p == "slack" else p.capitalize() for p in gone)
            return f"the app was removed from this person's {places}; {held}"
        known = sorted({i.platform for i in identities})
        if known:
            return f"this person is known on {', '.join(known)} only, which is not configured here; {held}"
        return f"no {' or '.join(p.capitalize() for p in self.order)} account is known for this person yet; {held}"

    def _take_tokens(
        self, session: Session, items: list[Claimed], rows: list[delivery_queries.Claim], now: datetime
    ) -> list[Claimed]:
        """Each bucket's tokens for the batch, under one row lock per bucket (in key order, so
        that replicas never wait for each other in a circle). What must wait goes back to the
        queue, due when its token is free; returns what may go now."""
        reserved = {row.id for row in rows if row.last_error == delivery_queries.RATE_WAIT}
        by_bucket: dict[str, list[Claimed]] = {}
        for item in items:
            if item.limit is not None and item.message is not None:
                by_bucket.setdefault(item.limit.key, []).append(item)
        later: list[delivery_queries.Outcome] = []
        waiting: set[int] = set()
        for key in sorted(by_bucket):
            queued = by_bucket[key]
            limit = queued[0].limit
            assert limit is not None
            fresh = [item for item in queued if item.id not in reserved]
            taken = ratelimit.reserve(session, key, limit.rate, limit.burst, now, len(fresh)) if fresh else []
            if isinstance(taken, datetime):  # blocked after a 429: everything in it waits
                later += [
                    delivery_queries.Outcome(item.id, DeliveryStatus.PENDING, "rate limited", taken) for item in queued
                ]
                waiting.update(item.id for item in queued)
                continue
            for item, wait in zip(fresh, taken, strict=True):
                if wait > 0:
                    due = now + timedelta(seconds=wait)
                    later.append(
                        delivery_queries.Outcome(item.id, DeliveryStatus.PENDING, delivery_queries.RATE_WAIT, due)
                    )
                    waiting.add(item.id)
        delivery_queries.finish_all(session, self.owner, later)
        return [item for item in items if item.id not in waiting]

    # --- 2. send, and 3. mark -----------------------------------------------------------------

    def _send(self, items: list[Claimed], claim_next: bool) -> Optional[tuple[list[Claimed], int, int]]:
        """Send the batch through the platforms' pools, marking the outcomes as they come in;
        with `claim_next`, claims the next batch meanwhile and returns it (None: no next one)."""
        results: queue.Queue[tuple[Claimed, SendResult]] = queue.Queue()
        lanes: dict[Hashable, list[Claimed]] = {}
        for item in items:
            if item.message is None:
                results.put((item, SendResult(Outcome.PERMANENT, "unreadable message")))
            elif item.sender is None or item.recipient is None:
                outcome = Outcome.UNREACHABLE if item.channel == keys.DIRECT else Outcome.PERMANENT
                results.put((item, SendResult(outcome, item.reason or "no configured platform reaches this person")))
            else:
                lane = item.limit.key if item.limit else (item.sender.platform, item.recipient.address)
                lanes.setdefault(lane, []).append(item)
        # Per platform, up to `concurrency` workers, each taking the next lane when done with one.
        by_platform: dict[str, deque[list[Claimed]]] = {}
        for queued in lanes.values():
            by_platform.setdefault(queued[0].sender.platform, deque()).append(queued)  # type: ignore[union-attr]
        for platform, waiting in by_platform.items():
            for _ in range(min(self.policy.concurrency, len(waiting))):
                self._pool(platform).submit(self._work, waiting, results)
        following = self._claim() if claim_next and not self.stopping.is_set() else None
        # Each outcome is written within flush_every of its send, and the last with the batch's end.
        buffer: list[tuple[Claimed, SendResult]] = []
        oldest = 0.0  # when the first outcome not yet written came in
        remaining = len(items)
        while remaining:
            wait = max(0.0, oldest + self.policy.flush_every - time.monotonic()) if buffer else None
            try:
                done = results.get(timeout=wait)
            except queue.Empty:
                done = None
            if done is not None:
                if not buffer:
                    oldest = time.monotonic()
                buffer.append(done)
                remaining -= 1
            if buffer and (not remaining or time.monotonic() - oldest >= self.policy.flush_every):
                self._finish(buffer)
                buffer = []
        if following is not None and self.stopping.is_set():  # claimed ahead, never sent: handed back
            self._finish([(item, _STOPPED) for item in following[0]])
            return None
        return following

    def _pool(self, platform: str) -> ThreadPoolExecutor:
        pool = self._pools.get(platform)
        if pool is None:
            pool = self._pools[platform] = ThreadPoolExecutor(self.policy.concurrency, f"send-{platform}")
        return pool

    def _work(self, lanes: deque[list[Claimed]], results: queue.Queue[tuple[Claimed, SendResult]]) -> None:
        while True:
            try:
                lane = lanes.popleft()  # atomic: the platform's workers share the deque
            except IndexError:
                return
            self._send_lane(lane, results)

    def _send_lane(self, lane: list[Claimed], results: queue.Queue[tuple[Claimed, SendResult]]) -> None:
        """One bucket's (or one recipient's) messages, one after another; never raises."""
        for item in lane:
            assert item.sender is not None and item.recipient is not None and item.message is not None
            key = item.limit.key if item.limit else None
            if self.stopping.is_set():
                results.put((item, _STOPPED))
                continue
            if key is not None and key in self._blocked and self._blocked[key] > self.clock():
                results.put((item, SendResult(Outcome.RATE_LIMITED, "rate limited", None)))
                continue
            try:
                result = item.sender.send(item.recipient, item.message)
            except Exception as exc:  # a sender bug must not stop the fan-out; it is retried
                logger.exception("sender %s failed on delivery %s", item.sender.platform, item.id)
                result = SendResult(Outcome.RETRY, f"{exc.__class__.__name__}: {exc}")
            if result.outcome is Outcome.RATE_LIMITED and key is not None:
                wait = result.retry_after if result.retry_after is not None else 30
                self._blocked[key] = self.clock() + timedelta(seconds=wait)
            results.put((item, result))

    def _finish(self, done: list[tuple[Claimed, SendResult]]) -> None:
        """The outcomes, in one transaction: a statement per platform for the sent ones, one
        executemany for the rest, and the blocks of buckets that met a 429."""
        if not done:
            return
        now = self.clock()
        sent: dict[Optional[str], list[int]] = {}
        others: list[delivery_queries.Outcome] = []
        blocks: dict[str, datetime] = {}
        for item, result in done:
            outcome = result.outcome
            if outcome is Outcome.SENT:
                sent.setdefault(item.sender.platform if item.sender else None, []).append(item.id)
            elif result is _STOPPED:
                others.append(delivery_queries.Outcome(item.id, DeliveryStatus.PENDING, result.error, now))
            elif outcome is Outcome.UNREACHABLE:
                others.append(delivery_queries.Outcome(item.id, DeliveryStatus.HELD, result.error))
            elif outcome is Outcome.RATE_LIMITED:
                bucket = item.limit.key if item.limit else None
                until = self._blocked.get(bucket) if bucket else None
                if until is None:
                    until = now + timedelta(seconds=result.retry_after if result.retry_after is not None else 30)
                if bucket:
                    blocks[bucket] = max(until, blocks.get(bucket, until))
                others.append(
                    delivery_queries.Outcome(item.id, DeliveryStatus.PENDING, result.error or "rate limited", until)
                )
            elif outcome is Outcome.RETRY and item.attempts + 1 < self.policy.max_attempts:
                due = now + self._backoff(item.attempts)
                others.append(delivery_queries.Outcome(item.id, DeliveryStatus.PENDING, result.error, due, True))
            else:
                others.append(delivery_queries.Outcome(item.id, DeliveryStatus.FAILED, result.error or "failed"))
        with self.sessions.begin() as session:
            for bucket in sorted(blocks):
                ratelimit.block(session, bucket, blocks[bucket], now)
            held = 0
            for via, ids in sent.items():
                held += len(delivery_queries.mark_sent_all(session, ids, self.owner, now, via))
            held += delivery_queries.finish_all(session, self.owner, others)
        if held < len(done):
            logger.warning(
                "%d of %d deliveries: lease lost before they were marked (another dispatcher took them over)",
                len(done) - held,
                len(done),
            )

    def _backoff(self, attempts: int) -> timedelta:
        base = min(self.policy.backoff_max, self.policy.backoff_base * 2**attempts)
        return timedelta(seconds=base * random.uniform(0.8, 1.2))  # jitter spreads replicas' retries
