"""退考退费: starting the withdrawal form (个人弃考声明 + 退考退费登记) when a candidate asks for it."""

from __future__ import annotations

from handlers import form_steps
from handlers.context import Context
from handlers.field_parsers import looks_like_question
from handlers.messages import Command, Inbound, Reply
from handlers.routing import Router
from handlers.text import compact
from handlers.withdrawal_form import FORM

router = Router("withdrawal")

WITHDRAW_WORDS = ("退考", "退费", "弃考")
WITHDRAW_STARTS = (
    "退考退费",
    "我要退考",
    "我想退考",
    "申请退考",
    "办理退考",
    "我要退费",
    "我想退费",
    "申请退费",
    "办理退费",
    "我要弃考",
    "我想弃考",
    "申请弃考",
    "退考登记",
    "弃考登记",
)


_COMMAND_TEXTS = frozenset(compact(w) for w in (*WITHDRAW_WORDS, *WITHDRAW_STARTS))


def _not_a_question(inbound: Inbound, ctx: Context) -> bool:
    # "我要退考怎么办？" asks about withdrawing; the policy answerer takes it.
    return not looks_like_question(inbound.text)


@router.command(Command.WITHDRAW, words=WITHDRAW_WORDS)
@router.command(Command.WITHDRAW, _not_a_question, prefixes=WITHDRAW_STARTS)
async def start_withdrawal(inbound: Inbound, ctx: Context) -> list[Reply]:
    if ctx.state.form is not None:
        return [Reply("您正在办理其他事项，请先完成，或回复“取消”后再办理退考退费。")]
    region, _ = ctx.region_and_rest(inbound.text)
    return await form_steps.start(ctx, FORM, {"region": region} if region else None)


def _region_and_command(inbound: Inbound, ctx: Context) -> bool:
    """广州退考退费, 江苏弃考: the command with the region in front (the button under a region's rule)."""
    if len(inbound.text) > 20:
        return False
    region, rest = ctx.region_and_rest(inbound.text)
    return region is not None and rest in _COMMAND_TEXTS


@router.text(_region_and_command)
async def start_for_region(inbound: Inbound, ctx: Context) -> list[Reply] | None:
    return await start_withdrawal(inbound, ctx)
