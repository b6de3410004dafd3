"""Who is asking: recognising people, and `whoami`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core.messages import Action, Reply, Request, field_list
from core.settings import Settings
from handlers.base import Caller, Context, no_access_text, quote
from storage import deliveries, groups as group_queries, people as people_queries
from storage.models import MemberRole, Person, PersonRoleKind, PlatformIdentity

# When a person last used the bot on a platform is kept to the hour: at most one write an hour each.
SEEN_EVERY = timedelta(hours=1)


def resolve_caller(session: Session, request: Request, settings: Settings) -> Caller:
    """Find the person by platform identity, else by e-mail.

    Partner staff are stored on first contact (with their platform identity) so that they
    can join groups: staff by their e-mail domain, or, on Teams, by their partner's Microsoft 365
    tenant whatever their address (a shared service's, an .onmicrosoft.com one). The domain comes
    first: it names the person's own organisation, where a tenant may be one they are a guest in.
    Anyone else is kept in memory only: we hold nothing about people we cannot serve.
    """
    email = (request.email or "").strip().lower()
    kept = request.keep_reference
    loaded = people_queries.load_caller(
        session,
        request.platform,
        request.user_id,
        request.workspace,
        email=email,
        conversation=request.conversation,
        reference_key=kept.key if kept is not None else "",
    )
    identity, person = loaded.identity, loaded.person
    unknown_tenant = ""
    if identity is not None:
        _seen(identity, request)
    elif person is not None:
        pass  # the console, by e-mail: found with everything the caller needs
    elif email:
        console_looked = request.platform == "console" and loaded.looked_for
        person = None if console_looked else people_queries.person_by_email(session, email)
        domain_partner = people_queries.partner_for_email(session, email) if person is None else None
        if person is None and domain_partner is not None:
            person = people_queries.create_person(session, email, request.display_name, domain_partner)
        elif person is None and request.platform == "teams" and request.workspace and not request.guest:
            tenant_partner = people_queries.partner_for_tenant(session, request.workspace)
            if tenant_partner is not None:
                person = people_queries.create_person(session, email, request.display_name, tenant_partner)
            else:
                unknown_tenant = quote(request.workspace)  # a GUID from Teams; shortened if it is ever not
        if (
            person is not None
            and request.platform != "console"
            and people_queries.link_identity(
                session,
                person,
                request.platform,
                request.user_id,
                request.workspace,
                request.enterprise,
                seen_at=request.now,
                looked_for=loaded.looked_for,
            )
        ):
            # Known on a platform at last: what was held for them goes out there now.
            deliveries.release_held(session, person.id, request.now)
    if person is None:
        person = Person(email=email or f"{request.platform}:{request.user_id}", display_name=request.display_name)
        return Caller(
            person=person,
            partner=None,
            is_admin=email in settings.admins,
            in_shared_conversation=request.shared,
            unknown_tenant=unknown_tenant,
        )

    roles = people_queries.stored_roles(person)
    return Caller(
        person=person,
        partner=person.partner,
        is_admin=person.email in settings.admins or PersonRoleKind.ADMIN in roles,
        is_board=PersonRoleKind.BOARD in roles,
        # Loaded with the person (load_caller), or read now for someone met just now.
        roles_by_group={m.group_id: m.role for m in person.memberships},
        in_shared_conversation=request.shared,
    )


def _seen(identity: PlatformIdentity, request: Request) -> None:
    """The person uses the bot here now: kept to the hour, and no longer gone from here; and the
    workspace's Enterprise Grid org, if it has joined one (or the identity is older than 0013)."""
    now = request.now
    if identity.last_seen_at is None or now - identity.last_seen_at >= SEEN_EVERY:
        identity.last_seen_at = now
    if identity.gone_at is not None:
        identity.gone_at = None
    if request.enterprise and identity.enterprise != request.enterprise:
        identity.enterprise = request.enterprise


def whoami(ctx: Context) -> Reply:
    caller = ctx.caller
    memberships = sorted(group_queries.memberships_of(ctx.session, caller.person), key=lambda m: m.group.name)
    groups_text = ", ".join(
        f"{m.group.name} (chair)" if m.role is MemberRole.CHAIR else m.group.name for m in memberships
    )
    roles = []
    if caller.is_admin:
        roles.append("Partnership Office admin")
    if caller.is_board:
        roles.append("Leadership Board member")
    if caller.partner is None and "@" not in caller.email:
        lead = no_access_text(caller)
    elif caller.partner is None and caller.unknown_tenant:
        lead = (
            f"You're {caller.email}, on Teams from a Microsoft 365 organisation (tenant {caller.unknown_tenant}) "
            "that isn't a Kent Connects partner's, and I can't match your address to a partner either, so you "
            "can read `help` and `groups`, but not join groups or see meetings. If you work for a partner, ask "
            "the Partnership Office: an admin can add your organisation's tenant."
        )
    elif caller.partner is None:
        lead = (
            f"You're {caller.email}. I can't match that address to a Kent Connects partner, "
            "so you can read `help` and `groups`, but not join groups or see meetings."
        )
    else:
        lead = f"You're {caller.person.display_name or caller.email}, from {caller.partner.name}."
    return Reply(
        lead,
        title="Who you are",
        fields=field_list(
            ("E-mail", caller.email),
            ("Partner", caller.partner.name if caller.partner else None),
            ("Groups", groups_text or ("none yet" if caller.is_partner_staff else None)),
            ("Roles", ", ".join(roles) or None),
        ),
        actions=(Action("Groups", "groups"), Action("My meetings", "my meetings")) if caller.is_partner_staff else (),
    )
