"""Filling in a form step by step in chat, with the draft kept in the database.

States (storage.models.ConversationStep): ASKING a field -> ... -> CONFIRMING -> submitted.
At any point: `back`, `skip` (optional fields), `cancel`; when confirming: `yes`,
`edit FIELD`. A message that is not an answer but a command pauses the draft; `continue`
takes it up again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from core.forms import FORMS, FieldError, Form, Values
from core.messages import Action, Field, FormRequest, Reply
from handlers.base import Context
from storage import conversations
from storage.models import ConversationState, ConversationStep

CANCEL_WORDS = {"cancel", "stop", "abandon", "quit", "never mind", "nevermind", "forget it"}
BACK_WORDS = {"back", "go back", "previous"}
SKIP_WORDS = {"skip", "none", "no", "n/a", "-"}
YES_WORDS = {"yes", "y", "confirm", "ok", "okay", "yes please", "submit", "send", "go"}
CONTINUE_WORDS = {"continue", "resume", "carry on"}


def _where(ctx: Context) -> tuple[str, str]:
    return ctx.request.platform, ctx.request.conversation


def active(ctx: Context) -> Optional[ConversationState]:
    return conversations.current(ctx.session, ctx.caller.person, *_where(ctx))


def start(ctx: Context, form: Form, prefilled: Values) -> Reply:
    """Begin (or restart) a form with some answers already given."""
    refusal = form.allowed(ctx, prefilled)
    if refusal:
        return refusal
    missing = [f for f in form.fields if f.name not in prefilled]
    several = len(missing) > 1
    if missing and "forms" in ctx.request.capabilities:
        # The platform shows the whole form; its submission comes back through forms.fill.
        return Reply(f"{form.title}: please fill in the form.", form=FormRequest(form.name, dict(prefilled)))
    replaced = active(ctx)
    note = ""
    if replaced is not None and replaced.form == form.name and not prefilled and _answered(replaced):
        # The same form again with nothing new: carry on with the draft rather than lose it.
        replaced.step = ConversationStep.ASKING
        return _next(
            ctx,
            form,
            replaced,
            lead=f"You have an unfinished {form.title.lower()}, so let's carry on "
            "(say `cancel` to drop it and start again).",
        )
    if replaced is not None and replaced.form in FORMS and _answered(replaced):
        note = f"(I've dropped your unfinished form “{FORMS[replaced.form].title}”.) "
    state = conversations.replace(
        ctx.session,
        ctx.caller.person,
        *_where(ctx),
        form=form.name,
        step=ConversationStep.ASKING,
        field=None,
        values=dict(prefilled),
    )
    intro = f"{form.title}: I'll ask a few questions; say `cancel` at any time to stop." if several else ""
    return _next(ctx, form, state, lead=(note + intro).strip())


def _answered(state: ConversationState) -> bool:
    return any(not k.startswith("_") for k in (state.values or {}))


# Tells what words are: "standalone" (a command with nothing after it, like `my meetings`),
# "command" (one with arguments, like `case 12`), or None (not a command).
IsCommand = Callable[[str], Optional[str]]


def take(ctx: Context, state: ConversationState, text: str, is_command: IsCommand) -> Optional[Reply]:
    """Handle a message while a form is open. None means: not for the form, route it normally.

    `is_command` tells whether words are one of the bot's commands: a standalone command, or a
    command with arguments that does not fit the field, is taken as the person moving on.
    """
    form = FORMS.get(state.form)
    if form is None:  # a form that no longer exists (after an upgrade): drop the draft
        conversations.finish(ctx.session, state)
        return None
    words = " ".join(text.lower().split()).strip(" .!")
    if state.step is ConversationStep.PAUSED:
        if words in CONTINUE_WORDS:
            state.step = ConversationStep.ASKING if state.field else ConversationStep.CONFIRMING
            return _prompt(ctx, form, state, lead="Let's carry on.")
        if words in CANCEL_WORDS:
            conversations.finish(ctx.session, state)
            return Reply(f"OK, I've dropped your unfinished form “{form.title}”.")
        return None
    if words in CANCEL_WORDS or (state.step is ConversationStep.CONFIRMING and words in ("no", "n", "nope")):
        conversations.finish(ctx.session, state)
        return Reply(f"OK, I've dropped the form “{form.title}”; nothing was saved.")
    if words in ("help", "?"):
        return _prompt(ctx, form, state, lead=f"You're filling in: {form.title.lower()}.")
    if state.step is ConversationStep.CONFIRMING:
        return _confirming(ctx, form, state, words, is_command)
    return _answer(ctx, form, state, text, words, is_command)


PAUSED_NOTE = "Your unfinished form is kept: say `continue` to carry on or `cancel` to drop it."


def pause(state: ConversationState) -> None:
    state.step = ConversationStep.PAUSED


def _answer(
    ctx: Context, form: Form, state: ConversationState, text: str, words: str, is_command: IsCommand
) -> Optional[Reply]:
    current = form.field(state.field) if state.field else None
    if current is None:
        return _next(ctx, form, state)
    values = dict(state.values)
    if words in BACK_WORDS:
        earlier = [f for f in form.fields[: form.fields.index(current)] if f.applies(values)]
        if earlier:
            values.pop(earlier[-1].name, None)
            state.values = values
            state.field = earlier[-1].name
        return _prompt(ctx, form, state)
    if not current.required and words in SKIP_WORDS:
        values[current.name] = None
    else:
        # A standalone command ("my meetings") means the person moved on, except in long free
        # text, where it may well be part of an agenda; a command with arguments ("case 12")
        # only when it is no answer to the question ("Case management" is a fine title).
        kind = is_command(text)
        if kind == "standalone" and current.kind != "long_text":
            return None
        try:
            values[current.name] = current.read(text, ctx, values)
        except FieldError as exc:
            if kind is not None:
                return None
            return Reply(str(exc), footer=_hint(current))
        if current.depends_on:
            values[TYPED] = {**values.get(TYPED, {}), current.name: text}
    state.values = _rework_dependants(ctx, form, current.name, values)
    return _next(ctx, form, state)


# Where the words typed for fields with `depends_on` are kept, to read them again.
TYPED = "_typed"


def _rework_dependants(ctx: Context, form: Form, changed: str, values: Values) -> Values:
    """Read again the answers worked out from `changed` (a repeat from its first day); one that
    no longer reads is asked again."""
    for f in form.fields:
        if changed in f.depends_on and values.get(f.name) is not None:
            try:
                values[f.name] = f.read(values.get(TYPED, {}).get(f.name, ""), ctx, values)
            except FieldError:
                values.pop(f.name)
    return values


def _next(ctx: Context, form: Form, state: ConversationState, lead: str = "") -> Reply:
    values = state.values or {}
    for f in form.fields:
        if f.name not in values and f.applies(values):
            state.field = f.name
            state.step = ConversationStep.ASKING
            return _prompt(ctx, form, state, lead)
    state.field = None
    state.step = ConversationStep.CONFIRMING
    if not form.review:
        return _finish(ctx, form, state)
    return _summary(ctx, form, state, lead)


def _prompt(ctx: Context, form: Form, state: ConversationState, lead: str = "") -> Reply:
    if state.step is ConversationStep.CONFIRMING or not state.field:
        return _summary(ctx, form, state, lead)
    f = form.field(state.field)
    text = f"{lead} {f.prompt}".strip()
    return Reply(text, footer=_hint(f))


def _hint(f) -> str:
    parts = []
    if f.example:
        parts.append(f"For example: {f.example}")
    if not f.required:
        parts.append("say `skip` to leave it empty")
    parts.append("`back` for the previous question, `cancel` to stop")
    return "; ".join(parts) + "."


def _shown(f, value: Any) -> str:
    return f.display(value)


def _summary(ctx: Context, form: Form, state: ConversationState, lead: str = "") -> Reply:
    values = state.values or {}
    return Reply(
        (lead + " " if lead else "")
        + "Please check, then say `yes` to confirm, `edit FIELD` to change one, or `cancel`.",
        title=form.title,
        fields=tuple(Field(f.label, _shown(f, values.get(f.name))) for f in form.fields if f.applies(values)),
        actions=(Action("Confirm", "yes", "primary"), Action("Cancel", "cancel", "danger")),
    )


def _confirming(
    ctx: Context, form: Form, state: ConversationState, words: str, is_command: IsCommand
) -> Optional[Reply]:
    if words.startswith("edit ") or words.startswith("change "):
        target = form.find_field(words.split(" ", 1)[1])
        if target is None:
            names = ", ".join(f"`{f.label.lower()}`" for f in form.fields)
            return Reply(f"Which one? You can edit: {names}.")
        state.values = {k: v for k, v in state.values.items() if k != target.name}
        return _next(ctx, form, state)
    if words not in YES_WORDS:
        if is_command(words):
            return None
        return _summary(ctx, form, state, lead="I didn't catch that.")
    return _finish(ctx, form, state)


def _finish(ctx: Context, form: Form, state: ConversationState) -> Reply:
    """Check across the answers; submit, or ask again the answer that is wrong."""
    values: Values = form.effective(state.values)
    problems = form.check(ctx, values)
    if problems:
        name, message = next(iter(problems.items()))
        state.values = {k: v for k, v in state.values.items() if k != name}
        return _next(ctx, form, state, lead=message)
    # The draft is done with whatever the answer, a Refusal raised by `allowed` or `submit` too.
    conversations.finish(ctx.session, state)
    return form.allowed(ctx, values) or form.submit(ctx, values)
