"""Loading partners, groups, people and roles from a YAML file (idempotent: updates, never deletes)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import groups as group_queries, people as people_queries
from storage.models import (
    Group,
    GroupAccess,
    GroupAlias,
    MemberRole,
    Partner,
    PartnerDomain,
    PartnerTenant,
    PersonRoleKind,
    SubscriptionTier,
)

PARTNERS_FILE = Path(__file__).parent / "data" / "kent_connects.yaml"


class SeedError(ValueError):
    """The seed file is malformed; the message says where."""


@dataclass
class SeedSummary:
    partners: int = 0
    groups: int = 0
    people: int = 0

    def __str__(self) -> str:
        return f"{self.partners} partners, {self.groups} groups, {self.people} people"


@functools.lru_cache(maxsize=8)
def partner_aliases(path: Path = PARTNERS_FILE) -> dict[str, tuple[str, ...]]:
    """Each partner's everyday names ("KCC", "Kent uni", "fire service"), by slug, from the partner
    file. They stay in the file, not the database: only the language layer reads them, and a name
    listed under several partners ("Canterbury") is ambiguous there by design."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for i, entry in enumerate(data.get("partners") or []):
        if isinstance(entry, dict) and isinstance(entry.get("slug"), str):
            names = _strings(entry, "aliases", f"{path}: partners[{i}]")
            found[entry["slug"]] = tuple(" ".join(a.lower().split()) for a in names)
    return found


def is_empty(session: Session) -> bool:
    return session.execute(select(func.count()).select_from(Partner)).scalar_one() == 0


def load_file(session: Session, path: Path | str) -> SeedSummary:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SeedError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        raise SeedError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise SeedError(f"{path}: expected a mapping with partners, groups and people")
    return load_data(session, data, source=str(path))


def load_data(session: Session, data: dict[str, Any], source: str = "seed data") -> SeedSummary:
    summary = SeedSummary()
    for i, entry in enumerate(data.get("partners") or []):
        _load_partner(session, _mapping(entry, f"{source}: partners[{i}]"), f"{source}: partners[{i}]")
        summary.partners += 1
    for i, entry in enumerate(data.get("groups") or []):
        _load_group(session, _mapping(entry, f"{source}: groups[{i}]"), f"{source}: groups[{i}]")
        summary.groups += 1
    session.flush()
    for i, entry in enumerate(data.get("people") or []):
        _load_person(session, _mapping(entry, f"{source}: people[{i}]"), f"{source}: people[{i}]")
        summary.people += 1
    session.flush()
    return summary


def _mapping(entry: Any, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise SeedError(f"{where}: expected a mapping")
    return entry


def _required(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SeedError(f"{where}: '{key}' is required")
    return value.strip()


def _strings(entry: dict[str, Any], key: str, where: str) -> list[str]:
    """A list of strings; one string written without brackets counts as a list of one."""
    value = entry.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise SeedError(f"{where}: '{key}' should be a list, like [a, b]")
    return [str(v).strip() for v in value if str(v).strip()]


def _choice(enum_cls, value: Any, where: str, key: str):
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise SeedError(f"{where}: {key} {value!r} is not one of {allowed}") from None


def _load_partner(session: Session, entry: dict[str, Any], where: str) -> None:
    slug = _required(entry, "slug", where)
    partner = session.execute(select(Partner).where(Partner.slug == slug)).scalar_one_or_none()
    if partner is None:
        partner = Partner(slug=slug)
        session.add(partner)
    partner.name = _required(entry, "name", where)
    partner.short_name = str(entry.get("short_name") or partner.name)
    partner.kind = entry.get("kind")
    tier = entry.get("subscription_tier")
    partner.subscription_tier = None if tier is None else _choice(SubscriptionTier, tier, where, "subscription_tier")
    _strings(entry, "aliases", where)  # read by partner_aliases; checked here, when the file is loaded
    wanted = {d.lower() for d in _strings(entry, "domains", where)}
    if not wanted:
        raise SeedError(f"{where}: a partner needs at least one e-mail domain")
    have = {d.domain for d in partner.domains}
    for domain in sorted(wanted - have):
        owner = session.execute(select(PartnerDomain).where(PartnerDomain.domain == domain)).scalar_one_or_none()
        if owner is not None and owner.partner is not partner:
            raise SeedError(f"{where}: domain {domain} already belongs to {owner.partner.name}")
        partner.domains.append(PartnerDomain(domain=domain))
    tenants = set()
    for text in _strings(entry, "tenants", where):
        tenant = people_queries.tenant_id(text)
        if tenant is None:
            raise SeedError(f"{where}: tenant {text!r} is not a Microsoft 365 tenant id (a GUID)")
        tenants.add(tenant)
    have_tenants = {t.tenant_id for t in partner.tenants}
    for tenant in sorted(tenants - have_tenants):
        holder = session.execute(select(PartnerTenant).where(PartnerTenant.tenant_id == tenant)).scalar_one_or_none()
        if holder is not None and holder.partner is not partner:
            raise SeedError(f"{where}: tenant {tenant} of {partner.name} already belongs to {holder.partner.name}")
        partner.tenants.append(PartnerTenant(tenant_id=tenant))
    session.flush()


def _load_group(session: Session, entry: dict[str, Any], where: str) -> None:
    slug = _required(entry, "slug", where)
    group = group_queries.group_by_slug(session, slug)
    if group is None:
        group = Group(slug=slug)
        session.add(group)
    group.name = _required(entry, "name", where)
    group.description = str(entry.get("description") or "")
    group.access = _choice(GroupAccess, entry.get("access", "open"), where, "access")
    have = {a.alias for a in group.aliases}
    for alias in sorted({a.lower() for a in _strings(entry, "aliases", where)} - have):
        owner = session.execute(select(GroupAlias).where(GroupAlias.alias == alias)).scalar_one_or_none()
        if owner is not None and owner.group is not group:
            raise SeedError(f"{where}: alias {alias!r} already names {owner.group.name}")
        group.aliases.append(GroupAlias(alias=alias))
    session.flush()


def _load_person(session: Session, entry: dict[str, Any], where: str) -> None:
    email = _required(entry, "email", where).lower()
    if "@" not in email:
        raise SeedError(f"{where}: {email!r} is not an e-mail address")
    person = people_queries.get_or_create_person(session, email, entry.get("name"))
    if entry.get("name"):
        person.display_name = entry["name"]
    for role in _strings(entry, "roles", where):
        people_queries.grant_role(session, person, _choice(PersonRoleKind, role, where, "role"))
    groups = entry.get("groups") or {}
    if not isinstance(groups, dict):
        raise SeedError(f"{where}: 'groups' should map group slugs to roles, like {{gis: member}}")
    for slug, role in groups.items():
        group = group_queries.group_by_slug(session, slug)
        if group is None:
            raise SeedError(f"{where}: no group with slug {slug!r}")
        group_queries.set_role(session, person, group, _choice(MemberRole, role, where, "group role"))
    session.flush()
