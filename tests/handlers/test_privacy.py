"""UK GDPR in chat (handlers.privacy): `my data` exports everything held about the person, and
`forget me` erases it after they type `erase everything`, keeping (without their name) what the
partnership must keep. On SQLite and PostgreSQL with the demo loaded as of 25 November 2026 (conftest).

demo@kent.gov.uk (Kent County Council) is a member of GIS and Information Security and chairs
Smart Kent and Medway Projects; gis.chair.demo@maidstone.gov.uk chairs GIS;
board.demo@kent.police.uk is on the Leadership Board and chairs the Leadership Group.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from sqlalchemy import func, select

from core.messages import Reply, Request
from storage import references
from storage.models import (
    Announcement,
    AnnouncementAck,
    AuditEntry,
    BusinessCase,
    CaseChange,
    CaseStatus,
    ConversationRef,
    ConversationState,
    Delivery,
    Event,
    FundEntry,
    FundEntryKind,
    Membership,
    Person,
    PersonRole,
    PlatformIdentity,
    Registration,
    ReminderSetting,
)
from storage.people import person_by_email
from tests.conftest import ADMIN, NOW, Chat

DEMO = "demo@kent.gov.uk"
GIS_CHAIR = "gis.chair.demo@maidstone.gov.uk"
BOARD = "board.demo@kent.police.uk"
MEDWAY = "someone@medway.gov.uk"
OUTSIDER = "someone@gmail.com"
FORMER_KCC = "a former member of Kent County Council"
FORMER_POLICE = "a former member of Kent Police"
GENERIC_ERROR = "something went wrong"
CONFIRM_AGAIN = "To be sure, type the words `erase everything`, or say `cancel`."
CASE_ANSWERS = ("Staff cannot find a desk", "Buy one booking service", "all", "none", "gis", "£100", "1 month", "me")

# Every table that holds a row per person, with the column naming them.
PERSONAL = (
    (Membership, Membership.person_id),
    (Registration, Registration.person_id),
    (PlatformIdentity, PlatformIdentity.person_id),
    (ConversationRef, ConversationRef.person_id),
    (ReminderSetting, ReminderSetting.person_id),
    (Delivery, Delivery.recipient_id),
    (AnnouncementAck, AnnouncementAck.person_id),
    (ConversationState, ConversationState.person_id),
    (PersonRole, PersonRole.person_id),
)


# --- helpers ----------------------------------------------------------------------------------


def say(chat: Chat, *texts: str, user: Optional[str] = None) -> str:
    text = ""
    for message in texts:
        text = chat(message, user=user)
        assert GENERIC_ERROR not in text, f"{message!r} -> {text}"
    return text


def pid(session, email: str) -> int:
    session.expire_all()
    person = person_by_email(session, email)
    assert person is not None, email
    return person.id


def count(session, model, column, value) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(model).where(column == value)).scalar_one()


def personal_counts(session, person_id: int) -> dict[str, int]:
    return {model.__tablename__: count(session, model, column, person_id) for model, column in PERSONAL}


def submit_case(chat: Chat, title: str, user: str = DEMO) -> int:
    say(chat, f"new idea {title}", *CASE_ANSWERS, user=user)
    reply = say(chat, "yes", user=user)
    found = re.search(r"\(case (\d+)\)", reply)
    assert found and "submitted" in reply, reply
    return int(found[1])


def event_id(session, title: str) -> int:
    return session.execute(select(Event.id).where(Event.title == title)).scalar_one()


def export(chat: Chat, user: str = DEMO) -> tuple[Reply, dict[str, Any]]:
    reply = chat.reply("my data", user=user)
    assert GENERIC_ERROR not in reply.plain_text()
    assert reply.attachment is not None, reply.plain_text()
    assert reply.attachment.filename.endswith(".json")
    assert reply.attachment.content_type == "application/json"
    return reply, json.loads(reply.attachment.content.decode("utf-8"))


def summary_counts(reply: Reply) -> dict[str, str]:
    return {f.label: f.value for f in reply.fields}


def erase(chat: Chat, user: str) -> str:
    asked = say(chat, "forget me", user=user)
    assert "erase everything" in asked
    return say(chat, "erase everything", user=user)


def give_demo_a_record(chat: Chat, session) -> dict[str, int]:
    """demo@kent.gov.uk: a place at an event, a business case, reminder settings, a message
    waiting for them, an announcement they made (audited), an identity on Slack, a Teams
    conversation reference and an acknowledged announcement. Returns the ids made."""
    demo = pid(session, DEMO)
    say(chat, "register future workplaces online")
    case_id = submit_case(chat, "Shared desk booking")
    say(chat, "reminders 3 days")
    gis_note = int(re.match(r"Announcement (\d+)", say(chat, "announce gis Hello GIS", user=GIS_CHAIR))[1])
    mine = int(re.match(r"Announcement (\d+)", say(chat, "announce smart kent Hi folks"))[1])
    session.add(PlatformIdentity(person_id=demo, platform="slack", workspace="T0DEMO", external_id="U0DEMO"))
    references.save(
        session,
        "teams",
        "user:29:demo",
        {"user": {"id": "29:demo", "name": "Demo User (KCC)"}},
        "https://smba.trafficmanager.net/uk/",
        "tenant-1",
        demo,
        NOW,
    )
    session.add(AnnouncementAck(announcement_id=gis_note, person_id=demo, at=NOW))
    session.flush()
    return {"demo": demo, "case": case_id, "gis_note": gis_note, "announcement": mine}


# --- my data ------------------------------------------------------------------------------------


def test_my_data_exports_everything_held_with_a_matching_summary(chat, session):
    made = give_demo_a_record(chat, session)
    demo = made["demo"]
    say(chat, "new idea Half done", "Problem so far", "Proposal so far")  # a form in progress

    reply, data = export(chat)

    assert data["person"]["email"] == DEMO
    assert data["person"]["name"] == "Demo User (KCC)"
    assert data["person"]["partner"] == "Kent County Council"
    assert {(m["group"], m["role"]) for m in data["group_memberships"]} == {
        ("GIS", "member"),
        ("Information Security", "member"),
        ("Smart Kent and Medway Projects", "chair"),
    }
    assert len(data["group_memberships"]) == count(session, Membership, Membership.person_id, demo)
    assert [(r["event"], r["mode"], r["status"]) for r in data["event_registrations"]] == [
        ("Future Workplaces", "online", "confirmed")
    ]
    assert [(c["case"], c["title"], c["status"], c["contact"]) for c in data["business_cases_submitted"]] == [
        (made["case"], "Shared desk booking", "submitted", DEMO)
    ]
    assert data["reminder_settings"] == [{"enabled": True, "lead_times": ["3d"]}]
    assert [(m["kind"], m["status"], m["text"]) for m in data["messages_to_you"]] == [
        ("announcement", "pending", "Hello GIS")
    ]
    assert len(data["messages_to_you"]) == count(session, Delivery, Delivery.recipient_id, demo)
    assert [(a["announcement"], a["text"]) for a in data["announcements_made"]] == [(made["announcement"], "Hi folks")]
    assert [(f["form"], f["answers"].get("title"), f["answers"].get("problem")) for f in data["forms_in_progress"]] == [
        ("business_case", "Half done", "Problem so far")
    ]
    assert [(e["action"], e["subject"]) for e in data["audit_entries_as_actor"]] == [
        ("announcement_made", f"announcement:{made['announcement']}")
    ]
    assert len(data["audit_entries_as_actor"]) == count(session, AuditEntry, AuditEntry.actor_id, demo)
    assert [(i["platform"], i["workspace"], i["id"]) for i in data["platform_identities"]] == [
        ("slack", "T0DEMO", "U0DEMO")
    ]

    # The readable summary counts what the file lists.
    shown = summary_counts(reply)
    assert shown["E-mail"] == DEMO and shown["Partner"] == "Kent County Council"
    for key, value in data.items():
        if isinstance(value, list):
            assert shown[key.replace("_", " ").capitalize()] == str(len(value)), key
    assert shown["Group memberships"] == "3" and shown["Event registrations"] == "1"
    assert shown["Business cases submitted"] == "1" and shown["Forms in progress"] == "1"


def test_my_data_changes_nothing(chat, session):
    demo = pid(session, DEMO)
    say(chat, "register future workplaces online")
    before = personal_counts(session, demo)
    audit_before = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    export(chat)
    assert personal_counts(session, demo) == before
    assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == audit_before


def test_someone_not_stored_is_told_nothing_is_held(chat, session):
    reply = chat.reply("my data", user=OUTSIDER)
    assert "I hold nothing about you" in reply.text and OUTSIDER in reply.text
    assert reply.attachment is None
    assert person_by_email(session, OUTSIDER) is None
    forget = say(chat, "forget me", user=OUTSIDER)
    assert "nothing to erase" in forget
    assert person_by_email(session, OUTSIDER) is None


def test_my_data_includes_conversation_references_and_acknowledgements(chat, session):
    give_demo_a_record(chat, session)
    _, data = export(chat)
    text = json.dumps(data)
    assert "29:demo" in text  # the Teams conversation reference
    assert any("ack" in key for key in data)  # the acknowledged announcement


# --- forget me: the confirmation ------------------------------------------------------------------


def test_forget_me_asks_for_the_exact_words_and_anything_else_keeps_everything(chat, session):
    demo = pid(session, DEMO)
    before = personal_counts(session, demo)
    asked = say(chat, "forget me")
    assert "can't be undone" in asked and "`erase everything`" in asked
    session.expire_all()
    [draft] = session.execute(select(ConversationState).where(ConversationState.person_id == demo)).scalars()
    assert draft.form == "forget_me"
    for answer in ("yes", "erase", "ok, erase it all", "erase everything please now", "delete everything"):
        assert CONFIRM_AGAIN in say(chat, answer), answer
        assert person_by_email(session, DEMO) is not None
    assert personal_counts(session, demo) == before | {"conversation_state": 1}
    assert count(session, AuditEntry, AuditEntry.action, "erasure") == 0


def test_cancel_stops_the_erasure(chat, session):
    demo = pid(session, DEMO)
    before = personal_counts(session, demo)
    say(chat, "forget me")
    assert "nothing was saved" in say(chat, "cancel")
    assert personal_counts(session, demo) == before
    # The words alone are no command's exact words: the bot asks whether to start `forget me`
    # again (bot/nlu), and `no` to that leaves everything as it was.
    assert say(chat, "erase everything").startswith("Shall I erase what I hold about you?")
    assert "left everything as it was" in say(chat, "no")
    assert pid(session, DEMO) == demo
    assert personal_counts(session, demo) == before
    assert count(session, AuditEntry, AuditEntry.action, "erasure") == 0


def test_another_command_pauses_the_erasure_without_erasing(chat, session):
    demo = pid(session, DEMO)
    before = personal_counts(session, demo)
    say(chat, "forget me")
    assert "GIS" in say(chat, "my meetings")
    assert pid(session, DEMO) == demo
    assert personal_counts(session, demo) == before | {"conversation_state": 1}


# --- forget me: the erasure -----------------------------------------------------------------------


def test_erase_everything_erases_the_person_and_anonymises_what_is_kept(chat, session):
    made = give_demo_a_record(chat, session)
    demo, case_id = made["demo"], made["case"]
    assert all(
        n > 0 for name, n in personal_counts(session, demo).items() if name not in ("conversation_state", "person_role")
    ), personal_counts(session, demo)

    done = erase(chat, DEMO)
    assert "Done: I've erased" in done
    assert "Kept" in done and f"“{FORMER_KCC}”" in done and "public money" in done and "audit log" in done

    session.expire_all()
    assert person_by_email(session, DEMO) is None
    assert session.get(Person, demo) is None
    assert personal_counts(session, demo) == {model.__tablename__: 0 for model, _ in PERSONAL}

    # The business case stays, without its submitter's name.
    case = session.get(BusinessCase, case_id)
    assert case is not None and case.status is CaseStatus.SUBMITTED
    assert case.submitter_id is None
    assert case.contact == FORMER_KCC
    assert case.submitter_partner.name == "Kent County Council"
    changes = list(session.execute(select(CaseChange).where(CaseChange.case_id == case_id)).scalars())
    assert changes and all(c.actor_id is None for c in changes)
    shown = say(chat, f"idea {case_id}", user=MEDWAY)
    assert "submitted by a former member" in shown and f"Contact: {FORMER_KCC}" in shown
    assert DEMO not in shown and "Demo User" not in shown

    # Their announcement stays, unsigned; their audit entries stay, anonymised.
    assert session.get(Announcement, made["announcement"]).author_id is None
    made_by_them = session.execute(
        select(AuditEntry).where(AuditEntry.subject == f"announcement:{made['announcement']}")
    ).scalar_one()
    assert made_by_them.actor_label == FORMER_KCC and made_by_them.actor_id is None
    assert made_by_them.action == "announcement_made"

    # The erasure itself is on the record.
    erasure = session.execute(select(AuditEntry).where(AuditEntry.action == "erasure")).scalar_one()
    assert erasure.subject == f"person:{demo}"
    assert erasure.actor_label == FORMER_KCC and erasure.actor_id is None
    assert erasure.platform == "console" and erasure.at == NOW

    # No trace of the address or the name anywhere in the log.
    labels = session.execute(select(AuditEntry.actor_label)).scalars().all()
    assert DEMO not in labels


def test_an_erased_board_member_s_decisions_stand(chat, session):
    say(chat, "fund add kent police £5,000", user=ADMIN)
    case_id = submit_case(chat, "Decided then erased")
    say(chat, f"approve {case_id} £2,500", user=BOARD)
    board = pid(session, BOARD)

    done = erase(chat, BOARD)
    assert f"“{FORMER_POLICE}”" in done
    session.expire_all()
    assert person_by_email(session, BOARD) is None
    assert count(session, PersonRole, PersonRole.person_id, board) == 0
    assert count(session, Membership, Membership.person_id, board) == 0  # chaired the Leadership Group

    case = session.get(BusinessCase, case_id)
    assert case.status is CaseStatus.APPROVED and case.awarded_pence == 250_000
    [award] = session.execute(
        select(FundEntry).where(FundEntry.case_id == case_id, FundEntry.kind == FundEntryKind.AWARD)
    ).scalars()
    assert award.amount_pence == 250_000 and award.recorded_by_id is None
    approval = session.execute(
        select(CaseChange).where(CaseChange.case_id == case_id, CaseChange.to_status == CaseStatus.APPROVED)
    ).scalar_one()
    assert approval.actor_id is None and approval.note == "awarded £2,500"
    decision = session.execute(
        select(AuditEntry).where(AuditEntry.action == "case_approved", AuditEntry.subject == f"case:{case_id}")
    ).scalar_one()
    assert decision.actor_label == FORMER_POLICE and decision.details == {"amount": "£2,500"}
    shown = say(chat, f"idea {case_id}", user=MEDWAY)
    assert "Status: approved" in shown and "Awarded: £2,500" in shown
    assert "approved by a former member" in shown and "Demo Board Member" not in shown


def test_writing_again_after_erasure_starts_a_new_empty_record(chat, session):
    give_demo_a_record(chat, session)
    old = pid(session, DEMO)
    erase(chat, DEMO)

    reply, data = export(chat)
    new = pid(session, DEMO)
    assert new != old
    assert data["person"]["email"] == DEMO and data["person"]["name"] is None
    assert data["person"]["roles"] == []
    assert all(value == [] for value in data.values() if isinstance(value, list)), data
    assert all(f.value == "0" for f in reply.fields if f.label not in ("E-mail", "Partner"))
    assert "Groups: none yet" in say(chat, "whoami")
    assert personal_counts(session, new) == {model.__tablename__: 0 for model, _ in PERSONAL}


def test_erasure_on_another_platform_removes_that_identity(chat, session):
    request = Request(text="forget me", platform="slack", user_id="U0MEDWAY", email=MEDWAY, now=NOW, workspace="T0KC")
    asked = chat.router.handle(request)
    assert "erase everything" in asked.plain_text()
    person = pid(session, MEDWAY)
    assert count(session, PlatformIdentity, PlatformIdentity.person_id, person) == 1
    done = chat.router.handle(
        Request(text="erase everything", platform="slack", user_id="U0MEDWAY", email=MEDWAY, now=NOW, workspace="T0KC")
    )
    assert "Done: I've erased" in done.plain_text()
    session.expire_all()
    assert person_by_email(session, MEDWAY) is None
    assert count(session, PlatformIdentity, PlatformIdentity.person_id, person) == 0
    erasure = session.execute(select(AuditEntry).where(AuditEntry.action == "erasure")).scalar_one()
    assert erasure.platform == "slack" and erasure.actor_label == "a former member of Medway Council"


def test_erasure_leaves_the_address_nowhere_in_the_audit_log(chat, session):
    newcomer = "new.board@kent.gov.uk"
    say(chat, f"board add {newcomer}", user=ADMIN)
    say(chat, f"chair gis {newcomer}", user=ADMIN)
    assert "Done: I've erased" in erase(chat, newcomer)
    session.expire_all()
    leftovers = [
        (e.action, e.subject, e.actor_label, e.details)
        for e in session.execute(select(AuditEntry)).scalars()
        if newcomer in e.actor_label or newcomer in json.dumps(e.details)
    ]
    assert leftovers == []
