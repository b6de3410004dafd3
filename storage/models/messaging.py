"""What the bot sends and keeps about conversations: deliveries, reminders, announcements, forms in progress."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.delivery_keys import DIRECT
from storage.models.base import Base, UTCDateTime, enum_column, utcnow
from storage.models.people import Group, Person


class ConversationStep(enum.Enum):
    ASKING = "asking"  # waiting for the answer to `field`
    CONFIRMING = "confirming"  # all answered; waiting for yes, edit or cancel
    PAUSED = "paused"  # the person went on to other things; `continue` resumes


class DeliveryKind(enum.Enum):
    """What a delivery is about; the dispatcher's cut-offs go by it. The values are what the rows store."""

    MEETING_SCHEDULED = "meeting_scheduled"
    MEETING_MOVED = "meeting_moved"
    MEETING_CANCELLED = "meeting_cancelled"
    MEETING_REMINDER = "meeting_reminder"
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_PROMOTED = "event_promoted"  # a place off the waitlist
    EVENT_REMINDER = "event_reminder"
    PERSONAL_REMINDER = "personal_reminder"  # `remind me ...`
    CASE_SUBMITTED = "case_submitted"  # to the Leadership Board
    CASE_UPDATE = "case_update"  # to the submitter, at every step
    ANNOUNCEMENT = "announcement"
    DIGEST = "digest"  # the weekly "what's on" in a linked channel
    # A one-off message under no rule of its own (the tests' and benchmarks' stand-in): default cut-off.
    NOTICE = "notice"


class DeliveryStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    # No configured platform reaches the person (no Slack or Teams account known): kept, and
    # shown when they next chat in the console, or sent once they are known on a platform.
    HELD = "held"


class AnnouncementStatus(enum.Enum):
    SCHEDULED = "scheduled"  # its deliveries wait for their time
    SENT = "sent"  # its deliveries are due (the dispatcher sends them)
    CANCELLED = "cancelled"


class ConversationState(Base):
    """A form being filled in step by step in chat, so that a restart loses nothing."""

    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("person_id", "platform", "conversation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    conversation: Mapped[str] = mapped_column(String(200), default="")
    form: Mapped[str] = mapped_column(String(60))
    step: Mapped[ConversationStep] = mapped_column(enum_column(ConversationStep, "conversation_step"))
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
    kind: Mapped[DeliveryKind] = mapped_column(enum_column(DeliveryKind, "delivery_kind", length=40))
    subject: Mapped[str] = mapped_column(String(100))  # e.g. meeting:13
    occurrence: Mapped[str] = mapped_column(String(100))  # which change or which reminder
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(40), default=DIRECT)  # or a channel: storage.delivery_keys
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the neutral Reply, as data
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus, "delivery_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    lease_owner: Mapped[Optional[str]] = mapped_column(String(100))
    lease_expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # The platform it reached the person on: "slack", "teams" or "console".
    delivered_via: Mapped[Optional[str]] = mapped_column(String(20))
    # Never sent after this instant (a reminder after its meeting has started is worse than none).
    not_after: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    recipient: Mapped[Person] = relationship()


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
    status: Mapped[AnnouncementStatus] = mapped_column(enum_column(AnnouncementStatus, "announcement_status"))
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


class GroupChannel(Base):
    """A Slack channel or Teams channel linked to a group: its announcements are posted there
    too, and, if asked, a weekly "what's on" digest."""

    __tablename__ = "group_channel"
    __table_args__ = (UniqueConstraint("group_id", "platform", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("kc_group.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    # The workspace (Slack team) or tenant the channel belongs to: in a Slack Connect channel, its
    # host's, whose install posts there; and the host's Enterprise Grid org, for an org-wide install.
    workspace: Mapped[str] = mapped_column(String(100), default="")
    enterprise: Mapped[str] = mapped_column(String(32), default="")
    # Slack channel id, or "conversation:<id>" for a Teams channel (a stored conversation reference).
    channel: Mapped[str] = mapped_column(String(300))
    digest: Mapped[bool] = mapped_column(default=False)
    # Who linked it: deliveries to the channel are recorded in their name.
    linked_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    group: Mapped[Group] = relationship()
