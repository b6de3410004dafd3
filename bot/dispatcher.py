"""The delivery dispatcher: claims due deliveries under a lease, sends them, records the outcome.

Any number of dispatchers may run against one database. Each claims its own batch (FOR UPDATE
SKIP LOCKED on PostgreSQL), sends outside any transaction, and marks a delivery done only while
it still holds the lease. A dispatcher that dies leaves its leases to run out; another then
takes the deliveries over. A message sent but not yet marked when the process died goes twice:
neither Slack nor Teams takes an idempotency key.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.senders import Outcome, Recipient, Sender, SendResult
from core.messages import Reply
from storage import channels as channel_queries, deliveries as delivery_queries, delivery_keys as keys, ratelimit
from storage.models import Delivery, DeliveryKind, Person, PlatformIdentity

logger = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Policy:
    batch: int = 50
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
        self._examined = 0

    # --- one round --------------------------------------------------------------------------

    def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many were claimed."""
        claimed, self._examined = self._claim()
        for index, item in enumerate(claimed):
            if self.stopping.is_set():
                self._release(claimed[index:])
                break
            self._deliver(item)
        return len(claimed)

    def run_until_idle(self, max_batches: int = 1000) -> int:
        total = 0
        for _ in range(max_batches):
            if self.stopping.is_set():
                break
            total += self.run_once()
            if self._examined < self.policy.batch:  # a batch of stale rows is no empty queue
                break
        return total

    def stop(self) -> None:
        """Finish the delivery in hand, hand the rest of the batch back, and stop."""
        self.stopping.set()

    # --- steps ----------------------------------------------------------------------------------

    def _claim(self) -> tuple[list[Claimed], int]:
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
            return [self._prepare(session, d) for d in rows], examined

    def _prepare(self, session: Session, delivery: Delivery) -> Claimed:
        try:
            message: Optional[Reply] = Reply.from_data(delivery.payload)
        except (KeyError, TypeError):
            logger.exception("delivery %s has an unreadable payload", delivery.id)
            message = None  # fails permanently below, instead of blocking every later batch
        recipient, sender, reason = self._route(session, delivery)
        return Claimed(
            delivery.id, delivery.kind, delivery.channel, delivery.attempts, message, recipient, sender, reason
        )

    def _route(self, session: Session, delivery: Delivery) -> tuple[Optional[Recipient], Optional[Sender], str]:
        """Which sender reaches the recipient, and at what address; else why none does."""
        person = session.get(Person, delivery.recipient_id)
        if person is None:
            return None, None, "the recipient no longer exists"
        if delivery.channel != keys.DIRECT:  # "slack:C0123" posts to a channel
            posted = keys.parse_channel(delivery.channel)
            if posted is None:
                return None, None, f"“{delivery.channel}” is not a channel"
            sender = self.senders.get(posted.platform)
            if sender is None:
                return None, None, f"{posted.platform.capitalize()} is not configured in this deployment"
            # The channel's own workspace: its token and its rate limit (one statement, channels only).
            workspace, enterprise = channel_queries.where_is(session, posted.platform, posted.address) or ("", "")
            return Recipient(person.email, person.display_name, posted.address, workspace, enterprise), sender, ""
        identities = list(
            session.execute(select(PlatformIdentity).where(PlatformIdentity.person_id == person.id)).scalars()
        )
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

    def _deliver(self, item: Claimed) -> None:
        now = self.clock()
        if item.message is None:
            self._finish(item, SendResult(Outcome.PERMANENT, "unreadable message"))
            return
        if item.sender is None or item.recipient is None:
            self._finish(
                item,
                SendResult(
                    Outcome.UNREACHABLE if item.channel == keys.DIRECT else Outcome.PERMANENT,
                    item.reason or "no configured platform reaches this person",
                ),
            )
            return
        limit = item.sender.rate_limit(item.recipient)
        if limit is not None:
            with self.sessions.begin() as session:
                wait = ratelimit.take(session, limit.key, limit.rate, limit.burst, now)
            if wait > 0:
                with self.sessions.begin() as session:
                    delivery_queries.retry_later(
                        session,
                        item.id,
                        self.owner,
                        now + timedelta(seconds=wait),
                        "waiting for the rate limit",
                        count_attempt=False,
                    )
                return
        try:
            result = item.sender.send(item.recipient, item.message)
        except Exception as exc:  # a sender bug must not stop the fan-out; it is retried
            logger.exception("sender %s failed on delivery %s", item.sender.platform, item.id)
            result = SendResult(Outcome.RETRY, f"{exc.__class__.__name__}: {exc}")
        self._finish(item, result, limit.key if limit else None)

    def _finish(self, item: Claimed, result: SendResult, bucket: Optional[str] = None) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            if result.outcome is Outcome.SENT:
                held = delivery_queries.mark_sent(
                    session, item.id, self.owner, now, item.sender.platform if item.sender else None
                )
            elif result.outcome is Outcome.UNREACHABLE:
                held = delivery_queries.mark_held(session, item.id, self.owner, result.error)
            elif result.outcome is Outcome.RATE_LIMITED:
                wait = timedelta(seconds=result.retry_after if result.retry_after is not None else 30)
                if bucket:
                    ratelimit.block(session, bucket, now + wait, now)
                held = delivery_queries.retry_later(
                    session, item.id, self.owner, now + wait, result.error or "rate limited", count_attempt=False
                )
            elif result.outcome is Outcome.RETRY and item.attempts + 1 < self.policy.max_attempts:
                held = delivery_queries.retry_later(
                    session, item.id, self.owner, now + self._backoff(item.attempts), result.error, count_attempt=True
                )
            else:
                held = delivery_queries.mark_failed(session, item.id, self.owner, result.error or "failed")
        if not held:
            logger.warning("delivery %s: lease lost before it was marked %s", item.id, result.outcome.value)

    def _backoff(self, attempts: int) -> timedelta:
        base = min(self.policy.backoff_max, self.policy.backoff_base * 2**attempts)
        return timedelta(seconds=base * random.uniform(0.8, 1.2))  # jitter spreads replicas' retries

    def _release(self, items: list[Claimed]) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            for item in items:
                delivery_queries.retry_later(
                    session, item.id, self.owner, now, "released at shutdown", count_attempt=False
                )
