"""Who may do what: every privileged command against every kind of person.

A refused command must say so politely and change nothing; an allowed one must do its work.
(Business-case decisions have their own table in tests/handlers/test_business_cases.py.)
"""

import pytest
from sqlalchemy import func, select

from storage import meetings as meeting_queries
from storage.groups import group_by_slug
from storage.models import (
    Announcement,
    AuditEntry,
    ConversationState,
    Event,
    Meeting,
    MeetingStatus,
    Membership,
    PersonRole,
    Registration,
)
from tests.conftest import ADMIN, NOW

OUTSIDER = "someone@gmail.com"
STAFF = "someone@medway.gov.uk"
SMART_CHAIR = "demo@kent.gov.uk"  # member of GIS, chair of Smart Kent and Medway Projects
GIS_CHAIR = "gis.chair.demo@maidstone.gov.uk"
BOARD = "board.demo@kent.police.uk"  # Leadership Board, chair of the Leadership Group
EVERYONE = (OUTSIDER, STAFF, SMART_CHAIR, GIS_CHAIR, BOARD, ADMIN)
PARTNER_STAFF = (STAFF, SMART_CHAIR, GIS_CHAIR, BOARD, ADMIN)

TABLES = (Meeting, Announcement, Event, AuditEntry, Membership, PersonRole, Registration)


def snapshot(session):
    session.expire_all()
    counts = {t.__tablename__: session.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}
    counts["cancelled"] = session.execute(
        select(func.count()).select_from(Meeting).where(Meeting.status == MeetingStatus.CANCELLED)
    ).scalar_one()
    counts["moved"] = session.execute(select(func.coalesce(func.sum(Meeting.sequence), 0))).scalar_one()
    return counts


def next_gis_meeting(session) -> int:
    gis = group_by_slug(session, "gis")
    return meeting_queries.upcoming(session, NOW, [gis.id], limit=1)[0].id


# (command, who may, a phrase an allowed reply has)
CASES = [
    ("meetings gis", PARTNER_STAFF, "coming up"),
    ("meetings leadership", (BOARD, ADMIN), "coming up"),
    ("join gis", PARTNER_STAFF, "GIS"),
    ("register 1 online", PARTNER_STAFF, "Future Workplaces"),
    ("schedule gis", (GIS_CHAIR, ADMIN), "Schedule a meeting"),
    ("move {gis} to 16 March 2027 14:00-15:00", (GIS_CHAIR, ADMIN), "Moved meeting"),
    ("cancel meeting {gis}", (GIS_CHAIR, ADMIN), "Cancel a meeting"),
    ("announce gis The data drill report is out", (GIS_CHAIR, ADMIN), "Announcement"),
    ("announce smart kent Sensors are live", (SMART_CHAIR, ADMIN), "Announcement"),
    ("create event", (ADMIN,), "Create an event"),
    ("edit event 1 venue Sessions House", (ADMIN,), "venue is now Sessions House"),
    ("attendees 1", (ADMIN,), "Attendees"),
    ("audit", (ADMIN,), "The audit log is empty"),  # the demo has no privileged actions yet
    ("chair gis new.chair@kent.gov.uk", (ADMIN,), "now chairs GIS"),
    ("board add new.board@medway.gov.uk", (ADMIN,), "Leadership Board member"),
    ("admin add new.admin@kent.gov.uk", (ADMIN,), "Partnership Office admin"),
]


@pytest.mark.parametrize("who", EVERYONE)
@pytest.mark.parametrize("command,allowed,marker", CASES, ids=[c[0].split(" {")[0] for c in CASES])
def test_who_may_do_what(chat, session, command, allowed, marker, who):
    words = command.format(gis=next_gis_meeting(session))
    before = snapshot(session)
    reply = chat(words, user=who)
    assert "something went wrong" not in reply
    if who in allowed:
        assert marker in reply, reply
    else:
        assert marker not in reply, reply
        after = snapshot(session)
        assert after == before, f"{who} was refused {words!r} but the data changed"
        # A refusal never starts a form either.
        assert session.execute(select(func.count()).select_from(ConversationState)).scalar_one() == 0


def test_closed_group_dates_never_reach_non_members(chat, session):
    leadership = group_by_slug(session, "leadership")
    dates = [m.start_local.strftime("%-d %B %Y") for m in meeting_queries.upcoming(session, NOW, [leadership.id])]
    assert dates
    for who in (STAFF, SMART_CHAIR, GIS_CHAIR):
        for words in (
            "meetings leadership",
            "next leadership meeting",
            "meetings",
            "meetings in March",
            "calendar leadership",
            "my meetings",
            f"calendar meeting {meeting_queries.upcoming(session, NOW, [leadership.id])[0].id}",
        ):
            text = chat(words, user=who)
            assert not any(d in text for d in dates), (who, words)
