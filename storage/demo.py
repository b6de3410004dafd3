"""Demo data: invented people, chairs, venues and a year of quarterly meetings per group.

Everything here is made up and says so; dates are relative to the day of loading, so the
demo never goes stale. The real partners and groups come from storage/data/kent_connects.yaml.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Optional

from dateutil.rrule import rrulestr
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import events as event_queries, groups as group_queries
from storage.cases import financial_year
from storage.meetings import add_series
from storage.models import (
    BusinessCase,
    CaseStatus,
    Event,
    EventFormat,
    EventStatus,
    FundEntry,
    FundEntryKind,
    MeetingSeries,
    MeetingStatus,
    Partner,
)
from storage.seed import PARTNERS_FILE, SeedSummary, load_data, load_file

DEMO_USER = "demo@kent.gov.uk"

DEMO_PEOPLE = [
    {
        "email": DEMO_USER,
        "name": "Demo User (KCC)",
        "groups": {"gis": "member", "information-security": "member", "smart-kent-and-medway": "chair"},
    },
    {"email": "pmo.demo@kent.gov.uk", "name": "Demo PMO Officer", "roles": ["admin"]},
    {
        "email": "board.demo@kent.police.uk",
        "name": "Demo Board Member (Kent Police)",
        "roles": ["board"],
        "groups": {"leadership": "chair"},
    },
    {
        "email": "leadership.demo@medway.gov.uk",
        "name": "Demo Leadership Member (Medway)",
        "roles": ["board"],
        "groups": {"leadership": "member"},
    },
    {"email": "gis.chair.demo@maidstone.gov.uk", "name": "Demo GIS Chair (Maidstone)", "groups": {"gis": "chair"}},
    {
        "email": "infosec.chair.demo@kent.fire-uk.org",
        "name": "Demo Information Security Chair (KFRS)",
        "groups": {"information-security": "chair"},
    },
    {
        "email": "a11y.chair.demo@kent.ac.uk",
        "name": "Demo Digital Accessibility Chair (University of Kent)",
        "groups": {"digital-accessibility": "chair"},
    },
    {
        "email": "member.demo@swale.gov.uk",
        "name": "Demo Member (Swale)",
        "groups": {"gis": "member", "smart-kent-and-medway": "member", "digital-accessibility": "member"},
    },
    {
        "email": "member.demo@uca.ac.uk",
        "name": "Demo Member (UCA)",
        "groups": {"information-security": "member", "smart-kent-and-medway": "member"},
    },
]

# (group slug, RFC 5545 rule, start, minutes, place, online link, months after loading to begin)
DEMO_SERIES = [
    (
        "leadership",
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TH",
        time(14, 0),
        120,
        "Orchard Room, Demo House, Maidstone (demo venue)",
        None,
        1,
    ),
    (
        "information-security",
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=1WE",
        time(10, 0),
        120,
        None,
        "https://meet.example.org/demo-infosec",
        1,
    ),
    (
        "digital-accessibility",
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=3TU",
        time(13, 30),
        90,
        "Hop Room, Demo Hub, Canterbury (demo venue)",
        "https://meet.example.org/demo-accessibility",
        2,
    ),
    (
        "gis",
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU",
        time(10, 0),
        120,
        "Map Room, Demo Centre, Chatham (demo venue)",
        "https://meet.example.org/demo-gis",
        1,
    ),
    (
        "smart-kent-and-medway",
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR",
        time(10, 0),
        90,
        "Estuary Room, Demo Works, Ashford (demo venue)",
        None,
        3,
    ),
]
OCCURRENCES = 4  # a year of quarterly meetings

# Real themes (the next announced, and past ones); dates, venues, speakers and links invented.
# (title, theme, days after loading, start, end, format, in-person places, online places)
DEMO_EVENTS = [
    (
        "Future Workplaces",
        "Workstyles, culture change toward hybrid working, and an update on the "
        "Partnership Shared Workspaces programme",
        42,
        time(9, 30),
        time(13, 0),
        EventFormat.HYBRID,
        40,
        150,
    ),
    (
        "Data Sharing in an Emergency",
        "Data sharing in an emergency",
        -120,
        time(10, 0),
        time(12, 30),
        EventFormat.ONLINE,
        0,
        None,
    ),
    ("Digital Accessibility", "Digital accessibility", -300, time(9, 30), time(12, 30), EventFormat.HYBRID, 60, None),
    ("Cyber Security", "Cyber security", -480, time(9, 30), time(13, 0), EventFormat.IN_PERSON, 80, 0),
    (
        "Smart Cities and Counties",
        "Smart cities and counties",
        -660,
        time(9, 30),
        time(13, 0),
        EventFormat.IN_PERSON,
        80,
        0,
    ),
]


def load_demo(session: Session, today: date, zone: str) -> SeedSummary:
    """The real partners and groups (if missing), demo people, and a year of demo meetings."""
    summary = load_file(session, PARTNERS_FILE)
    summary.people += load_data(session, {"people": DEMO_PEOPLE}, source="demo data").people
    for slug, rule, start_time, minutes, place, link, months_ahead in DEMO_SERIES:
        group = group_queries.group_by_slug(session, slug)
        if group is None or _has_series(session, group.id):
            continue
        first_month = _add_months(today.replace(day=1), months_ahead)
        dtstart = datetime.combine(first_month, start_time)
        first = rrulestr(rule, dtstart=dtstart)[0]
        series = MeetingSeries(
            group=group,
            title=f"{group.name} quarterly meeting",
            first_start_local=first,
            duration_minutes=minutes,
            timezone=zone,
            rrule=f"{rule};COUNT={OCCURRENCES}",
            place=place,
            online_url=link,
            agenda="Demo agenda: updates from partners, project reports, any other business.",
            status=MeetingStatus.SCHEDULED,
        )
        add_series(session, series, until_local=first + timedelta(days=400))
    if session.execute(select(FundEntry.id).limit(1)).first() is None:
        _add_fund_demo(session, today)
    if session.execute(select(Event.id).limit(1)).first() is None:
        for title, theme, days, start, end, kind, in_person, online in DEMO_EVENTS:
            day = today + timedelta(days=days)
            day += timedelta(days=(2 - day.weekday()) % 7)  # events fall on a Wednesday
            _add_event(session, day, title, theme, start, end, kind, in_person, online, zone)
    return summary


def _add_event(
    session: Session,
    day: date,
    title: str,
    theme: str,
    start: time,
    end: time,
    kind: EventFormat,
    in_person: Optional[int],
    online: Optional[int],
    zone: str,
) -> None:
    has_room = kind in (EventFormat.IN_PERSON, EventFormat.HYBRID)
    has_link = kind in (EventFormat.ONLINE, EventFormat.HYBRID)
    event = Event(
        title=title,
        theme=theme,
        description="A Kent Connects business transformation event for senior managers across the "
        "partnership, free for every partner. (Demo event: the date, venue and speakers are invented.)",
        speakers="Demo speakers from the public, private and voluntary sectors and a think tank.",
        format=kind,
        venue="Weald Hall, Demo Conference Centre, Maidstone (demo venue)" if has_room else None,
        online_url="https://meet.example.org/demo-event" if has_link else None,
        capacity_in_person=in_person if has_room else 0,
        capacity_online=online if has_link else 0,
        status=EventStatus.PUBLISHED,
    )
    event_queries.set_times(event, datetime.combine(day, start), datetime.combine(day, end), zone)
    session.add(event)
    session.flush()


def _has_series(session: Session, group_id: int) -> bool:
    return (
        session.execute(select(MeetingSeries.id).where(MeetingSeries.group_id == group_id).limit(1)).first() is not None
    )


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    return day.replace(year=day.year + month_index // 12, month=month_index % 12 + 1)


DEMO_CONTRIBUTION_PENCE = 5_000 * 100  # invented: the real subscription amounts are not public


def _add_fund_demo(session: Session, today: date) -> None:
    """Invented contributions for this financial year, and one funded, completed demo case."""
    year = financial_year(today)
    for partner in session.execute(select(Partner)).scalars():
        session.add(
            FundEntry(
                kind=FundEntryKind.CONTRIBUTION,
                year=year,
                amount_pence=DEMO_CONTRIBUTION_PENCE,
                partner_id=partner.id,
                note="demo figure",
            )
        )
    gis = group_queries.group_by_slug(session, "gis")
    case = BusinessCase(
        title="County-wide GovRoam roll-out",
        problem="Staff visiting other partners' sites cannot get onto the network.",
        proposal="Roll out GovRoam roaming network access across partner sites. (Demo case with invented figures, "
        "after a project the fund really supported.)",
        benefiting_partners=["all"],
        benefiting_groups=[],
        sponsor_group=gis,
        estimated_cost_pence=20_000 * 100,
        timescale="6 months",
        contact="pmo.demo@kent.gov.uk",
        status=CaseStatus.COMPLETED,
        awarded_pence=18_000 * 100,
        outcome="GovRoam is available at partner sites across Kent.",
        shared_learning="Agree the network changes with every partner's IT team early.",
    )
    session.add(case)
    session.flush()
    session.add(
        FundEntry(kind=FundEntryKind.AWARD, year=year, amount_pence=18_000 * 100, case_id=case.id, note="demo figure")
    )
    session.flush()
