"""Queries about partners and people: who someone is, which partner, which roles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.models import (
    Partner,
    PartnerDomain,
    Person,
    PersonRole,
    PersonRoleKind,
    PlatformIdentity,
)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower()


def partner_for_email(session: Session, email: str) -> Optional[Partner]:
    """The partner whose e-mail domain (or a parent domain of it) the address belongs to."""
    domain = email_domain(email)
    labels = domain.split(".")
    # "x@hr.kent.gov.uk" belongs to kent.gov.uk; try the longest candidate first.
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if not candidates:
        return None
    rows = session.execute(select(PartnerDomain).where(PartnerDomain.domain.in_(candidates))).scalars().all()
    if not rows:
        return None
    best = max(rows, key=lambda d: len(d.domain))
    return best.partner


def list_partners(session: Session) -> list[Partner]:
    return list(
        session.execute(select(Partner).options(selectinload(Partner.domains)).order_by(Partner.name)).scalars()
    )


def person_by_email(session: Session, email: str) -> Optional[Person]:
    return session.execute(select(Person).where(Person.email == email.strip().lower())).scalar_one_or_none()


def person_by_identity(session: Session, platform: str, external_id: str, workspace: str = "") -> Optional[Person]:
    return session.execute(
        select(Person)
        .join(PlatformIdentity)
        .where(
            PlatformIdentity.platform == platform,
            PlatformIdentity.workspace == workspace,
            PlatformIdentity.external_id == external_id,
        )
    ).scalar_one_or_none()


def get_or_create_person(session: Session, email: str, display_name: Optional[str] = None) -> Person:
    """The person with this e-mail, created (with their partner) if new. Safe under races."""
    email = email.strip().lower()
    person = person_by_email(session, email)
    if person is not None:
        if display_name and not person.display_name:
            person.display_name = display_name
        return person
    person = Person(email=email, display_name=display_name, partner=partner_for_email(session, email))
    try:
        with session.begin_nested():
            session.add(person)
    except IntegrityError:
        # Another request created the same person between our look-up and insert.
        person = person_by_email(session, email)
        assert person is not None
    return person


def link_identity(
    session: Session, person: Person, platform: str, external_id: str, workspace: str = "", enterprise: str = ""
) -> bool:
    """Record the person's account on a platform; False if it was known already."""
    if person_by_identity(session, platform, external_id, workspace) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                PlatformIdentity(
                    person=person,
                    platform=platform,
                    external_id=external_id,
                    workspace=workspace,
                    enterprise=enterprise,
                )
            )
    except IntegrityError:
        return False  # linked concurrently by another request: the row we wanted exists
    return True


def stored_roles(person: Person) -> set[PersonRoleKind]:
    return {r.role for r in person.roles}


def grant_role(session: Session, person: Person, role: PersonRoleKind) -> bool:
    """Give a role; False if the person had it already."""
    if role in stored_roles(person):
        return False
    person.roles.append(PersonRole(role=role))
    session.flush()
    return True


def people_with_role(session: Session, role: PersonRoleKind) -> Iterable[Person]:
    return session.execute(
        select(Person).join(PersonRole).where(PersonRole.role == role).order_by(Person.email)
    ).scalars()
