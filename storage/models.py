"""The partnership's data: partners, people, groups, memberships, roles and meetings.

The schema changes only through the Alembic migrations in `storage/migrations`.
"""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    JSON,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so that Alembic can alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """An instant, always returned as an aware UTC datetime (SQLite would drop the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        value = value.astimezone(timezone.utc)
        # SQLite stores text: keep it naive UTC so that it sorts and compares as text.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Store the values ("chair"), not the member names, and as plain strings with a CHECK,
    # so adding a value later is a simple migration on both SQLite and PostgreSQL.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SubscriptionTier(enum.Enum):
    STANDARD = "standard"
    HIGHER = "higher"


class GroupAccess(enum.Enum):
    OPEN = "open"
    RESTRICTED = "restricted"


class MemberRole(enum.Enum):
    MEMBER = "member"
    CHAIR = "chair"


class PersonRoleKind(enum.Enum):
    ADMIN = "admin"  # Partnership Office
    BOARD = "board"  # Leadership Board: assesses business cases


class MeetingStatus(enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class ConversationStep(enum.Enum):
    ASKING = "asking"  # waiting for the answer to `field`
    CONFIRMING = "confirming"  # all answered; waiting for yes, edit or cancel
    PAUSED = "paused"  # the person went on to other things; `continue` resumes


class AnnouncementStatus(enum.Enum):
    SCHEDULED = "scheduled"  # its deliveries wait for their time
    SENT = "sent"  # its deliveries are due (the dispatcher sends them)
    CANCELLED = "cancelled"


class EventFormat(enum.Enum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class EventStatus(enum.Enum):
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class AttendanceMode(enum.Enum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class RegistrationStatus(enum.Enum):
    CONFIRMED = "confirmed"  # has a place
    WAITLISTED = "waitlisted"  # in the queue for a place, by queued_at
    WITHDRAWN = "withdrawn"  # unregistered (kept: re-registering reuses the row)


class CaseStatus(enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_ASSESSMENT = "under_assessment"
    APPROVED = "approved"
    DECLINED = "declined"
    IN_DELIVERY = "in_delivery"
    COMPLETED = "completed"


class FundEntryKind(enum.Enum):
    CONTRIBUTION = "contribution"  # from a partner's subscription
    AWARD = "award"  # to an approved business case
    SPEND = "spend"  # what a funded project has spent


class DeliveryStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Partner(Base):
    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[Optional[str]] = mapped_column(String(60))
    # None means unknown: the report does not say which partners pay the higher rate.
    subscription_tier: Mapped[Optional[SubscriptionTier]] = mapped_column(
        _enum(SubscriptionTier, "subscription_tier")
    )

    domains: Mapped[list["PartnerDomain"]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="PartnerDomain.domain"
    )


class PartnerDomain(Base):
    __tablename__ = "partner_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(200), unique=True)

    partner: Mapped[Partner] = relationship(back_populates="domains")


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[Optional[str]] = mapped_column(String(200))
    partner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("partner.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    partner: Mapped[Optional[Partner]] = relationship()
    identities: Mapped[list["PlatformIdentity"]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    roles: Mapped[list["PersonRole"]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


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

    person: Mapped[Person] = relationship(back_populates="identities")


class PersonRole(Base):
    __tablename__ = "person_role"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[PersonRoleKind] = mapped_column(_enum(PersonRoleKind, "person_role_kind"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="roles")


class Group(Base):
    __tablename__ = "kc_group"  # "group" is an SQL keyword

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    access: Mapped[GroupAccess] = mapped_column(_enum(GroupAccess, "group_access"))

    aliases: Mapped[list["GroupAlias"]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupAlias.alias"
    )
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )

    @property
    def is_restricted(self) -> bool:
        return self.access is GroupAccess.RESTRICTED


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
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole, "member_role"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="memberships")
    group: Mapped[Group] = relationship(back_populates="memberships")


class MeetingSeries(Base):
    """A recurring meeting: an RFC 5545 rule over local wall time in a named zone."""

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("kc_group.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # First occurrence, as local wall time (naive) in `timezone`.
    first_start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    rrule: Mapped[str] = mapped_column(Text)  # e.g. FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU
    place: Mapped[Optional[str]] = mapped_column(String(300))
    online_url: Mapped[Optional[str]] = mapped_column(String(500))
    agenda: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[MeetingStatus] = mapped_column(_enum(MeetingStatus, "meeting_status"))

    group: Mapped[Group] = relationship()


class Meeting(Base):
    """One meeting: a one-off, or one occurrence of a series (materialised so it can move)."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("series_id", "occurrence_local"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("kc_group.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("meeting_series.id", ondelete="CASCADE")
    )
    # For an occurrence of a series: its original local start (iCalendar's RECURRENCE-ID),
    # which stays the same when the occurrence is moved.
    occurrence_local: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=False))
    title: Mapped[str] = mapped_column(String(200))
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    end_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    timezone: Mapped[str] = mapped_column(String(64))
    # The UTC instant of start_local in timezone, kept beside it so that "what is next"
    # is one indexed query; written only through storage.meetings.set_times.
    starts_at_utc: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    place: Mapped[Optional[str]] = mapped_column(String(300))
    online_url: Mapped[Optional[str]] = mapped_column(String(500))
    agenda: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[MeetingStatus] = mapped_column(_enum(MeetingStatus, "meeting_status"))
    # iCalendar SEQUENCE: goes up with every change subscribers must see (moved, cancelled).
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now()
    )

    group: Mapped[Group] = relationship()
    series: Mapped[Optional[MeetingSeries]] = relationship()


class ConversationState(Base):
    """A form being filled in step by step in chat, so that a restart loses nothing."""

    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("person_id", "platform", "conversation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    conversation: Mapped[str] = mapped_column(String(200), default="")
    form: Mapped[str] = mapped_column(String(60))
    step: Mapped[ConversationStep] = mapped_column(_enum(ConversationStep, "conversation_step"))
    field: Mapped[Optional[str]] = mapped_column(String(60))
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Delivery(Base):
    """One message the bot starts itself, to one recipient: a notice, a reminder, an announcement.

    Created in the same transaction as the change that causes it; the dispatcher sends it.
    The unique key makes re-creating the same notice a no-op.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("kind", "subject", "occurrence", "recipient_id", "channel"),
        Index("ix_delivery_status_due_at", "status", "due_at"),  # the dispatcher's query
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. meeting_moved
    subject: Mapped[str] = mapped_column(String(100))  # e.g. meeting:13
    occurrence: Mapped[str] = mapped_column(String(100))  # which change or which reminder
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(40), default="direct")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the neutral Reply, as data
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, "delivery_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    lease_owner: Mapped[Optional[str]] = mapped_column(String(100))
    lease_expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # Never sent after this instant (a reminder after its meeting has started is worse than none).
    not_after: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    recipient: Mapped[Person] = relationship()


class Event(Base):
    """A business transformation event: free for partners, in person, online or both."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[Optional[str]] = mapped_column(String(200))
    description: Mapped[Optional[str]] = mapped_column(Text)
    speakers: Mapped[Optional[str]] = mapped_column(Text)
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    end_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    timezone: Mapped[str] = mapped_column(String(64))
    # As for meetings: the UTC instant of start_local, written only through storage.events.set_times.
    starts_at_utc: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    format: Mapped[EventFormat] = mapped_column(_enum(EventFormat, "event_format"))
    venue: Mapped[Optional[str]] = mapped_column(String(300))
    online_url: Mapped[Optional[str]] = mapped_column(String(500))
    # None means unlimited; a format without that kind of attendance has 0.
    capacity_in_person: Mapped[Optional[int]] = mapped_column(Integer)
    capacity_online: Mapped[Optional[int]] = mapped_column(Integer)
    registration_opens_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus, "event_status"))
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now()
    )
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))

    registrations: Mapped[list["Registration"]] = relationship(back_populates="event")


class Registration(Base):
    """A person's place (or place in the queue) at an event; one row per person and event."""

    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id"),
        Index("ix_registration_event_id_status_mode", "event_id", "status", "mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    mode: Mapped[AttendanceMode] = mapped_column(_enum(AttendanceMode, "attendance_mode"))
    status: Mapped[RegistrationStatus] = mapped_column(_enum(RegistrationStatus, "registration_status"))
    # The waitlist's order: when the person (last) asked for a place.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship(back_populates="registrations")
    person: Mapped[Person] = relationship()


class BusinessCase(Base):
    """A proposal for development-fund money, from submission to reported outcome."""

    __tablename__ = "business_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(150))
    problem: Mapped[str] = mapped_column(Text)
    proposal: Mapped[str] = mapped_column(Text)
    # Partner slugs (or ["all"]) and group slugs the project benefits.
    benefiting_partners: Mapped[list[str]] = mapped_column(JSON, default=list)
    benefiting_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    sponsor_group_id: Mapped[Optional[int]] = mapped_column(ForeignKey("kc_group.id", ondelete="SET NULL"))
    estimated_cost_pence: Mapped[int] = mapped_column(Integer)
    timescale: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(320))
    submitter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    # The submitter's partner, kept so that a decision stays attributable after an erasure.
    submitter_partner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("partner.id"))
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "case_status"), index=True)
    awarded_pence: Mapped[Optional[int]] = mapped_column(Integer)
    decline_reason: Mapped[Optional[str]] = mapped_column(Text)
    outcome: Mapped[Optional[str]] = mapped_column(Text)
    shared_learning: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    sponsor_group: Mapped[Optional[Group]] = relationship()
    submitter: Mapped[Optional[Person]] = relationship(foreign_keys=[submitter_id])
    submitter_partner: Mapped[Optional[Partner]] = relationship()
    history: Mapped[list["CaseChange"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseChange.id"
    )


class CaseChange(Base):
    """One step of a business case's life: who moved it from what to what, when, and why."""

    __tablename__ = "case_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("business_case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    from_status: Mapped[Optional[CaseStatus]] = mapped_column(_enum(CaseStatus, "case_change_from"))
    to_status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "case_change_to"))
    note: Mapped[Optional[str]] = mapped_column(Text)

    case: Mapped[BusinessCase] = relationship(back_populates="history")
    actor: Mapped[Optional[Person]] = relationship()


class FundEntry(Base):
    """Money into or out of the development fund, in whole pence, by financial year."""

    __tablename__ = "fund_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FundEntryKind] = mapped_column(_enum(FundEntryKind, "fund_entry_kind"))
    # The UK financial year it belongs to, by its first calendar year: 2026 is 2026/27.
    year: Mapped[int] = mapped_column(Integer, index=True)
    amount_pence: Mapped[int] = mapped_column(Integer)
    partner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("partner.id"))
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("business_case.id", ondelete="SET NULL"))
    note: Mapped[Optional[str]] = mapped_column(Text)
    recorded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    partner: Mapped[Optional[Partner]] = relationship()
    case: Mapped[Optional[BusinessCase]] = relationship()


class ReminderSetting(Base):
    """A person's automatic reminders: on or off, and how long before (default 7 days and 1 day)."""

    __tablename__ = "reminder_setting"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Lead times such as "7d", "1d", "2h", "30m".
    lead_times: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["7d", "1d"])
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Announcement(Base):
    """A chair's message to a group's members, now or at a set time."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("kc_group.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[AnnouncementStatus] = mapped_column(_enum(AnnouncementStatus, "announcement_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    group: Mapped[Group] = relationship()
    author: Mapped[Optional[Person]] = relationship()


class AnnouncementAck(Base):
    __tablename__ = "announcement_ack"
    __table_args__ = (UniqueConstraint("announcement_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RateBucket(Base):
    """A token bucket shared by every dispatcher replica: one per workspace, tenant or channel."""

    __tablename__ = "rate_bucket"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set from a 429's Retry-After: nothing goes to this key before it.
    blocked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())


class InboundSeen(Base):
    """A platform delivery already handled: Slack retries events, so each is acted on once."""

    __tablename__ = "inbound_seen"
    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ConversationRef(Base):
    """Where the bot can write to someone unprompted (Teams): a stored conversation reference.

    `key` is "user:<Teams user id>" for a person's 1:1 chat, "conversation:<id>" for a channel
    or group chat. Kept up to date whenever they talk to the bot or install it.
    """

    __tablename__ = "conversation_ref"
    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(300))
    person_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(100), default="", index=True)
    service_url: Mapped[str] = mapped_column(String(500))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Set when the platform says the person blocked the bot: no more tries.
    blocked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """A privileged action: who, what, when, from where. Written by the bot, never edited by it."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    # How the actor is named in the log; after an erasure, "a former member of <partner>".
    actor_label: Mapped[str] = mapped_column(String(320))
    platform: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
