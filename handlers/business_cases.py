"""Business cases for the development fund: `idea` (submit), `ideas` (list), `idea CASE` (follow)."""

from __future__ import annotations

import re
from typing import Any, Optional

from core.forms import FieldError, Form, FormField, Values, register
from core.messages import Action, Item, Refusal, Reply, field_list
from handlers import conversation
from handlers.base import Context, needs_partner, partner_staff_only, quote
from handlers.fields import read_text
from handlers.groups import find_group
from handlers.money import MoneyError, format_pence, parse_pounds
from handlers.names import resolve
from handlers.when import format_moment
from storage import (
    cases as case_queries,
    deliveries,
    delivery_keys as keys,
    groups as group_queries,
    people as people_queries,
)
from storage.models import BusinessCase, CaseStatus, DeliveryKind, PersonRoleKind

STATUS_NAMES = {
    CaseStatus.DRAFT: "draft",
    CaseStatus.SUBMITTED: "submitted",
    CaseStatus.UNDER_ASSESSMENT: "under assessment",
    CaseStatus.APPROVED: "approved",
    CaseStatus.DECLINED: "declined",
    CaseStatus.IN_DELIVERY: "in delivery",
    CaseStatus.COMPLETED: "completed",
}
ALL_PARTNERS = {"all", "all partners", "everyone", "every partner", "the whole partnership", "all of them"}
NONE_WORDS = {"none", "no", "n/a", "-", "nothing", "no groups"}


def label(case: BusinessCase) -> str:
    return f"{case.title} (case {case.id})"


# --- the submission form -------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r",|;|\band\b|\n", text) if part.strip()]


def _chosen(pairs: dict[str, str]) -> dict[str, Any]:
    """Slugs to store, and names to show."""
    return {"slugs": sorted(pairs), "names": ", ".join(pairs[s] for s in sorted(pairs))}


def _read_partners(text: str, ctx: Context, values: Values) -> dict[str, Any]:
    words = " ".join(text.lower().split())
    if words in ALL_PARTNERS:
        return {"slugs": ["all"], "names": "all partners"}
    if words in NONE_WORDS:  # a case benefits some partners; and the loose match reads "no" as Sevenoaks
        raise FieldError("Name the partners who benefit, or say `all`.")
    partners = people_queries.list_partners(ctx.session)
    candidates = [(p, [p.name, p.short_name, p.slug, *(d.domain for d in p.domains)]) for p in partners]
    chosen, unknown = {}, []
    for part in _split(text):
        found = resolve(part, candidates).found
        if found is None:
            unknown.append(part)
        else:
            chosen[found.slug] = found.short_name
    if unknown:
        raise FieldError(
            f"I don't know the partner{'s' if len(unknown) > 1 else ''} "
            + ", ".join(f"“{quote(u)}”" for u in unknown)
            + ". Name partners like “Medway, Kent Police, Swale”, or say `all`."
        )
    return _chosen(chosen)


def _read_groups(text: str, ctx: Context, values: Values) -> dict[str, Any]:
    if " ".join(text.lower().split()) in NONE_WORDS:
        return {"slugs": [], "names": "none"}
    chosen = {}
    for part in _split(text):
        try:
            found = find_group(ctx, part)
        except Refusal as refusal:
            raise FieldError(refusal.reply.text) from None
        chosen[found.slug] = found.name
    return _chosen(chosen)


def _read_sponsor(text: str, ctx: Context, values: Values) -> dict[str, str]:
    try:
        found = find_group(ctx, text)
    except Refusal as refusal:
        raise FieldError(refusal.reply.text) from None
    return {"slug": found.slug, "name": found.name}


def _read_cost(text: str, ctx: Context, values: Values) -> int:
    try:
        return parse_pounds(text)
    except MoneyError as exc:
        raise FieldError(str(exc)) from None


def _read_contact(text: str, ctx: Context, values: Values) -> str:
    words = " ".join(text.split())
    if words.lower() in ("me", "myself", "i am", "i'm", "i will be"):
        return ctx.caller.email
    return words


CASE_FIELDS = (
    FormField(
        "title",
        "Title",
        "What is the idea called? (a short title)",
        read_text,
        max_length=150,
        example="Shared desk booking for partner offices",
    ),
    FormField("problem", "Problem", "What problem does it solve?", read_text, kind="long_text", max_length=3000),
    FormField("proposal", "Proposal", "What do you propose to do?", read_text, kind="long_text", max_length=3000),
    FormField(
        "partners",
        "Partners who benefit",
        "Which partners benefit? Say `all`, or name them.",
        _read_partners,
        example="all, or Medway, Kent Police, Swale",
        show=lambda v: v["names"],
        max_length=1000,
    ),
    FormField(
        "groups",
        "Groups who benefit",
        "Which groups benefit? Name them, or say `none`.",
        _read_groups,
        required=False,
        example="GIS, Smart Kent",
        show=lambda v: v["names"],
    ),
    FormField(
        "sponsor",
        "Sponsoring group",
        "Which group sponsors it?",
        _read_sponsor,
        example="Smart Kent",
        show=lambda v: v["name"],
    ),
    FormField(
        "cost",
        "Estimated cost",
        "What is the estimated cost, in pounds?",
        _read_cost,
        example="£25,000",
        show=format_pence,
    ),
    FormField("timescale", "Timescale", "Over what timescale?", read_text, max_length=200, example="9 months"),
    FormField(
        "contact", "Contact", "Who is the contact? Say `me` for yourself.", _read_contact, max_length=320, example="me"
    ),
)


def _may_submit(ctx: Context, values: Values) -> Optional[Reply]:
    return needs_partner(ctx)


def _submit(ctx: Context, values: Values) -> Reply:
    sponsor = group_queries.group_by_slug(ctx.session, values["sponsor"]["slug"])
    case = BusinessCase(
        title=values["title"],
        problem=values["problem"],
        proposal=values["proposal"],
        benefiting_partners=values["partners"]["slugs"],
        benefiting_groups=(values.get("groups") or {}).get("slugs", []),
        sponsor_group=sponsor,
        estimated_cost_pence=values["cost"],
        timescale=values["timescale"],
        contact=values["contact"],
        submitter_id=ctx.caller.person.id,
        submitter_partner_id=ctx.caller.partner.id if ctx.caller.partner else None,
        status=CaseStatus.DRAFT,
    )
    case_queries.add(ctx.session, case)
    case_queries.change(ctx.session, case, CaseStatus.SUBMITTED, ctx.caller.person, at=ctx.now)
    board = [
        p.id for p in people_queries.people_with_role(ctx.session, PersonRoleKind.BOARD) if p.id != ctx.caller.person.id
    ]
    notice = Reply(
        f"A new business case awaits the Leadership Board: {label(case)}, asking for "
        f"{format_pence(case.estimated_cost_pence)}.",
        title="New business case",
        actions=(Action("Review", "review"), Action("Details", f"idea {case.id}")),
    )
    deliveries.record(
        ctx.session,
        DeliveryKind.CASE_SUBMITTED,
        keys.subject(keys.Thing.CASE, case.id),
        keys.SUBMITTED,
        board,
        notice.to_data(),
        due_at=ctx.now,
    )
    return Reply(
        f"Thank you: your business case is submitted as {label(case)}. The Leadership Board will "
        "assess it, and I'll tell you at every step.",
        actions=(Action("Follow it", f"idea {case.id}"), Action("My ideas", "ideas mine")),
    )


CASE_FORM = register(Form("business_case", "Submit a business case", CASE_FIELDS, _submit, allowed=_may_submit))


@partner_staff_only
def new_idea(ctx: Context, title: Optional[str] = None) -> Reply:
    prefilled: Values = {}
    if title:
        try:
            prefilled["title"] = CASE_FORM.field("title").read(title, ctx, prefilled)
        except FieldError as exc:
            return Reply(str(exc))
    return conversation.start(ctx, CASE_FORM, prefilled)


# --- following cases ---------------------------------------------------------------------------


def find_case(ctx: Context, words: str) -> BusinessCase:
    """The submitted case named by its number or a distinctive part of its title; else a Refusal."""
    words = " ".join(words.split())
    digits = words.lower().removeprefix("case").strip().lstrip("#")
    if digits.isdigit() and len(digits) < 10:
        case = case_queries.get(ctx.session, int(digits))
        if case is not None and case.status is not CaseStatus.DRAFT:
            return case
        raise Refusal(
            Reply(f"I can't find business case {digits}. Say `ideas` to see them.", actions=(Action("Ideas", "ideas"),))
        )
    every = case_queries.find(ctx.session)
    found = resolve(words, [(c, [c.title]) for c in every if c.status is not CaseStatus.DRAFT]).found
    if found is not None:
        return found
    raise Refusal(
        Reply(
            f"I can't find a business case called “{quote(words)}”. Say `ideas` to see them, or "
            f"`new idea {quote(words)}` to submit one with that title.",
            actions=(Action("Ideas", "ideas"),),
        )
    )


def _benefit_text(ctx: Context, case: BusinessCase) -> str:
    partners = case.benefiting_partners or []
    if partners == ["all"]:
        return "all partners"
    total = len(people_queries.list_partners(ctx.session))
    return f"{len(partners)} of {total} partners"


def _group_names(ctx: Context, slugs: list[str]) -> str:
    names = {g.slug: g.name for g in group_queries.all_groups(ctx.session)}
    return ", ".join(names.get(slug, slug) for slug in slugs)


def _who(change) -> str:
    if change.actor is None:
        return "a former member"
    return change.actor.display_name or change.actor.email


@partner_staff_only
def show_case(ctx: Context, target: str) -> Reply:
    case = find_case(ctx, target)
    history = "\n".join(
        f"{format_moment(c.at.astimezone(ctx.zone))}: {STATUS_NAMES[c.to_status]} by {_who(c)}"
        + (f" ({c.note})" if c.note else "")
        for c in case.history
    )
    spent = case_queries.spent_on(ctx.session, case)
    return Reply(
        case.proposal,
        title=label(case),
        fields=field_list(
            ("Status", STATUS_NAMES[case.status]),
            ("Problem", case.problem),
            ("Benefits", _benefit_text(ctx, case)),
            ("Groups", _group_names(ctx, case.benefiting_groups or []) or None),
            ("Sponsor", case.sponsor_group.name if case.sponsor_group else None),
            ("Estimated cost", format_pence(case.estimated_cost_pence)),
            ("Awarded", format_pence(case.awarded_pence) if case.awarded_pence else None),
            ("Spent", format_pence(spent) if spent else None),
            ("Timescale", case.timescale),
            ("Contact", case.contact),
            ("Declined because", case.decline_reason),
            ("Outcome", case.outcome),
            ("Shared learning", case.shared_learning),
            ("History", history),
        ),
    )


FILTERS = {
    "mine": None,
    "my": None,
    "my ideas": None,
    "submitted": [CaseStatus.SUBMITTED],
    "new": [CaseStatus.SUBMITTED],
    "under assessment": [CaseStatus.UNDER_ASSESSMENT],
    "assessing": [CaseStatus.UNDER_ASSESSMENT],
    "awaiting": [CaseStatus.SUBMITTED, CaseStatus.UNDER_ASSESSMENT],
    "approved": [CaseStatus.APPROVED],
    "funded": [CaseStatus.APPROVED, CaseStatus.IN_DELIVERY, CaseStatus.COMPLETED],
    "declined": [CaseStatus.DECLINED],
    "in delivery": [CaseStatus.IN_DELIVERY],
    "completed": [CaseStatus.COMPLETED],
}


def case_item(ctx: Context, case: BusinessCase) -> Item:
    return Item(
        title=label(case),
        text=STATUS_NAMES[case.status],
        fields=field_list(
            ("Sponsor", case.sponsor_group.name if case.sponsor_group else None),
            ("Asks for", format_pence(case.estimated_cost_pence)),
            ("Awarded", format_pence(case.awarded_pence) if case.awarded_pence else None),
        ),
        actions=(Action("Details", f"idea {case.id}"),),
    )


@partner_staff_only
def list_cases(ctx: Context, which: Optional[str] = None) -> Reply:
    which = " ".join((which or "").lower().split())
    statuses: Any = [s for s in CaseStatus if s is not CaseStatus.DRAFT]
    submitter, group, scope = None, None, "all business cases"
    if which in ("mine", "my", "my ideas"):
        submitter, scope = ctx.caller.person, "your business cases"
    elif which in FILTERS:
        statuses, scope = FILTERS[which], f"{which} business cases"
    elif which:
        try:
            found = find_group(ctx, which)
        except Refusal:
            filters = ", ".join(f"`ideas {f}`" for f in ("mine", "approved", "awaiting", "declined", "completed"))
            return Reply(f"I can filter ideas by {filters}, or by a sponsoring group, e.g. `ideas gis`.")
        group, scope = found, f"business cases sponsored by {found.name}"
    if submitter is not None and submitter.id is None:
        cases: list[BusinessCase] = []
    else:
        cases = case_queries.find(ctx.session, statuses, submitter, group.id if group else None)
    if not cases:
        empty = "You have no business cases yet" if submitter is not None else f"There are no {scope} yet"
        return Reply(f"{empty}. Say `idea` to submit one.", actions=(Action("Submit an idea", "idea"),))
    return Reply(
        f"{scope[0].upper() + scope[1:]}: {len(cases)}, newest first.",
        title="Business cases",
        items=tuple(case_item(ctx, c) for c in cases[:15]),
        footer=f"…and {len(cases) - 15} more." if len(cases) > 15 else None,
    )


def notify_submitter(ctx: Context, case: BusinessCase, change_id: int, text: str) -> None:
    if case.submitter_id is None or case.submitter_id == ctx.caller.person.id:
        return
    notice = Reply(
        text, title=f"Your business case: {STATUS_NAMES[case.status]}", actions=(Action("Details", f"idea {case.id}"),)
    )
    deliveries.record(
        ctx.session,
        DeliveryKind.CASE_UPDATE,
        keys.subject(keys.Thing.CASE, case.id),
        keys.case_change(change_id),
        [case.submitter_id],
        notice.to_data(),
        due_at=ctx.now,
    )
