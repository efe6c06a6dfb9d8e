"""Forms declared as data: fields with their prompt, parser and what else an answer may mean, and
the form's summary and submission. `handlers.form_steps` runs them; `handlers.form_filling` routes
the candidate's answers there.

A field's parser sees the text and the values so far (`FormContext`) and returns Ok, Invalid,
Confirm (a guess to confirm with 是/否) or Stop (the request cannot go on). A feature declares its
form and registers it (`register`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from handlers.context import Context
from handlers.conversation_state import FormState, StoredValue
from handlers.messages import Reply
from handlers.parsing import Invalid, Parsed, Stop

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
    skippable: bool = False
    """跳过 is an answer (the parser says what it means); elsewhere it is refused with a message."""
    unknown: Callable[[FormContext], Parsed] | None = None
    """What 不知道/不清楚/忘了 means here (a level staff verify); None: the candidate is told where
    to find out, and asked again."""
    find: Callable[[str, FormContext], tuple[Parsed, tuple[int, int]] | None] | None = None
    """Finds this field's value in a message typed for another field (an ID number beside a name),
    with its span in that message; None for fields that cannot be told apart from other words."""
    check: Callable[[FormContext], Awaitable[Stop | Invalid | None]] | None = None
    """Runs once the value is stored (a duplicate request for this ID number and exam); a Stop ends
    the form, an Invalid asks again."""
    transcript: Callable[[str], str] | None = None
    """How the transcript keeps the answer (its shown value, masked); None: as shown back."""
    help: str = ""
    """Where a candidate who does not know the answer can find it."""
    why: str = ""
    """Why the form asks for it (为啥要手机号), said when the candidate asks."""
    back_over: bool = False
    """返回 passes over it to the field before: an agreement (个人信息处理) is not an answer to correct."""

    def prompt_for(self, fctx: FormContext) -> str:
        return self.prompt(fctx) if callable(self.prompt) else self.prompt

    def choices_for(self, fctx: FormContext) -> tuple[str, ...]:
        return self.choices(fctx) if callable(self.choices) else self.choices

    def asked(self, fctx: FormContext) -> bool:
        return self.ask_if is None or self.ask_if(fctx)


@dataclass(frozen=True)
class FormQuestion:
    """A question about the form in progress and how the form answers it (None: it cannot, and
    the knowledge base is asked)."""

    asks: re.Pattern[str]
    answer: Callable[[FormContext], str | None]
    unless: re.Pattern[str] | None = None
    """Words that make it another question (截止 with 证书 asks the certificates' deadline)."""

    def answers(self, text: str) -> bool:
        return bool(self.asks.search(text)) and not (self.unless is not None and self.unless.search(text))


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
    questions: tuple[FormQuestion, ...] = ()
    """Questions about the form itself, answered from it before the knowledge base is asked
    (`handlers.form_questions`): 截止到哪天 during a withdrawal means its own deadline."""

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

    def labelled(self, word: str) -> tuple[Field, str] | None:
        """The field a word starts with (身份证号…, 手机…), longest label first, and the rest."""
        named = [(w, f) for f in self.fields for w in (f.label, *f.aliases) if w and word.startswith(w)]
        if not named:
            return None
        label, field = max(named, key=lambda p: len(p[0]))
        return field, word[len(label) :]


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
