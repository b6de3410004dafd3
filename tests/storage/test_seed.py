"""Loading partners, groups, people and roles from YAML (storage/seed.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from storage import groups as group_queries, people as people_queries
from storage.models import (
    Group,
    GroupAccess,
    GroupAlias,
    MemberRole,
    Membership,
    Partner,
    PartnerDomain,
    Person,
    PersonRole,
    PersonRoleKind,
    SubscriptionTier,
)
from storage.seed import PARTNERS_FILE, SeedError, is_empty, load_data, load_file

REAL = yaml.safe_load(PARTNERS_FILE.read_text(encoding="utf-8"))

KENT_DISTRICTS = {
    "Ashford Borough Council",
    "Canterbury City Council",
    "Dartford Borough Council",
    "Dover District Council",
    "Folkestone & Hythe District Council",
    "Gravesham Borough Council",
    "Maidstone Borough Council",
    "Sevenoaks District Council",
    "Swale Borough Council",
    "Thanet District Council",
    "Tonbridge & Malling Borough Council",
    "Tunbridge Wells Borough Council",
}


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def counts(session) -> dict[str, int]:
    return {
        m.__name__: count(session, m)
        for m in (Partner, PartnerDomain, Group, GroupAlias, Person, PersonRole, Membership)
    }


def write(tmp_path: Path, text: str, name: str = "seed.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- the real partner file ------------------------------------------------------------------


def test_the_yaml_names_the_partnership():
    names = [p["name"] for p in REAL["partners"]]
    assert len(names) == len(set(names))
    assert {"Kent County Council", "Medway Council", "Kent Police", "Kent Fire and Rescue Service"} <= set(names)
    districts = {p["name"] for p in REAL["partners"] if p.get("kind") == "district council"}
    assert districts == KENT_DISTRICTS
    assert {g["slug"] for g in REAL["groups"]} == {
        "leadership",
        "information-security",
        "digital-accessibility",
        "gis",
        "smart-kent-and-medway",
    }


def test_the_real_partners_are_loaded_as_the_yaml_says(session):
    assert not is_empty(session)
    assert count(session, Partner) == len(REAL["partners"])
    stored = {p.slug: p for p in people_queries.list_partners(session)}
    assert set(stored) == {p["slug"] for p in REAL["partners"]}
    for entry in REAL["partners"]:
        partner = stored[entry["slug"]]
        assert partner.name == entry["name"]
        assert partner.short_name == entry.get("short_name", entry["name"])
        assert partner.kind == entry.get("kind")
        assert [d.domain for d in partner.domains] == sorted(d.lower() for d in entry["domains"])
    assert count(session, PartnerDomain) == sum(len(p["domains"]) for p in REAL["partners"])


def test_the_real_groups_are_loaded_as_the_yaml_says(session):
    for entry in REAL["groups"]:
        group = group_queries.group_by_slug(session, entry["slug"])
        assert group is not None
        assert group.name == entry["name"]
        assert group.access is GroupAccess(entry["access"])
        assert [a.alias for a in group.aliases] == sorted({a.lower() for a in entry["aliases"]})
    assert group_queries.group_by_slug(session, "leadership").is_restricted
    assert not group_queries.group_by_slug(session, "gis").is_restricted


def test_loading_the_real_file_again_changes_nothing(session):
    before = counts(session)
    first = load_file(session, PARTNERS_FILE)
    assert (first.partners, first.groups, first.people) == (
        len(REAL["partners"]),
        len(REAL["groups"]),
        len(REAL.get("people") or []),
    )
    after_once = counts(session)
    load_file(session, PARTNERS_FILE)
    assert counts(session) == after_once == before
    assert str(first) == f"{len(REAL['partners'])} partners, {len(REAL['groups'])} groups, 0 people"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_real_file_loads_into_an_empty_database(kind, tmp_path):
    # A database of its own: the file alone makes the partners and groups, and no people.
    from sqlalchemy.orm import Session

    from tests.conftest import fresh_database

    generator = fresh_database(kind, tmp_path)
    database = next(generator)
    try:
        with database.engine.begin() as connection, Session(bind=connection) as session:
            assert is_empty(session)
            summary = load_file(session, str(PARTNERS_FILE))
            assert summary.partners == count(session, Partner) == len(REAL["partners"])
            assert summary.groups == count(session, Group) == len(REAL["groups"])
            assert count(session, Person) == 0
            assert not is_empty(session)
    finally:
        generator.close()


# --- a file with people --------------------------------------------------------------------

PEOPLE_FILE = """\
    partners:
      - slug: test-borough
        name: Test Borough Council
        kind: district council
        subscription_tier: higher
        domains: [Test-Borough.Example, second.example]
    groups:
      - slug: test-group
        name: Test Group
        access: restricted
        aliases: [Test Things, tg]
    people:
      - email: Alice@Test-Borough.example
        name: Alice Test
        roles: [admin, board]
        groups: {test-group: chair, gis: member}
      - email: bob@kent.gov.uk
        groups: {test-group: member}
"""


def test_a_file_with_people_roles_and_group_roles(session, tmp_path):
    summary = load_file(session, write(tmp_path, PEOPLE_FILE))
    assert (summary.partners, summary.groups, summary.people) == (1, 1, 2)

    partner = session.execute(select(Partner).where(Partner.slug == "test-borough")).scalar_one()
    assert partner.short_name == "Test Borough Council"  # defaults to the name
    assert partner.subscription_tier is SubscriptionTier.HIGHER
    assert [d.domain for d in partner.domains] == ["second.example", "test-borough.example"]

    group = group_queries.group_by_slug(session, "test-group")
    assert group.is_restricted and group.description == ""
    assert [a.alias for a in group.aliases] == ["test things", "tg"]

    alice = people_queries.person_by_email(session, "alice@test-borough.example")
    assert alice is not None and alice.display_name == "Alice Test"
    assert alice.partner is partner
    assert people_queries.stored_roles(alice) == {PersonRoleKind.ADMIN, PersonRoleKind.BOARD}
    roles = {m.group.slug: m.role for m in group_queries.memberships_of(session, alice)}
    assert roles == {"test-group": MemberRole.CHAIR, "gis": MemberRole.MEMBER}

    bob = people_queries.person_by_email(session, "bob@kent.gov.uk")
    assert bob.partner.slug == "kcc"
    assert people_queries.stored_roles(bob) == set()
    assert group_queries.membership(session, bob, group).role is MemberRole.MEMBER


def test_loading_people_twice_changes_nothing(session, tmp_path):
    path = write(tmp_path, PEOPLE_FILE)
    load_file(session, path)
    once = counts(session)
    load_file(session, path)
    assert counts(session) == once


def test_a_second_load_updates_what_changed(session, tmp_path):
    load_file(session, write(tmp_path, PEOPLE_FILE))
    changed = (
        PEOPLE_FILE.replace("gis: member", "gis: chair")
        .replace("name: Alice Test", "name: Alice Renamed")
        .replace("aliases: [Test Things, tg]", "aliases: [tg, more things]")
    )
    load_file(session, write(tmp_path, changed, "changed.yaml"))
    alice = people_queries.person_by_email(session, "alice@test-borough.example")
    assert alice.display_name == "Alice Renamed"
    gis = group_queries.group_by_slug(session, "gis")
    assert group_queries.membership(session, alice, gis).role is MemberRole.CHAIR
    # aliases are added, never deleted
    group = group_queries.group_by_slug(session, "test-group")
    session.refresh(group)
    assert [a.alias for a in group.aliases] == ["more things", "test things", "tg"]


def test_load_data_with_nothing_to_do(session):
    before = counts(session)
    summary = load_data(session, {})
    assert (summary.partners, summary.groups, summary.people) == (0, 0, 0)
    assert counts(session) == before


# --- errors ---------------------------------------------------------------------------------


def seed_error(session, data) -> str:
    with pytest.raises(SeedError) as caught:
        load_data(session, data, source="test.yaml")
    return str(caught.value)


def test_a_partner_without_a_slug(session):
    message = seed_error(session, {"partners": [{"name": "No Slug", "domains": ["noslug.example"]}]})
    assert "test.yaml: partners[0]" in message and "'slug' is required" in message


def test_a_partner_with_a_blank_slug(session):
    message = seed_error(session, {"partners": [{"slug": "  ", "name": "Blank", "domains": ["blank.example"]}]})
    assert "partners[0]" in message and "'slug' is required" in message


def test_a_partner_with_no_domains(session):
    for domains in (None, []):
        entry = {"slug": "test-nodomain", "name": "No Domain Council"}
        if domains is not None:
            entry["domains"] = domains
        message = seed_error(session, {"partners": [entry]})
        assert "partners[0]" in message and "at least one e-mail domain" in message


def test_a_domain_owned_by_another_partner(session):
    message = seed_error(
        session,
        {
            "partners": [
                {"slug": "test-squatter", "name": "Squatter Council", "domains": ["squatter.example", "KENT.gov.uk"]}
            ]
        },
    )
    assert "partners[0]" in message
    assert "domain kent.gov.uk already belongs to Kent County Council" in message


def test_a_domain_given_to_two_new_partners_in_one_file(session):
    message = seed_error(
        session,
        {
            "partners": [
                {"slug": "test-one", "name": "One", "domains": ["shared.example"]},
                {"slug": "test-two", "name": "Two", "domains": ["shared.example"]},
            ]
        },
    )
    assert "partners[1]" in message and "already belongs to One" in message


def test_an_alias_owned_by_another_group(session):
    message = seed_error(session, {"groups": [{"slug": "test-maps", "name": "Maps", "aliases": ["Mapping"]}]})
    assert "groups[0]" in message and "alias 'mapping' already names GIS" in message


def test_an_unknown_group_slug_for_a_person(session):
    message = seed_error(session, {"people": [{"email": "someone@kent.gov.uk", "groups": {"no-such-group": "member"}}]})
    assert "people[0]" in message and "no group with slug 'no-such-group'" in message


@pytest.mark.parametrize(
    "person, expected",
    [
        ({"email": "x@kent.gov.uk", "roles": ["superuser"]}, "role 'superuser' is not one of admin, board"),
        ({"email": "x@kent.gov.uk", "groups": {"gis": "owner"}}, "group role 'owner' is not one of member, chair"),
        ({"email": "not-an-address"}, "'not-an-address' is not an e-mail address"),
        ({"name": "No Email"}, "'email' is required"),
    ],
)
def test_bad_person_entries(session, person, expected):
    message = seed_error(session, {"people": [person]})
    assert "people[0]" in message and expected in message


@pytest.mark.parametrize(
    "data, expected",
    [
        (
            {"partners": [{"slug": "t", "name": "T", "domains": ["t.example"], "subscription_tier": "gold"}]},
            "subscription_tier 'gold' is not one of standard, higher",
        ),
        (
            {"groups": [{"slug": "t", "name": "T", "access": "secret"}]},
            "access 'secret' is not one of open, restricted",
        ),
        ({"groups": [{"slug": "t"}]}, "'name' is required"),
        ({"partners": ["kcc"]}, "partners[0]: expected a mapping"),
    ],
)
def test_bad_partner_and_group_entries(session, data, expected):
    assert expected in seed_error(session, data)


def test_malformed_yaml(session, tmp_path):
    path = write(tmp_path, "partners:\n  - {slug: broken, name: [unclosed\n")
    with pytest.raises(SeedError) as caught:
        load_file(session, path)
    assert str(path) in str(caught.value) and "not valid YAML" in str(caught.value)


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "a plain string\n"])
def test_a_file_that_is_not_a_mapping(session, tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(SeedError) as caught:
        load_file(session, path)
    assert "expected a mapping" in str(caught.value)


def test_a_missing_file(session, tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(SeedError) as caught:
        load_file(session, path)
    assert str(caught.value) == f"{path}: no such file"


def test_a_refused_domain_stays_with_its_owner(session):
    # The refused claim on kent.gov.uk leaves the domain with Kent County Council.
    seed_error(session, {"partners": [{"slug": "test-squatter", "name": "Squatter", "domains": ["kent.gov.uk"]}]})
    kcc = people_queries.partner_for_email(session, "x@kent.gov.uk")
    assert kcc is not None and kcc.slug == "kcc"


# --- a list where the file wants a mapping, a scalar where it wants a list --------------------


def test_person_groups_written_as_a_list_is_a_seed_error(session):
    # "groups: [gis]" is an easy slip for "groups: {gis: member}"; it should be reported as such.
    with pytest.raises(SeedError):
        load_data(session, {"people": [{"email": "x@kent.gov.uk", "groups": ["gis"]}]}, source="test.yaml")


def test_a_single_domain_written_without_brackets(session):
    # "domains: example.org" (a string, not a list) must not become one domain per character.
    try:
        load_data(session, {"partners": [{"slug": "test-scalar", "name": "Scalar", "domains": "scalar.example"}]})
    except SeedError:
        return  # refusing it is fine too
    partner = session.execute(select(Partner).where(Partner.slug == "test-scalar")).scalar_one()
    assert [d.domain for d in partner.domains] == ["scalar.example"]


def test_a_single_alias_written_without_brackets(session):
    try:
        load_data(session, {"groups": [{"slug": "test-scalar", "name": "Scalar", "aliases": "scalar"}]})
    except SeedError:
        return  # refusing it is fine too
    group = group_queries.group_by_slug(session, "test-scalar")
    assert [a.alias for a in group.aliases] == ["scalar"]
