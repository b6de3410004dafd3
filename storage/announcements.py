"""Queries about announcements."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from storage.models import Announcement, AnnouncementStatus


def release_due(session, now: datetime) -> int:
    """Scheduled announcements whose time has come are shown as sent (their deliveries go)."""
    result = session.execute(
        update(Announcement).where(Announcement.status == AnnouncementStatus.SCHEDULED, Announcement.send_at <= now)
        .values(status=AnnouncementStatus.SENT).returning(Announcement.id))
    return len(result.all())
