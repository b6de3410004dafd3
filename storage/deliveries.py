"""Recording the messages the bot starts itself: one Delivery row per recipient, sent later."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Delivery, DeliveryStatus, utcnow


def record(
    session: Session,
    kind: str,
    subject: str,
    occurrence: str,
    recipient_ids: Iterable[int],
    payload: dict[str, Any],
    due_at: datetime,
    channel: str = "direct",
) -> int:
    """Add a pending delivery for each recipient; ones that exist already are left alone.

    Returns how many were new. Runs in the caller's transaction, so the notice exists exactly
    when the change that caused it does.
    """
    rows = [
        {
            "kind": kind,
            "subject": subject,
            "occurrence": occurrence,
            "recipient_id": recipient_id,
            "channel": channel,
            "payload": payload,
            "due_at": due_at,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "created_at": utcnow(),
        }
        for recipient_id in sorted(set(recipient_ids))
    ]
    if not rows:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Delivery).values(rows).on_conflict_do_nothing(
        index_elements=["kind", "subject", "occurrence", "recipient_id", "channel"]
    ).returning(Delivery.id)
    return len(session.execute(statement).all())


def for_subject(session: Session, subject: str) -> list[Delivery]:
    return list(
        session.execute(
            select(Delivery).where(Delivery.subject == subject).order_by(Delivery.id)
        ).scalars()
    )
