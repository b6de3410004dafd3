"""The step-by-step form a person is filling in, per platform and conversation."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ConversationState, Person


def current(session: Session, person: Person, platform: str, conversation: str) -> Optional[ConversationState]:
    if person.id is None:
        return None
    return session.execute(
        select(ConversationState).where(
            ConversationState.person_id == person.id,
            ConversationState.platform == platform,
            ConversationState.conversation == conversation,
        )
    ).scalar_one_or_none()


def replace(session: Session, person: Person, platform: str, conversation: str, **fields) -> ConversationState:
    """Start a conversation, replacing any earlier one in the same place."""
    state = current(session, person, platform, conversation)
    if state is None:
        state = ConversationState(person_id=person.id, platform=platform, conversation=conversation)
        session.add(state)
    for name, value in fields.items():
        setattr(state, name, value)
    session.flush()
    return state


def finish(session: Session, state: ConversationState) -> None:
    session.delete(state)
    session.flush()
