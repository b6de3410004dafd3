"""Remembering platform deliveries already handled, so that a retried one does nothing."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import InboundSeen

KEEP = timedelta(days=2)  # Slack gives up retrying within minutes


def first_time(session: Session, platform: str, key: str, now: datetime) -> bool:
    """True the first time (platform, key) is seen, False for every repeat, across replicas."""
    statement = _insert(session.get_bind().dialect.name)
    result = session.execute(statement, {"i_platform": platform, "i_key": key[:200], "i_seen_at": now})
    return result.first() is not None


@functools.cache
def _insert(dialect: str) -> Any:
    """The once-only INSERT, built once per database kind (every request runs it)."""
    table = cast(Table, InboundSeen.__table__)
    statement = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    return (
        statement.values(platform=bindparam("i_platform"), key=bindparam("i_key"), seen_at=bindparam("i_seen_at"))
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )


def forget_old(session: Session, now: datetime) -> int:
    result = session.execute(delete(InboundSeen).where(InboundSeen.seen_at < now - KEEP).returning(InboundSeen.id))
    return len(result.all())
