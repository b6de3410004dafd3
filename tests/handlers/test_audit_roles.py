"""The audit log of privileged actions (handlers.audit, storage.audit) and roles managed in chat
(handlers.roles), on SQLite and PostgreSQL with the demo loaded as of 25 November 2026 (conftest).

Every privileged action writes one AuditEntry in the same transaction: who (actor_id and the
e-mail as actor_label), what (action, subject, details), when (the request's time) and from which
platform. Only admins read it with `audit [FILTER]`, and nothing in chat changes it. Admins give
and take chair, Leadership Board and admin roles in chat; every change is audited.

gis.chair.demo@maidstone.gov.uk chairs GIS, of which demo@kent.gov.uk is a member;
board.demo@kent.police.uk is on the Leadership Board; conftest.ADMIN is an admin through
BOT_ADMINS and pmo.demo@kent.gov.uk through its stored role.
"""

from __future__ import annotations

import re
from typing import Optional

import pytest
from sqlalchemy import func, select

from core.messages import Reply
from storage import groups as group_queries
from storage.models import (
    AuditEntry,
    BusinessCase,
    CaseStatus,
    Event,
    EventStatus,
    Meeting,
    MeetingStatus,
    MemberRole,
    Membership,
    Person,
    PersonRole,
    PersonRoleKind,
)
from storage.people import person_by_email
from tests.conftest import ADMIN, NOW, Chat

DEMO = "demo@kent.gov.uk"
GIS_CHAIR = "gis.chair.demo@maidstone.gov.uk"
BOARD = "board.demo@kent.police.uk"
STORED_ADMIN = "pmo.demo@kent.gov.uk"
NEW_CHAIR = "new.chair@kent.gov.uk"
GENERIC_ERROR = "something went wrong"
ADMINS_ONLY = "Only the Partnership Office can change people's roles."
AUDIT_REFUSAL = "Only the Partnership Office can read the audit log."
CASE_ANSWERS = ("Problem to solve", "Proposal to fund", "all", "none", "gis", "£100", "1 month", "me")


# --- helpers ----------------------------------------------------------------------------------


def say(chat: Chat, *texts: str, user: Optional[str] = None) -> str:
    """Send each message in turn; the last reply's text. No reply may be the generic error."""
    text = ""
    for message in texts:
        text = chat(message, user=user)
        assert GENERIC_ERROR not in text, f"{message!r} -> {text}"
    return text


def entries(session, action: Optional[str] = None) -> list[AuditEntry]:
    session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.execute(query).scalars())


def audit_count(session) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def audit_rows(session) -> list[tuple]:
    return [
        (e.id, e.at, e.actor_id, e.actor_label, e.platform, e.action, e.subject, dict(e.details))
        for e in entries(session)
    ]


def new_entries(session, before: int) -> list[AuditEntry]:
    """The entries written since the log held `before` of them (ids ascend)."""
    return entries(session)[before:]


def one_new(session, before: int) -> AuditEntry:
    found = new_entries(session, before)
    assert len(found) == 1, [(e.action, e.subject) for e in found]
    return found[0]


def pid(session, email: str) -> int:
    person = person_by_email(session, email)
    assert person is not None, email
    return person.id


def check_entry(session, entry: AuditEntry, action: str, subject: str, actor: str, **details) -> None:
    assert entry.action == action
    assert entry.subject == subject
    assert entry.actor_label == actor
    assert entry.actor_id == pid(session, actor)
    assert entry.platform == "console"
    assert entry.at == NOW
    for key, value in details.items():
        assert entry.details.get(key) == value, (key, entry.details)


def meeting_number(text: str) -> int:
    found = re.findall(r"\(meeting (\d+)\)", text)
    assert found, text
    return int(found[0])


def event_number(text: str) -> int:
    found = re.findall(r"\(event (\d+)\)", text)
    assert found, text
    return int(found[0])


def submit_case(chat: Chat, title: str, user: str = DEMO) -> int:
    say(chat, f"new idea {title}", *CASE_ANSWERS, user=user)
    reply = say(chat, "yes", user=user)
    found = re.search(r"\(case (\d+)\)", reply)
    assert found and "submitted" in reply, reply
    return int(found[1])


def gis_meetings(session) -> list[Meeting]:
    session.expire_all()
    gis = group_queries.group_by_slug(session, "gis")
    return list(
        session.execute(
            select(Meeting)
            .where(Meeting.group_id == gis.id, Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at_utc > NOW)
            .order_by(Meeting.starts_at_utc)
        ).scalars()
    )


def audit_reply(chat: Chat, words: str = "", user: str = ADMIN) -> Reply:
    reply = chat.reply(f"audit {words}".strip(), user=user)
    assert GENERIC_ERROR not in reply.plain_text()
    return reply


def listed_subjects(reply: Reply) -> list[str]:
    """The subjects of the entries an `audit` reply lists (its items' titles end with the subject)."""
    return [item.title.rsplit(" ", 1)[1] for item in reply.items]


def role_state(session) -> tuple:
    """Everything a role command could change: people, stored roles, group roles, the audit log."""
    session.expire_all()
    people = sorted(session.execute(select(Person.email)).scalars())
    roles = sorted((r.person_id, r.role.value) for r in session.execute(select(PersonRole)).scalars())
    memberships = sorted((m.person_id, m.group_id, m.role.value) for m in session.execute(select(Membership)).scalars())
    return people, roles, memberships, audit_count(session)


def membership_role(session, email: str, slug: str) -> Optional[MemberRole]:
    session.expire_all()
    person = person_by_email(session, email)
    if person is None:
        return None
    found = group_queries.membership(session, person, group_queries.group_by_slug(session, slug))
    return found.role if found else None


def stored_roles(session, email: str) -> set[PersonRoleKind]:
    session.expire_all()
    person = person_by_email(session, email)
    if person is None:
        return set()
    return {r.role for r in session.execute(select(PersonRole).where(PersonRole.person_id == person.id)).scalars()}


# --- meetings ---------------------------------------------------------------------------------


def test_scheduling_a_meeting_through_the_form_writes_one_entry(chat, session):
    before = audit_count(session)
    say(chat, "schedule gis", "9 March 2027", "10:00-12:00", "no", "Map Room, Chatham", "skip", user=GIS_CHAIR)
    assert audit_count(session) == before  # nothing until the form is confirmed
    summary = say(chat, "skip", user=GIS_CHAIR)
    assert "say `yes` to confirm" in summary
    assert audit_count(session) == before
    done = say(chat, "yes", user=GIS_CHAIR)
    assert "Scheduled 1 GIS meeting" in done
    number = meeting_number(done)
    assert session.get(Meeting, number) is not None
    entry = one_new(session, before)
    check_entry(session, entry, "meeting_scheduled", f"meeting:{number}", GIS_CHAIR, group="gis", meetings=1)
    assert f"(meeting {number})" in entry.details["first"] and "9 March 2027" in entry.details["first"]


def test_moving_a_meeting_writes_one_entry_with_before_and_after(chat, session):
    meeting = gis_meetings(session)[0]
    before = audit_count(session)
    moved = say(chat, f"move {meeting.id} to 16 March 2027 10:00-12:00", user=GIS_CHAIR)
    assert f"Moved meeting {meeting.id}" in moved
    entry = one_new(session, before)
    check_entry(session, entry, "meeting_moved", f"meeting:{meeting.id}", GIS_CHAIR)
    assert "8 December 2026" in entry.details["before"]
    assert "16 March 2027" in entry.details["after"]
    assert "later" not in entry.details  # only this one moved


def test_cancelling_a_meeting_writes_one_entry_once_confirmed(chat, session):
    meeting = gis_meetings(session)[0]
    before = audit_count(session)
    asked = say(chat, f"cancel meeting {meeting.id}", user=GIS_CHAIR)
    assert "say `yes` to confirm" in asked
    assert audit_count(session) == before
    say(chat, "yes", user=GIS_CHAIR)
    session.expire_all()
    assert session.get(Meeting, meeting.id).status is MeetingStatus.CANCELLED
    entry = one_new(session, before)
    check_entry(session, entry, "meeting_cancelled", f"meeting:{meeting.id}", GIS_CHAIR, meetings=1)


def test_an_announcement_writes_one_entry(chat, session):
    before = audit_count(session)
    reply = say(chat, "announce gis The data drill report is out", user=GIS_CHAIR)
    number = int(re.match(r"Announcement (\d+) to GIS", reply)[1])
    entry = one_new(session, before)
    check_entry(
        session,
        entry,
        "announcement_made",
        f"announcement:{number}",
        GIS_CHAIR,
        group="gis",
        recipients=len(group_queries.members(session, group_queries.group_by_slug(session, "gis"))) - 1,
    )
    assert entry.details["send_at"].startswith("2026-11-25T12:00")


# --- events -----------------------------------------------------------------------------------


def create_online_event(chat: Chat, title: str = "Audit Day") -> int:
    # `audit Day` is a command too, so the bot asks whether the title is the answer.
    assert "Is that your answer" in say(chat, "create event", title, user=ADMIN)
    say(
        chat,
        "my answer",
        "skip",
        "skip",
        "skip",
        "3 February 2027",
        "14:00-15:30",
        "online",
        "https://meet.example.org/audit",
        "unlimited",
        "skip",
        user=ADMIN,
    )
    summary = say(chat, "skip", user=ADMIN)
    assert "say `yes` to confirm" in summary
    done = say(chat, "yes", user=ADMIN)
    assert "is published" in done
    return event_number(done)


def test_creating_editing_and_cancelling_an_event_write_one_entry_each(chat, session):
    before = audit_count(session)
    number = create_online_event(chat)
    created = one_new(session, before)
    check_entry(session, created, "event_created", f"event:{number}", ADMIN, title="Audit Day")

    before = audit_count(session)
    assert "title is now Audit Day 2027" in say(chat, f"edit event {number} title Audit Day 2027", user=ADMIN)
    edited = one_new(session, before)
    check_entry(session, edited, "event_edited", f"event:{number}", ADMIN, field="Title", value="Audit Day 2027")

    before = audit_count(session)
    say(chat, f"cancel event {number}", user=ADMIN)
    assert audit_count(session) == before  # asks first
    assert "is cancelled" in say(chat, "yes", user=ADMIN)
    session.expire_all()
    assert session.get(Event, number).status is EventStatus.CANCELLED
    cancelled = one_new(session, before)
    check_entry(session, cancelled, "event_cancelled", f"event:{number}", ADMIN)


# --- business cases and the fund ------------------------------------------------------------------


def test_fund_contribution_writes_one_entry(chat, session):
    before = audit_count(session)
    reply = say(chat, "fund add medway £1,000", user=ADMIN)
    assert "Recorded £1,000 from Medway Council" in reply
    entry = one_new(session, before)
    check_entry(session, entry, "fund_contribution", "fund:2026", ADMIN, partner="medway", amount="£1,000")


def test_every_decision_on_a_case_writes_one_entry(chat, session):
    say(chat, "fund add kent police £5,000", user=ADMIN)
    approved, declined = submit_case(chat, "Audited approval"), submit_case(chat, "Audited decline")

    steps = [
        (f"assess {approved}", BOARD, "case_assessed", approved, {}),
        (f"approve {approved} £100", BOARD, "case_approved", approved, {"amount": "£100"}),
        (f"decline {declined} not enough detail", BOARD, "case_declined", declined, {"reason": "not enough detail"}),
        (f"in delivery {approved}", BOARD, "case_in_delivery", approved, {}),
        (f"fund spent {approved} £40", ADMIN, "fund_spend", approved, {"amount": "£40"}),
        (f"outcome {approved} Desks are bookable", BOARD, "case_completed", approved, {}),
    ]
    for command, user, action, case_id, details in steps:
        before = audit_count(session)
        say(chat, command, user=user)
        entry = one_new(session, before)
        check_entry(session, entry, action, f"case:{case_id}", user, **details)

    session.expire_all()
    assert session.get(BusinessCase, approved).status is CaseStatus.COMPLETED
    assert session.get(BusinessCase, declined).status is CaseStatus.DECLINED


def test_refused_actions_write_no_entry(chat, session):
    case_id = submit_case(chat, "Refusals")
    meeting = gis_meetings(session)[0]
    before = audit_rows(session)
    refusals = [
        (DEMO, f"move {meeting.id} to 16 March 2027 10:00-12:00", "Only the chairs of GIS"),
        (DEMO, f"cancel meeting {meeting.id}", "Only the chairs of GIS"),
        (DEMO, "announce gis Hello", "Only the chairs of GIS"),
        (DEMO, f"approve {case_id} £100", "Only members of the Leadership Board"),
        (DEMO, f"decline {case_id} no", "Only members of the Leadership Board"),
        (GIS_CHAIR, "fund add medway £5", "Only the Partnership Office"),
        (BOARD, f"fund spent {case_id} £5", "Only the Partnership Office"),
        (DEMO, "create event", "Only the Partnership Office"),
        (BOARD, f"approve {case_id} £99,000,000", "more than"),  # refused for the amount
        (DEMO, f"board add {NEW_CHAIR}", ADMINS_ONLY),
    ]
    for user, command, refusal in refusals:
        assert refusal in say(chat, command, user=user), command
    assert audit_rows(session) == before
    session.expire_all()
    assert session.get(BusinessCase, case_id).status is CaseStatus.SUBMITTED
    assert session.get(Meeting, meeting.id).start_local == meeting.start_local


# --- reading the log --------------------------------------------------------------------------


@pytest.mark.parametrize("user", [DEMO, GIS_CHAIR, BOARD, "someone@gmail.com"])
def test_only_admins_read_the_audit_log(chat, session, user):
    say(chat, "fund add medway £1,000", user=ADMIN)
    reply = audit_reply(chat, user=user)
    assert reply.text == AUDIT_REFUSAL
    assert reply.items == ()
    assert "fund:" not in reply.plain_text()


@pytest.mark.parametrize("admin", [ADMIN, STORED_ADMIN])
def test_admins_read_the_audit_log_newest_first(chat, session, admin):
    say(chat, "fund add medway £1,000", user=ADMIN)
    say(chat, "announce gis Hello", user=GIS_CHAIR)
    reply = audit_reply(chat, user=admin)
    assert reply.title == "Audit log"
    assert len(reply.items) >= 2
    newest, older = reply.items[0], reply.items[1]
    assert "announcement made announcement:" in newest.title
    assert f"by {GIS_CHAIR} (console)" in newest.text
    assert "fund contribution fund:2026" in older.title
    assert f"by {ADMIN} (console)" in older.text and "amount: £1,000" in older.text


def test_audit_filters_by_case(chat, session):
    say(chat, "fund add kent police £5,000", user=ADMIN)
    first, second = submit_case(chat, "First filtered"), submit_case(chat, "Second filtered")
    say(chat, f"approve {first} £100", user=BOARD)
    say(chat, f"decline {second} too costly", user=BOARD)
    say(chat, f"fund spent {first} £10", user=ADMIN)

    reply = audit_reply(chat, f"case {first}")
    assert listed_subjects(reply) == [f"case:{first}", f"case:{first}"]
    assert "fund spend" in reply.items[0].title and "case approved" in reply.items[1].title
    other = audit_reply(chat, f"case {second}")
    assert listed_subjects(other) == [f"case:{second}"] and "case declined" in other.items[0].title


def test_audit_filters_by_meeting(chat, session):
    first, second = gis_meetings(session)[:2]
    say(chat, f"move {first.id} to 16 March 2027 10:00-12:00", user=GIS_CHAIR)
    say(chat, "schedule gis", "9 April 2027", "10:00-12:00", "no", "Map Room", "skip", "skip", user=GIS_CHAIR)
    scheduled = meeting_number(say(chat, "yes", user=GIS_CHAIR))
    say(chat, f"move {scheduled} to 10 April 2027 10:00-12:00", user=GIS_CHAIR)

    # The new meeting has the highest number, so no other subject can begin with it.
    reply = audit_reply(chat, f"meeting {scheduled}")
    assert listed_subjects(reply) == [f"meeting:{scheduled}", f"meeting:{scheduled}"]
    assert "meeting moved" in reply.items[0].title and "meeting scheduled" in reply.items[1].title
    assert listed_subjects(audit_reply(chat, f"meeting {second.id}")) == []
    assert "Nothing in the audit log matches" in audit_reply(chat, f"meeting {second.id}").text


def test_audit_meeting_n_lists_only_meeting_n(chat, session):
    session.expire_all()
    ids = sorted(
        session.execute(
            select(Meeting.id).where(Meeting.starts_at_utc > NOW, Meeting.status == MeetingStatus.SCHEDULED)
        ).scalars()
    )
    short, long_ = next((a, b) for a in ids for b in ids if a != b and str(b).startswith(str(a)))
    say(chat, f"move {short} to 16 March 2028 10:00-12:00", user=ADMIN)
    say(chat, f"move {long_} to 17 March 2028 10:00-12:00", user=ADMIN)
    assert listed_subjects(audit_reply(chat, f"meeting {long_}")) == [f"meeting:{long_}"]
    assert listed_subjects(audit_reply(chat, f"meeting {short}")) == [f"meeting:{short}"]


def test_audit_filters_by_action_name(chat, session):
    say(chat, f"board add {NEW_CHAIR}", user=ADMIN)
    say(chat, f"chair gis {NEW_CHAIR}", user=ADMIN)
    reply = audit_reply(chat, "board added")
    assert [i.title.split(": ", 1)[1] for i in reply.items] == [f"board added person:{pid(session, NEW_CHAIR)}"]
    assert listed_subjects(audit_reply(chat, "chair_added")) == ["group:gis"]


def test_audit_approve_lists_the_approvals(chat, session):
    say(chat, "fund add kent police £5,000", user=ADMIN)
    case_id = submit_case(chat, "Approved and audited")
    say(chat, f"approve {case_id} £100", user=BOARD)
    reply = audit_reply(chat, "approve")
    assert listed_subjects(reply) == [f"case:{case_id}"]


def test_no_chat_command_changes_or_deletes_the_audit_log(chat, session):
    say(chat, "fund add medway £1,000", user=ADMIN)
    say(chat, "announce gis Hello", user=GIS_CHAIR)
    before = audit_rows(session)
    assert len(before) >= 2
    for command in (
        "delete audit",
        "audit clear",
        "audit delete",
        "clear audit log",
        "audit log delete 1",
        "delete audit entry 1",
        "erase audit",
        "audit reset",
        "edit audit 1 actor nobody",
        "cancel audit",
    ):
        for user in (ADMIN, STORED_ADMIN, DEMO):
            chat(command, user=user)
    assert audit_rows(session) == before
    assert "Nothing in the audit log matches" in audit_reply(chat, "clear").text
    assert len(audit_reply(chat).items) == len(before)


# --- roles ------------------------------------------------------------------------------------


def test_chair_and_unchair_through_chat(chat, session):
    before = audit_count(session)
    reply = say(chat, f"chair gis {NEW_CHAIR}", user=ADMIN)
    assert reply == f"{NEW_CHAIR} now chairs GIS."
    assert membership_role(session, NEW_CHAIR, "gis") is MemberRole.CHAIR
    check_entry(session, one_new(session, before), "chair_added", "group:gis", ADMIN, person=NEW_CHAIR)
    assert "Which day" in say(chat, "schedule gis", user=NEW_CHAIR)
    say(chat, "cancel", user=NEW_CHAIR)

    before = audit_count(session)
    reply = say(chat, f"unchair gis {NEW_CHAIR}", user=ADMIN)
    assert "no longer chairs GIS" in reply
    assert membership_role(session, NEW_CHAIR, "gis") is MemberRole.MEMBER
    check_entry(session, one_new(session, before), "chair_removed", "group:gis", ADMIN, person=NEW_CHAIR)
    assert "Only the chairs of a group" in say(chat, "schedule gis", user=NEW_CHAIR)


def test_chairing_keeps_an_existing_membership_row(chat, session):
    demo = pid(session, DEMO)
    gis = group_queries.group_by_slug(session, "gis")
    say(chat, f"chair gis {DEMO.upper()}", user=ADMIN)  # e-mail case does not matter
    session.expire_all()
    rows = list(
        session.execute(select(Membership).where(Membership.person_id == demo, Membership.group_id == gis.id)).scalars()
    )
    assert [r.role for r in rows] == [MemberRole.CHAIR]


def test_board_add_and_remove_through_chat(chat, session):
    newcomer = "new.board@medway.gov.uk"
    assert "Only members of the Leadership Board" in say(chat, "review", user=newcomer)

    before = audit_count(session)
    assert "is now a Leadership Board member" in say(chat, f"board add {newcomer}", user=ADMIN)
    assert stored_roles(session, newcomer) == {PersonRoleKind.BOARD}
    check_entry(
        session, one_new(session, before), "board_added", f"person:{pid(session, newcomer)}", ADMIN, person=newcomer
    )
    assert "Only members of the Leadership Board" not in say(chat, "review", user=newcomer)

    before = audit_count(session)
    assert "already a Leadership Board member" in say(chat, f"board add {newcomer}", user=ADMIN)
    assert audit_count(session) == before

    assert "is no longer a Leadership Board member" in say(chat, f"board remove {newcomer}", user=ADMIN)
    assert stored_roles(session, newcomer) == set()
    check_entry(
        session, one_new(session, before), "board_removed", f"person:{pid(session, newcomer)}", ADMIN, person=newcomer
    )
    assert "Only members of the Leadership Board" in say(chat, "review", user=newcomer)


def test_admin_add_and_remove_through_chat(chat, session):
    newcomer = "new.admin@kent.gov.uk"
    assert audit_reply(chat, user=newcomer).text == AUDIT_REFUSAL

    before = audit_count(session)
    assert "is now a Partnership Office admin" in say(chat, f"admin add {newcomer}", user=ADMIN)
    assert stored_roles(session, newcomer) == {PersonRoleKind.ADMIN}
    check_entry(
        session, one_new(session, before), "admin_added", f"person:{pid(session, newcomer)}", ADMIN, person=newcomer
    )
    allowed = audit_reply(chat, user=newcomer)
    assert allowed.title == "Audit log" and "admin added" in allowed.items[0].title

    before = audit_count(session)
    assert "is no longer a Partnership Office admin" in say(chat, f"admin remove {newcomer}", user=STORED_ADMIN)
    assert stored_roles(session, newcomer) == set()
    check_entry(
        session,
        one_new(session, before),
        "admin_removed",
        f"person:{pid(session, newcomer)}",
        STORED_ADMIN,
        person=newcomer,
    )
    assert audit_reply(chat, user=newcomer).text == AUDIT_REFUSAL


@pytest.mark.parametrize(
    "command, answer",
    [
        ("board add someone@gmail.com", "isn't at a Kent Connects partner's e-mail domain"),
        ("admin add someone@example.org", "isn't at a Kent Connects partner's e-mail domain"),
        ("chair gis someone@gmail.com", "isn't at a Kent Connects partner's e-mail domain"),
        ("board add someone@kent", "isn't an e-mail address"),
        ("chair gis x@localhost", "isn't an e-mail address"),
        ("admin add a@b@kent.gov.uk", "isn't an e-mail address"),
        ("chair nosuchgroup someone@kent.gov.uk", "I don't know a group called"),
    ],
)
def test_bad_addresses_and_groups_are_refused_and_change_nothing(chat, session, command, answer):
    say(chat, "whoami", user=ADMIN)  # the admin's own record exists before the snapshot
    before = role_state(session)
    assert answer in say(chat, command, user=ADMIN)
    assert role_state(session) == before


@pytest.mark.parametrize(
    "command, answer",
    [
        (f"unchair gis {DEMO}", f"{DEMO} doesn't chair GIS."),
        (f"board remove {DEMO}", f"{DEMO} isn't a Leadership Board member in the bot's records."),
        (f"admin remove {GIS_CHAIR}", f"{GIS_CHAIR} isn't a Partnership Office admin in the bot's records."),
        (f"admin remove {ADMIN}", "their admin rights come from BOT_ADMINS"),
    ],
)
def test_removing_a_role_someone_does_not_have_says_so(chat, session, command, answer):
    say(chat, "whoami", user=ADMIN)
    before = role_state(session)
    assert answer in say(chat, command, user=ADMIN)
    assert role_state(session) == before


def test_removing_a_role_from_an_unknown_address_stores_nobody(chat, session):
    say(chat, "whoami", user=ADMIN)
    before = role_state(session)
    assert "no role to remove" in say(chat, "board remove never.seen@kent.gov.uk", user=ADMIN)
    assert "no role to remove" in say(chat, "unchair gis never.seen.either@kent.gov.uk", user=ADMIN)
    assert role_state(session) == before


def test_an_admin_cannot_remove_their_own_stored_admin_role(chat, session):
    before = role_state(session)
    reply = say(chat, f"admin remove {STORED_ADMIN}", user=STORED_ADMIN)
    assert "You can't remove your own admin role" in reply
    assert role_state(session) == before
    assert PersonRoleKind.ADMIN in stored_roles(session, STORED_ADMIN)
    assert audit_reply(chat, user=STORED_ADMIN).text != AUDIT_REFUSAL  # still an admin


@pytest.mark.parametrize("user", [DEMO, GIS_CHAIR, BOARD, "someone@gmail.com"])
def test_non_admins_cannot_change_roles(chat, session, user):
    commands = [
        f"chair gis {NEW_CHAIR}",
        f"unchair gis {GIS_CHAIR}",
        f"board add {NEW_CHAIR}",
        f"board remove {BOARD}",
        f"admin add {user}",
        f"admin remove {STORED_ADMIN}",
    ]
    say(chat, "whoami", user=user)
    before = role_state(session)
    for command in commands:
        assert say(chat, command, user=user) == ADMINS_ONLY, command
    assert role_state(session) == before
    assert person_by_email(session, NEW_CHAIR) is None
    assert membership_role(session, GIS_CHAIR, "gis") is MemberRole.CHAIR
    assert PersonRoleKind.BOARD in stored_roles(session, BOARD)


def test_every_role_change_is_in_the_audit_log(chat, session):
    commands = [
        f"chair gis {NEW_CHAIR}",
        f"unchair gis {NEW_CHAIR}",
        f"board add {NEW_CHAIR}",
        f"board remove {NEW_CHAIR}",
        f"admin add {NEW_CHAIR}",
        f"admin remove {NEW_CHAIR}",
    ]
    before = audit_count(session)
    for command in commands:
        say(chat, command, user=ADMIN)
    made = new_entries(session, before)
    assert [e.action for e in made] == [
        "chair_added",
        "chair_removed",
        "board_added",
        "board_removed",
        "admin_added",
        "admin_removed",
    ]
    assert all(e.details == {"person": NEW_CHAIR} and e.actor_label == ADMIN for e in made)
    listed = audit_reply(chat)
    assert [i.title.split(": ", 1)[1].rsplit(" ", 1)[0] for i in listed.items[:6]] == [
        "admin removed",
        "admin added",
        "board removed",
        "board added",
        "chair removed",
        "chair added",
    ]
