"""What every handler is given: the database session, the request and who is asking."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.caller import Caller as NeutralCaller
from core.messages import Action, Reply, Request
from core.settings import Settings
from storage.models import Partner, Person

# How much of a person's own words a reply quotes back.
QUOTE_LIMIT = 60


@dataclass
class Caller(NeutralCaller):
    """The caller as handlers see it: the stored person and partner themselves."""

    person: Person
    partner: Optional[Partner]
    # The Microsoft 365 tenant a Teams caller came from, when it is no partner's (and their address
    # is no partner's either): the refusal says how their organisation can be added.
    unknown_tenant: str = ""


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


NO_TENANT = (
    "I can't match {email} to a Kent Connects partner, and the Microsoft 365 organisation you're "
    "using Teams from isn't one I know as a partner's, so I can only show you `help` and `groups`. "
    "If you work for a partner, ask the Partnership Office (Kent County Council's Infrastructure "
    "Division): an admin can add your organisation's tenant ({tenant}) so that your colleagues and "
    "you are recognised."
)


def no_access_text(caller: Caller) -> str:
    if "@" not in caller.email:
        return NO_EMAIL
    if caller.unknown_tenant:
        return NO_TENANT.format(email=caller.email, tenant=caller.unknown_tenant)
    return NO_ACCESS.format(email=caller.email)


def needs_partner(ctx: Context) -> Optional[Reply]:
    """A polite refusal for someone who is not partner staff, or None if they are."""
    if ctx.caller.is_partner_staff:
        return None
    return Reply(no_access_text(ctx.caller), actions=(Action("Help", "help"),))


Handler = Callable[..., Reply]


def guarded_by(check: Callable[[Context], Optional[Reply]]) -> Callable[[Handler], Handler]:
    """A handler answered only when `check` has no refusal for the caller; else that refusal is."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def guarded(ctx: Context, *args, **kwargs) -> Reply:
            return check(ctx) or handler(ctx, *args, **kwargs)

        return guarded

    return decorate


def admins_only(what: str) -> Callable[[Handler], Handler]:
    """A handler for Partnership Office admins; anyone else is told "Only the Partnership Office can {what}."."""

    def check(ctx: Context) -> Optional[Reply]:
        return None if ctx.caller.is_admin else Reply(f"Only the Partnership Office can {what}.")

    return guarded_by(check)


def partner_staff_only(handler: Handler) -> Handler:
    """A handler for partner staff: anyone else gets the polite refusal instead."""
    return guarded_by(needs_partner)(handler)


def private_only(handler: Callable[..., Reply]) -> Callable[..., Reply]:
    """A handler about the person themselves: not answered where others can read it."""

    @functools.wraps(handler)
    def guarded(ctx: Context, *args, **kwargs) -> Reply:
        if ctx.request.shared:
            return Reply("I'll answer that only in a private chat with you: message me directly.")
        return handler(ctx, *args, **kwargs)

    return guarded
