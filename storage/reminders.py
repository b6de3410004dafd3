"""Each person's reminder settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import insert_for
from storage.models import ReminderSetting


def all_settings(session: Session) -> dict[int, ReminderSetting]:
    """Everyone's settings who has any, by person id (the others have the defaults)."""
    return {s.person_id: s for s in session.execute(select(ReminderSetting)).scalars()}


def settings_of(session: Session, person_id: int) -> Optional[ReminderSetting]:
    """The person's settings, or None while they have the defaults."""
    return session.get(ReminderSetting, person_id)


def settings_for_update(session: Session, person_id: int, default_leads: Iterable[str]) -> ReminderSetting:
    """The person's settings row, made with the defaults if there is none, locked for changing."""
    # Two first-time requests at once: the second INSERT waits for the first and does nothing.
    session.execute(
        insert_for(session, ReminderSetting)
        .values(person_id=person_id, enabled=True, lead_times=list(default_leads))
        .on_conflict_do_nothing()
    )
    return session.execute(
        select(ReminderSetting)
        .where(ReminderSetting.person_id == person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
