"""The step-by-step form a person is filling in, per platform and conversation."""

from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from storage.models import ConversationState, Person

# session.info: {(person id, platform, conversation): the state or None}, as read or written in
# this transaction (storage.people.load_caller reads the caller's with the caller).
_KNOWN = "conversation_states"


def _known(session: Session) -> dict[tuple[int, str, str], Optional[ConversationState]]:
    return session.info.setdefault(_KNOWN, {})


def known(
    session: Session, person: Person, platform: str, conversation: str, state: Optional[ConversationState]
) -> None:
    """What the conversation's state is (None: it has none), read along with something else."""
    _known(session)[(person.id, platform, conversation)] = state


def current(session: Session, person: Person, platform: str, conversation: str) -> Optional[ConversationState]:
    if person.id is None:
        return None
    key = (person.id, platform, conversation)
    found = _known(session)
    if key not in found:
        found[key] = session.execute(
            select(ConversationState).where(
                ConversationState.person_id == person.id,
                ConversationState.platform == platform,
                ConversationState.conversation == conversation,
            )
        ).scalar_one_or_none()
    return found[key]


def replace(session: Session, person: Person, platform: str, conversation: str, **fields) -> ConversationState:
    """Start a conversation, replacing any earlier one in the same place (written when the
    transaction next flushes: the caller may still set its question)."""
    state = current(session, person, platform, conversation)
    if state is None:
        state = ConversationState(person_id=person.id, platform=platform, conversation=conversation)
        session.add(state)
    for name, value in fields.items():
        setattr(state, name, value)
    _known(session)[(person.id, platform, conversation)] = state
    return state


def finish(session: Session, state: ConversationState) -> None:
    if state in session.new:  # started in this transaction and not written yet
        session.expunge(state)
    else:
        session.delete(state)
        session.flush()
    _known(session)[(state.person_id, state.platform, state.conversation)] = None


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_KNOWN, None)  # a savepoint too: it may have undone a write


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # only ever within one transaction
        session.info.pop(_KNOWN, None)
