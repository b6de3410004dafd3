"""Messages the bot starts itself, from the person's side (handlers.notices, Router.waiting).

People who use neither Slack nor Teams get their notices in the console: held ones (no
configured platform reached them), or due ones when no platform this deployment serves knows
them, are shown before their next answer and marked delivered "console". `notices` lists what
went to a person recently on every platform. On SQLite and PostgreSQL (conftest), and one race
on PostgreSQL between the console and a dispatcher.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.dispatcher import Dispatcher, Policy
from bot.router import Router
from bot.senders import SendResult
from core.messages import Action, Reply, Request
from core.settings import Settings
from storage import db, deliveries
from storage.models import Delivery, DeliveryStatus, Person, PlatformIdentity
from storage.people import person_by_email
from tests.conftest import NOW

SWALE = "member.demo@swale.gov.uk"
UCA = "member.demo@uca.ac.uk"


def console(text: str, email: str = SWALE, now=NOW) -> Request:
    return Request(text=text, platform="console", user_id=email, email=email, now=now)


def notice(
    session,
    email: str,
    text: str,
    *,
    status=DeliveryStatus.HELD,
    due=NOW - timedelta(hours=1),
    not_after=None,
    kind="notice",
    occurrence: str = "1",
    title: str = "A notice",
) -> int:
    person = person_by_email(session, email)
    deliveries.record(
        session,
        kind,
        f"test:{text[:40]}",
        occurrence,
        [person.id],
        Reply(text, title=title, actions=(Action("Help", "help"),)).to_data(),
        due_at=due,
        not_after=not_after,
    )
    row = session.execute(
        select(Delivery).where(Delivery.subject == f"test:{text[:40]}", Delivery.occurrence == occurrence)
    ).scalar_one()
    row.status = status
    session.flush()
    return row.id


def row(session, delivery_id: int) -> Delivery:
    session.expire_all()
    return session.get(Delivery, delivery_id)


def test_a_held_message_is_shown_once_at_the_next_console_chat_and_marked_delivered_there(chat, session):
    held = notice(session, SWALE, "Your place on Future Workplaces is confirmed.", title="Waitlist")
    [shown] = chat.router.waiting(console("whoami"))
    assert shown.title.startswith("Waitlist · sent ") and shown.text == "Your place on Future Workplaces is confirmed."
    assert [a.command for a in shown.actions] == ["help"]
    found = row(session, held)
    assert (found.status, found.delivered_via, found.sent_at) == (DeliveryStatus.SENT, "console", NOW)
    assert chat.router.waiting(console("whoami")) == []


def test_only_due_direct_messages_of_this_person_are_taken(chat, session):
    mine = notice(session, SWALE, "mine")
    later = notice(session, SWALE, "later", due=NOW + timedelta(hours=1))
    theirs = notice(session, UCA, "theirs")
    assert [r.text for r in chat.router.waiting(console("hi"))] == ["mine"]
    assert row(session, later).status is DeliveryStatus.HELD and row(session, theirs).status is DeliveryStatus.HELD
    assert row(session, mine).delivered_via == "console"


def test_a_message_whose_moment_has_passed_is_skipped_not_shown(chat, session):
    stale = notice(session, SWALE, "GIS meets in 1 hour", kind="meeting_reminder", not_after=NOW - timedelta(minutes=5))
    assert chat.router.waiting(console("hi")) == []
    found = row(session, stale)
    assert found.status is DeliveryStatus.SKIPPED and found.last_error == "its moment has passed"


def test_pending_messages_are_taken_only_for_people_no_configured_platform_knows(chat, session, sessions, settings):
    person = person_by_email(session, SWALE)
    session.add(PlatformIdentity(person_id=person.id, platform="slack", workspace="T1", external_id="USWALE"))
    session.flush()
    pending = notice(session, SWALE, "pending for a Slack user", status=DeliveryStatus.PENDING)
    with_slack = Router(sessions, replace(settings, slack_bot_token="xoxb-1", slack_signing_secret="s"))
    assert with_slack.waiting(console("hi")) == []  # the worker will send it on Slack
    assert row(session, pending).status is DeliveryStatus.PENDING
    # A deployment without Slack: nothing else would ever reach them, so the console shows it.
    assert [r.text for r in chat.router.waiting(console("hi"))] == ["pending for a Slack user"]


def test_a_claimed_message_is_never_taken_by_the_console(chat, session):
    sending = notice(session, SWALE, "on its way", status=DeliveryStatus.SENDING)
    assert chat.router.waiting(console("hi")) == []
    assert row(session, sending).status is DeliveryStatus.SENDING


def test_ten_at_a_time_and_the_rest_is_announced(chat, session):
    for i in range(13):
        notice(session, SWALE, f"message {i:02d}", due=NOW - timedelta(minutes=60 - i))
    first = chat.router.waiting(console("hi"))
    assert [r.text for r in first[:10]] == [f"message {i:02d}" for i in range(10)]  # oldest first
    assert first[10].text.startswith("3 more messages wait for you")
    assert [r.text for r in chat.router.waiting(console("hi"))] == [f"message {i:02d}" for i in range(10, 13)]


def test_an_unreadable_message_is_set_aside_and_the_others_still_come(chat, session):
    broken = notice(session, SWALE, "broken")
    row(session, broken).payload = ["not", "a", "message"]
    session.flush()
    notice(session, SWALE, "fine")
    assert [r.text for r in chat.router.waiting(console("hi"))] == ["fine"]
    found = row(session, broken)
    assert (found.status, found.last_error, found.delivered_via) == (DeliveryStatus.FAILED, "unreadable message", None)


def test_someone_outside_the_partnership_has_nothing_waiting(chat):
    assert chat.router.waiting(console("hi", email="someone@gmail.com")) == []


def test_notices_lists_what_went_where_newest_first(chat, session):
    slack = notice(session, SWALE, "From Slack", status=DeliveryStatus.PENDING, title="On Slack")
    teams = notice(session, SWALE, "From Teams", status=DeliveryStatus.PENDING, title="On Teams")
    for delivery_id, via, minutes in ((slack, "slack", 50), (teams, "teams", 40)):
        found = row(session, delivery_id)
        found.status, found.delivered_via, found.sent_at = DeliveryStatus.SENT, via, NOW - timedelta(minutes=minutes)
        session.flush()
    notice(session, SWALE, "Still held", title="Held one", due=NOW - timedelta(minutes=10))
    old = notice(session, SWALE, "Long ago", status=DeliveryStatus.PENDING)
    found = row(session, old)
    found.status, found.delivered_via, found.sent_at = DeliveryStatus.SENT, "slack", NOW - timedelta(days=31)
    session.flush()
    reply = chat.reply("what did I miss?", user=SWALE)
    assert reply.title == "Your notices"
    assert [i.title for i in reply.items] == ["Held one", "On Teams", "On Slack"]
    assert reply.items[0].text.startswith("Wednesday 25 November 2026, 11:50 GMT, not delivered yet")
    assert "11:20 GMT, in Teams" in reply.items[1].text and "11:10 GMT, in Slack" in reply.items[2].text
    assert "Long ago" not in reply.plain_text()


def test_notices_with_nothing_sent_says_what_will_show_there(chat):
    assert "I haven't sent you anything in the last 30 days" in chat("notices", user=UCA)


def test_notices_are_personal_and_stay_out_of_shared_conversations(chat, session):
    notice(session, SWALE, "Private matter", status=DeliveryStatus.HELD)
    shared = Request(
        text="notices",
        platform="teams",
        user_id="29:swale",
        email=SWALE,
        now=NOW,
        conversation="19:chan@thread.tacv2",
        shared=True,
    )
    text = chat.router.handle(shared).plain_text()
    assert "only in a private chat" in text and "Private matter" not in text
    assert "I can only show you `help` and `groups`" in chat("notices", user="someone@gmail.com")


def test_held_messages_go_out_on_the_platform_where_the_person_first_writes(chat, session):
    held = notice(session, UCA, "Held until you came", not_after=NOW + timedelta(days=1))
    stale = notice(session, UCA, "Too late now", not_after=NOW - timedelta(minutes=1))
    first = Request(
        text="whoami", platform="slack", user_id="UUCA1", email=UCA, now=NOW, workspace="T1", conversation="DUCA1"
    )
    assert "Demo Member (UCA)" in chat.router.handle(first).plain_text()
    assert row(session, held).status is DeliveryStatus.PENDING and row(session, held).last_error is None
    assert row(session, stale).status is DeliveryStatus.HELD  # its moment passed: it is not sent late


class _Recording:
    platform = "console"
    by_email = True  # reaches anyone by e-mail: stands in for a platform that knows the person

    def __init__(self):
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def rate_limit(self, recipient):
        return None

    def send(self, recipient, message):
        with self.lock:
            self.sent.append(message.text)
        return SendResult.sent()


def test_the_console_and_a_dispatcher_never_both_deliver_a_message(pg):
    """Fifty due messages, a dispatcher and the console taking them at once: each goes one way."""
    sessions = db.make_session_factory(pg.engine)
    with sessions.begin() as session:
        person = Person(email="racer@medway.gov.uk", display_name="Racer")
        session.add(person)
        session.flush()
        for i in range(50):
            deliveries.record(
                session,
                "notice",
                f"race:{i}",
                "1",
                [person.id],
                Reply(f"m{i}").to_data(),
                due_at=NOW - timedelta(minutes=1),
            )
    router = Router(sessions, Settings(database_url=pg.url))
    sender = _Recording()
    shown: list[str] = []
    start = threading.Barrier(2)

    def dispatch():
        start.wait()
        Dispatcher(sessions, [sender], Policy(batch=3), clock=lambda: NOW).run_until_idle()

    def take():
        start.wait()
        for _ in range(20):
            shown.extend(r.text for r in router.waiting(console("hi", email="racer@medway.gov.uk")))

    threads = [threading.Thread(target=dispatch), threading.Thread(target=take)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not set(sender.sent) & set(shown), "a message went both ways"
    assert sorted(sender.sent + shown, key=lambda t: int(t[1:])) == [f"m{i}" for i in range(50)]
    with sessions() as session:
        statuses = {(d.status, d.delivered_via) for d in session.execute(select(Delivery)).scalars()}
    assert statuses <= {(DeliveryStatus.SENT, "console")}
