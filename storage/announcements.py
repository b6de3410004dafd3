"""Queries about announcements, their deliveries and their acknowledgements."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Optional

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from storage import delivery_keys as keys
from storage.db import insert_for
from storage.models import Announcement, AnnouncementAck, AnnouncementStatus, Delivery, DeliveryKind, DeliveryStatus


def _subject(announcement_id: int) -> str:
    return keys.subject(keys.Thing.ANNOUNCEMENT, announcement_id)


def add(
    session: Session, group_id: int, author_id: Optional[int], text: str, send_at: datetime, status: AnnouncementStatus
) -> Announcement:
    announcement = Announcement(group_id=group_id, author_id=author_id, text=text, send_at=send_at, status=status)
    session.add(announcement)
    session.flush()
    return announcement


def get(session: Session, announcement_id: int) -> Optional[Announcement]:
    return session.get(Announcement, announcement_id)


def release_due(session, now: datetime) -> int:
    """Scheduled announcements whose time has come are shown as sent (their deliveries go)."""
    result = session.execute(
        update(Announcement)
        .where(Announcement.status == AnnouncementStatus.SCHEDULED, Announcement.send_at <= now)
        .values(status=AnnouncementStatus.SENT)
        .returning(Announcement.id)
    )
    return len(result.all())


def recent(
    session: Session,
    limit: int = 15,
    author_id: Optional[int] = None,
    member_of: Iterable[int] = (),
    chair_of: Iterable[int] = (),
    now: Optional[datetime] = None,
) -> list[Announcement]:
    """The newest announcements; with `author_id`, only those the person made, those sent (by
    `now`) to the groups they are `member_of`, and those to the groups they chair."""
    query = select(Announcement).order_by(Announcement.id.desc()).limit(limit)
    if author_id is not None:
        query = query.where(
            or_(
                Announcement.author_id == author_id,
                and_(
                    Announcement.group_id.in_(list(member_of)),
                    Announcement.status == AnnouncementStatus.SENT,
                    Announcement.send_at <= now,
                ),
                Announcement.group_id.in_(list(chair_of)),
            )
        )
    return list(session.execute(query).scalars())


def was_sent_to(session: Session, announcement_id: int, person_id: int, directly: bool = True) -> bool:
    """Whether the announcement reached the person: in their own chat, or (not `directly`) also in a
    channel it was posted to in their name."""
    query = select(Delivery.id).where(
        Delivery.kind == DeliveryKind.ANNOUNCEMENT,
        Delivery.subject == _subject(announcement_id),
        Delivery.recipient_id == person_id,
        Delivery.status == DeliveryStatus.SENT,
    )
    if directly:
        query = query.where(Delivery.channel == keys.DIRECT)
    return session.execute(query.limit(1)).first() is not None


def not_delivered(session: Session, announcement_id: int) -> list[Delivery]:
    """Its deliveries that failed, were not sent, or are held for the console."""
    return list(
        session.execute(
            select(Delivery)
            .where(
                Delivery.kind == DeliveryKind.ANNOUNCEMENT,
                Delivery.subject == _subject(announcement_id),
                Delivery.status.in_((DeliveryStatus.FAILED, DeliveryStatus.SKIPPED, DeliveryStatus.HELD)),
            )
            .order_by(Delivery.id)
        ).scalars()
    )


def acknowledged_by(session: Session, announcement_id: int, person_id: int) -> bool:
    return (
        session.execute(
            select(AnnouncementAck.id).where(
                AnnouncementAck.announcement_id == announcement_id, AnnouncementAck.person_id == person_id
            )
        ).first()
        is not None
    )


def count_acknowledgements(session: Session, announcement_id: int) -> int:
    return session.execute(
        select(func.count()).select_from(AnnouncementAck).where(AnnouncementAck.announcement_id == announcement_id)
    ).scalar_one()


def acknowledge(session: Session, announcement_id: int, person_id: int, at: datetime) -> None:
    """Record that the person read it; two presses at once record one acknowledgement."""
    session.execute(
        insert_for(session, AnnouncementAck)
        .values(announcement_id=announcement_id, person_id=person_id, at=at)
        .on_conflict_do_nothing()
    )
