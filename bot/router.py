"""From words to a handler, one database transaction each: the language layer (bot/language.py)
finds the command, the router runs it for the person asking and never raises."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Optional

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

import bot.commands  # noqa: F401  (declares every command, before any is asked for)
from bot import logs, nlu
from bot.language import LEFT_AS_IT_WAS, Understood, is_command, normalise, not_understood, understand
from core.forms import FORMS, fill
from core.messages import Action, Refusal, Reply, Request
from core.settings import Settings
from handlers import conversation, home, notices, people
from handlers.base import Context, quote
from storage import deliveries, inbound, references
from storage.models import ConversationStep

__all__ = ["SORRY", "Router", "is_command", "normalise", "understand"]

logger = logging.getLogger(__name__)

SORRY = Reply(
    "Sorry, something went wrong on my side and nothing was changed. Please try again in a moment; "
    "if it keeps happening, tell the Partnership Office."
)


def _answered(handler: Callable[..., Optional[Reply]], *args: Any, **kwargs: Any) -> Optional[Reply]:
    """What a handler answers: its reply, or the one its Refusal carries.

    Called inside the unit of work, so that a refusal commits what came before it (a draft
    paused by this command, a retry's key) exactly as a refusal returned does. The request's
    work as a whole goes through here, and so does the handler within it, so that a refusal
    still gets the note that a draft is kept.
    """
    try:
        return handler(*args, **kwargs)
    except Refusal as refusal:
        return refusal.reply


def _loosely(ctx: Context, text: str, understood: Understood, outcome: nlu.Outcome, reading: nlu.Reading) -> Reply:
    """Words that are no command's exact words (or that exact words took amiss): what the
    language model makes of them (bot/nlu). It acts only through exact words, and on nothing
    that changes anything without asking."""
    explained = understood.command if understood.explains else None  # a catch-all's use (`cancel ...`)
    # The catch-all explains a word alone (`cancel`) better than a question about one of its uses.
    if explained is not None and (outcome.kind not in ("act", "confirm", "ask") or len(understood.words.split()) == 1):
        return _answered(explained.handler, ctx, **understood.args) or SORRY
    if outcome.kind == "act":
        exact = understand(outcome.words)
        assert exact.command is not None  # decide only acts on words that route to the command
        reply = _answered(exact.command.handler, ctx, **exact.args) or SORRY
        if outcome.lead:
            reply = replace(reply, text=f"{outcome.lead} {reply.text}")
        return reply
    if outcome.kind == "confirm":  # "Shall I ...?": a `yes` next runs the words
        conversation.offer(ctx, outcome.words)
    if outcome.reply is not None:
        return outcome.reply
    audiences = ctx.caller.audiences()
    if outcome.kind == "suggest":
        return _offering(ctx, nlu.decide.did_you_mean(text, reading, quote))
    fallback = not_understood(text, understood.words, audiences, quote)
    if any(a.command != "help" for a in fallback.actions) or "Did you mean" in fallback.text:
        return _offering(ctx, fallback)
    return nlu.decide.short_help(text, reading, audiences, quote)


def _offering(ctx: Context, did_you_mean: Reply) -> Reply:
    """ "Did you mean `unregister 1`?" with one command offered: a `yes` next means those words."""
    offered = [a.command for a in did_you_mean.actions if a.command != "help"]
    if len(offered) == 1:
        conversation.offer(ctx, offered[0])
    return did_you_mean


class Router:
    """Runs one request: who is asking, which handler, in one transaction; never raises."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings):
        self.session_factory = session_factory
        self.settings = settings

    def _run(self, request: Request, work: Callable[[Context], Reply], once: Optional[str] = None) -> Optional[Reply]:
        """`work` in one transaction for the caller. With `once`, a key of the platform's delivery:
        a repeat of it (a retry) does nothing and gives None."""
        logs.new_request_id()
        for attempt in (1, 2):
            committing: list[bool] = []
            try:
                return self._once(request, work, once, committing)
            except _Rejected:
                raise
            except DBAPIError as exc:
                if exc.connection_invalidated and attempt == 1 and not committing:
                    # The connection was dead (the server restarted, a proxy dropped it) before the
                    # COMMIT was sent: its transaction is gone, so nothing of this request happened;
                    # once more, on a new one. (Lost during the COMMIT, it may have committed: not retried.)
                    logger.warning("request retried on a new connection: %s", str(exc.orig)[:200].replace("\n", " "))
                    continue
                logger.exception("request failed: platform=%s user=%s", request.platform, request.user_id)
                return SORRY
            except Exception:
                logger.exception("request failed: platform=%s user=%s", request.platform, request.user_id)
                return SORRY
        raise AssertionError("unreachable: the second attempt returns")

    def _once(
        self, request: Request, work: Callable[[Context], Reply], once: Optional[str], committing: list[bool]
    ) -> Optional[Reply]:
        """One attempt: the once-only key, the caller (one statement), the work, and the conversation
        reference to keep, all in one transaction. `committing` gets True once the COMMIT is under way."""
        with self.session_factory.begin() as session:
            if once is not None and not inbound.first_time(session, request.platform, once, request.now):
                return None
            caller = people.resolve_caller(session, request, self.settings)
            reply = _answered(work, Context(session, request, caller, self.settings))
            kept = request.keep_reference
            if kept is not None:
                person_id = caller.person.id if kept.key.startswith("user:") else None
                references.keep(
                    session,
                    request.platform,
                    kept.key,
                    kept.reference,
                    kept.service_url,
                    kept.tenant,
                    person_id,
                    request.now,
                )
            session.flush()  # a connection lost here is retried too: nothing was committed
            committing.append(True)  # leaving the block commits
        return reply

    def handle(self, request: Request, once: Optional[str] = None) -> Optional[Reply]:
        understood = understand(request.text)
        command, args, early = understood.command, understood.args, understood.early

        def work(ctx: Context) -> Reply:
            offered, state = conversation.take_offer(ctx, conversation.active(ctx))
            if offered is not None:
                agreed = conversation.answers_offer(request.text)
                exact = understand(offered)
                if agreed and exact.command is not None:
                    return _answered(exact.command.handler, ctx, **exact.args) or SORRY
                if agreed is False:
                    return Reply(LEFT_AS_IT_WAS)
            elif state is None and command is None and early is None and conversation.answers_offer(request.text):
                return Reply(
                    "There's nothing waiting for a yes just now. Say `help` to see what I can do.",
                    actions=(Action("Help", "help"),),
                )
            just_paused = False
            if state is not None:
                reply = conversation.take(ctx, state, request.text, is_command)
                if reply is not None:
                    return reply
                if state.step is not ConversationStep.PAUSED:
                    conversation.pause(state)
                    just_paused = True
            outcome, reading = (None, None) if early is not None else nlu.interpret(ctx, understood)
            if command is not None and outcome is None:
                reply = _answered(command.handler, ctx, **args)
            elif early is not None:
                reply = early
            else:
                assert outcome is not None and reading is not None
                reply = _loosely(ctx, request.text, understood, outcome, reading)
            assert reply is not None
            # Say the draft is kept only if it still is: the command may have replaced it.
            if (
                just_paused
                and state is not None
                and conversation.active(ctx) is state
                and state.step is ConversationStep.PAUSED
            ):
                reply = replace(reply, footer=" ".join(filter(None, (reply.footer, conversation.PAUSED_NOTE))))
            return reply

        return self._run(request, work, once)

    def waiting(self, request: Request) -> list[Reply]:
        """Messages held for the person (no configured platform reached them), for the console to
        show before its answer; each is marked delivered there."""
        if request.email:
            try:
                with self.session_factory() as session:
                    if not deliveries.may_be_waiting(session, request.email, request.now):
                        return []
            except Exception:  # the chat goes on; the next message looks again
                logger.exception("the inbox check failed")
                return []
        reachable = self.settings.platforms
        shown: list[Reply] = []
        done = Reply("")

        def work(ctx: Context) -> Reply:
            shown[:] = notices.waiting_for(ctx, reachable)  # not twice if the request is run again
            return done

        return shown if self._run(request, work) is done else []

    def home(self, request: Request) -> Reply:
        return self._run(request, home.home) or SORRY

    def submit_form(
        self,
        request: Request,
        form_name: str,
        raw: dict[str, str],
        prefilled: dict[str, Any],
        once: Optional[str] = None,
    ) -> tuple[Optional[Reply], dict[str, str]]:
        """A whole form at once (a modal, a card): (the reply, {}) or (None, errors by field name).

        With `once`, a repeated submission of the same form does nothing: (None, {})."""
        errors: dict[str, str] = {}

        def work(ctx: Context) -> Reply:
            form = FORMS[form_name]
            refusal = form.allowed(ctx, prefilled)
            if refusal:
                return refusal
            values, found = fill(form, ctx, raw, prefilled)
            if found:
                errors.update(found)
                # Nothing may be written for a rejected form (a retry with the same key must
                # still work), so roll the transaction back by raising past it.
                raise _Rejected
            return form.submit(ctx, values)

        try:
            reply = self._run(request, work, once)
        except _Rejected:
            return None, errors
        return reply, {}


class _Rejected(Exception):
    """A form with errors: its transaction is rolled back."""
