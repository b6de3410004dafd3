"""Token buckets in the database, so that every dispatcher replica shares one rate limit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import insert_for
from storage.models import RateBucket


def _bucket(session: Session, key: str, burst: float, now: datetime) -> RateBucket:
    session.execute(
        insert_for(session, RateBucket).values(key=key, tokens=burst, updated_at=now).on_conflict_do_nothing()
    )
    # The row lock makes replicas take tokens from one key one at a time (SQLite: serial anyway).
    return session.execute(select(RateBucket).where(RateBucket.key == key).with_for_update()).scalar_one()


def take(session: Session, key: str, rate: float, burst: float, now: datetime) -> float:
    """Take a token: 0 if taken, else how many seconds until one is free."""
    bucket = _bucket(session, key, burst, now)
    if bucket.blocked_until is not None and bucket.blocked_until > now:
        return (bucket.blocked_until - now).total_seconds()
    elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
    tokens = min(burst, bucket.tokens + elapsed * rate)
    bucket.updated_at = now
    if tokens >= 1:
        bucket.tokens = tokens - 1
        return 0.0
    bucket.tokens = tokens
    return (1 - tokens) / rate


def block(session: Session, key: str, until: datetime, now: datetime) -> None:
    """The platform said 429 with Retry-After: nobody sends to this key before `until`."""
    bucket = _bucket(session, key, 0, now)
    if bucket.blocked_until is None or bucket.blocked_until < until:
        bucket.blocked_until = until
    # Tokens reserved for messages handed back to the queue are forgiven: those messages meet the
    # block when they come due, and then take a token afresh once it is over.
    bucket.tokens = max(bucket.tokens, 0.0)


def reserve(session: Session, key: str, rate: float, burst: float, now: datetime, count: int) -> list[float] | datetime:
    """Tokens for `count` messages at once, in order: how many seconds each must wait for its
    token (0: it may go now), or, while the key is blocked, until when.

    The tokens of those that must wait are reserved for the moment they will be free (the bucket
    goes into debt), so that the messages handed back to the queue until then go at that moment
    without taking a token again, in their order, and messages claimed later queue behind them.
    One row lock for the lot: a batch of a thousand takes one round trip, not a thousand.
    """
    bucket = _bucket(session, key, burst, now)
    if bucket.blocked_until is not None and bucket.blocked_until > now:
        return bucket.blocked_until
    elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
    tokens = min(burst, bucket.tokens + elapsed * rate)  # below 0 while tokens are reserved
    bucket.updated_at = now
    bucket.tokens = tokens - count
    return [max(0.0, (k + 1 - tokens) / rate) for k in range(count)]
