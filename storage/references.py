"""Stored conversation references, for messages the bot starts itself (Teams)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from storage.db import insert_for
from storage.models import ConversationRef


def save(
    session: Session,
    platform: str,
    key: str,
    reference: dict[str, Any],
    service_url: str,
    tenant_id: str,
    person_id: Optional[int],
    now: datetime,
) -> None:
    """Insert or refresh a reference (safe when two requests race); a person who writes again
    is no longer taken as having blocked the bot."""
    row = dict(
        platform=platform,
        key=key,
        reference=reference,
        service_url=service_url,
        tenant_id=tenant_id or "",
        person_id=person_id,
        updated_at=now,
        blocked_at=None,
    )
    statement = insert_for(session, ConversationRef).values(**row)
    update = {k: statement.excluded[k] for k in ("reference", "service_url", "tenant_id", "updated_at", "blocked_at")}
    if person_id is not None:
        update["person_id"] = statement.excluded.person_id
    session.execute(statement.on_conflict_do_update(index_elements=["platform", "key"], set_=update))


# A reference that hasn't changed is written again at most this often (any_in_tenant goes by updated_at).
REFRESH_EVERY = timedelta(hours=1)
_KNOWN = "conversation_refs"  # session.info: {(platform, key): the row or None}, read with the caller


def known(session: Session, platform: str, key: str, row: Optional[ConversationRef]) -> None:
    """The stored reference under the key (None: there is none), read along with something else."""
    session.info.setdefault(_KNOWN, {})[(platform, key)] = row


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # only ever within one transaction
        session.info.pop(_KNOWN, None)


def keep(
    session: Session,
    platform: str,
    key: str,
    reference: dict[str, Any],
    service_url: str,
    tenant_id: str,
    person_id: Optional[int],
    now: datetime,
) -> bool:
    """`save`, unless what is stored says the same already (and was written within the hour):
    True when it wrote."""
    found = session.info.get(_KNOWN, {})
    stored = found[(platform, key)] if (platform, key) in found else find(session, platform, key)
    if (
        stored is not None
        and stored.reference == reference
        and stored.service_url == service_url
        and stored.tenant_id == (tenant_id or "")
        and (person_id is None or stored.person_id == person_id)
        and stored.blocked_at is None
        and now - stored.updated_at < REFRESH_EVERY
    ):
        return False
    save(session, platform, key, reference, service_url, tenant_id, person_id, now)
    return True


def find(session: Session, platform: str, key: str) -> Optional[ConversationRef]:
    return session.execute(
        select(ConversationRef).where(ConversationRef.platform == platform, ConversationRef.key == key)
    ).scalar_one_or_none()


def any_in_tenant(session: Session, platform: str, tenant_id: str) -> Optional[ConversationRef]:
    """A reference in the same tenant: its service URL can start a new 1:1 chat there."""
    return session.execute(
        select(ConversationRef)
        .where(ConversationRef.platform == platform, ConversationRef.tenant_id == tenant_id)
        .order_by(ConversationRef.updated_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def mark_blocked(session: Session, platform: str, key: str, now: datetime) -> None:
    ref = find(session, platform, key)
    if ref is not None:
        ref.blocked_at = now
