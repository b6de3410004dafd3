"""Business cases, their history, and the development fund's ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from storage.models import BusinessCase, CaseChange, CaseStatus, FundEntry, FundEntryKind, Person, utcnow


def financial_year(day: date) -> int:
    """The UK financial year (1 April to 31 March) a day falls in, by its first calendar year."""
    return day.year if day.month >= 4 else day.year - 1


def year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def get(session: Session, case_id: int) -> Optional[BusinessCase]:
    return session.execute(
        select(BusinessCase)
        .where(BusinessCase.id == case_id)
        .options(selectinload(BusinessCase.history).selectinload(CaseChange.actor))
    ).scalar_one_or_none()


def find(
    session: Session,
    statuses: Optional[Iterable[CaseStatus]] = None,
    submitter: Optional[Person] = None,
    sponsor_group_id: Optional[int] = None,
    limit: Optional[int] = None,
    oldest_first: bool = False,
) -> list[BusinessCase]:
    order = BusinessCase.id if oldest_first else BusinessCase.id.desc()
    query = select(BusinessCase).order_by(order).options(selectinload(BusinessCase.sponsor_group))
    if limit is not None:
        query = query.limit(limit)
    if statuses is not None:
        query = query.where(BusinessCase.status.in_(list(statuses)))
    if submitter is not None:
        query = query.where(BusinessCase.submitter_id == submitter.id)
    if sponsor_group_id is not None:
        query = query.where(BusinessCase.sponsor_group_id == sponsor_group_id)
    return list(session.execute(query).scalars())


def count(session: Session, statuses: Iterable[CaseStatus]) -> int:
    return session.execute(
        select(func.count()).select_from(BusinessCase).where(BusinessCase.status.in_(list(statuses)))
    ).scalar_one()


def lock(session: Session, case: BusinessCase) -> None:
    """Serialise decisions on one case (a row lock on PostgreSQL; SQLite writes are serial)."""
    session.execute(select(BusinessCase.id).where(BusinessCase.id == case.id).with_for_update())
    session.refresh(case)


def change(
    session: Session,
    case: BusinessCase,
    to: CaseStatus,
    actor: Optional[Person],
    note: Optional[str] = None,
    at: Optional[datetime] = None,
) -> CaseChange:
    """Move the case to a new status and record who did it and why."""
    step = CaseChange(
        case=case,
        actor_id=actor.id if actor else None,
        from_status=case.status,
        to_status=to,
        note=note,
        at=at or utcnow(),
    )
    case.status = to
    session.add(step)
    session.flush()
    return step


def lock_fund(session: Session) -> None:
    """Serialise awards, so that two at once cannot both spend the same balance.

    On PostgreSQL an advisory transaction lock (there is no fund row to lock); SQLite writes
    are serial already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(0x4B43_46554E44)))  # "KCFUND"


def balance(session: Session) -> int:
    """Contributions less awards, in pence."""
    rows = session.execute(
        select(FundEntry.kind, func.coalesce(func.sum(FundEntry.amount_pence), 0)).group_by(FundEntry.kind)
    ).all()
    totals = {kind: int(total) for kind, total in rows}
    return totals.get(FundEntryKind.CONTRIBUTION, 0) - totals.get(FundEntryKind.AWARD, 0)


@dataclass
class YearTotals:
    contributed: int = 0
    awarded: int = 0
    spent: int = 0
    by_partner: dict[str, int] = field(default_factory=dict)


def totals_by_year(session: Session) -> dict[int, YearTotals]:
    years: dict[int, YearTotals] = defaultdict(YearTotals)
    entries = session.execute(select(FundEntry).options(selectinload(FundEntry.partner))).scalars()
    for entry in entries:
        totals = years[entry.year]
        if entry.kind is FundEntryKind.CONTRIBUTION:
            totals.contributed += entry.amount_pence
            name = entry.partner.short_name if entry.partner else "unattributed"
            totals.by_partner[name] = totals.by_partner.get(name, 0) + entry.amount_pence
        elif entry.kind is FundEntryKind.AWARD:
            totals.awarded += entry.amount_pence
        else:
            totals.spent += entry.amount_pence
    return dict(sorted(years.items()))


def spent_on(session: Session, case: BusinessCase) -> int:
    return int(
        session.execute(
            select(func.coalesce(func.sum(FundEntry.amount_pence), 0)).where(
                FundEntry.case_id == case.id, FundEntry.kind == FundEntryKind.SPEND
            )
        ).scalar_one()
    )


def add(session: Session, case: BusinessCase) -> BusinessCase:
    """Store a new business case (its id is known on return)."""
    session.add(case)
    session.flush()
    return case


def add_fund_entry(session: Session, entry: FundEntry) -> FundEntry:
    """Record a contribution, an award or spending in the fund's ledger."""
    session.add(entry)
    session.flush()
    return entry
