"""Filling in a form step by step in chat, with the draft kept in the database.

States (storage.models.ConversationStep): ASKING a field -> ... -> CONFIRMING (the summary) ->
submitted, and PAUSED while the person does something else. The draft is a row of its own
(storage.conversations), so everything below holds across a restart. What a person may say:

At every question and at the summary:
- `cancel` (stop, quit, never mind) drops the draft; nothing is saved.
- `back` asks the question before again (at the summary, the last one); at the first, says so.
- `edit FIELD` or `change [the] FIELD` (its name, its label, a word only its label has, or its
  place in the summary, `edit 5`) asks that question, showing the answer it has (`keep it`
  keeps it), then goes on where it was; a field it can't find is answered with the list of
  fields.
- `continue` or `resume` asks the question again (at the summary, shows it again).
- `help` or `?` says which form this is, the question, and these words.

At a question:
- `skip` leaves an optional field empty; at a required one it is refused ("This one is
  needed: ...") and the draft stays as it was. `none`, `no`, `n`, `n/a` and `-` are the same,
  unless the field reads them as an answer of its own (`none` places is no limit).
- A choice takes its name in any case, a beginning only it has (`on` for online) or its place
  in the list (`2`, `the first one`); the choices come as buttons.
- The bot's commands: a bare one (`my events`, `next meeting`) pauses the draft and runs. A
  command with more words (`next gis meeting`, `audit Day`) runs if it is no answer to the
  question (a date, a sum), and if it is one too (any words are a title) the bot asks "Is that
  your answer, or shall I do ...?": `my answer` (or `yes`) takes it as the answer, the same
  words again (its button) run it, anything else goes on as usual. A message of several lines
  is always an answer.

At the summary:
- `yes`, `yes please`, `go ahead`, `looks good`, `correct`, `submit it`... submit.
- `no` asks what to change; where every answer came with the command that started the form
  (`cancel meeting 13`), it drops the draft instead, nothing done.
- A field's name alone (`the cost`) asks it again; `change the cost to £30,000` changes it at once.
- Any other command pauses the draft and runs.

While paused: `continue` resumes, `cancel` drops it, and `back`, `skip` and `edit FIELD` resume
and do what they say; anything else goes to its command and the draft waits.

An offer: when the bot asks "Shall I ...?" about words it was not sure of (bot/nlu), the words
are kept with the conversation (in the draft's values if there is one, else in a row of their
own) until the next message: `yes` (`go ahead`, `ok`...) runs them, `no` leaves everything as it
was, and anything else forgets the offer and is read as usual.

Slack modals and Teams cards don't come here: they send every field at once (core.forms.fill).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Optional

from core.forms import FORMS, FieldError, Form, FormField, Values
from core.messages import Action, Field, FormRequest, Reply
from handlers.base import Context, quote
from handlers.form_words import (
    ANSWER_WORDS,
    BACK_WORDS,
    CANCEL_WORDS,
    CONTINUE_WORDS,
    EDIT,
    EDIT_TO,
    HELP_WORDS,
    KEEP_WORDS,
    NO_WORDS,
    SKIP_ALWAYS,
    SKIP_WORDS,
    agrees,
    field_named,
    shown,
    tidy,
)
from storage import conversations
from storage.models import ConversationState, ConversationStep

# Kept in the draft's values beside the answers (names starting with "_" are never answers):
TYPED = "_typed"  # the words typed for fields with `depends_on`, to read them again
GIVEN = "_given"  # the fields answered by the command that started the form
PENDING = "_pending"  # words that may be an answer or a command, while asking which
OFFER = "_offer"  # words the bot asked "Shall I ...?" about: `yes` runs them (see offer)
OFFER_ONLY = "offer"  # the form name of a row that holds an offer and no draft


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
        # Everything given with the command (`cancel meeting 13`): then `no` at the summary means don't.
        values={**prefilled, GIVEN: sorted(prefilled)} if prefilled and not missing else dict(prefilled),
    )
    intro = f"{form.title}: I'll ask a few questions; say `cancel` at any time to stop." if several else ""
    return _next(ctx, form, state, lead=(note + intro).strip())


def _answered(state: ConversationState) -> bool:
    return any(not k.startswith("_") for k in (state.values or {}))


# Tells what words are: "standalone" (a command with nothing after it, like `my meetings`),
# "command" (one with arguments, like `case 12`), or None (not a command).
IsCommand = Callable[[str], Optional[str]]


def take(ctx: Context, state: ConversationState, text: str, is_command: IsCommand) -> Optional[Reply]:
    """Handle a message while a form is open. None means: not for the form, route it normally
    (the router then pauses the draft). See the module's docstring for what is understood."""
    form = FORMS.get(state.form)
    if form is None:  # a form that no longer exists (after an upgrade): drop the draft
        conversations.finish(ctx.session, state)
        return None
    words = tidy(text)
    pending = _take_pending(state)
    if state.step is ConversationStep.PAUSED:
        if words in CONTINUE_WORDS:
            _resume(state)
            return _prompt(ctx, form, state, lead="Let's carry on.")
        if words in CANCEL_WORDS:
            conversations.finish(ctx.session, state)
            return Reply(f"OK, I've dropped your unfinished form “{form.title}”.")
        if not _resumes(form, state, words):
            return None
        _resume(state)
    if words in CANCEL_WORDS:
        return _drop(ctx, form, state)
    if pending is not None and state.step is ConversationStep.ASKING and state.field == pending.get("field"):
        handled, reply = _decide(ctx, form, state, pending, words, is_command)
        if handled:
            return reply
    if words in HELP_WORDS:
        return _help(ctx, form, state)
    if words in CONTINUE_WORDS:
        return _prompt(ctx, form, state, lead="Let's carry on.")
    if words in BACK_WORDS:
        return _back(ctx, form, state)
    if state.step is ConversationStep.CONFIRMING and agrees(words):  # "correct" is no edit
        return _finish(ctx, form, state)
    handled, reply = _edit(ctx, form, state, text, words, is_command)
    if handled:
        return reply
    if state.step is ConversationStep.CONFIRMING:
        return _confirming(ctx, form, state, text, words, is_command)
    return _answer(ctx, form, state, text, words, is_command)


PAUSED_NOTE = "Your unfinished form is kept: say `continue` to carry on or `cancel` to drop it."


def end(ctx: Context, form_name: str) -> None:
    """Drop the person's draft of this form, if it is the one in this conversation (its
    question was answered another way, e.g. by a button carrying the whole command)."""
    state = active(ctx)
    if state is not None and state.form == form_name:
        conversations.finish(ctx.session, state)


def pause(state: ConversationState) -> None:
    state.step = ConversationStep.PAUSED


def _resume(state: ConversationState) -> None:
    state.step = ConversationStep.ASKING if state.field else ConversationStep.CONFIRMING


def _resumes(form: Form, state: ConversationState, words: str) -> bool:
    """Whether words said while the draft is paused are meant for it: `back`, `skip`, `edit FIELD`."""
    if words in BACK_WORDS or words in SKIP_ALWAYS:
        return True
    found = EDIT.match(words)
    return bool(found and found["what"] and field_named(form, state.values or {}, found["what"]))


def _drop(ctx: Context, form: Form, state: ConversationState) -> Reply:
    conversations.finish(ctx.session, state)
    return Reply(f"OK, I've dropped the form “{form.title}”; nothing was saved.")


# --- a question -------------------------------------------------------------------------------

_UNREAD: Any = object()


def _answer(
    ctx: Context,
    form: Form,
    state: ConversationState,
    text: str,
    words: str,
    is_command: IsCommand,
    decided: bool = False,
) -> Optional[Reply]:
    """Read the words as the answer to the question asked; `decided`: they are, even if they look
    like a command."""
    current = form.field(state.field) if state.field else None
    if current is None:
        return _next(ctx, form, state)
    values = dict(state.values)
    if words in KEEP_WORDS and current.name in values:
        return _next(ctx, form, state)
    value = _UNREAD
    if words in SKIP_WORDS:
        if not current.required:
            value = None
        else:
            value = _own_answer(ctx, current, text, values)
            if value is _UNREAD:
                return Reply(f"This one is needed: {current.prompt}", footer=_hint(current), actions=_choices(current))
    if value is _UNREAD:
        kind = is_command(text) if not decided and "\n" not in text.strip() else None
        if kind == "standalone":
            return None
        try:
            value = current.read(text, ctx, values)
        except FieldError as exc:
            if kind is not None:
                return None
            return Reply(str(exc), footer=_hint(current), actions=_choices(current))
        if kind == "command":  # both an answer and a command
            return _ask_which(state, current, text)
        if current.depends_on:
            values[TYPED] = {**values.get(TYPED, {}), current.name: text}
    values[current.name] = value
    if current.name in values.get(GIVEN, ()):
        values[GIVEN] = [name for name in values[GIVEN] if name != current.name]
    state.values = _rework_dependants(ctx, form, current.name, values)
    return _next(ctx, form, state)


def _own_answer(ctx: Context, f: FormField, text: str, values: Values) -> Any:
    """What a required field makes of a word like `none`, if it gives it a meaning of its own
    (no limit, for places); _UNREAD where it would only keep the word, or refuses it."""
    if tidy(text) in SKIP_ALWAYS:
        return _UNREAD
    try:
        value = f.read(text, ctx, values)
    except FieldError:
        return _UNREAD
    return _UNREAD if isinstance(value, str) and tidy(value) == tidy(text) else value


def _ask_which(state: ConversationState, current: FormField, text: str) -> Reply:
    state.values = {**(state.values or {}), PENDING: {"text": text, "field": current.name, "command": True}}
    return Reply(
        f"Is that your answer, or shall I do `{quote(text)}`?",
        actions=(Action("It's my answer", "my answer", "primary"), Action("Do that", " ".join(text.split()))),
        footer=f"The question was: {current.prompt}",
    )


def _decide(
    ctx: Context, form: Form, state: ConversationState, pending: dict[str, Any], words: str, is_command: IsCommand
) -> tuple[bool, Optional[Reply]]:
    """The words said after "Is that your answer...?": (handled, the reply or None to run the
    command); not handled when they are about something else, and then the question is dropped."""
    text = str(pending.get("text", ""))
    if words in ANSWER_WORDS:
        return True, _answer(ctx, form, state, text, tidy(text), is_command, decided=True)
    if pending.get("command") and words == tidy(text):
        return True, None
    if pending.get("command") and words in NO_WORDS:
        state.values = {**state.values, PENDING: pending}
        current = form.field(str(state.field))
        return True, Reply(
            f"Then send `{quote(text)}` again (or press its button) for me to do it, or answer the question: "
            f"{current.prompt}",
            footer=_hint(current),
        )
    return False, None


def _take_pending(state: ConversationState) -> Optional[dict[str, Any]]:
    """The words waiting for "answer or command?", taken out of the draft: asked about once only."""
    values = state.values or {}
    if PENDING not in values:
        return None
    state.values = {k: v for k, v in values.items() if k != PENDING}
    pending = values[PENDING]
    return pending if isinstance(pending, dict) else None


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
    if f.name in (state.values or {}):  # asked again by `edit FIELD`
        text += f" (Now: {quote(f.display(state.values[f.name]))}; say `keep it` to leave it so.)"
    return Reply(text, footer=_hint(f), actions=_choices(f))


def _hint(f: FormField) -> str:
    parts = []
    if f.example:
        parts.append(f"For example: {f.example}")
    if not f.required:
        parts.append("say `skip` to leave it empty")
    parts.append("`back` for the previous question, `cancel` to stop")
    return "; ".join(parts) + "."


def _choices(f: FormField) -> tuple[Action, ...]:
    return tuple(Action(c[:1].upper() + c[1:], c) for c in f.choices)


def _help(ctx: Context, form: Form, state: ConversationState) -> Reply:
    lead = f"You're filling in “{form.title}”."
    if state.step is ConversationStep.CONFIRMING or not state.field:
        return _summary(ctx, form, state, lead)
    f = form.field(state.field)
    return Reply(
        f"{lead} {f.prompt}",
        footer="At any question: `back`, `skip` (if it's optional), `edit` and a question's name to change "
        "an answer, or `cancel` to stop. Any other command pauses the form and `continue` takes it up "
        "again; `commands` lists them.",
        actions=_choices(f),
    )


def _back(ctx: Context, form: Form, state: ConversationState) -> Reply:
    values = dict(state.values or {})
    fields = form.fields
    if state.step is ConversationStep.ASKING and state.field:
        fields = fields[: fields.index(form.field(state.field))]
    earlier = [f for f in fields if f.applies(values)]
    if not earlier:
        return _prompt(ctx, form, state, lead="That's the first question.")
    previous = earlier[-1]
    values.pop(previous.name, None)
    state.values = values
    state.field, state.step = previous.name, ConversationStep.ASKING
    return _prompt(ctx, form, state)


# --- editing an answer ------------------------------------------------------------------------


def _edit(
    ctx: Context, form: Form, state: ConversationState, text: str, words: str, is_command: IsCommand
) -> tuple[bool, Optional[Reply]]:
    """`edit FIELD`, `change the FIELD` (and at the summary `change FIELD to VALUE`): (handled,
    the reply, or None to route the words as a command)."""
    found = EDIT.match(words)
    confirming = state.step is ConversationStep.CONFIRMING
    if found is None or (not confirming and found["verb"] not in ("edit", "change")):
        return False, None
    values = state.values or {}
    target = field_named(form, values, found["what"]) if found["what"] else None
    if target is not None:
        return True, _jump(ctx, form, state, target)
    if confirming:
        to = EDIT_TO.match(" ".join(text.split()))
        target = field_named(form, values, to["what"]) if to else None
        if to is not None and target is not None:
            reply = _jump(ctx, form, state, target)
            if state.field != target.name:  # not asked with these answers
                return True, reply
            return True, _answer(ctx, form, state, to["value"], tidy(to["value"]), is_command, decided=True)
        if is_command(text):
            return True, None  # `edit event 4 title ...`
        return True, _which(form, values)
    if found["verb"] != "edit" or len(found["what"].split()) > 2 or is_command(text):
        return False, None  # "Change management training" is a fine title
    current = form.field(str(state.field))
    try:
        current.read(text, ctx, values)
    except FieldError:
        return True, _which(form, values, current)
    # "Edit tracker" may be a title too: kept, for `my answer` to say so.
    state.values = {**values, PENDING: {"text": text, "field": current.name}}
    return True, _which(form, values, current, maybe_answer=True)


def _which(form: Form, values: Values, asking: Optional[FormField] = None, maybe_answer: bool = False) -> Reply:
    names = ", ".join(f"`{f.label.lower()}`" for f in shown(form, values))
    text = f"Which one? You can edit: {names} (or say its number, e.g. `edit 2`)."
    if asking is None:
        return Reply(text)
    mine = (Action("It's my answer", "my answer"),) if maybe_answer else ()
    return Reply(text, footer=f"Or answer the question: {asking.prompt}", actions=mine)


def _jump(ctx: Context, form: Form, state: ConversationState, target: FormField) -> Reply:
    """Ask `target` again (or for the first time), then go on with the first question unanswered.
    Its answer is kept until another is given (`keep it` keeps it)."""
    if not target.applies(state.values or {}):
        return _prompt(ctx, form, state, lead=f"“{target.label}” isn't asked with your answers so far.")
    state.field, state.step = target.name, ConversationStep.ASKING
    return _prompt(ctx, form, state)


# --- the summary ------------------------------------------------------------------------------


def _summary(ctx: Context, form: Form, state: ConversationState, lead: str = "", ask: str = "") -> Reply:
    values = state.values or {}
    ask = ask or "Please check, then say `yes` to confirm, `edit FIELD` to change one, or `cancel`."
    return Reply(
        (lead + " " if lead else "") + ask,
        title=form.title,
        fields=tuple(Field(f.label, f.display(values.get(f.name))) for f in shown(form, values)),
        actions=(Action("Confirm", "yes", "primary"), Action("Cancel", "cancel", "danger")),
    )


def _all_given(form: Form, state: ConversationState) -> bool:
    """Every answer came with the command that started the form (`cancel meeting 13`)."""
    values = state.values or {}
    given = values.get(GIVEN)
    return isinstance(given, list) and all(f.name in given for f in shown(form, values))


def _confirming(
    ctx: Context, form: Form, state: ConversationState, text: str, words: str, is_command: IsCommand
) -> Optional[Reply]:
    if words in NO_WORDS or re.match(r"no\b", words):
        if _all_given(form, state):
            return _drop(ctx, form, state)
        example = shown(form, state.values or {})[0].label.lower()
        return _summary(
            ctx,
            form,
            state,
            ask=f"What would you like to change? Say `edit` and its name, e.g. `edit {example}`, or `cancel` "
            "to drop the form.",
        )
    if words in SKIP_WORDS:
        return _summary(ctx, form, state, lead="That was the last question.")
    command = is_command(text)
    target = field_named(form, state.values or {}, words) if command is None and not words.isdigit() else None
    if target is not None:
        return _jump(ctx, form, state, target)
    if command:
        return None
    return _summary(ctx, form, state, lead="I didn't catch that.")


def _finish(ctx: Context, form: Form, state: ConversationState) -> Reply:
    """Check across the answers; submit, or ask again the answer that is wrong."""
    answers = {k: v for k, v in state.values.items() if not k.startswith("_")}
    values: Values = form.effective(answers)
    problems = form.check(ctx, values)
    if problems:
        name, message = next(iter(problems.items()))
        state.values = {k: v for k, v in state.values.items() if k != name}
        return _next(ctx, form, state, lead=message)
    # The draft is done with whatever the answer, a Refusal raised by `allowed` or `submit` too.
    conversations.finish(ctx.session, state)
    return form.allowed(ctx, values) or form.submit(ctx, values)


def continue_form(ctx: Context) -> Reply:
    """`continue`, or words meaning it ("let me finish my form"): the draft here taken up again
    (the exact words are taken up before any command is looked for), or there is none."""
    state = active(ctx)
    form = FORMS.get(state.form) if state is not None else None
    if state is not None and form is not None:
        _resume(state)
        return _prompt(ctx, form, state, lead="Let's carry on.")
    return Reply(
        "You have no unfinished form to continue. Say `help` to see what I can do.", actions=(Action("Help", "help"),)
    )


def offer(ctx: Context, words: str) -> None:
    """Keep the exact words the bot has just asked "Shall I ...?" about, for a `yes` next (not
    for someone the bot keeps no record of: their `yes` is then answered as nothing asked)."""
    if ctx.caller.person.id is None:
        return
    state = active(ctx)
    if state is None:
        conversations.replace(
            ctx.session,
            ctx.caller.person,
            *_where(ctx),
            form=OFFER_ONLY,
            step=ConversationStep.PAUSED,
            field=None,
            values={OFFER: words},
        )
    else:
        state.values = {**(state.values or {}), OFFER: words}


def take_offer(ctx: Context, state: Optional[ConversationState]) -> tuple[Optional[str], Optional[ConversationState]]:
    """The words of the offer made by the bot's last reply, taken out (an offer lasts one
    message), and the draft left: None when the row held only the offer."""
    if state is None:
        return None, None
    values = state.values or {}
    words = values.get(OFFER)
    if state.form == OFFER_ONLY:
        conversations.finish(ctx.session, state)
        return (words if isinstance(words, str) else None), None
    if OFFER in values:
        state.values = {k: v for k, v in values.items() if k != OFFER}
    return (words if isinstance(words, str) else None), state


def answers_offer(text: str) -> Optional[bool]:
    """True for a yes to "Shall I ...?", False for a no, None for anything else."""
    words = tidy(text)
    if agrees(words):
        return True
    if words in NO_WORDS or words in CANCEL_WORDS or words in {"no thanks", "no thank you", "not now", "leave it"}:
        return False
    return None
