"""The partnership's data. The schema changes only through the Alembic migrations in
`storage/migrations`; every model is importable from here."""
from storage.models.base import NAMING_CONVENTION, Base, UTCDateTime, utcnow
from storage.models.cases import BusinessCase, CaseChange, CaseStatus, FundEntry, FundEntryKind
from storage.models.events import AttendanceMode, Event, EventFormat, EventStatus, Registration, RegistrationStatus
from storage.models.meetings import Meeting, MeetingSeries, MeetingStatus
from storage.models.messaging import (
    Announcement,
    AnnouncementAck,
    AnnouncementStatus,
    AuditEntry,
    ConversationRef,
    ConversationState,
    ConversationStep,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    GroupChannel,
    InboundSeen,
    RateBucket,
    ReminderSetting,
)
from storage.models.people import (
    Group,
    GroupAccess,
    GroupAlias,
    MemberRole,
    Membership,
    Partner,
    PartnerDomain,
    Person,
    PersonRole,
    PersonRoleKind,
    PlatformIdentity,
    SubscriptionTier,
)

__all__ = [name for name in dir() if not name.startswith("_")]
