"""退考退费: starting the withdrawal form (个人弃考声明 + 退考退费登记) when a candidate asks for it."""

from __future__ import annotations

import re

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
    ctx.state.topic = "退考退费"
    return await form_steps.start(ctx, FORM, {"region": region} if region else None)


# An explicit request in other words, once the region is taken out: 帮我办一下退考, 我想申请退费（广州的）.
_EXPLICIT = re.compile(
    r"(?:我是|我在|在)?的?(?:我|我们)?(?:要|想|需要|打算|想要)?(?:帮我|给我|请|麻烦你?|帮忙){0,2}"
    r"(?:申请|办理|办|登记|做)?(?:个|一下|下)?(?:退考退费|退考|退费|弃考)(?:申请|登记|手续|退费)?(?:的|吧|啊|呢|了|谢谢)*"
    r"(?:我是|我在|在)?的?"
)


def _region_and_command(inbound: Inbound, ctx: Context) -> bool:
    """广州退考退费 (the button under a region's rule), 江苏弃考, 帮我办一下退考: the command in
    other words, with or without a region."""
    if len(inbound.text) > 30 or looks_like_question(inbound.text):
        return False
    region, rest = ctx.region_and_rest(inbound.text)
    return rest in _COMMAND_TEXTS or bool(_EXPLICIT.fullmatch(rest))


@router.text(_region_and_command)
async def start_for_region(inbound: Inbound, ctx: Context) -> list[Reply] | None:
    return await start_withdrawal(inbound, ctx)
