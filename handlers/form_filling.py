"""Filling in a form: the candidate's answers go to the form in progress, 取消 ends it, and after
anything else (a command, a question) the form says again what it is waiting for, unless the
candidate is talking to staff (an open handoff, `handlers.handoff`): then the form waits, its
answers kept, and speaks again once the handoff has ended."""

from __future__ import annotations

from handlers import form_steps, forms
from handlers.context import Context
from handlers.field_parsers import looks_like_question
from handlers.form_answers import is_doubt
from handlers.messages import Command, Inbound, Reply
from handlers.routing import Dispatch, Handled, Router

router = Router("form_filling")

FORM_FLAG = "form"
"""Routes that answer for the form itself: nothing to resume after them."""
CANCEL_WORDS = ("退出", "不办了", "算了", "取消办理", "结束", "cancel", "stop")


def asks_a_question(inbound: Inbound, ctx: Context) -> bool:
    """A question asked inside a form, for the policy answerer rather than the field being asked
    (a 是/否 the form is waiting for, 返回 and 修改X steer the form instead; "我也不知道叫啥" is a
    remark about the question asked, which the form helps with)."""
    return (
        looks_like_question(inbound.text)
        and not is_doubt(inbound.text)
        and not form_steps.is_navigation(ctx, inbound.text)
    )


def _answers_the_form(inbound: Inbound, ctx: Context) -> bool:
    return forms.current(ctx) is not None and not asks_a_question(inbound, ctx)


@router.command(Command.CANCEL, words=CANCEL_WORDS, flags=(FORM_FLAG,))
async def cancel(inbound: Inbound, ctx: Context) -> list[Reply]:
    title = form_steps.cancel(ctx)
    if title is None:
        return [Reply("当前没有正在办理的事项。需要帮助请回复“帮助”。", ("帮助",))]
    return [Reply(f"已取消{title}，您填写的信息未提交、已清除。需要时可随时重新办理。", ("退考退费", "帮助"))]


@router.text(_answers_the_form, flags=(FORM_FLAG,))
async def answer_the_form(inbound: Inbound, ctx: Context) -> list[Reply]:
    return await form_steps.step(ctx, inbound.text)


async def resume_interrupted_form(call: Dispatch, inbound: Inbound, ctx: Context) -> Handled | None:
    """Middleware for the root router: after a message that was not an answer to the form in
    progress (帮助, a question), repeats the question the form is waiting on; not while a handoff is
    open (after 转人工 and until it ends), when staff, not the form, are what the candidate awaits."""
    before = ctx.state.form
    handled = await call(inbound, ctx)
    if handled is None or before is None or inbound.event or FORM_FLAG in handled.route.flags:
        return handled
    if ctx.state.handoff is not None:
        return handled
    if ctx.state.form is not before:  # the handler ended or replaced the form
        return handled
    again = form_steps.prompt_again(ctx)
    return Handled(handled.route, [*handled.replies, again]) if again else handled
