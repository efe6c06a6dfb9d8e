"""Runs declared forms (handlers.forms): asks for the first missing field, takes an answer (and any
other field's value the message carries), re-asks after something that is no answer, goes back,
edits, restarts, cancels and confirms. Progress lives in the conversation state (`FormState`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from handlers.context import Context
from handlers.conversation_state import CONFIRM_STEP, FormState, PendingGuess, StoredValue
from handlers.field_parsers import parse_yes_no
from handlers.form_answers import BACK_WORDS, RESTART_WORDS, NotAnAnswer, edit_request, interpret, take_others
from handlers.forms import EDIT_PREFIXES, Field, Form, current, form_context
from handlers.messages import Reply
from handlers.parsing import Confirm, Invalid, Ok, Parsed, Stop
from handlers.text import compact


def is_navigation(ctx: Context, text: str) -> bool:
    """Whether `text` steers the form in progress (返回, 重来, 修改X, or a 是/否 it is waiting for)."""
    found = current(ctx)
    if found is None:
        return False
    state, form = found
    word = compact(text)
    return (
        state.pending is not None
        or word in BACK_WORDS
        or word in RESTART_WORDS
        or edit_request(form, text) is not None
        or (state.confirming and (word in EDIT_PREFIXES or word == "返回确认"))
    )


def cancel(ctx: Context) -> str | None:
    """Drops the form in progress; returns its title, or None when there was none."""
    found = current(ctx)
    ctx.state.form = None
    return found[1].title if found else None


async def start(ctx: Context, form: Form, prefill: dict[str, str] | None = None) -> list[Reply]:
    state = ctx.state.form = FormState(form.name)
    replies = [Reply(form.intro)] if form.intro else []
    notes: list[str] = []
    for field_name, text in (prefill or {}).items():
        field = form.field(field_name)
        result = field.parse(text, form_context(ctx, state, form))
        if isinstance(result, Stop):
            ctx.state.form = None
            return [*replies, Reply(result.message)]
        if isinstance(result, Ok):
            _store(ctx, state, field, result, record=False)
            notes += [result.note] if result.note else []
    return replies + _with_note("\n".join(notes), _advance(ctx, state, form))


async def step(ctx: Context, text: str) -> list[Reply]:
    """The candidate's message while the form waits for an answer."""
    found = current(ctx)
    assert found is not None, "routed here only while a form is in progress"
    state, form = found
    word = compact(text)
    if state.pending is not None:
        return await _answer_pending(ctx, state, form, state.pending, text)
    if word in BACK_WORDS:
        return _back(ctx, state, form)
    if word in RESTART_WORDS:
        ctx.state.form = FormState(form.name)
        return [Reply("好的，重新开始填写，之前填写的内容已清除。"), *_advance(ctx, ctx.state.form, form)]
    edit = edit_request(form, text)
    if edit is not None:
        return await _edit(ctx, state, form, *edit)
    if state.confirming:
        if word in EDIT_PREFIXES:
            return [_edit_choices(ctx, state, form)]
        if word == "返回确认":
            return [_confirm_hint(form)]
        if word == compact(form.confirm_phrase):
            replies = await form.submit(form_context(ctx, state, form))
            ctx.state.form = None
            return replies
        return [Reply("尚未提交。", ()), _confirm_hint(form)]
    assert state.asking is not None
    return await _answer(ctx, state, form, form.field(state.asking), text)


async def _answer(ctx: Context, state: FormState, form: Form, field: Field, text: str) -> list[Reply]:
    fctx = form_context(ctx, state, form)
    meant = interpret(text, field, fctx)
    if isinstance(meant, NotAnAnswer):
        return [Reply(f"{meant.message}{field.prompt_for(fctx)}".strip(), field.choices_for(fctx))]
    if meant is not None:
        return await _apply(ctx, state, form, field, meant)
    taken, rest = take_others(text, field, fctx)
    if taken and not rest:
        # Nothing but another question's answer (a phone number at the receipt prompt): the wrong
        # answer here, unless it answers this question too (an occupation's name asked whether the
        # occupation is in scope).
        meant_here = field.parse(text, fctx)
        if not isinstance(meant_here, Ok):
            return await _apply(ctx, state, form, field, meant_here)
        rest = text
    for other, value in taken:
        problem = await _store_checked(ctx, state, form, other, value)
        if problem is not None:
            return problem
    return await _apply(ctx, state, form, field, field.parse(rest if taken else text, form_context(ctx, state, form)))


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
async def _apply(ctx: Context, state: FormState, form: Form, field: Field, result: Parsed) -> list[Reply]:
    fctx = form_context(ctx, state, form)
    if isinstance(result, Invalid):
        return [Reply(result.message, field.choices_for(fctx))]
    if isinstance(result, Stop):
        return _stop(ctx, state, field, result, fctx)
    if isinstance(result, Confirm):
        value, kind = _encode(result.value)
        state.pending = PendingGuess(field.name, value, result.display, kind)
        return [Reply(result.question, ("是", "否"))]
    problem = await _store_checked(ctx, state, form, field, result)
    if problem is not None:
        return problem
    return _with_note(result.note, _advance(ctx, state, form))


def _with_note(note: str, replies: list[Reply]) -> list[Reply]:
    """`replies` with `note` leading the first one (one message, not two, on a phone)."""
    if not note or not replies:
        return replies
    return [replace(replies[0], text=f"{note}\n{replies[0].text}"), *replies[1:]]


def _stop(ctx: Context, state: FormState, field: Field, result: Stop, fctx: Any) -> list[Reply]:
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


async def _store_checked(ctx: Context, state: FormState, form: Form, field: Field, result: Ok) -> list[Reply] | None:
    """Stores the answer and runs the field's check; the replies when the check refuses it."""
    _store(ctx, state, field, result)
    if field.check is None:
        return None
    fctx = form_context(ctx, state, form)
    problem = await field.check(fctx)
    if problem is None:
        return None
    _clear(state, form, field.name)
    state.asking = field.name
    if isinstance(problem, Stop):
        return _stop(ctx, state, field, problem, fctx)
    return [Reply(problem.message, field.choices_for(fctx))]


async def _answer_pending(ctx: Context, state: FormState, form: Form, pending: PendingGuess, text: str) -> list[Reply]:
    field = form.field(pending.field)
    yes = parse_yes_no(text)
    state.pending = None
    if yes is True:
        value = dt.date.fromisoformat(pending.value) if pending.kind == "date" else pending.value
        problem = await _store_checked(ctx, state, form, field, Ok(value, pending.display))
        return problem if problem is not None else _advance(ctx, state, form)
    fctx = form_context(ctx, state, form)
    if yes is False:
        return [Reply("好的。" + field.prompt_for(fctx), field.choices_for(fctx))]
    taken, rest = take_others(text, field, fctx)
    if taken and not rest:
        # The next answers instead of a yes (the ID number after the name we asked them to check):
        # the candidate has moved on, so the guess stands; the summary shows it before they sign.
        value = dt.date.fromisoformat(pending.value) if pending.kind == "date" else pending.value
        problem = await _store_checked(ctx, state, form, field, Ok(value, pending.display))
        for other, parsed in taken:
            problem = problem or await _store_checked(ctx, state, form, other, parsed)
        return problem if problem is not None else _advance(ctx, state, form)
    # Not a yes or no: the candidate may have typed the answer again, differently.
    result = field.parse(text, fctx)
    if isinstance(result, Invalid) or (isinstance(result, Confirm) and result.value == pending.value):
        state.pending = pending
        return [Reply(f"请回复“是”或“否”。您是指“{pending.display}”吗？", ("是", "否"))]
    return await _apply(ctx, state, form, field, result)


def _back(ctx: Context, state: FormState, form: Form) -> list[Reply]:
    fctx = form_context(ctx, state, form)
    last = next((name for name in reversed(state.order) if not form.field(name).back_over), None)
    if last is None:
        assert state.asking is not None
        return [Reply("已经是第一项了。" + form.field(state.asking).prompt_for(fctx))]
    _clear(state, form, last)
    state.asking = last
    field = form.field(last)
    return [Reply("好的，回到上一项。" + field.prompt_for(fctx), field.choices_for(fctx))]


async def _edit(ctx: Context, state: FormState, form: Form, field: Field, value: str | None) -> list[Reply]:
    fctx = form_context(ctx, state, form)
    if not field.asked(fctx):
        return [Reply(f"“{field.label}”在本次办理中不需要填写。")]
    _clear(state, form, field.name)
    state.asking = field.name
    state.editing = True
    if value is not None:  # 手机号改成139…: the new value in the same message
        return await _apply(ctx, state, form, field, field.parse(value, form_context(ctx, state, form)))
    return [Reply(f"好的，请重新填写{field.label}。" + field.prompt_for(fctx), field.choices_for(fctx))]


def _confirm_hint(form: Form) -> Reply:
    return Reply(
        f"确认无误请回复“{form.confirm_phrase}”提交；需要更改请回复“修改+项目”（如“修改{form.fields[-1].label}”）；"
        "不办理了请回复“取消”。",
        (form.confirm_phrase, "修改", "取消"),
    )


def _edit_choices(ctx: Context, state: FormState, form: Form) -> Reply:
    """修改 on its own at the summary: which answer, as buttons."""
    fctx = form_context(ctx, state, form)
    labels = [f.label for f in form.fields if f.name in state.values and f.asked(fctx) and not f.back_over]
    return Reply("请选择要修改的项目：", tuple(f"修改{label}" for label in labels) + ("返回确认",))


# -- bookkeeping --------------------------------------------------------------------------------
def _encode(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    return value, None


def _store(ctx: Context, state: FormState, field: Field, result: Ok, *, record: bool = True) -> None:
    value, kind = _encode(result.value)
    encrypted = field.sensitive and value is not None
    if encrypted:
        value = ctx.services.cipher.encrypt(str(value), context=f"form:{field.name}")
    state.values[field.name] = StoredValue(value, result.display, kind, encrypted)
    state.editing = False
    if field.name in state.order:
        state.order.remove(field.name)
    state.order.append(field.name)
    if not record or not (field.sensitive or field.transcript):
        return
    # The transcript keeps a personal answer as shown back (an ID number, a name masked), not as typed.
    shown = field.transcript(result.display) if field.transcript else result.display
    ctx.transcript_in = (
        f"{ctx.transcript_in}；{field.label}：{shown}" if ctx.transcript_in else f"{field.label}：{shown}"
    )


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
