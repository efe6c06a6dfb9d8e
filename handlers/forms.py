"""A form engine: forms are declared as fields; one engine asks, re-asks, goes back, edits,
cancels and confirms, keeping its progress as JSON in the conversation state.

A field's parser sees the text and the values so far (`FormContext`) and returns Ok, Invalid,
Confirm (a guess to confirm with 是/否) or Stop (the request cannot go on).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.context import Context
from handlers.field_parsers import looks_like_question, parse_yes_no
from handlers.messages import Reply
from handlers.parsing import Confirm, Invalid, Ok, Parsed, Stop
from handlers.text import compact

BACK_WORDS = frozenset({"返回", "上一步", "后退", "上一项", "返回上一步"})
EDIT_PREFIXES = ("修改", "更改", "改一下", "重填", "重新填写", "改")
CONFIRM_STEP = "__confirm__"


class FormValues:
    """Values parsed so far, decoded from the state (sensitive ones decrypted on access)."""

    def __init__(self, ctx: Context, raw: dict[str, dict[str, Any]]) -> None:
        self._ctx = ctx
        self._raw = raw

    def __contains__(self, name: str) -> bool:
        return name in self._raw

    def get(self, name: str, default: Any = None) -> Any:
        item = self._raw.get(name)
        if item is None:
            return default
        value = item["v"]
        if item.get("enc") and value is not None:
            value = self._ctx.services.cipher.decrypt(value, context=f"form:{name}")
        if item.get("t") == "date" and value is not None:
            return dt.date.fromisoformat(value)
        return value

    def display(self, name: str) -> str:
        item = self._raw.get(name)
        return "" if item is None else str(item["d"])

    def names(self) -> list[str]:
        return list(self._raw)


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
    answer_question: Callable[[str, FormContext], Reply | None] | None = None
    """Answers a free question asked in the middle of the form, or returns None."""

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


def _encode(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    return value, None


class FormRunner:
    """Runs declared forms. The form's progress lives in `ctx.state['form']`."""

    def __init__(self, forms: Sequence[Form]) -> None:
        self.forms = {f.name: f for f in forms}

    @staticmethod
    def active(ctx: Context) -> bool:
        return bool(ctx.state.get("form"))

    def _state(self, ctx: Context) -> dict[str, Any]:
        return ctx.state["form"]

    def _fctx(self, ctx: Context) -> FormContext:
        state = self._state(ctx)
        return FormContext(ctx, FormValues(ctx, state["values"]), self.forms[state["name"]])

    def cancel(self, ctx: Context) -> str | None:
        """Drops the form in progress; returns its title, or None when there was none."""
        state = ctx.state.pop("form", None)
        return self.forms[state["name"]].title if state else None

    async def start(self, ctx: Context, name: str, prefill: dict[str, str] | None = None) -> list[Reply]:
        form = self.forms[name]
        ctx.state["form"] = {"name": name, "values": {}, "asking": None, "pending": None, "order": []}
        replies = [Reply(form.intro)] if form.intro else []
        for field_name, text in (prefill or {}).items():
            result = form.field(field_name).parse(text, self._fctx(ctx))
            if isinstance(result, Stop):
                ctx.state.pop("form", None)
                return [*replies, Reply(result.message)]
            if isinstance(result, Ok):
                self._store(ctx, form.field(field_name), result)
        return replies + self._advance(ctx, form)

    async def step(self, ctx: Context, text: str) -> list[Reply]:
        state = self._state(ctx)
        form = self.forms[state["name"]]
        word = compact(text)

        if state.get("pending"):
            return await self._answer_pending(ctx, form, text)
        if word in BACK_WORDS:
            return self._back(ctx, form)
        edit = self._edit_target(form, word)
        if edit is not None:
            return self._edit(ctx, form, edit)
        if state["asking"] == CONFIRM_STEP:
            return await self._confirm_step(ctx, form, text, word)

        field = form.field(state["asking"])
        fctx = self._fctx(ctx)
        if looks_like_question(text) and form.answer_question is not None:
            answer = form.answer_question(text, fctx)
            if answer is not None:
                return [answer, Reply("（继续办理）" + self._prompt(field, fctx), self._choices(field, fctx))]
        return self._apply(ctx, form, field, field.parse(text, fctx))

    # -- steps ----------------------------------------------------------------------------------
    def _apply(self, ctx: Context, form: Form, field: Field, result: Parsed) -> list[Reply]:
        fctx = self._fctx(ctx)
        if isinstance(result, Invalid):
            return [Reply(result.message, self._choices(field, fctx))]
        if isinstance(result, Stop):
            if self._state(ctx).get("editing"):
                # A change that cannot go on must not throw away everything else already given.
                return [
                    Reply(
                        f"{result.message}\n您可以重新填写{field.label}，或回复“取消”结束办理。",
                        self._choices(field, fctx) or ("取消", "转人工"),
                    )
                ]
            ctx.state.pop("form", None)
            return [Reply(f"{result.message}\n本次办理已结束，未登记任何信息。", ("转人工", "帮助"))]
        if isinstance(result, Confirm):
            value, kind = _encode(result.value)
            self._state(ctx)["pending"] = {"field": field.name, "v": value, "t": kind, "d": result.display}
            return [Reply(result.question, ("是", "否"))]
        self._store(ctx, field, result)
        return self._advance(ctx, form)

    async def _answer_pending(self, ctx: Context, form: Form, text: str) -> list[Reply]:
        state = self._state(ctx)
        pending = state["pending"]
        field = form.field(pending["field"])
        yes = parse_yes_no(text)
        if yes is True:
            state["pending"] = None
            value = dt.date.fromisoformat(pending["v"]) if pending.get("t") == "date" else pending["v"]
            self._store(ctx, field, Ok(value, pending["d"]))
            return self._advance(ctx, form)
        if yes is False:
            state["pending"] = None
            return [Reply("好的。" + self._prompt(field, self._fctx(ctx)), self._choices(field, self._fctx(ctx)))]
        # Not a yes or no: the candidate may have typed the answer again, differently.
        state["pending"] = None
        result = field.parse(text, self._fctx(ctx))
        if isinstance(result, Invalid):
            state["pending"] = pending
            return [Reply(f"请回复“是”或“否”。您是指“{pending['d']}”吗？", ("是", "否"))]
        return self._apply(ctx, form, field, result)

    def _back(self, ctx: Context, form: Form) -> list[Reply]:
        state = self._state(ctx)
        if not state["order"]:
            field = form.field(state["asking"])
            return [Reply("已经是第一项了。" + self._prompt(field, self._fctx(ctx)))]
        last = state["order"][-1]
        self._clear(ctx, form, last)
        state["asking"] = last
        field = form.field(last)
        return [
            Reply("好的，回到上一项。" + self._prompt(field, self._fctx(ctx)), self._choices(field, self._fctx(ctx)))
        ]

    @staticmethod
    def _edit_target(form: Form, word: str) -> Field | None:
        for prefix in EDIT_PREFIXES:
            if word.startswith(prefix) and len(word) > len(prefix):
                return form.find_field(word[len(prefix) :])
        return None

    def _edit(self, ctx: Context, form: Form, field: Field) -> list[Reply]:
        fctx = self._fctx(ctx)
        if field.ask_if is not None and not field.ask_if(fctx):
            return [Reply(f"“{field.label}”在本次办理中不需要填写。")]
        self._clear(ctx, form, field.name)
        self._state(ctx)["asking"] = field.name
        self._state(ctx)["editing"] = True
        return [
            Reply(f"好的，请重新填写{field.label}。" + self._prompt(field, self._fctx(ctx)), self._choices(field, fctx))
        ]

    async def _confirm_step(self, ctx: Context, form: Form, text: str, word: str) -> list[Reply]:
        fctx = self._fctx(ctx)
        if word == compact(form.confirm_phrase):
            replies = await form.submit(fctx)
            ctx.state.pop("form", None)
            return replies
        if looks_like_question(text) and form.answer_question is not None:
            answer = form.answer_question(text, fctx)
            if answer is not None:
                return [answer, self._confirm_hint(form)]
        return [Reply("尚未提交。", ()), self._confirm_hint(form)]

    def _confirm_hint(self, form: Form) -> Reply:
        return Reply(
            f"确认无误请回复“{form.confirm_phrase}”提交；需要更改请回复“修改+项目”（如“修改{form.fields[-1].label}”）；"
            "不办理了请回复“取消”。",
            (form.confirm_phrase, "取消"),
        )

    # -- bookkeeping ----------------------------------------------------------------------------
    def _store(self, ctx: Context, field: Field, result: Ok) -> None:
        state = self._state(ctx)
        value, kind = _encode(result.value)
        encrypted = field.sensitive and value is not None
        if encrypted:
            value = ctx.services.cipher.encrypt(str(value), context=f"form:{field.name}")
        state["values"][field.name] = {"v": value, "d": result.display, "t": kind, "enc": encrypted}
        state["editing"] = False
        if field.name in state["order"]:
            state["order"].remove(field.name)
        state["order"].append(field.name)

    def _clear(self, ctx: Context, form: Form, name: str) -> None:
        """Clears a field and, transitively, the fields validated against it."""
        state = self._state(ctx)
        todo = [name]
        while todo:
            current = todo.pop()
            state["values"].pop(current, None)
            if current in state["order"]:
                state["order"].remove(current)
            todo.extend(f.name for f in form.fields if current in f.depends_on and f.name in state["values"])

    def _advance(self, ctx: Context, form: Form) -> list[Reply]:
        state = self._state(ctx)
        fctx = self._fctx(ctx)
        for field in form.fields:
            if field.name in state["values"]:
                continue
            if field.ask_if is not None and not field.ask_if(fctx):
                continue
            state["asking"] = field.name
            return [Reply(self._prompt(field, fctx), self._choices(field, fctx))]
        state["asking"] = CONFIRM_STEP
        return [Reply(form.summary(fctx)), self._confirm_hint(form)]

    @staticmethod
    def _prompt(field: Field, fctx: FormContext) -> str:
        return field.prompt(fctx) if callable(field.prompt) else field.prompt

    @staticmethod
    def _choices(field: Field, fctx: FormContext) -> tuple[str, ...]:
        return field.choices(fctx) if callable(field.choices) else field.choices

    def prompt_again(self, ctx: Context) -> Reply | None:
        """The question the form is waiting on, to resume after an interruption."""
        if not self.active(ctx):
            return None
        state = self._state(ctx)
        form = self.forms[state["name"]]
        if state.get("pending"):
            return Reply(f"您是指“{state['pending']['d']}”吗？", ("是", "否"))
        if state["asking"] == CONFIRM_STEP:
            return self._confirm_hint(form)
        field = form.field(state["asking"])
        fctx = self._fctx(ctx)
        return Reply(f"（{form.title}进行中）" + self._prompt(field, fctx), self._choices(field, fctx))
