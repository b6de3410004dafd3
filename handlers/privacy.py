"""UK GDPR: `my data` shows a person everything the bot holds about them; `forget me` erases it."""

from __future__ import annotations

import json
from typing import Any

from core.forms import FieldError, Form, FormField, Values, register
from core.messages import Attachment, Field, Reply
from handlers import conversation
from handlers.audit import record
from handlers.base import Context, private_only
from handlers.events import notify_promoted
from storage import audit as audit_log, events as event_queries, privacy as privacy_queries
from storage.models import Person


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else getattr(value, "value", value)


def _data(ctx: Context) -> dict[str, Any]:
    person: Person = ctx.caller.person
    held = privacy_queries.held_about(ctx.session, person.id)
    return {
        "person": {
            "email": person.email,
            "name": person.display_name,
            "partner": person.partner.name if person.partner else None,
            "created_at": _iso(person.created_at),
            "roles": [r.role.value for r in person.roles],
        },
        "platform_identities": [
            {"platform": i.platform, "workspace": i.workspace, "id": i.external_id} for i in held.platform_identities
        ],
        "group_memberships": [
            {"group": m.group.name, "role": m.role.value, "joined_at": _iso(m.joined_at)} for m in held.memberships
        ],
        "event_registrations": [
            {"event": r.event.title, "mode": r.mode.value, "status": r.status.value, "registered_at": _iso(r.queued_at)}
            for r in held.registrations
        ],
        "business_cases_submitted": [
            {
                "case": c.id,
                "title": c.title,
                "status": c.status.value,
                "contact": c.contact,
                "created_at": _iso(c.created_at),
            }
            for c in held.cases_submitted
        ],
        "reminder_settings": [{"enabled": s.enabled, "lead_times": s.lead_times} for s in held.reminder_settings],
        "messages_to_you": [
            {"kind": d.kind.value, "status": d.status.value, "due_at": _iso(d.due_at), "text": d.payload.get("text")}
            for d in held.deliveries
        ],
        "announcements_made": [
            {"announcement": a.id, "group": a.group.name, "text": a.text, "send_at": _iso(a.send_at)}
            for a in held.announcements_made
        ],
        "forms_in_progress": [{"form": s.form, "answers": s.values} for s in held.forms_in_progress],
        "conversations_the_bot_can_write_to": [
            {"platform": r.platform, "conversation": r.key, "tenant": r.tenant_id, "reference": r.reference}
            for r in held.conversation_refs
        ],
        "announcements_acknowledged": [
            {"announcement": a.announcement_id, "at": _iso(a.at)} for a in held.acknowledgements
        ],
        "audit_entries_as_actor": [
            {"at": _iso(e.at), "action": e.action, "subject": e.subject}
            for e in audit_log.recent(ctx.session, actor_id=person.id, limit=1000)
        ],
    }


@private_only
def my_data(ctx: Context) -> Reply:
    if ctx.caller.person.id is None:
        return Reply(
            f"I hold nothing about you: I don't store anything about people from outside the "
            f"Kent Connects partners ({ctx.caller.email})."
        )
    data = _data(ctx)
    counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    return Reply(
        "Here is everything I hold about you, as a JSON file. Say `forget me` to have it erased.",
        title="Your data",
        fields=(
            Field("E-mail", ctx.caller.email),
            Field("Partner", data["person"]["partner"] or "none"),
            *(Field(name.replace("_", " ").capitalize(), str(n)) for name, n in counts.items()),
        ),
        attachment=Attachment(
            "my-kent-connects-data.json",
            "application/json",
            json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8"),
        ),
    )


def _read_confirm(text: str, ctx: Context, values: Values) -> str:
    if " ".join(text.lower().split()).strip(".!") != "erase everything":
        raise FieldError("To be sure, type the words `erase everything`, or say `cancel`.")
    return "yes"


def _erase(ctx: Context, values: Values) -> Reply:
    person: Person = ctx.caller.person
    pid = person.id
    partner = person.partner.name if person.partner else "a partner"
    former = f"a former member of {partner}"
    session = ctx.session
    record(ctx, "erasure", f"person:{pid}")
    # Kept, without the name: decisions on public money and the audit trail.
    audit_log.anonymise(session, pid, person.email, former)
    # A place given up moves the waitlist on, as if they had unregistered.
    for reg in privacy_queries.places_of(session, pid):
        notify_promoted(ctx, reg.event, event_queries.unregister(session, reg.event, reg))
    # Kept without the person: their business cases and decisions; erased: everything else.
    privacy_queries.erase(session, pid, former)
    return Reply(
        "Done: I've erased what I held about you: your e-mail address and name, your platform accounts, group "
        "memberships, event places, reminders and messages. Kept, without your name: business cases you "
        f"submitted and decisions you took part in, shown as “{former}”, because the partnership must be "
        "able to account for its decisions on public money; and the audit log's record that an erasure happened. "
        "If you write to me again, I'll start a new, empty record for you.",
    )


FORGET = register(
    Form(
        "forget_me",
        "Erase your data",
        (
            FormField(
                "confirm",
                "Confirm",
                "This erases what I hold about you and can't be undone. Type "
                "`erase everything` to confirm, or `cancel`.",
                _read_confirm,
                example="erase everything",
            ),
        ),
        _erase,
        review=False,
    )
)


@private_only
def forget_me(ctx: Context) -> Reply:
    if ctx.caller.person.id is None:
        return Reply("I hold nothing about you, so there is nothing to erase.")
    return conversation.start(ctx, FORGET, {})
