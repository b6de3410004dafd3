"""Business cases, their history, and the development fund's ledger."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime, enum_column, utcnow
from storage.models.people import Group, Partner, Person


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
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, "case_status"), index=True)
    awarded_pence: Mapped[Optional[int]] = mapped_column(Integer)
    decline_reason: Mapped[Optional[str]] = mapped_column(Text)
    outcome: Mapped[Optional[str]] = mapped_column(Text)
    shared_learning: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    sponsor_group: Mapped[Optional[Group]] = relationship()
    submitter: Mapped[Optional[Person]] = relationship(foreign_keys=[submitter_id])
    submitter_partner: Mapped[Optional[Partner]] = relationship()
    history: Mapped[list[CaseChange]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseChange.id"
    )


class CaseChange(Base):
    """One step of a business case's life: who moved it from what to what, when, and why."""

    __tablename__ = "case_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("business_case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    from_status: Mapped[Optional[CaseStatus]] = mapped_column(enum_column(CaseStatus, "case_change_from"))
    to_status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, "case_change_to"))
    note: Mapped[Optional[str]] = mapped_column(Text)

    case: Mapped[BusinessCase] = relationship(back_populates="history")
    actor: Mapped[Optional[Person]] = relationship()


class FundEntry(Base):
    """Money into or out of the development fund, in whole pence, by financial year."""

    __tablename__ = "fund_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FundEntryKind] = mapped_column(enum_column(FundEntryKind, "fund_entry_kind"))
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
