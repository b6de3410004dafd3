"""Where the bot reaches the partnership: the Slack workspaces and Teams tenants it is installed in
or people came from, by partner (the `partners` overview), the same as counts (/healthz), and a
person's own platforms (`send my messages to ...`).

A Slack workspace belongs to no partner by itself: it is listed under each partner whose staff
came from it, and a workspace the app is installed in where no partner's staff were seen yet is
"no partner's". A Teams tenant is a partner's when it is in the partner's tenants, or when its
staff came from it. The overview is five statements whatever the number of partners, workspaces
or people; the counts are one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import String, case, false, func, literal, select, union, union_all
from sqlalchemy.orm import Session

from storage.models import ConversationRef, Partner, PartnerTenant, Person, PlatformIdentity
from storage.models.slack import slack_bots, slack_installations

SLACK, TEAMS = "slack", "teams"
# The console is no platform anyone is reached on: its "identities" are only e-mail addresses.
_NOT_A_PLATFORM = "console"


@dataclass
class Place:
    """A Slack workspace (or an Enterprise Grid org installed org-wide) or a Teams tenant."""

    platform: str
    id: str  # Slack team id (an org's id for an org-wide install) / Teams tenant id
    name: str = ""  # the workspace's name, where an install told us
    enterprise: str = ""  # the Enterprise Grid org of a Slack workspace
    enterprise_name: str = ""
    org_wide: bool = False  # an Enterprise Grid org-wide install (this place is the org)
    through_org: bool = False  # a workspace reached through its org's org-wide install
    installed: bool = False  # Slack: an installation is stored; Teams: the bot has a conversation there
    registered: bool = False  # Teams: one of the partner's own tenants (PartnerTenant)
    gone: bool = False  # every identity seen here was marked gone (the app was uninstalled)
    people: int = 0
    last_seen: Optional[datetime] = None


@dataclass
class PartnerReach:
    id: int
    name: str
    short_name: str
    places: list[Place] = field(default_factory=list)
    people: int = 0  # staff with at least one platform identity
    by_platform: dict[str, int] = field(default_factory=dict)
    last_seen: Optional[datetime] = None

    @property
    def reached(self) -> bool:
        return self.people > 0


@dataclass
class Reach:
    partners: list[PartnerReach]
    elsewhere: list[Place]  # installed, or people came from, but no partner's
    people_elsewhere: int = 0  # people with an identity who are no partner's staff


@dataclass(frozen=True)
class _Install:
    team_id: str
    team_name: str
    enterprise_id: str
    enterprise_name: str
    org_wide: bool
    installed_at: Optional[datetime]


def _latest(a: Optional[datetime], b: Optional[datetime]) -> Optional[datetime]:
    return b if a is None or (b is not None and b > a) else a


def _slack_installs(session: Session) -> list[_Install]:
    """Every Slack install stored by slack_sdk (bots and installations), the newest name of each."""
    selects = [
        select(
            t.c.team_id,
            t.c.team_name,
            t.c.enterprise_id,
            t.c.enterprise_name,
            t.c.is_enterprise_install,
            func.max(t.c.installed_at).label("installed_at"),
        ).group_by(t.c.team_id, t.c.team_name, t.c.enterprise_id, t.c.enterprise_name, t.c.is_enterprise_install)
        for t in (slack_bots, slack_installations)
    ]
    found: dict[tuple[str, str, bool], _Install] = {}
    for team_id, team_name, enterprise_id, enterprise_name, org_wide, installed_at in session.execute(
        union_all(*selects)
    ):
        at = installed_at.replace(tzinfo=timezone.utc) if installed_at and installed_at.tzinfo is None else installed_at
        key = (enterprise_id or "", "" if org_wide else (team_id or ""), bool(org_wide))
        known = found.get(key)
        if known is None or (at is not None and (known.installed_at is None or at > known.installed_at)):
            found[key] = _Install(
                team_id or "", team_name or "", enterprise_id or "", enterprise_name or "", bool(org_wide), at
            )
    return list(found.values())


def overview(session: Session) -> Reach:
    """Each partner (by name) with where it is reached, how many of its staff, when last; and the
    places that are no partner's. Five statements, whatever the numbers."""
    partners: dict[int, PartnerReach] = {}
    tenant_owner: dict[str, int] = {}
    for partner_id, name, short_name, tenant_id in session.execute(
        select(Partner.id, Partner.name, Partner.short_name, PartnerTenant.tenant_id)
        .outerjoin(PartnerTenant, PartnerTenant.partner_id == Partner.id)
        .order_by(Partner.name, Partner.id, PartnerTenant.tenant_id)
    ):
        partners.setdefault(partner_id, PartnerReach(partner_id, name, short_name))
        if tenant_id:
            tenant_owner[tenant_id] = partner_id

    seen = session.execute(
        select(
            Person.partner_id,
            PlatformIdentity.platform,
            PlatformIdentity.workspace,
            PlatformIdentity.enterprise,
            func.count(func.distinct(PlatformIdentity.person_id)),
            func.max(PlatformIdentity.last_seen_at),
            func.sum(case((PlatformIdentity.gone_at.is_(None), 1), else_=0)),
        )
        .join(Person, Person.id == PlatformIdentity.person_id)
        .where(PlatformIdentity.platform != _NOT_A_PLATFORM)
        .group_by(Person.partner_id, PlatformIdentity.platform, PlatformIdentity.workspace, PlatformIdentity.enterprise)
    ).all()

    people = (
        select(Person.partner_id, PlatformIdentity.person_id, PlatformIdentity.platform)
        .join(Person, Person.id == PlatformIdentity.person_id)
        .where(PlatformIdentity.platform != _NOT_A_PLATFORM)
        .subquery()
    )
    totals = session.execute(
        union_all(
            select(people.c.partner_id, people.c.platform, func.count(func.distinct(people.c.person_id))).group_by(
                people.c.partner_id, people.c.platform
            ),
            select(
                people.c.partner_id,
                literal("", String).label("platform"),
                func.count(func.distinct(people.c.person_id)),
            ).group_by(people.c.partner_id),
        )
    ).all()

    installs = _slack_installs(session)
    conversations = {
        tenant: (n, at)
        for tenant, n, at in session.execute(
            select(ConversationRef.tenant_id, func.count(), func.max(ConversationRef.updated_at))
            .where(ConversationRef.platform == TEAMS, ConversationRef.tenant_id != "")
            .group_by(ConversationRef.tenant_id)
        )
    }

    # --- put together, in Python -------------------------------------------------------------
    teams_by_id = {i.team_id: i for i in installs if not i.org_wide and i.team_id}
    orgs = {i.enterprise_id: i for i in installs if i.org_wide and i.enterprise_id}
    people_elsewhere = 0
    for partner_id, platform, count in totals:
        if partner_id is None or partner_id not in partners:
            if platform == "":
                people_elsewhere += count
            continue
        if platform == "":
            partners[partner_id].people = count
        else:
            partners[partner_id].by_platform[platform] = count

    places: dict[tuple[Optional[int], str, str], Place] = {}  # (partner or None, platform, id)

    def place(owner: Optional[int], platform: str, place_id: str) -> Place:
        key = (owner if owner in partners else None, platform, place_id)
        if key not in places:
            places[key] = Place(platform, place_id)
        return places[key]

    active: dict[int, int] = {}  # by id(place): identities not gone
    slack_teams_of_staff: set[str] = set()
    slack_orgs_of_staff: set[str] = set()
    teams_tenants_of_staff: set[str] = set()
    for partner_id, platform, workspace, enterprise, count, last_seen, not_gone in seen:
        found = place(partner_id, platform, workspace or "")
        found.people += count
        found.last_seen = _latest(found.last_seen, last_seen)
        active[id(found)] = active.get(id(found), 0) + int(not_gone or 0)
        found.gone = active[id(found)] == 0
        if platform == SLACK:
            found.enterprise = found.enterprise or enterprise or ""
            if partner_id in partners:
                slack_teams_of_staff.add(workspace or "")
                if enterprise:
                    slack_orgs_of_staff.add(enterprise)
        elif platform == TEAMS and partner_id in partners:
            teams_tenants_of_staff.add(workspace or "")
        if partner_id in partners:
            reach = partners[partner_id]
            reach.last_seen = _latest(reach.last_seen, last_seen)

    for tenant, owner in tenant_owner.items():
        place(owner, TEAMS, tenant).registered = True

    for install in installs:  # installs where no partner's staff came from are no partner's
        if install.org_wide and install.enterprise_id not in slack_orgs_of_staff:
            place(None, SLACK, install.enterprise_id).org_wide = True
        elif not install.org_wide and install.team_id and install.team_id not in slack_teams_of_staff:
            place(None, SLACK, install.team_id)
    for tenant in conversations:
        if tenant not in tenant_owner and tenant not in teams_tenants_of_staff:
            place(None, TEAMS, tenant)

    for (_, platform, place_id), found in places.items():
        if platform == SLACK:
            if found.org_wide:
                found.enterprise, found.enterprise_name = place_id, orgs[place_id].enterprise_name
                found.installed = True
                continue
            installed = teams_by_id.get(place_id)
            org_install = orgs.get(found.enterprise) if found.enterprise else None
            if installed is not None:
                found.name, found.installed = installed.team_name, True
                found.enterprise = found.enterprise or installed.enterprise_id
                found.enterprise_name = installed.enterprise_name
            if org_install is not None:
                found.through_org, found.installed = True, True
                found.enterprise_name = found.enterprise_name or org_install.enterprise_name
            if found.installed:
                found.gone = False  # installed again: nobody has come back yet
        else:
            count, at = conversations.get(place_id, (0, None))
            found.installed = count > 0
            if found.people == 0:
                found.last_seen = at

    def order(p: Place) -> tuple:
        return (p.platform != SLACK, not p.org_wide, (p.name or p.id).lower(), p.id)

    for (holder, _, _), found in places.items():
        if holder is not None:
            partners[holder].places.append(found)
    for reach in partners.values():
        reach.places.sort(key=order)
    elsewhere = sorted((p for (owner, _, _), p in places.items() if owner is None), key=order)
    return Reach(list(partners.values()), elsewhere, people_elsewhere)


def counts(session: Session) -> dict[str, int]:
    """The reach as numbers only, in one statement (for /healthz): partners whose staff used the
    bot, Slack workspaces (installed, or with someone not gone), Enterprise Grid org-wide installs,
    Teams tenants (someone came from it, or the bot has a conversation there), and people."""
    used = (
        select(PlatformIdentity.person_id, Person.partner_id)
        .join(Person, Person.id == PlatformIdentity.person_id)
        .where(PlatformIdentity.platform != _NOT_A_PLATFORM)
        .subquery()
    )
    workspaces = union(
        *(select(t.c.team_id.label("id")).where(t.c.team_id.is_not(None)) for t in (slack_bots, slack_installations)),
        select(PlatformIdentity.workspace.label("id")).where(
            PlatformIdentity.platform == SLACK, PlatformIdentity.gone_at.is_(None), PlatformIdentity.workspace != ""
        ),
    ).subquery()
    org_wide = union(
        *(
            select(t.c.enterprise_id.label("id")).where(
                t.c.is_enterprise_install != false(), t.c.enterprise_id.is_not(None)
            )
            for t in (slack_bots, slack_installations)
        )
    ).subquery()
    tenants = union(
        select(PlatformIdentity.workspace.label("id")).where(
            PlatformIdentity.platform == TEAMS, PlatformIdentity.workspace != ""
        ),
        select(ConversationRef.tenant_id.label("id")).where(
            ConversationRef.platform == TEAMS, ConversationRef.tenant_id != ""
        ),
    ).subquery()
    row = session.execute(
        select(
            select(func.count(func.distinct(used.c.partner_id))).scalar_subquery().label("partners_reached"),
            select(func.count()).select_from(workspaces).scalar_subquery().label("slack_workspaces"),
            select(func.count()).select_from(org_wide).scalar_subquery().label("slack_org_installs"),
            select(func.count()).select_from(tenants).scalar_subquery().label("teams_tenants"),
            select(func.count(func.distinct(used.c.person_id))).scalar_subquery().label("people"),
        )
    ).one()
    return {key: int(value or 0) for key, value in row._mapping.items()}


def identities_of(session: Session, person_id: int) -> list[PlatformIdentity]:
    """The person's accounts on the platforms, most recently used first."""
    return list(
        session.execute(
            select(PlatformIdentity)
            .where(PlatformIdentity.person_id == person_id, PlatformIdentity.platform != _NOT_A_PLATFORM)
            .order_by(PlatformIdentity.last_seen_at.desc().nulls_last(), PlatformIdentity.id.desc())
        ).scalars()
    )
