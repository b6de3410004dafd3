"""Queries about partners and people: who someone is, which partner, which roles."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, selectinload

from storage.models import (
    Partner,
    PartnerDomain,
    PartnerTenant,
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


# A Microsoft 365 tenant (Entra directory) id: a GUID, kept in lower case.
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # lower case, as tenant_id() gives
TENANT_ID = re.compile(f"^{GUID}$")


class TenantTaken(ValueError):
    """The tenant is another partner's already; the message says whose."""


def tenant_id(text: str) -> Optional[str]:
    """The tenant id in canonical form (lower case, no braces), or None if the text is no GUID."""
    found = (text or "").strip().strip("{}").strip().lower()
    return found if TENANT_ID.match(found) else None


def partner_for_tenant(session: Session, tenant: str) -> Optional[Partner]:
    """The partner whose Microsoft 365 tenant this is (Teams gives it with every activity)."""
    canonical = tenant_id(tenant)
    if canonical is None:
        return None
    return session.execute(
        select(Partner).join(PartnerTenant).where(PartnerTenant.tenant_id == canonical)
    ).scalar_one_or_none()


def add_tenant(session: Session, partner: Partner, tenant: str) -> bool:
    """Record a tenant as the partner's; False if it was theirs already.

    ValueError if the text is no tenant id; TenantTaken if it is another partner's."""
    canonical = tenant_id(tenant)
    if canonical is None:
        raise ValueError(f"“{tenant[:60]}” isn't a Microsoft 365 tenant id (a GUID like 0a1b2c3d-...)")
    owner = session.execute(select(PartnerTenant).where(PartnerTenant.tenant_id == canonical)).scalar_one_or_none()
    if owner is not None:
        if owner.partner_id == partner.id:
            return False
        raise TenantTaken(f"the tenant {canonical} already belongs to {owner.partner.name}")
    try:
        with session.begin_nested():
            partner.tenants.append(PartnerTenant(tenant_id=canonical))
    except IntegrityError:
        # Recorded at the same moment by another request: whose it is now decides.
        session.expire(partner, ["tenants"])
        owner = session.execute(select(PartnerTenant).where(PartnerTenant.tenant_id == canonical)).scalar_one_or_none()
        if owner is not None and owner.partner_id == partner.id:
            return False
        raise TenantTaken(
            f"the tenant {canonical} already belongs to {owner.partner.name if owner else 'another partner'}"
        ) from None
    return True


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


def identity_of(session: Session, platform: str, external_id: str, workspace: str = "") -> Optional[PlatformIdentity]:
    """The platform identity with its person, in one statement."""
    return session.execute(
        select(PlatformIdentity)
        .join(PlatformIdentity.person)
        .options(contains_eager(PlatformIdentity.person))
        .where(
            PlatformIdentity.platform == platform,
            PlatformIdentity.workspace == workspace,
            PlatformIdentity.external_id == external_id,
        )
    ).scalar_one_or_none()


def get_or_create_person(
    session: Session, email: str, display_name: Optional[str] = None, partner: Optional[Partner] = None
) -> Person:
    """The person with this e-mail, created (with their partner) if new. Safe under races.

    A new person's partner is the one of their e-mail domain, else `partner` (known otherwise:
    the partner's Teams tenant they came from)."""
    email = email.strip().lower()
    person = person_by_email(session, email)
    if person is not None:
        if display_name and not person.display_name:
            person.display_name = display_name
        return person
    person = Person(email=email, display_name=display_name, partner=partner_for_email(session, email) or partner)
    try:
        with session.begin_nested():
            session.add(person)
    except IntegrityError:
        # Another request created the same person between our look-up and insert.
        person = person_by_email(session, email)
        assert person is not None
    return person


def link_identity(
    session: Session,
    person: Person,
    platform: str,
    external_id: str,
    workspace: str = "",
    enterprise: str = "",
    seen_at: Optional[datetime] = None,
) -> bool:
    """Record the person's account on a platform (used at `seen_at`); False if it was known already."""
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
                    last_seen_at=seen_at,
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
