"""The audit log of privileged actions: appended to, read by admins, never edited."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import AuditEntry


def append(session: Session, at: datetime, actor_id: Optional[int], actor_label: str, platform: str,
           action: str, subject: str, details: Optional[dict[str, Any]] = None) -> AuditEntry:
    entry = AuditEntry(at=at, actor_id=actor_id, actor_label=actor_label[:320], platform=platform,
                       action=action, subject=subject[:200], details=details or {})
    session.add(entry)
    session.flush()
    return entry


def recent(session: Session, action: Optional[str] = None, actor_id: Optional[int] = None,
           subject_prefix: Optional[str] = None, limit: int = 30) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if subject_prefix:
        query = query.where(AuditEntry.subject.startswith(subject_prefix))
    return list(session.execute(query).scalars())


def anonymise_actor(session: Session, actor_id: int, label: str) -> None:
    """After an erasure: the entries stay, naming the actor only as e.g. a former member of Medway."""
    session.execute(update(AuditEntry).where(AuditEntry.actor_id == actor_id).values(actor_label=label))
