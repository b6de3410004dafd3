"""Across the partnership: `partners`, the Partnership Office's overview of where the bot is
installed and used, partner by partner; and `send my messages to teams|slack`, a person's choice of
the platform the bot's own messages reach them on."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from core.messages import Field, Item, Reply
from handlers import faq
from handlers.base import Context, partner_staff_only
from handlers.when import format_moment
from storage import reach as reach_queries

NAMES = {"slack": "Slack", "teams": "Teams"}
# Lines of places shown for one partner, and for the places that are no partner's: a reply stays
# within a Slack section's 3,000 characters and a message's 50 blocks with any number of them.
PLACES_SHOWN = 8
ELSEWHERE_SHOWN = 12
AUTOMATIC = "automatic"


def _when(ctx: Context, instant: Optional[datetime]) -> str:
    return format_moment(instant.astimezone(ctx.zone)) if instant is not None else ""


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _place_line(place: reach_queries.Place, mine: bool = True) -> str:
    if place.platform == reach_queries.SLACK:
        if place.org_wide:
            org = f"{place.enterprise_name} ({place.id})" if place.enterprise_name else place.id
            label = f"Slack Enterprise Grid org {org}, installed org-wide"
        else:
            label = f"Slack workspace {place.name} ({place.id})" if place.name else f"Slack workspace {place.id}"
            if place.through_org:
                org = place.enterprise_name or place.enterprise
                label += f", through the org-wide install of {org}"
    else:
        label = f"Teams tenant {place.id}"
    notes = []
    if place.gone:
        notes.append("uninstalled")
    elif place.platform == reach_queries.SLACK and place.installed and not place.org_wide and not place.through_org:
        notes.append("installed")
    if place.platform == reach_queries.TEAMS:
        if place.registered:
            notes.append("the partner's own tenant")
        if place.installed and not place.people:
            notes.append("the bot has conversations there")
    if place.people:
        notes.append(_people(place.people) if mine else f"{_people(place.people)} not at a partner")
    elif place.registered:
        notes.append("no one yet")
    elif not mine:
        notes.append("no partner's staff seen yet")
    return f"{label}: {', '.join(n for n in notes if n)}"


def _lines(places: list[reach_queries.Place], shown: int, mine: bool = True) -> str:
    lines = [_place_line(p, mine) for p in places[:shown]]
    if len(places) > shown:
        lines.append(f"…and {len(places) - shown} more")
    return "\n".join(lines)


def _partner_item(ctx: Context, partner: reach_queries.PartnerReach) -> Item:
    fields = []
    if partner.people:
        split = ", ".join(f"{n} on {NAMES.get(p, p.capitalize())}" for p, n in sorted(partner.by_platform.items()) if n)
        fields.append(Field("Staff who have used me", f"{partner.people} ({split})" if split else str(partner.people)))
    if partner.last_seen is not None:
        fields.append(Field("Last seen", _when(ctx, partner.last_seen)))
    text = _lines(partner.places, PLACES_SHOWN)
    if not partner.people:
        text += "\nNone of its staff has used me yet."
    return Item(title=partner.name, text=text, fields=tuple(fields))


def partners_overview(ctx: Context, plain: str = "") -> Reply:
    """Each partner with where I'm installed or reached, how many of its staff have used me, and
    when last; then the places that are no partner's."""
    if not ctx.caller.is_admin:
        if plain:  # `partners` alone: anyone else is shown who the partners are
            return faq.answer(ctx, "partners")
        return Reply("Only the Partnership Office can see where I'm installed and who uses me.")
    found = reach_queries.overview(ctx.session)
    reached = [p for p in found.partners if p.reached]
    places = {(p.platform, p.id) for partner in found.partners for p in partner.places} | {
        (p.platform, p.id) for p in found.elsewhere
    }
    slack = sum(1 for platform, _ in places if platform == reach_queries.SLACK)
    teams = sum(1 for platform, _ in places if platform == reach_queries.TEAMS)
    people = sum(p.people for p in found.partners) + found.people_elsewhere
    lead = (
        f"{len(reached)} of the {len(found.partners)} partners have staff who have used me: "
        f"{people} {'person' if people == 1 else 'people'} in all, "
        f"{slack} Slack workspace{'s' if slack != 1 else ''} or org{'s' if slack != 1 else ''} and "
        f"{teams} Teams tenant{'s' if teams != 1 else ''} known."
    )
    # The partners reached first, in full; those not reached yet in one line.
    items = [_partner_item(ctx, p) for p in found.partners if p.places]
    waiting = [p.name for p in found.partners if not p.places]
    if waiting:
        items.append(
            Item(
                title=f"Not reached yet ({len(waiting)})",
                text="None of their staff has used me: " + ", ".join(waiting) + ".",
            )
        )
    if found.elsewhere:
        items.append(
            Item(
                title="Not a partner's (or not known to be)",
                text=_lines(found.elsewhere, ELSEWHERE_SHOWN, mine=False),
            )
        )
    return Reply(
        lead,
        title="Partners: where I'm installed and used",
        items=tuple(items),
        footer="A Slack workspace is listed under each partner whose staff came from it; a Teams tenant under "
        "the partner it is registered to, and under partners whose staff came from it. Last seen is to the hour.",
    )


# --- send my messages to ... ----------------------------------------------------------------------


def _platform(words: str) -> str:
    words = " ".join(words.lower().split())
    if "slack" in words:
        return "slack"
    if "teams" in words:
        return "teams"
    return AUTOMATIC


WHAT = "the messages I send you of my own accord (reminders, announcements, news of your ideas and places)"


@partner_staff_only
def send_messages_to(ctx: Context, platform: str) -> Reply:
    person = ctx.caller.person
    chosen = _platform(platform)
    back = "Say `send my messages where I last used` to go back to the platform you use last."
    if person.id is None:
        return Reply(
            "I hold nothing about you yet, so there is nothing to send anywhere. Message me from Slack or Teams "
            "first, with your work e-mail address."
        )
    here = ctx.settings.platforms
    identities = reach_queries.identities_of(ctx.session, person.id)
    mine = {i.platform for i in identities}
    if chosen == AUTOMATIC:
        before = person.preferred_platform
        person.preferred_platform = None
        usable = [i for i in identities if i.platform in here and i.gone_at is None]
        now = (
            f" Just now that is {NAMES.get(usable[0].platform, usable[0].platform)}."
            if usable and usable[0].last_seen_at is not None
            else ""
        )
        start = "Done:" if before else "That's how it is already:"
        return Reply(
            f"{start} {WHAT} go to the platform where you last used me, each message once.{now}"
            + (" You can choose one with `send my messages to slack` or `send my messages to teams`." if here else "")
        )
    name = NAMES[chosen]
    if chosen not in here:
        offered = " or ".join(NAMES[p] for p in here)
        return Reply(
            f"Sorry, {name} isn't set up for me in this deployment, so I can't send your messages there."
            + (f" I can send them to {offered}." if offered else " Nothing I send waits anywhere but here for now.")
            + " Nothing has changed."
        )
    if chosen not in mine:
        return Reply(
            f"Sorry, you haven't messaged me on {name} yet, so I don't know where to reach you there. "
            f"Send me a message in {name} first (`help` will do), then say `send my messages to {chosen}` again. "
            "Nothing has changed."
        )
    gone = all(i.gone_at is not None for i in identities if i.platform == chosen)
    note = (
        f" The Kent Connects app was removed from your {name} workspace, though: until it is back and you "
        "message me there, they go where you last used me."
        if gone
        else ""
    )
    if person.preferred_platform == chosen:
        return Reply(f"{WHAT[0].upper()}{WHAT[1:]} already come to you on {name}.{note} {back}")
    person.preferred_platform = chosen
    others = " or ".join(NAMES[p] for p in sorted(mine) if p != chosen and p in NAMES)
    elsewhere = f", not on {others}" if others else ""
    return Reply(f"Done: {WHAT} now come to you on {name}, each once{elsewhere}.{note} {back}")
