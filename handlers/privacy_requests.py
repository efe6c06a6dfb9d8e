"""删除我的信息, 查看我的个人信息: a candidate exercising their rights (个人信息保护法 art. 44–47).

The bot does not delete anything itself: a submitted declaration is the evidence a refund is handled
on, and who is asking must be checked. The request goes to staff as a handoff (the console's inbox,
scoped by the candidate's region), where an admin copies or erases the person's data with the
console's or the command line's tools, and the candidate is told what happens next."""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.handoff import current_region, number
from handlers.messages import Inbound, Reply
from handlers.routing import Router
from storage import handoffs as store

router = Router("privacy_requests")

_ASKS = re.compile(
    r"(?:删除|删掉|删了|清除|注销|撤回|销毁|查看|查阅|查询|导出|复制|更正|修改)(?:一下)?(?:我的|本人的?)?(?:个人)?(?:信息|资料|数据|隐私)"
    r"|(?:我的|本人的?)(?:个人)?(?:信息|资料|数据)(?:要|请|帮我)?(?:删除|删掉|删了|清除|注销)"
)
_NOT_ABOUT_PERSONAL_DATA = re.compile(r"报名信息|考试信息|成绩|证书|准考证|申请(?!.*个人)")


def _asks(inbound: Inbound, ctx: Context) -> bool:
    text = inbound.text
    return (
        not inbound.event
        and ctx.state.form is None
        and len(text) <= 60
        and bool(_ASKS.search(text))
        and not _NOT_ABOUT_PERSONAL_DATA.search(text)
    )


@router.text(_asks)
async def personal_data_request(inbound: Inbound, ctx: Context) -> list[Reply]:
    handoff, created = await store.request_handoff(
        ctx.session,
        channel=ctx.channel,
        user_id=ctx.user_id,
        reason=f"个人信息申请：{inbound.text}",
        now=ctx.now,
        region=await current_region(ctx),
    )
    if not created:
        await store.mark_unread(ctx.session, handoff)
    ctx.state.handoff, ctx.state.handoff_told = handoff.id, True
    days = ctx.services.privacy_notice.retention_days
    return [
        Reply(
            f"已把您的个人信息申请转给工作人员（编号 {number(handoff)}）。工作人员会核实您的身份后处理，"
            "并在本对话中答复您，可能需要您提供身份证号以便查找。\n"
            "说明：已提交的弃考声明是办理退考退费的凭证，申请办结前需要保留；"
            f"办结（已退费或未通过）后，其中的个人信息会在 {days} 天后自动删除，您也可以请工作人员提前删除。"
        )
    ]
