"""帮助/菜单 and the welcome a new follower gets."""

from __future__ import annotations

from handlers.context import Context
from handlers.messages import Command, Inbound, Reply
from handlers.routing import Router

router = Router("help")

MENU = tuple(c.label for c in (Command.QA, Command.WITHDRAW, Command.MY_REQUESTS, Command.REMIND, Command.HUMAN))
HELP_WORDS = ("菜单", "help", "menu", "start", "功能", "主菜单", "使用说明", "怎么用")


@router.command(Command.HELP, words=HELP_WORDS)
async def show_help(inbound: Inbound, ctx: Context) -> list[Reply]:
    return [help_reply(ctx)]


def help_reply(ctx: Context) -> Reply:
    regions = "、".join(dict.fromkeys(r for n in ctx.kb.notices.values() for r in n.regions))
    return Reply(
        "我是职业技能鉴定考生自助助手，可以为您：\n"
        f"1. 政策问答：直接输入问题，如“广州退考退费登记截止到哪天？”（已收录{regions}的通知）\n"
        "2. 退考退费：回复“退考退费”，在线登记并签署个人弃考声明\n"
        "3. 我的申请：查看已提交申请的受理编号和状态\n"
        "4. 订阅提醒：报名、缴费、退考等截止日期前提醒您（“我的提醒”查看，“退订”取消）\n"
        "5. 转人工：请工作人员为您解答\n"
        "办理中随时可回复“取消”结束。",
        MENU,
    )


def welcome_reply(ctx: Context) -> Reply:
    reply = help_reply(ctx)
    return Reply("欢迎关注！" + reply.text, reply.choices)
