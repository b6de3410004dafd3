"""One message, one platform (bot/dispatcher.py `_route_all`): a person on both Slack and Teams gets
each message once, on the platform they chose (`send my messages to slack|teams`) or, without a
choice, the one they used last; an identity in a workspace the app was removed from is skipped.

An announcement made in chat, sent by the dispatcher through recording senders for Slack and
Teams (a real platform is not the point here), on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest
from sqlalchemy import event, select

from bot.dispatcher import Dispatcher, Policy
from bot.router import Router
from bot.senders import Recipient, SendResult
from core.messages import Reply, Request
from core.settings import Settings
from storage import deliveries as delivery_queries
from storage.models import Delivery, DeliveryStatus, PlatformIdentity
from storage.people import person_by_email
from tests.conftest import NOW, both_platforms

UTC = timezone.utc
CHAIR = "demo@kent.gov.uk"  # chairs Smart Kent and Medway Projects
SWALE = "member.demo@swale.gov.uk"  # a member, on Slack and Teams
UCA = "member.demo@uca.ac.uk"  # a member, on Slack only
SMART = "smart-kent-and-medway"


class Recording:
    """A sender for one platform that records who it was given, at which address and workspace."""

    by_email = False

    def __init__(self, platform: str):
        self.platform = platform
        self.sent: list[tuple[str, str, str, str]] = []  # (email, address, workspace, text)

    def rate_limit(self, recipient: Recipient):
        return None

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        self.sent.append((recipient.email, recipient.address, recipient.workspace, message.text))
        return SendResult.sent()


@pytest.fixture
def settings_both(database) -> Settings:
    return both_platforms(database)


@pytest.fixture
def router(sessions, settings_both) -> Router:
    return Router(sessions, settings_both)


def link(
    session, email: str, platform: str, address: str, seen: Optional[datetime], workspace: str, gone: bool = False
) -> PlatformIdentity:
    person = person_by_email(session, email)
    assert person is not None
    row = PlatformIdentity(
        person_id=person.id,
        platform=platform,
        workspace=workspace,
        external_id=address,
        last_seen_at=seen,
        gone_at=NOW - timedelta(hours=1) if gone else None,
    )
    session.add(row)
    session.flush()
    return row


def chat(router: Router, text: str, user: str, platform: str = "console", address: str = "", workspace: str = ""):
    reply = router.handle(
        Request(text=text, platform=platform, user_id=address or user, email=user, now=NOW, workspace=workspace)
    )
    assert reply is not None and "something went wrong" not in reply.text, reply
    return reply


def announce(router: Router, text: str) -> None:
    reply = chat(router, f"announce {SMART} {text}", CHAIR)
    assert reply.text.startswith("Announcement "), reply.text


def send(sessions) -> tuple[Recording, Recording]:
    slack, teams = Recording("slack"), Recording("teams")
    Dispatcher(sessions, [slack, teams], Policy(), clock=lambda: NOW).run_until_idle()
    return slack, teams


def to(sender: Recording, email: str) -> list[tuple[str, str, str]]:
    return [(address, workspace, text) for e, address, workspace, text in sender.sent if e == email]


def test_someone_on_slack_and_teams_gets_an_announcement_once_on_the_platform_used_last(session, sessions, router):
    link(session, SWALE, "slack", "U0SW", NOW - timedelta(hours=5), "T0SWALE")
    link(session, SWALE, "teams", "user:29:swale", NOW - timedelta(hours=1), "tenant-swale")
    link(session, UCA, "slack", "U0UCA", None, "T0UCA")
    announce(router, "The sensor pilot report is out")
    slack, teams = send(sessions)
    assert to(teams, SWALE) == [("user:29:swale", "tenant-swale", "The sensor pilot report is out")]
    assert to(slack, SWALE) == []
    assert to(slack, UCA) == [("U0UCA", "T0UCA", "The sensor pilot report is out")]

    # Used Slack since: the next one goes there, and only there.
    session.execute(
        select(PlatformIdentity).where(PlatformIdentity.external_id == "U0SW")
    ).scalar_one().last_seen_at = NOW
    session.flush()
    announce(router, "Agenda for Tuesday")
    slack, teams = send(sessions)
    assert to(slack, SWALE) == [("U0SW", "T0SWALE", "Agenda for Tuesday")] and to(teams, SWALE) == []


def test_after_send_my_messages_to_slack_they_go_to_slack_even_when_teams_was_used_later(session, sessions, router):
    link(session, SWALE, "slack", "U0SW", NOW - timedelta(hours=5), "T0SWALE")
    teams_identity = link(session, SWALE, "teams", "user:29:swale", NOW - timedelta(hours=1), "tenant-swale")
    reply = chat(router, "send my messages to slack", SWALE, "slack", "U0SW", "T0SWALE")
    assert "now come to you on Slack" in reply.text
    teams_identity.last_seen_at = NOW + timedelta(hours=1)  # used Teams afterwards, whatever the hour says
    session.flush()
    announce(router, "Slack it is")
    slack, teams = send(sessions)
    assert to(slack, SWALE) == [("U0SW", "T0SWALE", "Slack it is")] and to(teams, SWALE) == []

    chat(router, "send my messages where I last used", SWALE, "teams", "29:swale", "tenant-swale")
    announce(router, "Back to the last used")
    slack, teams = send(sessions)
    assert to(teams, SWALE) == [("user:29:swale", "tenant-swale", "Back to the last used")] and to(slack, SWALE) == []


def test_a_chosen_platform_that_is_not_configured_falls_back_to_the_one_used_last(session, sessions, router):
    link(session, SWALE, "slack", "U0SW", NOW - timedelta(hours=1), "T0SWALE")
    link(session, SWALE, "teams", "user:29:swale", NOW - timedelta(hours=5), "tenant-swale")
    person = person_by_email(session, SWALE)
    assert person is not None
    person.preferred_platform = "teams"
    session.flush()
    announce(router, "Teams is off today")
    slack = Recording("slack")
    Dispatcher(sessions, [slack], Policy(), clock=lambda: NOW).run_until_idle()
    assert to(slack, SWALE) == [("U0SW", "T0SWALE", "Teams is off today")]


def test_an_identity_marked_gone_is_skipped_and_if_it_is_the_only_one_the_message_is_held(session, sessions, router):
    link(session, SWALE, "slack", "U0SW", NOW, "T0SWALE", gone=True)  # used last, but uninstalled since
    link(session, SWALE, "teams", "user:29:swale", NOW - timedelta(days=3), "tenant-swale")
    link(session, UCA, "slack", "U0UCA", NOW, "T0UCA", gone=True)
    person = person_by_email(session, SWALE)
    assert person is not None
    person.preferred_platform = "slack"  # chosen, but not reachable there now
    session.flush()
    announce(router, "Workspace gone")
    slack, teams = send(sessions)
    assert slack.sent == []
    assert to(teams, SWALE) == [("user:29:swale", "tenant-swale", "Workspace gone")]
    uca = person_by_email(session, UCA)
    assert uca is not None
    session.expire_all()
    [held] = session.execute(select(Delivery).where(Delivery.recipient_id == uca.id)).scalars()
    assert held.status is DeliveryStatus.HELD and held.sent_at is None
    assert held.last_error.startswith("the app was removed from this person's Slack workspace; held")


def test_on_one_platform_with_two_workspaces_the_one_used_last_is_taken(session, sessions, router):
    link(session, SWALE, "slack", "U0OLD", NOW - timedelta(days=30), "T0OLD")
    link(session, SWALE, "slack", "U0NEW", NOW - timedelta(hours=2), "T0NEW")
    link(session, SWALE, "slack", "U0NEVER", None, "T0NEVER")
    announce(router, "Which workspace")
    slack, _ = send(sessions)
    assert to(slack, SWALE) == [("U0NEW", "T0NEW", "Which workspace")]


def test_with_nothing_to_tell_them_apart_the_configured_order_decides(session, sessions, router):
    same_hour = NOW.replace(minute=0)
    link(session, SWALE, "teams", "user:29:swale", same_hour, "tenant-swale")
    link(session, SWALE, "slack", "U0SW", same_hour, "T0SWALE")
    announce(router, "A tie")
    slack, teams = send(sessions)  # Slack first, as the deployment lists its senders
    assert to(slack, SWALE) == [("U0SW", "T0SWALE", "A tie")] and to(teams, SWALE) == []
    announce(router, "Another tie")
    teams_first = [Recording("teams"), Recording("slack")]
    Dispatcher(sessions, list(teams_first), Policy(), clock=lambda: NOW).run_until_idle()
    assert to(teams_first[0], SWALE) == [("user:29:swale", "tenant-swale", "Another tie")]


def test_routing_a_whole_batch_reads_the_people_and_their_identities_in_two_statements(
    session, sessions, router, connection
):
    link(session, SWALE, "slack", "U0SW", NOW - timedelta(hours=5), "T0SWALE")
    link(session, SWALE, "teams", "user:29:swale", NOW - timedelta(hours=1), "tenant-swale")
    link(session, UCA, "slack", "U0UCA", NOW - timedelta(hours=2), "T0UCA")
    announce(router, "Counting")
    batch = [
        delivery_queries.Claim(*row)
        for row in session.execute(
            select(*(getattr(Delivery, name) for name in delivery_queries.Claim._fields)).where(
                Delivery.channel == "direct"
            )
        )
    ]
    assert len(batch) == 2  # the chair's announcement, to each of the two members
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    dispatcher = Dispatcher(sessions, [Recording("slack"), Recording("teams")], Policy(), clock=lambda: NOW)
    with sessions() as fresh:
        event.listen(connection, "before_cursor_execute", count)
        try:
            routes = dispatcher._route_all(fresh, batch)
        finally:
            event.remove(connection, "before_cursor_execute", count)
    assert len(statements) == 2, statements  # however many deliveries the batch holds
    by_email = {recipient.email: (recipient, sender) for recipient, sender, _ in routes.values() if recipient}
    recipient, sender = by_email[SWALE]
    assert sender is not None and sender.platform == "teams" and recipient.address == "user:29:swale"
    recipient, sender = by_email[UCA]
    assert sender is not None and sender.platform == "slack" and recipient.workspace == "T0UCA"
