"""Queries about partners and people: who someone is, which partner, which roles."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import and_, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from storage import conversations, groups as group_queries, references
from storage.models import (
    CatalogueVersion,
    ConversationRef,
    ConversationState,
    Membership,
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
    rows = (
        session.execute(
            select(PartnerDomain).where(PartnerDomain.domain.in_(candidates)).options(joinedload(PartnerDomain.partner))
        )
        .scalars()
        .all()
    )
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


@dataclass
class Loaded:
    """What the request's first statement found: the person with their identity here, partner,
    roles and memberships (all loaded), and beside them the conversation's draft and reference."""

    person: Optional[Person]
    identity: Optional[PlatformIdentity]
    looked_for: bool = (
        False  # the identity (the e-mail, on the console) was looked for, with nothing else changed since
    )


@functools.cache
def _caller_query(console: bool, with_reference: bool) -> Any:
    """load_caller's statement, built once per shape (building it cost more than running it)."""
    query: Any = select(CatalogueVersion.version, Person).select_from(CatalogueVersion)
    if console:
        query = query.outerjoin(Person, Person.email == bindparam("c_email"))
    else:
        query = query.add_columns(PlatformIdentity)
        query = query.outerjoin(
            PlatformIdentity,
            and_(
                PlatformIdentity.platform == bindparam("c_platform"),
                PlatformIdentity.workspace == bindparam("c_workspace"),
                PlatformIdentity.external_id == bindparam("c_external_id"),
            ),
        ).outerjoin(Person, Person.id == PlatformIdentity.person_id)
    query = (
        query.add_columns(ConversationState)
        .outerjoin(Partner, Partner.id == Person.partner_id)
        .outerjoin(PersonRole, PersonRole.person_id == Person.id)
        .outerjoin(Membership, Membership.person_id == Person.id)
        .outerjoin(
            ConversationState,
            and_(
                ConversationState.person_id == Person.id,
                ConversationState.platform == bindparam("c_platform"),
                ConversationState.conversation == bindparam("c_conversation"),
            ),
        )
        .options(
            contains_eager(Person.partner),
            contains_eager(Person.roles),
            contains_eager(Person.memberships),
        )
        .where(CatalogueVersion.id == 1)
    )
    if with_reference:
        query = query.add_columns(ConversationRef).outerjoin(
            ConversationRef,
            and_(
                ConversationRef.platform == bindparam("c_platform"), ConversationRef.key == bindparam("c_reference_key")
            ),
        )
    return query


def load_caller(
    session: Session,
    platform: str,
    external_id: str,
    workspace: str = "",
    email: str = "",
    conversation: str = "",
    reference_key: str = "",
) -> Loaded:
    """The caller in one statement: by platform identity (by e-mail for the console, which keeps
    none), with partner, roles and memberships eagerly loaded; and in the same statement the
    conversation's state (storage.conversations), the stored conversation reference under
    `reference_key` (storage.references) and the stamp of the group catalogue (storage.groups),
    each left in the session for those modules, so that none of them needs a statement of its own.

    Read from catalogue_version's one row outwards, so that the stamp (and the reference) come
    even when no person does."""
    query = _caller_query(platform == "console", bool(reference_key))
    parameters = {
        "c_email": email.strip().lower(),
        "c_platform": platform,
        "c_workspace": workspace,
        "c_external_id": external_id,
        "c_conversation": conversation,
        "c_reference_key": reference_key,
    }
    rows = session.execute(query, parameters).unique().all()
    if not rows:  # no stamp row (a database that lost it): every module reads for itself
        return Loaded(None, None)
    row = rows[0]._mapping
    group_queries.remember_stamp(session, row[CatalogueVersion.version])
    if reference_key:
        references.known(session, platform, reference_key, row[ConversationRef])
    person = row[Person]
    identity = row[PlatformIdentity] if platform != "console" else None
    if person is not None:
        conversations.known(session, person, platform, conversation, row[ConversationState])
    return Loaded(person, identity, looked_for=True)


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
    return create_person(session, email, display_name, partner_for_email(session, email) or partner)


def create_person(session: Session, email: str, display_name: Optional[str], partner: Optional[Partner]) -> Person:
    """A new person with this partner, for someone just looked for and not found (the one a
    concurrent request created at the same moment otherwise). A new person has no roles and no
    memberships: known without asking."""
    email = email.strip().lower()
    person = Person(email=email, display_name=display_name, partner=partner)
    try:
        with session.begin_nested():
            session.add(person)
    except IntegrityError:
        # Another request created the same person between our look-up and insert.
        found = person_by_email(session, email)
        assert found is not None
        return found
    set_committed_value(person, "roles", [])
    set_committed_value(person, "memberships", [])
    return person


def link_identity(
    session: Session,
    person: Person,
    platform: str,
    external_id: str,
    workspace: str = "",
    enterprise: str = "",
    seen_at: Optional[datetime] = None,
    looked_for: bool = False,
) -> bool:
    """Record the person's account on a platform (used at `seen_at`); False if it was known already.
    `looked_for`: the caller has just looked for the identity in this transaction and not found it."""
    if not looked_for and person_by_identity(session, platform, external_id, workspace) is not None:
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
