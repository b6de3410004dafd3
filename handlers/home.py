"""The person's own page (Slack's Home tab): their next meetings, their events, their cases."""

from __future__ import annotations

from core.messages import Action, Item, Reply, field_list
from handlers.base import Context, no_access_text
from handlers.business_cases import STATUS_NAMES, label as case_label
from handlers.events import label as event_label, status_text, when as event_when
from handlers.meetings import when_text
from storage import cases as case_queries, events as event_queries, meetings as meeting_queries
from storage.models import CaseStatus

SHOWN = 5


def home(ctx: Context) -> Reply:
    caller = ctx.caller
    if not caller.is_partner_staff:
        return Reply(no_access_text(caller), title="Kent Connects", actions=(Action("Help", "help"),))
    items: list[Item] = []
    mine = list(caller.roles_by_group)
    meetings = meeting_queries.upcoming(ctx.session, ctx.now, mine, limit=SHOWN) if mine else []
    for meeting in meetings:
        items.append(
            Item(
                title=f"Meeting: {meeting.group.name}",
                text=when_text(ctx, meeting),
                fields=field_list(("Where", meeting.place), ("Online", meeting.online_url)),
                actions=(Action("Details", f"next {meeting.group.slug} meeting"),),
            )
        )
    for reg in event_queries.registrations_of(ctx.session, caller.person, ctx.now)[:SHOWN]:
        items.append(
            Item(
                title=f"Event: {event_label(reg.event)}",
                text=event_when(ctx, reg.event),
                fields=field_list(("You", status_text(ctx, reg))),
                actions=(Action("Details", f"event {reg.event.id}"),),
            )
        )
    if caller.person.id is not None:
        open_cases = [
            c for c in case_queries.find(ctx.session, submitter=caller.person) if c.status is not CaseStatus.DRAFT
        ][:SHOWN]
        for case in open_cases:
            items.append(
                Item(
                    title=f"Business case: {case_label(case)}",
                    text=STATUS_NAMES[case.status],
                    actions=(Action("Details", f"idea {case.id}"),),
                )
            )
    lead = (
        f"Hello {caller.person.display_name or caller.email}. Here is what's coming up for you."
        if items
        else "Nothing is coming up for you yet: join a group or register for an event."
    )
    return Reply(
        lead,
        title="Kent Connects",
        items=tuple(items),
        actions=(
            Action("Groups", "groups"),
            Action("Events", "events"),
            Action("Submit an idea", "idea"),
            Action("Help", "help"),
        ),
    )
