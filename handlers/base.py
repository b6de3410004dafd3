"""What every handler is given: the database session, the request and who is asking."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.messages import Action, Reply, Request
from storage.models import Group, MemberRole, Partner, Person

# How much of a person's own words a reply quotes back.
QUOTE_LIMIT = 60


@dataclass
class Caller:
    """The person asking, with what they may do. `person.id` is None for someone not stored."""

    person: Person
    partner: Optional[Partner]
    is_admin: bool = False
    is_board: bool = False
    roles_by_group: dict[int, MemberRole] = field(default_factory=dict)
    # Asking where others see the answer: a closed group's meetings are not shown there.
    in_shared_conversation: bool = False

    @property
    def email(self) -> str:
        return self.person.email

    @property
    def is_partner_staff(self) -> bool:
        return self.partner is not None or self.is_admin

    def is_member(self, group: Group) -> bool:
        return group.id in self.roles_by_group

    def is_chair(self, group: Group) -> bool:
        return self.roles_by_group.get(group.id) is MemberRole.CHAIR

    @property
    def chairs_any(self) -> bool:
        return MemberRole.CHAIR in self.roles_by_group.values()

    def may_see(self, group: Group) -> bool:
        """Restricted groups' meetings are for their members and the Partnership Office only,
        and never in a conversation others can read."""
        if not group.is_restricted:
            return True
        return not self.in_shared_conversation and (self.is_admin or self.is_member(group))


@dataclass
class Context:
    session: Session
    request: Request
    caller: Caller
    settings: Settings

    @property
    def now(self) -> datetime:
        return self.request.now

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone


def quote(text: str) -> str:
    """A person's words, shortened for quoting back in a reply."""
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…"


NO_ACCESS = (
    "I can't match {email} to a Kent Connects partner, so I can only show you `help` and "
    "`groups`. If you work for a partner, use your work e-mail address; otherwise ask the "
    "Partnership Office (Kent County Council's Infrastructure Division) for access."
)


NO_EMAIL = (
    "I can't see an e-mail address for you, so I can't tell which Kent Connects partner you work "
    "for; I can only show you `help` and `groups`. Ask your workspace administrator to make e-mail "
    "addresses visible to the Kent Connects app, or ask the Partnership Office for access."
)


def no_access_text(caller: Caller) -> str:
    return NO_ACCESS.format(email=caller.email) if "@" in caller.email else NO_EMAIL


def needs_partner(ctx: Context) -> Optional[Reply]:
    """A polite refusal for someone who is not partner staff, or None if they are."""
    if ctx.caller.is_partner_staff:
        return None
    return Reply(no_access_text(ctx.caller), actions=(Action("Help", "help"),))


def partner_staff_only(handler: Callable[..., Reply]) -> Callable[..., Reply]:
    """A handler for partner staff: anyone else gets the polite refusal instead."""

    @functools.wraps(handler)
    def guarded(ctx: Context, *args, **kwargs) -> Reply:
        return needs_partner(ctx) or handler(ctx, *args, **kwargs)

    return guarded


def private_only(handler: Callable[..., Reply]) -> Callable[..., Reply]:
    """A handler about the person themselves: not answered where others can read it."""

    @functools.wraps(handler)
    def guarded(ctx: Context, *args, **kwargs) -> Reply:
        if ctx.request.shared:
            return Reply("I'll answer that only in a private chat with you: message me directly.")
        return handler(ctx, *args, **kwargs)

    return guarded
