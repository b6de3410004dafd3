"""Who someone is: partner by e-mail domain, people by e-mail, platform identities."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage import people as people_queries
from storage.models import Partner, PartnerDomain, Person, PersonRoleKind, PlatformIdentity
from storage.people import (
    email_domain,
    get_or_create_person,
    grant_role,
    link_identity,
    partner_for_email,
    people_with_role,
    person_by_email,
    person_by_identity,
)


def partner_name(session, email: str):
    partner = partner_for_email(session, email)
    return None if partner is None else partner.name


@pytest.mark.parametrize(
    "email, expected",
    [
        ("someone@medway.gov.uk", "Medway Council"),
        ("someone@kent.gov.uk", "Kent County Council"),
        ("x@hr.kent.gov.uk", "Kent County Council"),  # a subdomain belongs to the parent
        ("x@a.b.hr.kent.gov.uk", "Kent County Council"),
        ("SOMEONE@KENT.POLICE.UK", "Kent Police"),
        ("  Someone@Medway.Gov.UK  ", "Medway Council"),
        ("lecturer@cs.kent.ac.uk", "University of Kent"),
        ("officer@kent.fire-uk.org", "Kent Fire and Rescue Service"),
        ("someone@gmail.com", None),
        ("not-an-email", None),
        ("", None),
        ("someone@gov.uk", None),  # a parent of partner domains is no partner's
        ("someone@police.uk", None),
        ("someone@evilkent.gov.uk", None),  # a suffix of the text is not a parent domain
        ("someone@kent.gov.uk.evil.example", None),
    ],
)
def test_partner_for_email(session, email, expected):
    assert partner_name(session, email) == expected


def test_partner_for_email_prefers_the_longest_domain(session):
    schools = Partner(
        slug="test-schools",
        name="Test Schools Trust",
        short_name="Schools",
        domains=[PartnerDomain(domain="schools.kent.gov.uk")],
    )
    session.add(schools)
    session.flush()
    assert partner_name(session, "head@schools.kent.gov.uk") == "Test Schools Trust"
    assert partner_name(session, "head@north.schools.kent.gov.uk") == "Test Schools Trust"
    assert partner_name(session, "clerk@hr.kent.gov.uk") == "Kent County Council"


def test_email_domain():
    assert email_domain("A@B.Example ") == "b.example"
    assert email_domain("a@b@c.example") == "c.example"


def test_get_or_create_person_lowercases_and_does_not_duplicate(session):
    first = get_or_create_person(session, "  New.Person@Medway.GOV.uk ", "New Person")
    session.flush()
    assert first.email == "new.person@medway.gov.uk"
    assert first.display_name == "New Person"
    assert first.partner is not None and first.partner.slug == "medway"

    again = get_or_create_person(session, "NEW.PERSON@MEDWAY.GOV.UK")
    assert again is first
    rows = session.execute(
        select(func.count()).select_from(Person).where(func.lower(Person.email) == "new.person@medway.gov.uk")
    ).scalar_one()
    assert rows == 1
    assert person_by_email(session, "New.Person@medway.gov.uk") is first


def test_get_or_create_person_fills_a_missing_name_only(session):
    person = get_or_create_person(session, "nameless@kent.gov.uk")
    assert person.display_name is None
    get_or_create_person(session, "nameless@kent.gov.uk", "Now Named")
    assert person.display_name == "Now Named"
    get_or_create_person(session, "nameless@kent.gov.uk", "Renamed")
    assert person.display_name == "Now Named"


def test_get_or_create_person_outside_the_partnership(session):
    person = get_or_create_person(session, "visitor@gmail.com")
    session.flush()
    assert person.id is not None and person.partner is None


def test_get_or_create_person_finds_an_existing_demo_person(session):
    before = session.execute(select(func.count()).select_from(Person)).scalar_one()
    person = get_or_create_person(session, "DEMO@kent.gov.uk")
    assert person.display_name == "Demo User (KCC)"
    assert session.execute(select(func.count()).select_from(Person)).scalar_one() == before


def test_get_or_create_person_survives_a_concurrent_insert(session, monkeypatch):
    # Another request inserts the same person between our look-up and our insert.
    existing = Person(email="raced@kent.gov.uk", display_name="First")
    session.add(existing)
    session.flush()
    real = people_queries.person_by_email
    calls = []

    def stale_then_real(s, email):
        calls.append(email)
        return None if len(calls) == 1 else real(s, email)

    monkeypatch.setattr(people_queries, "person_by_email", stale_then_real)
    person = get_or_create_person(session, "raced@kent.gov.uk", "Second")
    monkeypatch.undo()
    assert len(calls) == 2
    assert person.id == existing.id
    assert (
        session.execute(
            select(func.count()).select_from(Person).where(Person.email == "raced@kent.gov.uk")
        ).scalar_one()
        == 1
    )


def test_link_identity_is_idempotent(session):
    person = get_or_create_person(session, "linked@kent.gov.uk")
    session.flush()
    link_identity(session, person, "slack", "U123", workspace="T1")
    link_identity(session, person, "slack", "U123", workspace="T1")
    session.flush()
    rows = session.execute(select(PlatformIdentity).where(PlatformIdentity.person_id == person.id)).scalars().all()
    assert [(r.platform, r.workspace, r.external_id) for r in rows] == [("slack", "T1", "U123")]
    assert person_by_identity(session, "slack", "U123", "T1") is person


def test_link_identity_keys_on_platform_workspace_and_id(session):
    person = get_or_create_person(session, "many@kent.gov.uk")
    session.flush()
    link_identity(session, person, "slack", "U1", workspace="T1")
    link_identity(session, person, "slack", "U1", workspace="T2")
    link_identity(session, person, "teams", "U1", workspace="T1")
    link_identity(session, person, "console", "many@kent.gov.uk")
    session.flush()
    assert (
        session.execute(
            select(func.count()).select_from(PlatformIdentity).where(PlatformIdentity.person_id == person.id)
        ).scalar_one()
        == 4
    )
    assert person_by_identity(session, "slack", "U1", "T2") is person
    assert person_by_identity(session, "console", "many@kent.gov.uk") is person
    assert person_by_identity(session, "slack", "U1") is None  # no workspace given
    assert person_by_identity(session, "slack", "U9", "T1") is None


def test_link_identity_does_not_move_an_identity_to_someone_else(session):
    first = get_or_create_person(session, "first@kent.gov.uk")
    second = get_or_create_person(session, "second@kent.gov.uk")
    session.flush()
    link_identity(session, first, "teams", "X", workspace="tenant")
    link_identity(session, second, "teams", "X", workspace="tenant")
    session.flush()
    assert person_by_identity(session, "teams", "X", "tenant") is first
    assert (
        session.execute(
            select(func.count()).select_from(PlatformIdentity).where(PlatformIdentity.external_id == "X")
        ).scalar_one()
        == 1
    )


def test_grant_role_and_people_with_role(session):
    person = get_or_create_person(session, "newboard@medway.gov.uk")
    session.flush()
    assert grant_role(session, person, PersonRoleKind.BOARD) is True
    assert grant_role(session, person, PersonRoleKind.BOARD) is False
    board = [p.email for p in people_with_role(session, PersonRoleKind.BOARD)]
    assert "newboard@medway.gov.uk" in board
    assert board == sorted(board)
    assert "newboard@medway.gov.uk" not in [p.email for p in people_with_role(session, PersonRoleKind.ADMIN)]
    assert "pmo.demo@kent.gov.uk" in [p.email for p in people_with_role(session, PersonRoleKind.ADMIN)]
