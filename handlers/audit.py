"""Recording privileged actions, and `audit` for the Partnership Office."""

from __future__ import annotations

from typing import Any, Optional

from core.messages import Item, Reply
from handlers.base import Context, quote
from handlers.when import format_moment
from storage import audit as audit_log


def record(ctx: Context, action: str, subject: str, **details: Any) -> None:
    """Note who did `action` to `subject`, in the same transaction as the action itself."""
    caller = ctx.caller
    audit_log.append(
        ctx.session,
        ctx.now,
        caller.person.id,
        caller.email,
        ctx.request.platform,
        action,
        subject,
        {k: v for k, v in details.items() if v is not None},
    )


SUBJECT_KINDS = ("meeting", "series", "event", "case", "group", "person", "announcement", "fund", "partner")


def show(ctx: Context, words: Optional[str] = None) -> Reply:
    if not ctx.caller.is_admin:
        return Reply("Only the Partnership Office can read the audit log.")
    words = " ".join((words or "").lower().split())
    action, subject = None, None
    first, _, rest = words.partition(" ")
    named = rest.lstrip("#").isdigit() or (first in ("group", "partner") and rest.replace("-", "").isalnum())
    if first in SUBJECT_KINDS and (not rest or named):
        subject = f"{first}:{rest.lstrip('#')}" if rest else first  # `audit meeting 13`, `audit case`
    elif words:
        action = words.split(" ")[-1] if first in SUBJECT_KINDS else words.replace(" ", "_")  # `audit meeting moved`
        subject = first if first in SUBJECT_KINDS else None
    entries = audit_log.recent(ctx.session, action=action, subject=subject)
    if not entries:
        return Reply("Nothing in the audit log matches." if words else "The audit log is empty.")
    return Reply(
        f"The last {len(entries)} privileged actions{' matching “' + quote(words) + '”' if words else ''}, newest first:",
        title="Audit log",
        items=tuple(
            Item(
                title=f"{format_moment(e.at.astimezone(ctx.zone))}: {e.action.replace('_', ' ')} {e.subject}",
                text=f"by {e.actor_label} ({e.platform})"
                + ("; " + ", ".join(f"{k}: {v}" for k, v in e.details.items()) if e.details else ""),
            )
            for e in entries
        ),
        footer="Filter with e.g. `audit approve`, `audit meeting 13`, `audit case 4`. The log can't be changed "
        "through the bot.",
    )
