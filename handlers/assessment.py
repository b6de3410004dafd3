"""The Leadership Board decides on business cases; the Partnership Office keeps the fund's ledger."""

from __future__ import annotations

import re
from typing import Optional

from core.messages import Action, Field, Item, Refusal, Reply
from handlers.audit import record
from handlers.base import Context, guarded_by, needs_partner, partner_staff_only
from handlers.business_cases import STATUS_NAMES, case_item, find_case, label, notify_submitter
from handlers.money import MoneyError, format_pence, parse_pounds
from handlers.partners import find_partner
from handlers.when import format_day
from storage import cases as case_queries
from storage.models import BusinessCase, CaseStatus, FundEntry, FundEntryKind

AWAITING = (CaseStatus.SUBMITTED, CaseStatus.UNDER_ASSESSMENT)
REVIEW_LIMIT = 20
FUNDED = (CaseStatus.APPROVED, CaseStatus.IN_DELIVERY)


def _board_only(ctx: Context) -> Optional[Reply]:
    refusal = needs_partner(ctx)
    if refusal:
        return refusal
    if not ctx.caller.is_board:
        return Reply(
            "Only members of the Leadership Board can assess business cases. You can follow them "
            "with `ideas` and `idea CASE`."
        )
    return None


def _admins_only(ctx: Context) -> Optional[Reply]:
    refusal = needs_partner(ctx)
    if refusal:
        return refusal
    if not ctx.caller.is_admin:
        return Reply("Only the Partnership Office can record money in the development fund.")
    return None


def _when(ctx: Context, case: BusinessCase, status: CaseStatus) -> str:
    last = next((c for c in reversed(case.history) if c.to_status is status), None)
    return f" on {format_day(last.at.astimezone(ctx.zone))}" if last else ""


def _not_now(ctx: Context, case: BusinessCase, wanted: str) -> Reply:
    """Why the case cannot be `wanted` in its present state."""
    state = STATUS_NAMES[case.status]
    if case.status is CaseStatus.APPROVED and wanted == "approved":
        return Reply(
            f"{label(case)} is already approved, for {format_pence(case.awarded_pence or 0)}"
            f"{_when(ctx, case, CaseStatus.APPROVED)}. Nothing has changed."
        )
    if case.status is CaseStatus.DECLINED:
        return Reply(
            f"{label(case)} was declined{_when(ctx, case, CaseStatus.DECLINED)}, so it can't be {wanted}. "
            "Its submitter can put forward a new case."
        )
    return Reply(f"{label(case)} is {state}, so it can't be {wanted} now.")


def _decide(ctx: Context, target: str, allowed: tuple[CaseStatus, ...], wanted: str) -> BusinessCase:
    """The case to decide on, locked; a Refusal if the caller may not decide it, or not `wanted` now."""
    refusal = _board_only(ctx)
    if refusal:
        raise Refusal(refusal)
    found = find_case(ctx, target)
    case_queries.lock(ctx.session, found)  # two Board members deciding at once: one wins
    if found.submitter_id is not None and found.submitter_id == ctx.caller.person.id:
        raise Refusal(
            f"{label(found)} is your own business case, so another member of the Leadership Board must decide on it."
        )
    if found.status not in allowed:
        raise Refusal(_not_now(ctx, found, wanted))
    return found


@guarded_by(_board_only)
def review(ctx: Context) -> Reply:
    waiting = case_queries.find(ctx.session, AWAITING, limit=REVIEW_LIMIT, oldest_first=True)
    if not waiting:
        return Reply("No business cases are waiting for assessment.")
    total = len(waiting) if len(waiting) < REVIEW_LIMIT else case_queries.count(ctx.session, AWAITING)
    balance = case_queries.balance(ctx.session)
    items = []
    for case in waiting:  # oldest first: first come, first assessed
        item = case_item(ctx, case)
        items.append(
            Item(
                item.title,
                item.text,
                item.fields,
                (
                    Action("Details", f"idea {case.id}"),
                    Action(
                        f"Approve {format_pence(case.estimated_cost_pence)}",
                        f"approve {case.id} {format_pence(case.estimated_cost_pence)}",
                        "primary",
                    ),
                ),
            )
        )
    shown = f" The oldest {len(waiting)} are below." if total > len(waiting) else ""
    return Reply(
        f"{total} business case{'s' if total != 1 else ''} waiting, oldest first.{shown} "
        f"The fund's balance is {format_pence(balance)}.",
        title="Cases to assess",
        items=tuple(items),
        footer="Say `assess CASE` to mark one under assessment, `approve CASE AMOUNT`, or `decline CASE REASON`.",
    )


def _advance(
    ctx: Context, target: str, allowed: tuple[CaseStatus, ...], to: CaseStatus, wanted: str, action: str, told: str
) -> Reply:
    """A step that needs nothing but the Board's say-so: under assessment, in delivery."""
    case = _decide(ctx, target, allowed, wanted)
    step = case_queries.change(ctx.session, case, to, ctx.caller.person, at=ctx.now)
    notify_submitter(ctx, case, step.id, told.format(case=label(case)))
    record(ctx, action, f"case:{case.id}")
    return Reply(f"{label(case)} is now {STATUS_NAMES[to]}. Its submitter is told.")


def assess(ctx: Context, target: str) -> Reply:
    return _advance(
        ctx,
        target,
        (CaseStatus.SUBMITTED,),
        CaseStatus.UNDER_ASSESSMENT,
        "put under assessment",
        "case_assessed",
        "The Leadership Board is assessing {case}.",
    )


def approve(ctx: Context, target: str, amount: str) -> Reply:
    case = _decide(ctx, target, AWAITING, "approved")
    try:
        pence = parse_pounds(amount)
    except MoneyError as exc:
        return Reply(f"{exc} e.g. `approve {case.id} £20,000`.")
    case_queries.lock_fund(ctx.session)
    balance = case_queries.balance(ctx.session)
    if pence > balance:
        return Reply(
            f"The fund can't cover that: awarding {format_pence(pence)} to {label(case)} would need "
            f"{format_pence(pence - balance)} more than its balance of {format_pence(balance)}. Nothing was changed.",
            actions=(Action("The fund", "fund"),),
        )
    case.awarded_pence = pence
    step = case_queries.change(
        ctx.session, case, CaseStatus.APPROVED, ctx.caller.person, note=f"awarded {format_pence(pence)}", at=ctx.now
    )
    case_queries.add_fund_entry(
        ctx.session,
        FundEntry(
            kind=FundEntryKind.AWARD,
            year=case_queries.financial_year(ctx.now.astimezone(ctx.zone).date()),
            amount_pence=pence,
            case_id=case.id,
            recorded_by_id=ctx.caller.person.id,
            at=ctx.now,
        ),
    )
    record(ctx, "case_approved", f"case:{case.id}", amount=format_pence(pence))
    notify_submitter(
        ctx,
        case,
        step.id,
        f"Good news: the Leadership Board approved {label(case)} and awarded "
        f"{format_pence(pence)} from the development fund.",
    )
    return Reply(
        f"Approved {label(case)}: {format_pence(pence)} awarded. The fund's balance is now "
        f"{format_pence(balance - pence)}. Its submitter is told."
    )


def approve_help(ctx: Context, words: str = "") -> Reply:
    return Reply(
        "To approve a case, give its number and the amount awarded: `approve CASE AMOUNT`, e.g. `approve 3 £20,000`."
    )


def decline(ctx: Context, target: str, reason: str = "") -> Reply:
    reason = " ".join(reason.split())
    if reason.lower() in ("because", "reason", "as", "since"):
        reason = ""
    if not reason:
        return Reply("Please give the reason, which the submitter will see: `decline CASE REASON`.")
    case = _decide(ctx, target, AWAITING, "declined")
    case.decline_reason = reason
    step = case_queries.change(ctx.session, case, CaseStatus.DECLINED, ctx.caller.person, note=reason, at=ctx.now)
    notify_submitter(ctx, case, step.id, f"The Leadership Board declined {label(case)}. The reason given: {reason}")
    record(ctx, "case_declined", f"case:{case.id}", reason=reason)
    return Reply(f"Declined {label(case)}. Its submitter is told the reason.")


def start_delivery(ctx: Context, target: str) -> Reply:
    return _advance(
        ctx,
        target,
        (CaseStatus.APPROVED,),
        CaseStatus.IN_DELIVERY,
        "put in delivery",
        "case_in_delivery",
        "{case} is now in delivery.",
    )


def outcome(ctx: Context, target: str, text: str = "") -> Reply:
    text = text.strip()
    if not text:
        return Reply("Please give the outcome: `outcome CASE TEXT` (add `learning: ...` for the shared learning).")
    case = _decide(ctx, target, FUNDED, "completed")
    parts = re.split(r"(?i)\b(?:shared\s+)?learning\s*:", text, maxsplit=1)
    result, learning = parts[0], parts[1] if len(parts) > 1 else ""
    case.outcome = result.strip().rstrip(".;,") or text
    case.shared_learning = learning.strip() or None
    step = case_queries.change(
        ctx.session, case, CaseStatus.COMPLETED, ctx.caller.person, note="outcome reported", at=ctx.now
    )
    notify_submitter(
        ctx, case, step.id, f"{label(case)} is completed; its outcome is reported to the Leadership Group."
    )
    record(ctx, "case_completed", f"case:{case.id}")
    return Reply(
        f"{label(case)} is completed, with its outcome{' and shared learning' if case.shared_learning else ''} "
        "recorded for the Leadership Group."
    )


# --- the fund ----------------------------------------------------------------------------------


@partner_staff_only
def fund(ctx: Context) -> Reply:
    years = case_queries.totals_by_year(ctx.session)
    balance = case_queries.balance(ctx.session)
    items = tuple(
        Item(
            title=case_queries.year_label(year),
            fields=(
                Field("Contributed", format_pence(t.contributed)),
                Field("Awarded", format_pence(t.awarded)),
                Field("Spent", format_pence(t.spent)),
            ),
        )
        for year, t in years.items()
    )
    return Reply(
        f"The development fund's balance is {format_pence(balance)} (contributions less awards).",
        title="Development fund",
        items=items,
        footer=None if years else "Nothing is recorded in the fund yet.",
        actions=(Action("Funded cases", "ideas funded"),),
    )


def _year(ctx: Context, words: Optional[str]) -> Optional[int]:
    """'2026/27' or '2026' (the year April falls in); None when it isn't one."""
    if not words:
        return case_queries.financial_year(ctx.now.astimezone(ctx.zone).date())
    first, _, second = words.strip().partition("/")
    if not first.isdigit() or not 2000 <= int(first) <= 2100:
        return None
    if second and second != f"{(int(first) + 1) % 100:02d}" and second != str(int(first) + 1):
        return None
    return int(first)


@guarded_by(_admins_only)
def add_contribution(ctx: Context, partner: str, amount: str, year: Optional[str] = None) -> Reply:
    found = find_partner(ctx, partner, f"fund add {{partner}} {amount}" + (f" {year}" if year else ""))
    try:
        pence = parse_pounds(amount)
    except MoneyError as exc:
        return Reply(str(exc))
    fy = _year(ctx, year)
    if fy is None:
        return Reply("Give the financial year as e.g. 2026/27.")
    case_queries.add_fund_entry(
        ctx.session,
        FundEntry(
            kind=FundEntryKind.CONTRIBUTION,
            year=fy,
            amount_pence=pence,
            partner_id=found.id,
            recorded_by_id=ctx.caller.person.id,
            at=ctx.now,
        ),
    )
    record(ctx, "fund_contribution", f"fund:{fy}", partner=found.slug, amount=format_pence(pence))
    return Reply(
        f"Recorded {format_pence(pence)} from {found.name} for {case_queries.year_label(fy)}. The fund's "
        f"balance is now {format_pence(case_queries.balance(ctx.session))}."
    )


@guarded_by(_admins_only)
def record_spend(ctx: Context, target: str, amount: str) -> Reply:
    found = find_case(ctx, target)
    if found.status not in (*FUNDED, CaseStatus.COMPLETED):
        return Reply(f"{label(found)} is {STATUS_NAMES[found.status]}: only funded cases spend from the fund.")
    try:
        pence = parse_pounds(amount)
    except MoneyError as exc:
        return Reply(str(exc))
    case_queries.lock(ctx.session, found)  # two spends at once must not pass the award together
    spent = case_queries.spent_on(ctx.session, found)
    if spent + pence > (found.awarded_pence or 0):
        return Reply(
            f"That would take {label(found)}'s spending to {format_pence(spent + pence)}, more than its "
            f"award of {format_pence(found.awarded_pence or 0)}. Nothing was recorded."
        )
    case_queries.add_fund_entry(
        ctx.session,
        FundEntry(
            kind=FundEntryKind.SPEND,
            year=_year(ctx, None),
            amount_pence=pence,
            case_id=found.id,
            recorded_by_id=ctx.caller.person.id,
            at=ctx.now,
        ),
    )
    record(ctx, "fund_spend", f"case:{found.id}", amount=format_pence(pence))
    return Reply(
        f"Recorded {format_pence(pence)} spent by {label(found)}: {format_pence(spent + pence)} of "
        f"{format_pence(found.awarded_pence or 0)} so far."
    )
