"""`partner tenant PARTNER TENANT_ID`: the Partnership Office records a partner's Microsoft 365
tenant, so that its staff are recognised on Teams whatever their e-mail address."""

from __future__ import annotations

from core.messages import Reply
from handlers.audit import record
from handlers.base import Context, admins_only, quote
from handlers.partners import find_partner
from storage import people as people_queries

_admins_only = admins_only("record a partner's Microsoft 365 tenant")


@_admins_only
def set_tenant(ctx: Context, partner: str, tenant: str) -> Reply:
    canonical = people_queries.tenant_id(tenant)
    if canonical is None:
        return Reply(
            f"“{quote(tenant)}” isn't a Microsoft 365 tenant id. It is a GUID such as "
            "`0a1b2c3d-4e5f-6789-abcd-ef0123456789`: the partner's Teams admin finds it as the "
            "Directory (tenant) ID on the overview page of the Microsoft Entra admin centre."
        )
    found = find_partner(ctx, partner, f"partner tenant {{partner}} {canonical}")
    try:
        added = people_queries.add_tenant(ctx.session, found, canonical)
    except people_queries.TenantTaken as taken:
        return Reply(
            f"I can't record that tenant for {found.name}: {taken}. A tenant belongs to one partner only; "
            "check the id with the partner's Teams admin. Nothing was changed."
        )
    if not added:
        return Reply(f"The tenant {canonical} is already recorded for {found.name}.")
    record(ctx, "partner_tenant_added", f"partner:{found.slug}", tenant=canonical)
    others = [t.tenant_id for t in found.tenants if t.tenant_id != canonical]
    also = f" (its other tenants: {', '.join(others)})" if others else ""
    return Reply(
        f"Recorded the Microsoft 365 tenant {canonical} for {found.name}{also}. Anyone who messages me on "
        f"Teams from that tenant is now recognised as {found.short_name} staff, whatever their e-mail address."
    )


@_admins_only
def usage(ctx: Context, words: str = "") -> Reply:
    return Reply(
        "To recognise a partner's staff on Teams by their organisation's Microsoft 365 tenant, give the partner "
        "and the tenant id: `partner tenant PARTNER TENANT_ID`, e.g. "
        "`partner tenant Medway 3f2b6c1e-8d4a-4b7e-9c0f-5a1d2e3b4c5d`."
    )
