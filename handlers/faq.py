"""Questions about the partnership, answered from the Partnership Office's file (storage/faq.py)."""

from __future__ import annotations

from core.messages import Action, Item, Reply
from handlers.base import Context
from storage import faq, groups as group_queries, people as people_queries


def answer(ctx: Context, entry_id: str) -> Reply:
    found = faq.entry(entry_id)
    if found is None:
        return Reply("I don't have an answer to that one yet. Say `help` to see what I can do.")
    actions = tuple(Action(label, command) for label, command in found.actions)
    if found.answer_from == "partners":
        partners = people_queries.list_partners(ctx.session)
        return Reply(
            f"Kent Connects has {len(partners)} partners:",
            title="The partners",
            items=tuple(Item(title=p.name) for p in partners),
            footer="Staff of any of them can use everything here with their work e-mail address.",
        )
    if found.answer_from == "groups":
        groups = group_queries.all_groups(ctx.session)
        return Reply(
            f"Kent Connects has {len(groups)} groups, each meeting quarterly:",
            title="The groups",
            items=tuple(Item(title=g.name, text=g.description) for g in groups),
            actions=(Action("Groups", "groups"),),
        )
    return Reply(found.answer, actions=actions)
