"""我的申请: the candidate's own requests and their status, personal data masked."""

from __future__ import annotations

from handlers.context import Context
from handlers.messages import Reply
from knowledge.workdays import format_date
from storage.masking import mask_name
from storage.requests import requests_of_user
from storage.statuses import RequestStatus


async def my_requests_reply(ctx: Context) -> Reply:
    requests = await requests_of_user(ctx.session, channel=ctx.channel, user_id=ctx.user_id)
    if not requests:
        return Reply("您还没有提交过退考退费申请。需要办理请回复“退考退费”。", ("退考退费", "帮助"))
    lines = [f"您共有{len(requests)}份申请："]
    for r in requests:
        status = RequestStatus(r.status).label
        if r.status == "rejected" and r.status_reason:
            status += f"（原因：{r.status_reason}）"
        if r.status == "refunded" and r.refunded_on:
            status += f"（退费日期：{format_date(r.refunded_on)}）"
        lines.append(
            f"· {r.reference}｜{r.occupation} {r.level}｜原定考试{format_date(r.exam_date)}｜"
            f"{mask_name(r.name)} {r.id_number_masked}｜{status}"
        )
    lines.append("申请提交后不可更改；如需更正，请回复“转人工”。")
    return Reply("\n".join(lines), ("转人工",))
