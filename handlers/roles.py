"""Roles managed in chat by the Partnership Office: chairs, the Leadership Board, admins."""

from __future__ import annotations

import re

from core.messages import Refusal, Reply
from handlers.audit import record
from handlers.base import Context, admins_only
from handlers.groups import find_group
from storage import groups as group_queries, people as people_queries
from storage.models import MemberRole, Person, PersonRoleKind

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
ROLE_NAMES = {PersonRoleKind.ADMIN: "a Partnership Office admin", PersonRoleKind.BOARD: "a Leadership Board member"}


_admins_only = admins_only("change people's roles")


def _person(ctx: Context, email: str, create: bool = True) -> Person:
    """The person with this address (stored now if `create`); else a Refusal, before anything is stored."""
    email = email.strip().strip("<>").lower()
    if email.startswith("mailto:"):
        email = email[7:].split("|")[0]
    if not EMAIL.match(email):
        raise Refusal(f"“{email[:60]}” isn't an e-mail address.")
    if people_queries.partner_for_email(ctx.session, email) is None:
        raise Refusal(f"{email} isn't at a Kent Connects partner's e-mail domain, so they can't have a role.")
    if not create:
        person = people_queries.person_by_email(ctx.session, email)
        if person is None:
            raise Refusal(f"I have no record of {email}, so they have no role to remove.")
        return person
    return people_queries.get_or_create_person(ctx.session, email)


@_admins_only
def set_chair(ctx: Context, group: str, email: str, remove: str = "") -> Reply:
    found = find_group(ctx, group)
    person = _person(ctx, email, create=not remove)
    if remove:
        membership = group_queries.membership(ctx.session, person, found)
        if membership is None or membership.role is not MemberRole.CHAIR:
            return Reply(f"{person.email} doesn't chair {found.name}.")
        membership.role = MemberRole.MEMBER
        record(ctx, "chair_removed", f"group:{found.slug}", person=person.email)
        return Reply(f"{person.email} no longer chairs {found.name} (they stay a member).")
    group_queries.set_role(ctx.session, person, found, MemberRole.CHAIR)
    record(ctx, "chair_added", f"group:{found.slug}", person=person.email)
    return Reply(f"{person.email} now chairs {found.name}.")


@_admins_only
def set_role(ctx: Context, role: str, change: str, email: str) -> Reply:
    kind = PersonRoleKind.BOARD if role.lower() == "board" else PersonRoleKind.ADMIN
    adding = change.lower() in ("add", "grant")
    person = _person(ctx, email, create=adding)
    held = kind in people_queries.stored_roles(person)
    if adding:
        if held:
            return Reply(f"{person.email} is already {ROLE_NAMES[kind]}.")
        people_queries.grant_role(ctx.session, person, kind)
        record(ctx, f"{kind.value}_added", f"person:{person.id}", person=person.email)
        return Reply(f"{person.email} is now {ROLE_NAMES[kind]}.")
    if not held:
        extra = (
            " (their admin rights come from BOT_ADMINS, which only the deployment can change)"
            if kind is PersonRoleKind.ADMIN and person.email in ctx.settings.admins
            else ""
        )
        return Reply(f"{person.email} isn't {ROLE_NAMES[kind]} in the bot's records{extra}.")
    if kind is PersonRoleKind.ADMIN and person.id == ctx.caller.person.id and person.email not in ctx.settings.admins:
        return Reply("You can't remove your own admin role; ask another admin.")
    for role_row in list(person.roles):
        if role_row.role is kind:
            person.roles.remove(role_row)
    record(ctx, f"{kind.value}_removed", f"person:{person.id}", person=person.email)
    return Reply(f"{person.email} is no longer {ROLE_NAMES[kind]}.")
