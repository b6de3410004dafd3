"""Partner staff recognised on Teams by their partner's Microsoft 365 tenant (handlers.people
resolve_caller), the polite refusal for a tenant that is no partner's, when a person was last seen,
and `partner tenant PARTNER TENANT_ID` for the Partnership Office (handlers.tenants); on SQLite and
PostgreSQL with the demo loaded (conftest)."""

from __future__ import annotations

from datetime import timedelta
from typing import Optional

import pytest
from sqlalchemy import event, func, select

from bot.router import Router
from core.messages import Reply, Request
from handlers import people
from storage.models import AuditEntry, Partner, PartnerTenant, Person, PlatformIdentity
from tests.conftest import ADMIN, NOW

MEDWAY_TENANT = "3f2b6c1e-8d4a-4b7e-9c0f-5a1d2e3b4c5d"
SWALE_TENANT = "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4"
UNKNOWN_TENANT = "0badc0de-0000-4000-8000-000000000001"
SHARED = "jo.bloggs@kentsharedservices.onmicrosoft.com"  # no partner's domain


def teams(
    text: str,
    user: str,
    email: Optional[str],
    tenant: str,
    now=NOW,
    platform: str = "teams",
    enterprise: str = "",
) -> Request:
    return Request(
        text=text,
        platform=platform,
        user_id=user,
        email=email,
        now=now,
        workspace=tenant,
        enterprise=enterprise,
        display_name="Jo Bloggs",
    )


@pytest.fixture
def router(sessions, settings) -> Router:
    return Router(sessions, settings)


@pytest.fixture
def medway_tenant(sessions):
    with sessions.begin() as session:
        medway = session.execute(select(Partner).where(Partner.slug == "medway")).scalar_one()
        session.add(PartnerTenant(partner=medway, tenant_id=MEDWAY_TENANT))


def ask(router: Router, request: Request) -> str:
    reply = router.handle(request)
    assert isinstance(reply, Reply)
    assert "something went wrong" not in reply.text, reply.text
    return reply.plain_text()


def identity(sessions, user: str) -> Optional[PlatformIdentity]:
    with sessions() as session:
        return session.execute(
            select(PlatformIdentity).where(PlatformIdentity.external_id == user)
        ).scalar_one_or_none()


def person(sessions, email: str) -> Optional[Person]:
    with sessions() as session:
        found = session.execute(select(Person).where(Person.email == email)).scalar_one_or_none()
        if found is not None:
            _ = found.partner
        return found


# --- recognised by the tenant -------------------------------------------------------------------


def test_someone_with_an_unusual_address_from_a_partner_s_tenant_is_that_partner_s_staff(
    router, sessions, medway_tenant
):
    text = ask(router, teams("whoami", "29:jo", SHARED, MEDWAY_TENANT))
    assert "You're Jo Bloggs, from Medway Council." in text
    stored = person(sessions, SHARED)
    assert stored is not None and stored.partner is not None and stored.partner.slug == "medway"
    linked = identity(sessions, "29:jo")
    assert (linked.platform, linked.workspace, linked.person_id) == ("teams", MEDWAY_TENANT, stored.id)
    assert linked.last_seen_at == NOW
    # and they are served as staff: meetings, joining a group
    assert "GIS meets next on" in ask(router, teams("next gis meeting", "29:jo", SHARED, MEDWAY_TENANT))
    assert "can't match" not in ask(router, teams("join gis", "29:jo", SHARED, MEDWAY_TENANT))


def test_the_e_mail_domain_comes_before_the_tenant(router, sessions, medway_tenant):
    """A Swale officer writing from Medway's tenant (a guest there) is Swale's."""
    ask(router, teams("help", "29:guest", "guest.officer@swale.gov.uk", MEDWAY_TENANT))
    assert person(sessions, "guest.officer@swale.gov.uk").partner.slug == "swale"


def test_a_partner_s_address_from_a_tenant_no_partner_has_is_recognised_by_its_domain(router, sessions):
    text = ask(router, teams("whoami", "29:kcc", "visiting.officer@kent.gov.uk", UNKNOWN_TENANT))
    assert "from Kent County Council" in text
    assert identity(sessions, "29:kcc").workspace == UNKNOWN_TENANT


def test_the_tenant_counts_on_teams_only(router, sessions, medway_tenant):
    """A Slack workspace id is no tenant, even one that reads like Medway's."""
    text = ask(router, teams("meetings gis", "U123", SHARED, MEDWAY_TENANT, platform="slack"))
    assert f"I can't match {SHARED} to a Kent Connects partner" in text
    assert "tenant" not in text
    assert person(sessions, SHARED) is None


# --- a tenant that is no partner's ------------------------------------------------------------------


def test_someone_from_a_tenant_no_partner_has_is_told_who_to_ask_and_nothing_is_kept(router, sessions):
    before = _count(sessions, Person), _count(sessions, PlatformIdentity)
    text = ask(router, teams("meetings gis", "29:stranger", "someone@contoso.onmicrosoft.com", UNKNOWN_TENANT))
    assert "I can't match someone@contoso.onmicrosoft.com to a Kent Connects partner" in text
    assert "Microsoft 365 organisation" in text and UNKNOWN_TENANT in text
    assert "ask the Partnership Office" in text and "an admin can add your organisation's tenant" in text
    whoami = ask(router, teams("whoami", "29:stranger", "someone@contoso.onmicrosoft.com", UNKNOWN_TENANT))
    assert "You're someone@contoso.onmicrosoft.com" in whoami and UNKNOWN_TENANT in whoami
    assert "an admin can add your organisation's tenant" in whoami
    assert (_count(sessions, Person), _count(sessions, PlatformIdentity)) == before


def test_the_console_s_refusal_is_unchanged(router):
    text = ask(router, Request("meetings gis", "console", "x@gmail.com", "x@gmail.com", NOW))
    assert "I can't match x@gmail.com to a Kent Connects partner" in text and "tenant" not in text


def _count(sessions, model) -> int:
    with sessions() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


# --- when last seen, gone, the Enterprise Grid org ---------------------------------------------------


class Statements:
    """The SQL a block of code runs on a connection."""

    def __init__(self, connection):
        self.connection = connection
        self.seen: list[str] = []

    def __enter__(self):
        event.listen(self.connection, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *exc):
        event.remove(self.connection, "before_cursor_execute", self._note)

    def _note(self, conn, cursor, statement, parameters, context, executemany):
        if statement.split()[0].upper() not in ("SAVEPOINT", "RELEASE", "ROLLBACK"):  # the test's own transaction
            self.seen.append(" ".join(statement.split()))

    def writes(self) -> list[str]:
        return [s for s in self.seen if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def test_last_seen_is_written_at_most_once_an_hour(router, sessions, connection):
    user, email = "29:seen", "seen.person@medway.gov.uk"
    ask(router, teams("help", user, email, MEDWAY_TENANT))
    assert identity(sessions, user).last_seen_at == NOW
    with Statements(connection) as later:
        ask(router, teams("help", user, email, MEDWAY_TENANT, now=NOW + timedelta(minutes=59)))
    assert identity(sessions, user).last_seen_at == NOW
    assert not [w for w in later.writes() if "platform_identity" in w], later.writes()
    with Statements(connection) as hour:
        ask(router, teams("help", user, email, MEDWAY_TENANT, now=NOW + timedelta(minutes=61)))
    assert identity(sessions, user).last_seen_at == NOW + timedelta(minutes=61)
    assert len([w for w in hour.writes() if w.upper().startswith("UPDATE PLATFORM_IDENTITY")]) == 1


def test_an_identity_without_a_last_seen_time_gets_one(router, sessions):
    user, email = "29:old", "old.identity@medway.gov.uk"
    ask(router, teams("help", user, email, MEDWAY_TENANT))
    with sessions.begin() as session:
        session.execute(
            PlatformIdentity.__table__.update().where(PlatformIdentity.external_id == user).values(last_seen_at=None)
        )
    ask(router, teams("help", user, email, MEDWAY_TENANT, now=NOW + timedelta(minutes=5)))
    assert identity(sessions, user).last_seen_at == NOW + timedelta(minutes=5)


def test_using_the_bot_again_where_one_was_marked_gone_clears_it(router, sessions):
    user, email = "U-gone", "gone.person@medway.gov.uk"
    ask(router, teams("help", user, email, "T-GONE", platform="slack"))
    with sessions.begin() as session:
        session.execute(
            PlatformIdentity.__table__.update()
            .where(PlatformIdentity.external_id == user)
            .values(gone_at=NOW + timedelta(minutes=1))
        )
    ask(router, teams("help", user, email, "T-GONE", now=NOW + timedelta(minutes=10), platform="slack"))
    again = identity(sessions, user)
    assert again.gone_at is None
    assert again.last_seen_at == NOW  # within the hour: not written again


def test_the_enterprise_grid_org_is_kept_when_linking(router, sessions):
    ask(router, teams("help", "U-org", "org.person@medway.gov.uk", "T-ORG", platform="slack", enterprise="E-KENT"))
    assert identity(sessions, "U-org").enterprise == "E-KENT"


def test_an_identity_from_before_the_org_is_given_it_when_next_seen(router, sessions):
    # Known in workspace T-ORG2 with no Grid org (linked before migration 0013, or before the
    # workspace joined an org); the org comes with the next request, and deliveries need it.
    ask(router, teams("help", "U-org2", "org2.person@medway.gov.uk", "T-ORG2", platform="slack"))
    assert identity(sessions, "U-org2").enterprise == ""
    ask(router, teams("help", "U-org2", "org2.person@medway.gov.uk", "T-ORG2", platform="slack", enterprise="E-KENT"))
    assert identity(sessions, "U-org2").enterprise == "E-KENT"


def test_a_known_person_is_resolved_without_extra_statements(sessions, settings, connection):
    """Known by their identity and seen within the hour: the identity with its person in one
    statement, then their roles, partner and memberships; nothing written."""
    router = Router(sessions, settings)
    user, email = "29:cheap", "cheap.person@medway.gov.uk"
    ask(router, teams("help", user, email, MEDWAY_TENANT))
    with sessions() as session, Statements(connection) as resolving:
        caller = people.resolve_caller(session, teams("help", user, email, MEDWAY_TENANT), settings)
        assert caller.partner is not None and caller.partner.slug == "medway"
    assert len(resolving.seen) <= 4, resolving.seen
    assert resolving.writes() == []


# --- partner tenant PARTNER TENANT_ID -------------------------------------------------------------------


def admin(router: Router, text: str, user: str = ADMIN) -> str:
    return ask(router, Request(text, "console", user, user, NOW))


def tenants_of(sessions, slug: str) -> list[str]:
    with sessions() as session:
        return sorted(
            session.execute(select(PartnerTenant.tenant_id).join(Partner).where(Partner.slug == slug)).scalars()
        )


def test_an_admin_records_a_partner_s_tenant_and_it_is_audited(router, sessions):
    text = admin(router, f"partner tenant Medway {MEDWAY_TENANT.upper()}")
    assert f"Recorded the Microsoft 365 tenant {MEDWAY_TENANT} for Medway Council." in text
    assert tenants_of(sessions, "medway") == [MEDWAY_TENANT]
    with sessions() as session:
        entry = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
        assert (entry.action, entry.subject, entry.actor_label) == ("partner_tenant_added", "partner:medway", ADMIN)
        assert entry.details == {"tenant": MEDWAY_TENANT}
    assert MEDWAY_TENANT in admin(router, "audit partner medway")
    # the partner's staff are recognised by it from now on
    assert "from Medway Council" in ask(router, teams("whoami", "29:after", SHARED, MEDWAY_TENANT))
    # again: nothing more is recorded
    assert "already recorded for Medway Council" in admin(router, f"partner tenant medway council {MEDWAY_TENANT}")
    assert tenants_of(sessions, "medway") == [MEDWAY_TENANT]


def test_the_partner_is_named_as_staff_name_it(router, sessions):
    assert "for Kent Fire and Rescue Service" in admin(router, f"partner tenant the fire service {SWALE_TENANT}")
    assert tenants_of(sessions, "kfrs") == [SWALE_TENANT]


def test_another_partner_s_tenant_is_refused_clearly(router, sessions, medway_tenant):
    text = admin(router, f"partner tenant swale {MEDWAY_TENANT}")
    assert (
        f"I can't record that tenant for Swale Borough Council: the tenant {MEDWAY_TENANT} already belongs to " in text
    )
    assert "Medway Council" in text and "Nothing was changed." in text
    assert tenants_of(sessions, "swale") == [] and tenants_of(sessions, "medway") == [MEDWAY_TENANT]


def test_a_tenant_id_that_is_no_guid_is_explained(router, sessions):
    text = admin(router, "partner tenant medway contoso.onmicrosoft.com")
    assert "“contoso.onmicrosoft.com” isn't a Microsoft 365 tenant id" in text and "Directory (tenant) ID" in text
    assert tenants_of(sessions, "medway") == []


def test_a_name_two_partners_answer_to_is_asked_about(router, sessions):
    reply = router.handle(Request(f"partner tenant canterbury {SWALE_TENANT}", "console", ADMIN, ADMIN, NOW))
    assert reply.text.startswith("Which do you mean:")
    assert f"partner tenant canterbury {SWALE_TENANT}" in [a.command for a in reply.actions]
    assert f"partner tenant cccu {SWALE_TENANT}" in [a.command for a in reply.actions]
    assert "isn't a Kent Connects partner" in admin(router, f"partner tenant greenwich {SWALE_TENANT}")
    assert all(tenants_of(sessions, slug) == [] for slug in ("canterbury", "cccu", "unikent"))


@pytest.mark.parametrize("user", ["demo@kent.gov.uk", "board.demo@kent.police.uk", "someone@gmail.com"])
def test_only_admins_record_tenants(router, sessions, user):
    text = admin(router, f"partner tenant medway {MEDWAY_TENANT}", user=user)
    assert "Only the Partnership Office can record a partner's Microsoft 365 tenant." in text
    assert "partner tenant" not in admin(router, "help", user=user)
    assert tenants_of(sessions, "medway") == []


def test_the_command_alone_says_how_it_is_used_and_help_lists_it(router):
    assert "Which partner? Say e.g. `partner tenant Medway " in admin(router, "partner tenant")
    assert "Say e.g. `partner tenant Medway " in admin(router, "partner tenant medway")  # the tenant is missing
    assert "partner tenant PARTNER TENANT_ID" in admin(router, "help")


def test_said_in_other_words_the_bot_asks_for_the_exact_command_and_changes_nothing(router, sessions):
    text = admin(router, "please add the teams tenant for medway council")
    assert "partner tenant" in text
    assert tenants_of(sessions, "medway") == []
