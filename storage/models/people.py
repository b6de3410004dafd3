"""Partners, people, their platform identities and roles, groups and memberships."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.roles import GroupAccess, MemberRole, PersonRoleKind
from storage.models.base import Base, UTCDateTime, enum_column, utcnow

__all__ = ["GroupAccess", "MemberRole", "PersonRoleKind"]  # defined in core.roles, used by the models here


class SubscriptionTier(enum.Enum):
    STANDARD = "standard"
    HIGHER = "higher"


class Partner(Base):
    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[Optional[str]] = mapped_column(String(60))
    # None means unknown: the report does not say which partners pay the higher rate.
    subscription_tier: Mapped[Optional[SubscriptionTier]] = mapped_column(
        enum_column(SubscriptionTier, "subscription_tier")
    )

    domains: Mapped[list[PartnerDomain]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="PartnerDomain.domain"
    )
    tenants: Mapped[list[PartnerTenant]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="PartnerTenant.tenant_id"
    )


class PartnerDomain(Base):
    __tablename__ = "partner_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(200), unique=True)

    partner: Mapped[Partner] = relationship(back_populates="domains")


class PartnerTenant(Base):
    """A partner's Microsoft 365 tenant (Entra directory id): its staff are recognised by it on
    Teams whatever their e-mail address."""

    __tablename__ = "partner_tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(100), unique=True)

    partner: Mapped[Partner] = relationship(back_populates="tenants")


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[Optional[str]] = mapped_column(String(200))
    partner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("partner.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "slack" or "teams": where the person asked for the messages the bot starts itself to go.
    # None: the platform they used last.
    preferred_platform: Mapped[Optional[str]] = mapped_column(String(20))

    partner: Mapped[Optional[Partner]] = relationship()
    identities: Mapped[list[PlatformIdentity]] = relationship(back_populates="person", cascade="all, delete-orphan")
    memberships: Mapped[list[Membership]] = relationship(back_populates="person", cascade="all, delete-orphan")
    roles: Mapped[list[PersonRole]] = relationship(back_populates="person", cascade="all, delete-orphan")


class PlatformIdentity(Base):
    """Who a person is on one platform: a Slack user in a workspace, a Teams user in a tenant."""

    __tablename__ = "platform_identity"
    __table_args__ = (UniqueConstraint("platform", "workspace", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    # Slack team id or Teams tenant id; "" where the platform has no such thing (console).
    workspace: Mapped[str] = mapped_column(String(100), default="")
    external_id: Mapped[str] = mapped_column(String(200))
    # The Slack Enterprise Grid organisation of the workspace, if any ("" otherwise): an org-wide
    # install is found by it.
    enterprise: Mapped[str] = mapped_column(String(32), default="")
    # When the person last used the bot here (kept to the hour): the platform used last is the
    # one the bot's own messages go to, and `partners` shows it.
    last_seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # Set when the app was uninstalled from the workspace (or its tokens revoked): nothing is
    # sent here until the person uses the bot here again.
    gone_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship(back_populates="identities")


class PersonRole(Base):
    __tablename__ = "person_role"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[PersonRoleKind] = mapped_column(enum_column(PersonRoleKind, "person_role_kind"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="roles")


class Group(Base):
    __tablename__ = "kc_group"  # "group" is an SQL keyword

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    access: Mapped[GroupAccess] = mapped_column(enum_column(GroupAccess, "group_access"))

    aliases: Mapped[list[GroupAlias]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupAlias.alias"
    )
    memberships: Mapped[list[Membership]] = relationship(back_populates="group", cascade="all, delete-orphan")

    @property
    def is_restricted(self) -> bool:
        return self.access is GroupAccess.RESTRICTED


class CatalogueVersion(Base):
    """One row: a stamp of the groups and their aliases, which every process keeps in memory
    (storage.groups) and reloads when the stamp differs. Database triggers (migration 0014) give
    it a new value in the same transaction as any change to kc_group or group_alias, whoever
    makes it: a value never used before (a sequence on PostgreSQL, random() on SQLite), so that
    a rolled-back change cannot leave a process holding a catalogue that matches a later stamp."""

    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class GroupAlias(Base):
    __tablename__ = "group_alias"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("kc_group.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(100), unique=True)

    group: Mapped[Group] = relationship(back_populates="aliases")


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("person_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("kc_group.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole, "member_role"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="memberships")
    group: Mapped[Group] = relationship(back_populates="memberships")
