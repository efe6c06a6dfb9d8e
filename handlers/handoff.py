"""转人工: record that the candidate wants a human; staff pick it up in the console."""

from __future__ import annotations

from handlers.context import Context
from handlers.messages import Reply
from storage.handoffs import request_handoff


def known_region(ctx: Context) -> str | None:
    """The region this conversation has settled on: the form's, else the last one a question named.
    Staff are scoped by region, so the handoff reaches those of the candidate's region."""
    form = ctx.state.get("form") or {}
    value = (form.get("values") or {}).get("region")
    if isinstance(value, dict) and not value.get("enc") and isinstance(value.get("v"), str):
        return str(value["v"])
    region = ctx.state.get("region")
    return region if isinstance(region, str) and region else None


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
        return Reply(f"您的人工服务请求（编号 RG-{handoff.id:05d}）已在处理队列中，工作人员会尽快回复您。")
    return Reply(
        f"已为您转接人工服务（编号 RG-{handoff.id:05d}）。工作人员会在工作时间尽快回复您，"
        "请留意本对话的消息。您也可以先把问题描述发给我，工作人员能看到。"
    )
