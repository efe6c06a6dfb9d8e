"""A form engine: forms are declared as fields; one engine asks, re-asks, goes back, edits,
cancels and confirms, keeping its progress in the conversation state (`FormState`).

A field's parser sees the text and the values so far (`FormContext`) and returns Ok, Invalid,
Confirm (a guess to confirm with 是/否) or Stop (the request cannot go on). A feature declares its
form and registers it (`register`); `handlers.form_filling` routes the candidate's answers here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from handlers.context import Context
from handlers.conversation_state import CONFIRM_STEP, FormState, PendingGuess, StoredValue
from handlers.field_parsers import parse_yes_no
from handlers.messages import Reply
from handlers.parsing import Confirm, Invalid, Ok, Parsed, Stop
from handlers.text import compact

BACK_WORDS = frozenset({"返回", "上一步", "后退", "上一项", "返回上一步"})
EDIT_PREFIXES = ("修改", "更改", "改一下", "重填", "重新填写", "改")


class FormValues:
    """Values parsed so far, decoded from the state (sensitive ones decrypted on access)."""

    def __init__(self, ctx: Context, stored: dict[str, StoredValue]) -> None:
        self._ctx = ctx
        self._stored = stored

    def __contains__(self, name: str) -> bool:
        return name in self._stored

    def get(self, name: str, default: Any = None) -> Any:
        item = self._stored.get(name)
        if item is None:
            return default
        value = item.value
        if item.encrypted and value is not None:
            value = self._ctx.services.cipher.decrypt(value, context=f"form:{name}")
        if item.kind == "date" and value is not None:
            return dt.date.fromisoformat(value)
        return value

    def display(self, name: str) -> str:
        item = self._stored.get(name)
        return "" if item is None else item.display


@dataclass(frozen=True)
class FormContext:
    ctx: Context
    values: FormValues
    form: Form

    @property
    def today(self) -> dt.date:
        return self.ctx.today

    def answered(self) -> list[tuple[str, str]]:
        """(label, shown value) of every field filled so far, in the form's order."""
        return [(f.label, self.values.display(f.name)) for f in self.form.fields if f.name in self.values]


Prompt = str | Callable[[FormContext], str]
Choices = tuple[str, ...] | Callable[[FormContext], tuple[str, ...]]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    """What the candidate calls it: 修改{label} edits it."""
    prompt: Prompt
    parse: Callable[[str, FormContext], Parsed]
    aliases: tuple[str, ...] = ()
    sensitive: bool = False
    """Kept encrypted in the conversation state (ID and phone numbers)."""
    depends_on: tuple[str, ...] = ()
    """Changing one of these clears this field, which was validated against it."""
    ask_if: Callable[[FormContext], bool] | None = None
    choices: Choices = ()

    def prompt_for(self, fctx: FormContext) -> str:
        return self.prompt(fctx) if callable(self.prompt) else self.prompt

    def choices_for(self, fctx: FormContext) -> tuple[str, ...]:
        return self.choices(fctx) if callable(self.choices) else self.choices

    def asked(self, fctx: FormContext) -> bool:
        return self.ask_if is None or self.ask_if(fctx)


@dataclass(frozen=True)
class Form:
    name: str
    title: str
    fields: tuple[Field, ...]
    summary: Callable[[FormContext], str]
    """The text shown for the final confirmation: everything the candidate is about to sign."""
    confirm_phrase: str
    submit: Callable[[FormContext], Awaitable[list[Reply]]]
    intro: str = ""

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"form {self.name}: duplicate field names")
        for f in self.fields:
            unknown = set(f.depends_on) - set(names)
            if unknown:
                raise ValueError(f"form {self.name}: {f.name} depends on unknown {sorted(unknown)}")

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def find_field(self, words: str) -> Field | None:
        """The field a candidate names in 修改身份证号 / 改手机 (longest name first)."""
        named = [(w, f) for f in self.fields for w in (f.label, *f.aliases) if w and w in words]
        return max(named, key=lambda p: len(p[0]))[1] if named else None

    def edit_target(self, word: str) -> Field | None:
        """The field 修改X names, if `word` (compacted) is such a request."""
        for prefix in EDIT_PREFIXES:
            if word.startswith(prefix) and len(word) > len(prefix):
                return self.find_field(word[len(prefix) :])
        return None


_FORMS: dict[str, Form] = {}


def register(form: Form) -> Form:
    """Makes `form` one the engine can run (forms are looked up by the name their state keeps)."""
    if _FORMS.get(form.name, form) is not form:
        raise ValueError(f"two forms named {form.name}")
    _FORMS[form.name] = form
    return form


def current(ctx: Context) -> tuple[FormState, Form] | None:
    """The form in progress and its declaration; None when there is none (or its form is gone)."""
    state = ctx.state.form
    if state is None:
        return None
    form = _FORMS.get(state.name)
    if form is None:  # a form this version no longer has: nothing to continue
        ctx.state.form = None
        return None
    return state, form


def form_context(ctx: Context, state: FormState, form: Form) -> FormContext:
    return FormContext(ctx, FormValues(ctx, state.values), form)


def is_navigation(ctx: Context, text: str) -> bool:
    """Whether `text` steers the form in progress (返回, 修改X, or a 是/否 it is waiting for)."""
    found = current(ctx)
    if found is None:
        return False
    state, form = found
    word = compact(text)
    return state.pending is not None or word in BACK_WORDS or form.edit_target(word) is not None


def cancel(ctx: Context) -> str | None:
    """Drops the form in progress; returns its title, or None when there was none."""
    found = current(ctx)
    ctx.state.form = None
    return found[1].title if found else None


async def start(ctx: Context, form: Form, prefill: dict[str, str] | None = None) -> list[Reply]:
    state = ctx.state.form = FormState(form.name)
    replies = [Reply(form.intro)] if form.intro else []
    for field_name, text in (prefill or {}).items():
        field = form.field(field_name)
        result = field.parse(text, form_context(ctx, state, form))
        if isinstance(result, Stop):
            ctx.state.form = None
            return [*replies, Reply(result.message)]
        if isinstance(result, Ok):
            _store(ctx, state, field, result)
    return replies + _advance(ctx, state, form)


async def step(ctx: Context, text: str) -> list[Reply]:
    """The candidate's answer to what the form in progress asks."""
    found = current(ctx)
    assert found is not None, "routed here only while a form is in progress"
    state, form = found
    word = compact(text)
    if state.pending is not None:
        return _answer_pending(ctx, state, form, state.pending, text)
    if word in BACK_WORDS:
        return _back(ctx, state, form)
    edit = form.edit_target(word)
    if edit is not None:
        return _edit(ctx, state, form, edit)
    if state.confirming:
        if word == compact(form.confirm_phrase):
            replies = await form.submit(form_context(ctx, state, form))
            ctx.state.form = None
            return replies
        return [Reply("尚未提交。", ()), _confirm_hint(form)]
    assert state.asking is not None
    field = form.field(state.asking)
    return _apply(ctx, state, form, field, field.parse(text, form_context(ctx, state, form)))


def prompt_again(ctx: Context) -> Reply | None:
    """The question the form is waiting on, to resume after an interruption."""
    found = current(ctx)
    if found is None:
        return None
    state, form = found
    if state.pending is not None:
        return Reply(f"您是指“{state.pending.display}”吗？", ("是", "否"))
    if state.confirming or state.asking is None:
        return _confirm_hint(form)
    field = form.field(state.asking)
    fctx = form_context(ctx, state, form)
    return Reply(f"（继续办理{form.title}）" + field.prompt_for(fctx), field.choices_for(fctx))


# -- steps --------------------------------------------------------------------------------------
def _apply(ctx: Context, state: FormState, form: Form, field: Field, result: Parsed) -> list[Reply]:
    fctx = form_context(ctx, state, form)
    if isinstance(result, Invalid):
        return [Reply(result.message, field.choices_for(fctx))]
    if isinstance(result, Stop):
        if state.editing:
            # A change that cannot go on must not throw away everything else already given.
            return [
                Reply(
                    f"{result.message}\n您可以重新填写{field.label}，或回复“取消”结束办理。",
                    field.choices_for(fctx) or ("取消", "转人工"),
                )
            ]
        ctx.state.form = None
        return [Reply(f"{result.message}\n本次办理已结束，未登记任何信息。", ("转人工", "帮助"))]
    if isinstance(result, Confirm):
        value, kind = _encode(result.value)
        state.pending = PendingGuess(field.name, value, result.display, kind)
        return [Reply(result.question, ("是", "否"))]
    _store(ctx, state, field, result)
    return _advance(ctx, state, form)


def _answer_pending(ctx: Context, state: FormState, form: Form, pending: PendingGuess, text: str) -> list[Reply]:
    field = form.field(pending.field)
    yes = parse_yes_no(text)
    state.pending = None
    if yes is True:
        value = dt.date.fromisoformat(pending.value) if pending.kind == "date" else pending.value
        _store(ctx, state, field, Ok(value, pending.display))
        return _advance(ctx, state, form)
    fctx = form_context(ctx, state, form)
    if yes is False:
        return [Reply("好的。" + field.prompt_for(fctx), field.choices_for(fctx))]
    # Not a yes or no: the candidate may have typed the answer again, differently.
    result = field.parse(text, fctx)
    if isinstance(result, Invalid):
        state.pending = pending
        return [Reply(f"请回复“是”或“否”。您是指“{pending.display}”吗？", ("是", "否"))]
    return _apply(ctx, state, form, field, result)


def _back(ctx: Context, state: FormState, form: Form) -> list[Reply]:
    fctx = form_context(ctx, state, form)
    if not state.order:
        assert state.asking is not None
        return [Reply("已经是第一项了。" + form.field(state.asking).prompt_for(fctx))]
    last = state.order[-1]
    _clear(state, form, last)
    state.asking = last
    field = form.field(last)
    return [Reply("好的，回到上一项。" + field.prompt_for(fctx), field.choices_for(fctx))]


def _edit(ctx: Context, state: FormState, form: Form, field: Field) -> list[Reply]:
    fctx = form_context(ctx, state, form)
    if not field.asked(fctx):
        return [Reply(f"“{field.label}”在本次办理中不需要填写。")]
    _clear(state, form, field.name)
    state.asking = field.name
    state.editing = True
    return [Reply(f"好的，请重新填写{field.label}。" + field.prompt_for(fctx), field.choices_for(fctx))]


def _confirm_hint(form: Form) -> Reply:
    return Reply(
        f"确认无误请回复“{form.confirm_phrase}”提交；需要更改请回复“修改+项目”（如“修改{form.fields[-1].label}”）；"
        "不办理了请回复“取消”。",
        (form.confirm_phrase, "取消"),
    )


# -- bookkeeping --------------------------------------------------------------------------------
def _encode(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    return value, None


def _store(ctx: Context, state: FormState, field: Field, result: Ok) -> None:
    value, kind = _encode(result.value)
    encrypted = field.sensitive and value is not None
    if encrypted:
        value = ctx.services.cipher.encrypt(str(value), context=f"form:{field.name}")
    state.values[field.name] = StoredValue(value, result.display, kind, encrypted)
    state.editing = False
    if field.name in state.order:
        state.order.remove(field.name)
    state.order.append(field.name)


def _clear(state: FormState, form: Form, name: str) -> None:
    """Clears a field and, transitively, the fields validated against it."""
    todo = [name]
    while todo:
        current_name = todo.pop()
        state.values.pop(current_name, None)
        if current_name in state.order:
            state.order.remove(current_name)
        todo.extend(f.name for f in form.fields if current_name in f.depends_on and f.name in state.values)


def _advance(ctx: Context, state: FormState, form: Form) -> list[Reply]:
    fctx = form_context(ctx, state, form)
    for field in form.fields:
        if field.name in state.values or not field.asked(fctx):
            continue
        state.asking = field.name
        return [Reply(field.prompt_for(fctx), field.choices_for(fctx))]
    state.asking = CONFIRM_STEP
    return [Reply(form.summary(fctx)), _confirm_hint(form)]
