"""The audit log of privileged actions: appended to, read by admins, never edited."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import AuditEntry


def append(
    session: Session,
    at: datetime,
    actor_id: Optional[int],
    actor_label: str,
    platform: str,
    action: str,
    subject: str,
    details: Optional[dict[str, Any]] = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        actor_id=actor_id,
        actor_label=actor_label[:320],
        platform=platform,
        action=action,
        subject=subject[:200],
        details=details or {},
    )
    session.add(entry)
    session.flush()
    return entry


def recent(
    session: Session,
    action: Optional[str] = None,
    actor_id: Optional[int] = None,
    subject: Optional[str] = None,
    limit: int = 30,
) -> list[AuditEntry]:
    """Newest first. `action` matches a whole word of the action name ("approve" finds
    case_approved); `subject` is exact ("meeting:13") or a kind of subject ("meeting")."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        word = action.lower().rstrip("ds").rstrip("e")  # approve/approved, move/moved, cancel/cancelled
        query = query.where(AuditEntry.action.contains(word, autoescape=True))
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if subject:
        query = query.where(
            AuditEntry.subject == subject
            if ":" in subject
            else AuditEntry.subject.startswith(subject + ":", autoescape=True)
        )
    return list(session.execute(query).scalars())


def anonymise(session: Session, actor_id: int, email: str, label: str) -> None:
    """After an erasure the entries stay, naming the person only as e.g. a former member of
    Medway: as the actor, and wherever their address appears in what an entry records."""
    session.execute(update(AuditEntry).where(AuditEntry.actor_id == actor_id).values(actor_label=label))
    for entry in session.execute(select(AuditEntry).where(AuditEntry.actor_label == email)).scalars():
        entry.actor_label = label
    for entry in session.execute(select(AuditEntry)).scalars():
        if any(value == email for value in entry.details.values()):
            entry.details = {k: (label if v == email else v) for k, v in entry.details.items()}
