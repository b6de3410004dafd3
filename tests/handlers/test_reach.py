"""Across the partnership (handlers/reach.py, storage/reach.py): `partners`, the Partnership
Office's overview of where the bot is installed and who uses it, and `send my messages to
teams|slack`, a person's choice of platform. Chats go through the router, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest
from sqlalchemy import event, insert, select

from bot import blockkit, cards
from bot.router import Router
from core.messages import Reply, Request
from storage import reach
from storage.models import ConversationRef, Partner, PartnerTenant, Person, PlatformIdentity, slack_bots
from storage.people import person_by_email
from tests.conftest import ADMIN, NOW, both_platforms

UTC = timezone.utc
KCC = "demo@kent.gov.uk"
SWALE = "member.demo@swale.gov.uk"
MEDWAY = "leadership.demo@medway.gov.uk"
UCA = "member.demo@uca.ac.uk"
PARTNER = "someone@medway.gov.uk"
SEEN = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # Wednesday 25 November 2026, 11:00 GMT


@pytest.fixture
def router(sessions, database) -> Router:
    return Router(sessions, both_platforms(database))


def person(session, email: str) -> Person:
    found = person_by_email(session, email)
    assert found is not None, email
    return found


def identity(
    session,
    email: str,
    platform: str,
    workspace: str,
    external_id: str,
    seen: Optional[datetime] = SEEN,
    enterprise: str = "",
    gone: bool = False,
) -> PlatformIdentity:
    row = PlatformIdentity(
        person_id=person(session, email).id,
        platform=platform,
        workspace=workspace,
        external_id=external_id,
        enterprise=enterprise,
        last_seen_at=seen,
        gone_at=NOW - timedelta(days=1) if gone else None,
    )
    session.add(row)
    session.flush()
    return row


def install(session, team_id: Optional[str], team_name: str, enterprise_id: str = "", org_wide: bool = False) -> None:
    session.execute(
        insert(slack_bots).values(
            client_id="111.222",
            app_id="A0KC",
            team_id=team_id,
            team_name=team_name or None,
            enterprise_id=enterprise_id or None,
            enterprise_name="Kent Grid" if enterprise_id else None,
            bot_token=f"xoxb-{team_id or enterprise_id}",
            bot_id="B1",
            bot_user_id="UBOT",
            is_enterprise_install=org_wide,
            installed_at=datetime(2026, 11, 1, 9, 0),
        )
    )


def tenant(session, slug: str, tenant_id: str) -> None:
    partner = session.execute(select(Partner).where(Partner.slug == slug)).scalar_one()
    session.add(PartnerTenant(partner_id=partner.id, tenant_id=tenant_id))
    session.flush()


def conversation(session, tenant_id: str, key: str) -> None:
    session.add(
        ConversationRef(
            platform="teams",
            key=key,
            tenant_id=tenant_id,
            service_url="https://smba.trafficmanager.net/uk/",
            reference={"conversation": {"id": key}},
            updated_at=SEEN,
        )
    )
    session.flush()


def the_partnership(session) -> None:
    """KCC on its own Slack workspace and its Teams tenant; Swale in an Enterprise Grid org installed
    org-wide; Medway's workspace uninstalled; a workspace and a tenant that are no partner's."""
    install(session, "T0KCC", "Kent CC <!channel> & co")
    identity(session, KCC, "slack", "T0KCC", "U0KCC", seen=SEEN - timedelta(hours=3))
    identity(session, KCC, "teams", "tenant-kcc", "29:kcc", seen=SEEN)
    tenant(session, "kcc", "tenant-kcc")
    install(session, None, "", enterprise_id="E0GRID", org_wide=True)
    identity(session, SWALE, "slack", "T0SWALE", "U0SW", enterprise="E0GRID", seen=SEEN - timedelta(days=2))
    identity(session, MEDWAY, "slack", "T0MED", "U0MED", gone=True, seen=SEEN - timedelta(days=5))
    install(session, "T0ELSE", "Greenwich Digital")
    conversation(session, "tenant-elsewhere", "conversation:19:abc")
    conversation(session, "tenant-kcc", "user:29:kcc")


def overview(router: Router, user: str = ADMIN, text: str = "partners") -> Reply:
    return router.handle(Request(text=text, platform="console", user_id=user, email=user, now=NOW))


def items(reply: Reply) -> dict[str, str]:
    return {i.title: "\n".join([i.text, *(f"{f.label}: {f.value}" for f in i.fields)]).strip() for i in reply.items}


# --- partners ---------------------------------------------------------------------------------------


def test_partners_lists_every_partner_with_its_workspaces_tenants_staff_and_last_seen(session, router):
    the_partnership(session)
    reply = overview(router)
    assert reply.title == "Partners: where I'm installed and used"
    assert reply.text.startswith("3 of the 19 partners have staff who have used me: 3 people in all")
    listed = items(reply)
    # The partners reached (or with an install), then those not reached in one, then what is no partner's.
    assert [i.title for i in reply.items[:3]] == ["Kent County Council", "Medway Council", "Swale Borough Council"]
    assert len(reply.items) == 5
    assert listed["Kent County Council"] == (
        "Slack workspace Kent CC <!channel> & co (T0KCC): installed, 1 person\n"
        "Teams tenant tenant-kcc: the partner's own tenant, 1 person\n"
        "Staff who have used me: 1 (1 on Slack, 1 on Teams)\n"
        "Last seen: Wednesday 25 November 2026, 11:00 GMT"
    )
    assert listed["Swale Borough Council"] == (
        "Slack workspace T0SWALE, through the org-wide install of Kent Grid: 1 person\n"
        "Staff who have used me: 1 (1 on Slack)\n"
        "Last seen: Monday 23 November 2026, 11:00 GMT"
    )
    assert listed["Medway Council"].startswith("Slack workspace T0MED: uninstalled, 1 person\n")
    waiting = listed["Not reached yet (16)"]
    assert waiting.startswith("None of their staff has used me: Ashford Borough Council, Canterbury Christ Church")
    assert "Dover District Council" in waiting and "Kent County Council" not in waiting
    assert reply.items[-1].title == "Not a partner's (or not known to be)"
    assert reply.items[-1].text == (
        "Slack workspace Greenwich Digital (T0ELSE): installed, no partner's staff seen yet\n"
        "Teams tenant tenant-elsewhere: the bot has conversations there, no partner's staff seen yet"
    )
    assert [i.title for i in reply.items[:3]] == sorted(i.title for i in reply.items[:3])


def test_an_org_wide_install_no_partner_s_staff_came_through_is_listed_as_such(session, router):
    install(session, None, "", enterprise_id="E0OTHER", org_wide=True)
    listed = items(overview(router))
    assert listed["Not a partner's (or not known to be)"] == (
        "Slack Enterprise Grid org Kent Grid (E0OTHER), installed org-wide: no partner's staff seen yet"
    )


def test_people_who_are_no_partner_s_staff_are_counted_where_they_came_from(session, router):
    outsider = Person(email="someone@gmail.com")
    session.add(outsider)
    session.flush()
    session.add(PlatformIdentity(person_id=outsider.id, platform="slack", workspace="T0GMAIL", external_id="UX"))
    session.flush()
    reply = overview(router)
    assert reply.text.startswith("0 of the 19 partners have staff who have used me: 1 person in all")
    assert items(reply)["Not a partner's (or not known to be)"] == "Slack workspace T0GMAIL: 1 person not at a partner"


def test_a_registered_tenant_nobody_came_from_yet_is_shown(session, router):
    tenant(session, "kent-police", "tenant-police")
    assert items(overview(router))["Kent Police"] == (
        "Teams tenant tenant-police: the partner's own tenant, no one yet\nNone of its staff has used me yet."
    )


def test_the_overview_is_the_same_few_statements_however_many_are_reached(session, router, connection):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):  # not the session's SAVEPOINT
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        reach.overview(session)
        few = len(statements)
        the_partnership(session)
        for n, email in enumerate(["a11y.chair.demo@kent.ac.uk", "infosec.chair.demo@kent.fire-uk.org", UCA]):
            identity(session, email, "teams", f"tenant-{n}", f"29:{n}")
            tenant(session, ["unikent", "kfrs", "uca"][n], f"tenant-{n}")
        for n in range(30):
            install(session, f"T1{n:03}", f"Workspace {n}")
        statements.clear()
        found = reach.overview(session)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert len(statements) == few == 5
    assert sum(p.reached for p in found.partners) == 6 and len(found.elsewhere) == 32


def test_the_overview_fits_slack_and_teams_with_every_partner_and_many_workspaces(session, router):
    the_partnership(session)
    for n in range(40):
        install(session, f"T2{n:03}", f"Workspace & team {n}")
    reply = overview(router)
    assert "…and 30 more" in reply.items[-1].text
    message = blockkit.message(reply)
    assert len(message["blocks"]) <= blockkit.MAX_BLOCKS_MESSAGE
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert all(len(t) <= blockkit.SECTION_TEXT for t in texts)
    assert not any("more not shown here" in str(b) for b in message["blocks"])  # every partner is shown
    kcc = next(t for t in texts if "Kent County Council" in t)
    assert "Kent CC &lt;!channel&gt; &amp; co" in kcc and "<!channel>" not in kcc  # escaped for mrkdwn
    card = cards.card(reply)
    assert "Kent County Council" in str(card) and "Dover District Council" in str(card)


def test_only_the_partnership_office_sees_the_overview_and_anyone_else_is_shown_the_partners(session, router):
    the_partnership(session)
    listed = overview(router, user=PARTNER)
    assert listed.title == "The partners" and "T0KCC" not in listed.plain_text()
    refused = overview(router, user=PARTNER, text="where is the bot installed")
    assert refused.text == "Only the Partnership Office can see where I'm installed and who uses me."
    assert "T0KCC" in overview(router, user=ADMIN, text="where is the bot installed").plain_text()


def test_help_lists_partners_for_the_partnership_office_only(chat):
    assert "`partners`: each partner with its Slack workspaces" in chat("help", user=ADMIN)
    assert "`partners`" not in chat("help", user=PARTNER)


def test_the_counts_say_how_far_the_bot_reaches_and_nothing_else(session):
    the_partnership(session)
    assert reach.counts(session) == {
        "partners_reached": 3,
        # T0KCC and T0ELSE installed, T0SWALE in use; T0MED uninstalled
        "slack_workspaces": 3,
        "slack_org_installs": 1,
        "teams_tenants": 2,  # tenant-kcc (used), tenant-elsewhere (a conversation)
        "people": 3,
    }


# --- send my messages to ... ----------------------------------------------------------------------


def say(router: Router, text: str, user: str = SWALE, platform: str = "slack", workspace: str = "T0SWALE") -> str:
    request = Request(
        text=text,
        platform=platform,
        user_id={"slack": "U0SW", "teams": "29:swale"}.get(platform, user),
        email=user,
        now=NOW,
        workspace=workspace if platform != "console" else "",
    )
    reply = router.handle(request)
    assert reply is not None
    return reply.plain_text()


def test_send_my_messages_to_a_platform_sets_the_choice_and_says_what_happens(session, router):
    identity(session, SWALE, "slack", "T0SWALE", "U0SW")
    identity(session, SWALE, "teams", "tenant-swale", "29:swale")
    answer = say(router, "send my messages to teams")
    assert answer.startswith("Done: the messages I send you of my own accord")
    assert "now come to you on Teams, each once, not on Slack." in answer
    assert "`send my messages where I last used`" in answer
    session.expire_all()
    assert person(session, SWALE).preferred_platform == "teams"
    assert "already come to you on Teams" in say(router, "send my messages to Microsoft Teams")
    answer = say(router, "send my messages where I last used", platform="teams", workspace="tenant-swale")
    assert answer.startswith("Done:") and "go to the platform where you last used me, each message once" in answer
    session.expire_all()
    assert person(session, SWALE).preferred_platform is None


def test_a_platform_never_used_or_not_configured_is_refused_and_nothing_changes(session, router, sessions, database):
    identity(session, SWALE, "slack", "T0SWALE", "U0SW")
    answer = say(router, "send my messages to teams")
    assert answer.startswith("Sorry, you haven't messaged me on Teams yet")
    assert "Send me a message in Teams first" in answer and "Nothing has changed." in answer
    slack_only = Router(sessions, replace(both_platforms(database), teams_app_id=""))
    answer = say(slack_only, "send my messages to teams")
    assert answer.startswith("Sorry, Teams isn't set up for me in this deployment") and "to Slack" in answer
    session.expire_all()
    assert person(session, SWALE).preferred_platform is None


def test_choosing_a_workspace_the_app_was_removed_from_says_where_messages_go_meanwhile(session, router):
    identity(session, SWALE, "slack", "T0SWALE", "U0SW", gone=True)
    identity(session, SWALE, "teams", "tenant-swale", "29:swale")
    answer = say(router, "send my messages to slack", platform="teams", workspace="tenant-swale")
    assert "now come to you on Slack" in answer and "app was removed from your Slack workspace" in answer


def test_someone_outside_the_partnership_cannot_choose(chat):
    assert "I can't match someone@gmail.com" in chat("send my messages to slack", user="someone@gmail.com")


def test_the_model_reads_the_platform_asked_for(chat, session):
    """Not the exact words: the language model's reading, asked about first (it changes something)."""
    reply = chat.reply("could you message me on teams from now on rather than slack", user=KCC)
    assert reply.text.startswith("Shall I change where I send your messages?"), reply.plain_text()
    assert [a.command for a in reply.actions][:1] == ["send my messages to teams"]
