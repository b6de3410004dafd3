"""Who is asking: recognising people, and `whoami`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.messages import Action, Reply, Request, field_list
from core.settings import Settings
from handlers.base import Caller, Context, no_access_text
from storage import deliveries, groups as group_queries, people as people_queries
from storage.models import MemberRole, Person, PersonRoleKind


def resolve_caller(session: Session, request: Request, settings: Settings) -> Caller:
    """Find the person by platform identity, else by e-mail.

    Partner staff are stored on first contact (with their platform identity) so that they
    can join groups; anyone else is kept in memory only: we hold nothing about people we
    cannot serve.
    """
    person = people_queries.person_by_identity(session, request.platform, request.user_id, request.workspace)
    email = (request.email or "").strip().lower()
    if person is None and email:
        person = people_queries.person_by_email(session, email)
        if person is None and people_queries.partner_for_email(session, email) is not None:
            person = people_queries.get_or_create_person(session, email, request.display_name)
        if (
            person is not None
            and request.platform != "console"
            and people_queries.link_identity(
                session, person, request.platform, request.user_id, request.workspace, request.enterprise
            )
        ):
            # Known on a platform at last: what was held for them goes out there now.
            deliveries.release_held(session, person.id, request.now)
    if person is None:
        person = Person(email=email or f"{request.platform}:{request.user_id}", display_name=request.display_name)
        return Caller(
            person=person, partner=None, is_admin=email in settings.admins, in_shared_conversation=request.shared
        )

    roles = people_queries.stored_roles(person)
    return Caller(
        person=person,
        partner=person.partner,
        is_admin=person.email in settings.admins or PersonRoleKind.ADMIN in roles,
        is_board=PersonRoleKind.BOARD in roles,
        roles_by_group={m.group_id: m.role for m in group_queries.memberships_of(session, person)},
        in_shared_conversation=request.shared,
    )


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
