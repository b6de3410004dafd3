"""Demo data: invented people, chairs, venues and a year of quarterly meetings per group.

Everything here is made up and says so; dates are relative to the day of loading, so the
demo never goes stale. The real partners and groups come from storage/data/kent_connects.yaml.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrulestr
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import groups as group_queries
from storage.meetings import add_series
from storage.models import MeetingSeries, MeetingStatus
from storage.seed import PARTNERS_FILE, SeedSummary, load_data, load_file

DEMO_USER = "demo@kent.gov.uk"

DEMO_PEOPLE = [
    {"email": DEMO_USER, "name": "Demo User (KCC)",
     "groups": {"gis": "member", "information-security": "member", "smart-kent-and-medway": "chair"}},
    {"email": "pmo.demo@kent.gov.uk", "name": "Demo PMO Officer", "roles": ["admin"]},
    {"email": "board.demo@kent.police.uk", "name": "Demo Board Member (Kent Police)", "roles": ["board"],
     "groups": {"leadership": "chair"}},
    {"email": "leadership.demo@medway.gov.uk", "name": "Demo Leadership Member (Medway)", "roles": ["board"],
     "groups": {"leadership": "member"}},
    {"email": "gis.chair.demo@maidstone.gov.uk", "name": "Demo GIS Chair (Maidstone)",
     "groups": {"gis": "chair"}},
    {"email": "infosec.chair.demo@kent.fire-uk.org", "name": "Demo Information Security Chair (KFRS)",
     "groups": {"information-security": "chair"}},
    {"email": "a11y.chair.demo@kent.ac.uk", "name": "Demo Digital Accessibility Chair (University of Kent)",
     "groups": {"digital-accessibility": "chair"}},
    {"email": "member.demo@swale.gov.uk", "name": "Demo Member (Swale)",
     "groups": {"gis": "member", "smart-kent-and-medway": "member", "digital-accessibility": "member"}},
    {"email": "member.demo@uca.ac.uk", "name": "Demo Member (UCA)",
     "groups": {"information-security": "member", "smart-kent-and-medway": "member"}},
]

# (group slug, RFC 5545 rule, start, minutes, place, online link, months after loading to begin)
DEMO_SERIES = [
    ("leadership", "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TH", time(14, 0), 120,
     "Orchard Room, Demo House, Maidstone (demo venue)", None, 1),
    ("information-security", "FREQ=MONTHLY;INTERVAL=3;BYDAY=1WE", time(10, 0), 120,
     None, "https://meet.example.org/demo-infosec", 1),
    ("digital-accessibility", "FREQ=MONTHLY;INTERVAL=3;BYDAY=3TU", time(13, 30), 90,
     "Hop Room, Demo Hub, Canterbury (demo venue)", "https://meet.example.org/demo-accessibility", 2),
    ("gis", "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU", time(10, 0), 120,
     "Map Room, Demo Centre, Chatham (demo venue)", "https://meet.example.org/demo-gis", 1),
    ("smart-kent-and-medway", "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR", time(10, 0), 90,
     "Estuary Room, Demo Works, Ashford (demo venue)", None, 3),
]
OCCURRENCES = 4  # a year of quarterly meetings


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
    return summary


def _has_series(session: Session, group_id: int) -> bool:
    return session.execute(
        select(MeetingSeries.id).where(MeetingSeries.group_id == group_id).limit(1)
    ).first() is not None


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    return day.replace(year=day.year + month_index // 12, month=month_index % 12 + 1)
