"""我的申请: the candidate's own requests and their status, personal data masked; and what to do
when they want to change one they have submitted."""

from __future__ import annotations

from handlers.context import Context
from handlers.field_parsers import looks_like_question
from handlers.messages import Command, Inbound, Reply
from handlers.routing import Router
from handlers.text import compact
from knowledge.workdays import format_date
from storage.masking import mask_name
from storage.requests import requests_of_user
from storage.statuses import RequestStatus

router = Router("my_requests")

MY_REQUESTS_WORDS = ("查询申请", "申请进度", "查进度", "进度查询", "我的退费", "申请状态")
CHANGE_PREFIXES = ("修改", "更改", "撤回", "撤销")


@router.command(Command.MY_REQUESTS, words=MY_REQUESTS_WORDS)
async def show_my_requests(inbound: Inbound, ctx: Context) -> list[Reply]:
    return [await my_requests_reply(ctx)]


def _asks_to_change_a_request(inbound: Inbound, ctx: Context) -> bool:
    return (
        ctx.state.form is None
        and compact(inbound.text).startswith(CHANGE_PREFIXES)
        and not looks_like_question(inbound.text)
    )


@router.text(_asks_to_change_a_request)
async def explain_no_changes(inbound: Inbound, ctx: Context) -> list[Reply]:
    return [
        Reply(
            "当前没有正在填写的表单。已提交的退考退费申请（个人弃考声明）不可由本人更改或撤回；"
            "如信息有误，请回复“转人工”由工作人员处理。回复“我的申请”可查看已提交的内容。",
            ("转人工", "我的申请"),
        )
    ]


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
