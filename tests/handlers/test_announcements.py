"""Chairs' announcements (handlers.announcements): now or later, a delivery report that follows the
dispatcher, acknowledgements, and cancelling before they go. On SQLite and PostgreSQL with the demo
loaded as of Wednesday 25 November 2026, 12:00 UTC (conftest).

demo@kent.gov.uk chairs Smart Kent and Medway Projects (slug smart-kent-and-medway), whose other
members are member.demo@swale.gov.uk and member.demo@uca.ac.uk; gis.chair.demo@maidstone.gov.uk
chairs GIS only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest
from sqlalchemy import func, select

from bot.dispatcher import Dispatcher, Policy
from bot.senders import Outcome, Recipient, SendResult
from core.messages import Reply, Request
from storage import groups as group_queries
from storage.announcements import release_due
from storage.models import Announcement, AnnouncementAck, AnnouncementStatus, Delivery, DeliveryStatus
from storage.people import person_by_email
from tests.conftest import ADMIN, NOW, Chat

UTC = timezone.utc
CHAIR = "demo@kent.gov.uk"
SWALE = "member.demo@swale.gov.uk"
UCA = "member.demo@uca.ac.uk"
GIS_CHAIR = "gis.chair.demo@maidstone.gov.uk"
OUTSIDER = "someone@gmail.com"
SMART = "smart-kent-and-medway"
GENERIC_ERROR = "something went wrong"
TEXT = "Hello, everyone! The pilot report is out — see p. 3 (draft v2)… Comments by Friday? 🎉🌱"
LATER = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday 1 December 2026, 09:00 GMT


# --- helpers ----------------------------------------------------------------------------------


def say(chat: Chat, text: str, user: Optional[str] = None, now: Optional[datetime] = None) -> str:
    reply = chat(text, user=user, now=now)
    assert GENERIC_ERROR not in reply, f"{text!r} -> {reply}"
    return reply


def announce(chat: Chat, words: str, user: str = CHAIR) -> int:
    reply = say(chat, f"announce {words}", user=user)
    match = re.match(r"Announcement (\d+) to ", reply)
    assert match, reply
    return int(match[1])


def report(chat: Chat, number: int, user: str = CHAIR) -> dict[str, str]:
    reply = chat.reply(f"announcement {number}", user=user)
    assert reply.title == f"Announcement {number}: delivery report", reply.plain_text()
    return {f.label: f.value for f in reply.fields} | {
        "items": [(i.title, i.text) for i in reply.items],
        "text": reply.text,
    }


def counts(chat: Chat, number: int) -> tuple[str, ...]:
    found = report(chat, number)
    return tuple(found[label] for label in ("Sent", "Waiting", "Failed", "Not sent", "Acknowledged"))


def stored(session, number: int) -> list[Delivery]:
    session.expire_all()
    return list(
        session.execute(
            select(Delivery)
            .where(Delivery.kind == "announcement", Delivery.subject == f"announcement:{number}")
            .order_by(Delivery.id)
        ).scalars()
    )


def announcement_count(session) -> int:
    return session.execute(select(func.count()).select_from(Announcement)).scalar_one()


def person_id(session, email: str) -> int:
    person = person_by_email(session, email)
    assert person is not None
    return person.id


class Recorder:
    """A console sender that records what it sends; `refuse` answers PERMANENT for some people."""

    platform = "console"
    by_email = True  # reaches anyone by e-mail address, as a test stand-in

    def __init__(self, refuse: Callable[[Recipient], Optional[str]] = lambda r: None):
        self.sent: list[tuple[str, Reply]] = []
        self.refuse = refuse

    def rate_limit(self, recipient: Recipient):
        return None

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        error = self.refuse(recipient)
        if error:
            return SendResult(Outcome.PERMANENT, error)
        self.sent.append((recipient.email, message))
        return SendResult.sent()


def dispatch(sessions, at: datetime = NOW, sender: Optional[Recorder] = None) -> Recorder:
    sender = sender or Recorder()
    Dispatcher(sessions, [sender], Policy(), clock=lambda: at).run_until_idle()
    return sender


# --- announcing now -----------------------------------------------------------------------------


def test_a_chair_announces_now_to_the_other_members(chat, session, sessions):
    reply = say(chat, f"announce {SMART} {TEXT}")
    assert (
        reply.startswith("Announcement ")
        and "to Smart Kent and Medway Projects goes to its 2 other members now" in reply
    )
    number = int(reply.split()[1])
    rows = stored(session, number)
    assert sorted(d.recipient_id for d in rows) == sorted([person_id(session, SWALE), person_id(session, UCA)])
    assert {(d.status, d.due_at, d.occurrence) for d in rows} == {(DeliveryStatus.PENDING, NOW, "1")}
    message = Reply.from_data(rows[0].payload)
    assert message.text == TEXT  # punctuation and emoji as typed
    assert message.title == "Smart Kent and Medway Projects: announcement from Demo User (KCC)"
    assert [a.command for a in message.actions] == [f"ack {number}"]
    sent = dispatch(sessions)
    assert sorted(email for email, _ in sent.sent) == [SWALE, UCA]
    assert {m.text for _, m in sent.sent} == {TEXT}


def test_the_group_can_be_named_by_an_alias_and_the_text_keeps_its_capitals(chat, session):
    number = announce(chat, "smart kent and medway GIS Day: bring your MAPS!")
    [announcement] = [a for a in session.execute(select(Announcement)).scalars() if a.id == number]
    assert announcement.text == "GIS Day: bring your MAPS!"
    assert announcement.status is AnnouncementStatus.SENT and announcement.send_at == NOW


def test_the_report_follows_the_dispatcher(chat, session, sessions):
    number = announce(chat, f"{SMART} {TEXT}")
    assert counts(chat, number) == ("0", "2", "0", "0", "0")
    assert (
        "to Smart Kent and Medway Projects, sent (from Wednesday 25 November 2026, 12:00 GMT)"
        in report(chat, number)["text"]
    )
    dispatch(sessions)
    assert counts(chat, number) == ("2", "0", "0", "0", "0")


def test_the_report_lists_failures_with_their_reasons(chat, session, sessions):
    number = announce(chat, f"{SMART} {TEXT}")
    sender = Recorder(refuse=lambda r: "HTTP 403: the person blocked the bot" if r.email == UCA else None)
    dispatch(sessions, sender=sender)
    assert [email for email, _ in sender.sent] == [SWALE]
    found = report(chat, number)
    assert (found["Sent"], found["Waiting"], found["Failed"]) == ("1", "0", "1")
    assert found["items"] == [("Demo Member (UCA)", "HTTP 403: the person blocked the bot")]


def test_acknowledgements_are_counted_once_per_person(chat, session, sessions):
    number = announce(chat, f"{SMART} {TEXT}")
    dispatch(sessions)
    assert "acknowledgement of announcement" in say(chat, f"ack {number}", user=SWALE)
    assert "acknowledgement of announcement" in say(chat, f"acknowledge announcement {number}", user=SWALE)
    assert counts(chat, number)[-1] == "1"
    say(chat, f"ack {number}", user=UCA)
    assert counts(chat, number)[-1] == "2"
    # Only people it was sent to can acknowledge it.
    assert f"can't find an announcement {number} sent to you" in say(chat, f"ack {number}", user=GIS_CHAIR)
    assert f"can't find an announcement {number} sent to you" in say(chat, f"ack {number}", user=CHAIR)
    assert "can't find an announcement 99999 sent to you" in say(chat, "ack 99999", user=SWALE)
    assert session.execute(select(func.count()).select_from(AnnouncementAck)).scalar_one() == 2


# --- announcing later and cancelling -----------------------------------------------------------


def test_a_chair_announces_for_later_and_it_goes_at_that_time(chat, session, sessions):
    reply = say(chat, f"announce {SMART} at 1 December 2026 9am: Our next meeting moves online.")
    assert "goes to its 2 other members on Tuesday 1 December 2026, 09:00 GMT" in reply
    assert "cancel announcement" in reply
    number = int(reply.split()[1])
    rows = stored(session, number)
    assert {(d.due_at, d.status) for d in rows} == {(LATER, DeliveryStatus.PENDING)}
    assert Reply.from_data(rows[0].payload).text == "Our next meeting moves online."
    assert "scheduled (for Tuesday 1 December 2026, 09:00 GMT)" in report(chat, number)["text"]
    assert dispatch(sessions, NOW).sent == []
    assert dispatch(sessions, LATER - timedelta(seconds=1)).sent == []
    assert counts(chat, number) == ("0", "2", "0", "0", "0")
    assert sorted(email for email, _ in dispatch(sessions, LATER).sent) == [SWALE, UCA]
    assert counts(chat, number) == ("2", "0", "0", "0", "0")


def test_cancelling_before_it_goes_withdraws_every_delivery(chat, session, sessions):
    number = announce(chat, f"{SMART} at 1 December 2026 9am: Our next meeting moves online.")
    assert say(chat, f"cancel announcement {number}") == f"Cancelled announcement {number}; nobody received it."
    rows = stored(session, number)
    assert len(rows) == 2
    assert {(d.status, d.last_error) for d in rows} == {(DeliveryStatus.SKIPPED, "cancelled by its author")}
    assert dispatch(sessions, LATER).sent == []
    assert counts(chat, number) == ("0", "0", "0", "2", "0")
    assert "already cancelled" in say(chat, f"cancel announcement {number}")
    assert f"Announcement {number} to Smart Kent and Medway Projects (cancelled)" in say(chat, "announcements")


def test_cancelling_after_it_went_says_so(chat, session, sessions):
    number = announce(chat, f"{SMART} {TEXT}")
    dispatch(sessions)
    reply = say(chat, f"cancel announcement {number}")
    assert reply == f"Stopped announcement {number}: 0 not yet sent are withdrawn, but 2 had already gone."
    assert {d.status for d in stored(session, number)} == {DeliveryStatus.SENT}


def test_a_time_in_the_past_is_refused(chat, session):
    reply = say(chat, f"announce {SMART} at 1 November 2026 9am: Too late")
    assert "Sunday 1 November 2026, 09:00 GMT has already passed" in reply
    assert announcement_count(session) == 0


# --- who may announce and see reports ----------------------------------------------------------


@pytest.mark.parametrize(
    "user, answer",
    [
        (SWALE, "Only the chairs of Smart Kent and Medway Projects and the Partnership Office can announce to it."),
        (GIS_CHAIR, "Only the chairs of Smart Kent and Medway Projects and the Partnership Office can announce to it."),
        (OUTSIDER, "I can't match someone@gmail.com to a Kent Connects partner"),
    ],
)
def test_people_who_do_not_chair_the_group_are_refused(chat, session, user, answer):
    assert answer in say(chat, f"announce {SMART} Hello from me", user=user)
    assert announcement_count(session) == 0
    assert session.execute(select(func.count()).select_from(Delivery)).scalar_one() == 0


def test_the_partnership_office_may_announce_to_any_group(chat, session):
    number = announce(chat, f"{SMART} A message from the Partnership Office.", user=ADMIN)
    members = {m.person_id for m in group_queries.members(session, group_queries.group_by_slug(session, SMART))}
    assert {d.recipient_id for d in stored(session, number)} == members  # all three: the office is not a member


def test_an_unknown_group_or_no_text_is_explained(chat, session):
    assert say(chat, "announce nosuchgroup Hello").startswith("Which group?")
    assert "What should the announcement to Smart Kent and Medway Projects say?" in say(chat, f"announce {SMART}")
    assert announcement_count(session) == 0


def test_announcements_lists_mine_and_my_groups_and_reports_are_for_the_author_chairs_and_office(chat, session):
    number = announce(chat, f"{SMART} {TEXT}")
    listing = say(chat, "announcements")
    assert f"Announcement {number} to Smart Kent and Medway Projects (sent)" in listing
    assert "There are no announcements for you yet" in say(chat, "announcements", user=GIS_CHAIR)
    assert f"I can't find announcement {number} for you" in say(chat, f"announcement {number}", user=GIS_CHAIR)
    member = chat.reply(f"announcement {number}", user=SWALE)  # a member reads it, without the report
    assert member.title == f"Announcement {number} to Smart Kent and Medway Projects" and member.text == TEXT
    assert report(chat, number, user=ADMIN)["Waiting"] == "2"


def test_members_see_what_their_groups_were_sent_and_can_acknowledge_it(chat, session, sessions):
    number = announce(chat, f"{SMART} {TEXT}")
    later = announce(chat, f"{SMART} at 1 December 2026 9am: Next week's agenda.")
    listing = chat.reply("announcements", user=SWALE)
    titles = [item.title for item in listing.items]
    assert f"Announcement {number} to Smart Kent and Medway Projects, from Demo User (KCC)" in titles
    assert not any(f"Announcement {later} " in t for t in titles)  # not sent yet: the chair's, not theirs
    assert not any(a.command == f"ack {number}" for i in listing.items for a in i.actions)  # not received yet
    dispatch(sessions)
    listing = chat.reply("announcements", user=SWALE)
    [item] = [i for i in listing.items if i.title.startswith(f"Announcement {number} ")]
    assert [a.command for a in item.actions] == [f"announcement {number}", f"ack {number}"]
    assert "recorded" in say(chat, f"ack {number}", user=SWALE)
    read = chat.reply(f"announcement {number}", user=SWALE)
    assert read.actions == () and {f.label: f.value for f in read.fields}["From"] == "Demo User (KCC)"
    assert f"can't find announcement {later} for you" in say(chat, f"announcement {later}", user=SWALE)
    release_due(session, LATER)  # the worker's planning: its time has come
    read = chat.reply(f"announcement {later}", user=SWALE, now=LATER + timedelta(minutes=1))
    assert read.text == "Next week's agenda." and read.title.endswith("to Smart Kent and Medway Projects")


def test_nobody_outside_the_group_reads_its_announcements(chat, session):
    number = announce(chat, f"{SMART} {TEXT}")
    for user in (GIS_CHAIR, OUTSIDER):
        assert TEXT[:30] not in chat(f"announcement {number}", user=user)
        assert TEXT[:30] not in chat("announcements", user=user)
    assert TEXT[:30] in chat("announcements", user=ADMIN)


def test_a_closed_groups_announcements_stay_out_of_shared_conversations(chat, session):
    board = "board.demo@kent.police.uk"  # chairs the Leadership Group
    number = announce(chat, "leadership Budget papers are in the usual place.", user=board)
    member = "leadership.demo@medway.gov.uk"
    assert "Budget papers" in chat(f"announcement {number}", user=member)
    shared = Request(
        text=f"announcement {number}",
        platform="teams",
        user_id="29:x",
        email=member,
        now=NOW,
        conversation="19:team@thread.tacv2",
        shared=True,
    )
    assert "Budget papers" not in chat.router.handle(shared).plain_text()
    listing = Request(
        text="announcements",
        platform="teams",
        user_id="29:y",
        email=board,
        now=NOW,
        conversation="19:team@thread.tacv2",
        shared=True,
    )
    assert "Budget papers" not in chat.router.handle(listing).plain_text()


# --- bugs ---------------------------------------------------------------------------------------


def test_a_time_with_a_colon_is_not_taken_into_the_text(chat, session):
    number = announce(chat, f"{SMART} at 9 March 2027 09:00: Agenda attached.")
    [row, _] = stored(session, number)
    assert row.due_at == datetime(2027, 3, 9, 9, tzinfo=UTC)
    assert Reply.from_data(row.payload).text == "Agenda attached."


def test_a_multi_line_announcement_keeps_its_lines(chat, session):
    number = announce(chat, f"{SMART} Hello all,\n\nThe agenda:\n- reports\n- any other business")
    [row, _] = stored(session, number)
    assert Reply.from_data(row.payload).text == "Hello all,\n\nThe agenda:\n- reports\n- any other business"


def test_an_announcement_withdrawn_before_it_went_cannot_be_acknowledged(chat, session):
    number = announce(chat, f"{SMART} at 1 December 2026 9am: Our next meeting moves online.")
    say(chat, f"cancel announcement {number}")
    assert f"can't find an announcement {number} sent to you" in say(chat, f"ack {number}", user=SWALE)
    assert counts(chat, number)[-1] == "0"
