"""Remembering platform deliveries already handled, so that a retried one does nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from storage.db import insert_for
from storage.models import InboundSeen

KEEP = timedelta(days=2)  # Slack gives up retrying within minutes


def first_time(session: Session, platform: str, key: str, now: datetime) -> bool:
    """True the first time (platform, key) is seen, False for every repeat, across replicas."""
    statement = insert_for(session, InboundSeen).values(platform=platform, key=key[:200], seen_at=now)
    result = session.execute(statement.on_conflict_do_nothing().returning(InboundSeen.id))
    return result.first() is not None


def forget_old(session: Session, now: datetime) -> int:
    result = session.execute(delete(InboundSeen).where(InboundSeen.seen_at < now - KEEP).returning(InboundSeen.id))
    return len(result.all())
