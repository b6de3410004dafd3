"""The language layer's understanding beyond exact words (see bot/nlu/decide.py for what it does
with them): entities found against the database, an intent model trained from the declarations
and the corpus, and a decision to act, confirm, ask or help. The router asks `interpret` about
words that are no command's exact words, inside the request's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Optional

from bot.language import Understood
from bot.nlu import catalogue, decide, model
from bot.nlu.decide import Outcome, Reading
from bot.nlu.entities import Catalogue
from core.commands import Audience
from handlers import fields
from handlers.base import Context
from storage import groups as group_queries

__all__ = ["Outcome", "Reading", "interpret", "plan"]


# The captures of exact words that name a thing, which a sentence may have been taken for.
_NAMING = ("group", "target", "period", "when")


class _Who:
    """What the person may be offered when asked which group."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def visible_groups(self, intent: str) -> set[str]:
        caller = self.ctx.caller
        groups = group_queries.catalogue(self.ctx.session)
        if intent == "join":
            return {g.slug for g in groups if not g.is_restricted and not caller.is_member(g)}
        if intent == "leave":
            return {g.slug for g in groups if caller.is_member(g) and not caller.is_chair(g)}
        return {g.slug for g in groups if caller.may_see(g)}


def plan(
    understood: Understood,
    trained: model.Model,
    names: Catalogue,
    audiences: Iterable[Audience],
    today: date,
    now: datetime,
    who: Optional[object] = None,
) -> tuple[Optional[Outcome], Optional[Reading]]:
    """What to do with the words: (None, None) when their exact words stand; otherwise the
    outcome, and how the words were read. Exact words stand unless they took a sentence for a
    thing's name ("when is my next meeting" as `when is EVENT`) and the model is sure of
    another command."""
    command = understood.command
    if command is not None and not understood.explains:
        if not any(understood.args.get(k) for k in _NAMING):
            return None, None
        if not decide.names_nothing(command, understood.args, names, today):
            return None, None
        read = decide.read(understood.words, trained, names, audiences, today, now)
        intent, confidence = read.best
        if intent == command.intent or confidence < decide.ACT:
            return None, None
        return decide.decide(read, names, who), read
    read = decide.read(understood.words, trained, names, audiences, today, now)
    return decide.decide(read, names, who), read


def interpret(ctx: Context, understood: Understood) -> tuple[Optional[Outcome], Optional[Reading]]:
    """`plan` for the person asking, with what the database holds (read only when needed)."""
    command = understood.command
    named = any(understood.args.get(k, "").strip().lstrip("#")[:1].isalpha() for k in _NAMING)
    if command is not None and not understood.explains and not named:
        return None, None  # no name in the words: no database needed to see that they stand
    trained = model.model()
    today = fields.today(ctx)
    if command is not None and not understood.explains:
        # Most exact words name just what they should ("gis" in `next gis meeting`): seen with
        # only those kinds read from the database, they stand without reading the rest.
        kinds = {k for wanted in decide.named_kinds(command, understood.args).values() for k in wanted}
        few = catalogue.from_database(ctx.session, ctx.now, trained.common, trained.said, kinds & set(catalogue.KINDS))
        if decide.names_just_that(command, understood.args, few, today):
            return None, None
    names = catalogue.from_database(ctx.session, ctx.now, trained.common, trained.said)
    return plan(understood, trained, names, ctx.caller.audiences(), today, ctx.now, _Who(ctx))
