"""Partners known by their Microsoft 365 tenant as well as their e-mail domains: the queries
(storage/people.py) and the partner file's `tenants:` (storage/seed.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select

from storage import people as people_queries
from storage.models import Partner, PartnerTenant
from storage.seed import PARTNERS_FILE, SeedError, load_data

MEDWAY_TENANT = "3f2b6c1e-8d4a-4b7e-9c0f-5a1d2e3b4c5d"
SWALE_TENANT = "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4"


def partner(session, slug: str) -> Partner:
    return session.execute(select(Partner).where(Partner.slug == slug)).scalar_one()


@pytest.mark.parametrize(
    "text, expected",
    [
        (MEDWAY_TENANT, MEDWAY_TENANT),
        (MEDWAY_TENANT.upper(), MEDWAY_TENANT),
        (" {" + MEDWAY_TENANT + "} ", MEDWAY_TENANT),
        ("tenant-kc-1", None),
        (MEDWAY_TENANT[:-1], None),
        (MEDWAY_TENANT + "0", None),
        (MEDWAY_TENANT.replace("-", ""), None),
        ("3f2b6c1e-8d4a-4b7e-9c0f-5a1d2e3b4c5g", None),  # not hexadecimal
        ("", None),
    ],
)
def test_tenant_ids_are_guids_in_lower_case(text, expected):
    assert people_queries.tenant_id(text) == expected


def test_a_partner_is_found_by_its_tenant(session):
    medway = partner(session, "medway")
    assert people_queries.partner_for_tenant(session, MEDWAY_TENANT) is None
    assert people_queries.add_tenant(session, medway, MEDWAY_TENANT.upper()) is True
    session.flush()
    assert people_queries.partner_for_tenant(session, MEDWAY_TENANT) is medway
    assert people_queries.partner_for_tenant(session, MEDWAY_TENANT.upper()) is medway
    assert people_queries.partner_for_tenant(session, SWALE_TENANT) is None
    assert people_queries.partner_for_tenant(session, "not-a-guid") is None
    assert [t.tenant_id for t in medway.tenants] == [MEDWAY_TENANT]


def test_adding_a_partner_s_own_tenant_again_changes_nothing(session):
    medway = partner(session, "medway")
    assert people_queries.add_tenant(session, medway, MEDWAY_TENANT)
    assert people_queries.add_tenant(session, medway, MEDWAY_TENANT) is False
    session.flush()
    count = session.execute(select(PartnerTenant).where(PartnerTenant.tenant_id == MEDWAY_TENANT)).scalars().all()
    assert len(count) == 1


def test_a_partner_may_have_several_tenants(session):
    kcc = partner(session, "kcc")
    assert people_queries.add_tenant(session, kcc, MEDWAY_TENANT)
    assert people_queries.add_tenant(session, kcc, SWALE_TENANT)
    session.flush()
    assert people_queries.partner_for_tenant(session, SWALE_TENANT) is kcc
    assert sorted(t.tenant_id for t in kcc.tenants) == sorted([MEDWAY_TENANT, SWALE_TENANT])


def test_another_partner_s_tenant_is_refused_with_whose_it_is(session):
    medway, swale = partner(session, "medway"), partner(session, "swale")
    people_queries.add_tenant(session, medway, MEDWAY_TENANT)
    session.flush()
    with pytest.raises(people_queries.TenantTaken) as refused:
        people_queries.add_tenant(session, swale, MEDWAY_TENANT.upper())
    assert str(refused.value) == f"the tenant {MEDWAY_TENANT} already belongs to Medway Council"
    assert people_queries.partner_for_tenant(session, MEDWAY_TENANT) is medway
    assert swale.tenants == []


def test_text_that_is_no_tenant_id_is_refused(session):
    with pytest.raises(ValueError, match="isn't a Microsoft 365 tenant id"):
        people_queries.add_tenant(session, partner(session, "medway"), "tenant-kc-1")


def test_a_tenant_recorded_at_the_same_moment_for_another_partner_is_refused(session, monkeypatch):
    """Two admins at once: the look-up saw no owner, the insert meets the other's row."""
    medway, swale = partner(session, "medway"), partner(session, "swale")
    session.add(PartnerTenant(partner=medway, tenant_id=MEDWAY_TENANT))
    session.flush()
    real = session.execute
    hidden = []

    def first_look_sees_nothing(statement, *args, **kwargs):
        result = real(statement, *args, **kwargs)
        if not hidden and "partner_tenant" in str(statement):
            hidden.append(statement)
            return real(select(PartnerTenant).where(PartnerTenant.tenant_id == "none"))
        return result

    monkeypatch.setattr(session, "execute", first_look_sees_nothing)
    with pytest.raises(people_queries.TenantTaken, match="already belongs to Medway Council"):
        people_queries.add_tenant(session, swale, MEDWAY_TENANT)
    monkeypatch.undo()
    assert hidden
    assert people_queries.partner_for_tenant(session, MEDWAY_TENANT) is medway


def test_a_new_person_takes_the_partner_given_when_their_domain_is_no_partner_s(session):
    medway = partner(session, "medway")
    person = people_queries.get_or_create_person(session, "jo@medwaysharedservice.onmicrosoft.com", None, medway)
    assert person.partner is medway
    # the e-mail domain comes first: it is the person's own organisation
    other = people_queries.get_or_create_person(session, "sam@swale.gov.uk", None, medway)
    assert other.partner is not None and other.partner.slug == "swale"


# --- the partner file -----------------------------------------------------------------------


def seed_error(session, data) -> str:
    with pytest.raises(SeedError) as caught:
        load_data(session, data, source="test.yaml")
    return str(caught.value)


def test_the_real_file_lists_no_invented_tenants():
    data = yaml.safe_load(PARTNERS_FILE.read_text(encoding="utf-8"))
    assert all(not p.get("tenants") for p in data["partners"])
    assert "tenants:" in PARTNERS_FILE.read_text(encoding="utf-8")  # the comment says what to put there


def test_tenants_in_the_file_are_loaded_lower_cased_and_loading_again_changes_nothing(session):
    entry = {"slug": "test-tenanted", "name": "Tenanted Council", "domains": ["tenanted.example"]}
    load_data(session, {"partners": [dict(entry, tenants=[MEDWAY_TENANT.upper()])]})
    load_data(session, {"partners": [dict(entry, tenants=MEDWAY_TENANT)]})  # one, without brackets
    found = people_queries.partner_for_tenant(session, MEDWAY_TENANT)
    assert found is not None and found.slug == "test-tenanted"
    assert [t.tenant_id for t in found.tenants] == [MEDWAY_TENANT]
    # a tenant added later (in chat, say) stays when the file is loaded again without it
    load_data(session, {"partners": [entry]})
    assert [t.tenant_id for t in found.tenants] == [MEDWAY_TENANT]


def test_a_tenant_that_is_no_guid_is_a_seed_error(session):
    message = seed_error(
        session, {"partners": [{"slug": "t", "name": "T", "domains": ["t.example"], "tenants": ["contoso"]}]}
    )
    assert "partners[0]" in message and "tenant 'contoso' is not a Microsoft 365 tenant id" in message


def test_a_tenant_listed_under_two_partners_is_a_seed_error_naming_both(session):
    message = seed_error(
        session,
        {
            "partners": [
                {"slug": "test-one", "name": "One Council", "domains": ["one.example"], "tenants": [SWALE_TENANT]},
                {"slug": "test-two", "name": "Two Council", "domains": ["two.example"], "tenants": [SWALE_TENANT]},
            ]
        },
    )
    assert "partners[1]" in message
    assert f"tenant {SWALE_TENANT} of Two Council already belongs to One Council" in message
