"""Finding the partner a person means: its name, an everyday name ("KCC", "Kent uni", "fire
service"), or an e-mail domain. A name several partners answer to ("Canterbury") is asked
about, never guessed; a name staff may take for a partner's and isn't ("Greenwich") is said so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from core.messages import Action, Refusal, Reply
from handlers.base import Context, quote
from handlers.names import normalise, resolve
from storage import people as people_queries
from storage.models import Partner
from storage.seed import partner_aliases

# Bodies near Kent, or with a Kent-sounding name, that are not partners: (their name, the words).
NOT_PARTNERS: dict[str, str] = {
    "greenwich": "the University of Greenwich",
    "university of greenwich": "the University of Greenwich",
    "greenwich uni": "the University of Greenwich",
    "greenwich university": "the University of Greenwich",
    "uog": "the University of Greenwich",
    "royal borough of greenwich": "the Royal Borough of Greenwich",
    "bexley": "the London Borough of Bexley",
    "bromley": "the London Borough of Bromley",
    "east sussex": "East Sussex County Council",
    "surrey": "Surrey County Council",
    "essex": "Essex County Council",
}


def names_of(partner: Partner) -> list[str]:
    """Every name the partner answers to: its everyday names from the partner file, e-mail domains too."""
    aliases = partner_aliases().get(partner.slug, ())
    return [partner.name, partner.short_name, partner.slug, *aliases, *(d.domain for d in partner.domains)]


@dataclass
class PartnerMatch:
    """One partner; or several the words could mean (ask); or none, perhaps with the name of a
    body that is not a partner."""

    found: Optional[Partner] = None
    options: list[Partner] = field(default_factory=list)
    not_partner: Optional[str] = None


def match_partner(words: str, partners: Sequence[Partner]) -> PartnerMatch:
    text = " ".join(words.lower().split())
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    key = normalise(text)
    if not key:
        return PartnerMatch()
    if key in NOT_PARTNERS:
        return PartnerMatch(not_partner=NOT_PARTNERS[key])
    exact = [p for p in partners if key in {normalise(n) for n in names_of(p)}]
    if len(exact) == 1:
        return PartnerMatch(found=exact[0])
    if exact:
        return PartnerMatch(options=exact)
    # A sub-domain of a partner's domain is the partner's (as for people's addresses).
    by_domain = [p for p in partners if any(text.endswith("." + d.domain) for d in p.domains)]
    if len(by_domain) == 1:
        return PartnerMatch(found=by_domain[0])
    lookup = resolve(key, [(p, names_of(p)) for p in partners])
    if lookup.found is not None:
        return PartnerMatch(found=lookup.found)
    return PartnerMatch(options=list(lookup.suggestions))


def universities(partners: Sequence[Partner]) -> str:
    return ", ".join(p.name for p in partners if (p.kind or "") == "university")


def find_partner(ctx: Context, words: str, command: str = "") -> Partner:
    """The partner the words name; a Refusal that asks (several), or says none does, otherwise.
    `command` ("fund add {partner} £5,000") gives the buttons of the question."""
    partners = people_queries.list_partners(ctx.session)
    match = match_partner(words, partners)
    if match.found is not None:
        return match.found
    if match.not_partner:
        listed = universities(partners)
        raise Refusal(
            f"{match.not_partner[0].upper()}{match.not_partner[1:]} isn't a Kent Connects partner"
            + (f" (the universities in the partnership are {listed})." if "niversity" in match.not_partner else ".")
        )
    if len(match.options) > 1:
        names = " or ".join(p.name for p in match.options)
        actions = tuple(Action(p.short_name, command.format(partner=p.slug)) for p in match.options) if command else ()
        raise Refusal(Reply(f"Which do you mean: {names}?", actions=actions))
    hint = f" Did you mean {match.options[0].name}?" if match.options else ""
    raise Refusal(f"I don't know a partner called “{quote(words)}”.{hint}")
