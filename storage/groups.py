"""Queries about groups and their memberships."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.models import Group, MemberRole, Membership, Person


def all_groups(session: Session) -> list[Group]:
    """Every group with its aliases, open groups first, then by name."""
    groups = session.execute(select(Group).options(selectinload(Group.aliases)).order_by(Group.name)).scalars()
    return sorted(groups, key=lambda g: (g.is_restricted, g.name))


def group_by_slug(session: Session, slug: str) -> Optional[Group]:
    return session.execute(select(Group).where(Group.slug == slug)).scalar_one_or_none()


def membership(session: Session, person: Person, group: Group) -> Optional[Membership]:
    if person.id is None:
        return None
    return session.execute(
        select(Membership).where(Membership.person_id == person.id, Membership.group_id == group.id)
    ).scalar_one_or_none()


def memberships_of(session: Session, person: Person) -> list[Membership]:
    if person.id is None:
        return []
    return list(
        session.execute(
            select(Membership).where(Membership.person_id == person.id).options(selectinload(Membership.group))
        ).scalars()
    )


def add_member(session: Session, person: Person, group: Group, role: MemberRole = MemberRole.MEMBER) -> bool:
    """Add the person to the group; False if they were already in it. Safe under races."""
    if membership(session, person, group) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Membership(person=person, group=group, role=role))
    except IntegrityError:
        return False  # a concurrent request added the same membership
    return True


def set_role(session: Session, person: Person, group: Group, role: MemberRole) -> None:
    existing = membership(session, person, group)
    if existing is None:
        add_member(session, person, group, role)
    else:
        existing.role = role


def remove_member(session: Session, person: Person, group: Group) -> Optional[Membership]:
    """Remove the membership and return what it was, or None if there was none."""
    existing = membership(session, person, group)
    if existing is not None:
        session.delete(existing)
        session.flush()
    return existing


def member_ids(session: Session, group_ids: Iterable[int]) -> dict[int, list[int]]:
    """The people in each of these groups (chairs too), by group id."""
    ids = list(group_ids)
    found: dict[int, list[int]] = {group_id: [] for group_id in ids}
    if ids:
        for group_id, person_id in session.execute(
            select(Membership.group_id, Membership.person_id).where(Membership.group_id.in_(ids))
        ):
            found[group_id].append(person_id)
    return found


def members(session: Session, group: Group) -> list[Membership]:
    return list(
        session.execute(
            select(Membership).where(Membership.group_id == group.id).options(selectinload(Membership.person))
        ).scalars()
    )
