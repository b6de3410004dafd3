"""One planning round, run by every worker (and by the console): what must be sent soon is
recorded as deliveries, each with its unique key, so that any number of rounds at once make it once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from jobs import digests, reminders
from storage import announcements, inbound


def plan_round(sessions: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Reminders due soon, digests, scheduled announcements whose time has come, old once-only keys."""
    with sessions.begin() as session:
        made = reminders.plan(session, now, settings.timezone)
        made += digests.plan_digests(session, now, settings.timezone)
        announcements.release_due(session, now)
        inbound.forget_old(session, now)
    return made
