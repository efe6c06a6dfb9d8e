"""转人工: record that the candidate wants a human; staff pick it up in the console."""

from __future__ import annotations

from handlers.context import Context
from handlers.messages import Command, Inbound, Reply
from handlers.routing import Router
from storage.handoffs import request_handoff
from storage.models import Handoff

router = Router("handoff")

HUMAN_WORDS = ("人工", "人工客服", "人工服务", "找人工", "客服", "联系人工")


@router.command(Command.HUMAN, words=HUMAN_WORDS, prefixes=("转人工",))
async def ask_for_a_person(inbound: Inbound, ctx: Context) -> list[Reply]:
    reason = f"{inbound.text} {ctx.state.last_question or ''}".strip()
    return [await handoff_reply(ctx, reason)]


def known_region(ctx: Context) -> str | None:
    """The region this conversation has settled on: the form's, else the last one a question named.
    Staff are scoped by region, so the handoff reaches those of the candidate's region."""
    form = ctx.state.form
    region = form.shown_value("region") if form is not None else None
    if isinstance(region, str) and region:
        return region
    return ctx.state.region


def number(handoff: Handoff) -> str:
    """The number the candidate is told (RG-00012), by which staff and candidate refer to it."""
    return f"RG-{handoff.id:05d}"


async def handoff_reply(ctx: Context, reason: str) -> Reply:
    handoff, created = await request_handoff(
        ctx.session,
        channel=ctx.channel,
        user_id=ctx.user_id,
        reason=reason or "转人工",
        now=ctx.now,
        region=known_region(ctx),
    )
    if not created:
        return Reply(f"您的人工服务请求（编号 {number(handoff)}）已在处理队列中，工作人员会尽快回复您。")
    return Reply(
        f"已为您转接人工服务（编号 {number(handoff)}）。工作人员会在工作时间尽快回复您，"
        "请留意本对话的消息。您也可以先把问题描述发给我，工作人员能看到。"
    )
