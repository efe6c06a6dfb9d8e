"""Command line: `python -m bot COMMAND …`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_settings import SettingsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="职业技能鉴定考生自助机器人（政策问答、退考退费登记、截止提醒）",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ask = sub.add_parser("ask", help="回答一个政策问题（或用 --batch 批量回答）")
    ask.add_argument("question", nargs="?", help="问题文本")
    ask.add_argument("--region", help="考生所在地区，如 广州、吉林")
    ask.add_argument("--now", help="当前日期 YYYY-MM-DD（北京时间），用于判断截止日期是否已过")
    ask.add_argument("--json", action="store_true", help="输出 JSON")
    ask.add_argument("--batch", metavar="FILE.jsonl", help="每行一个 JSON：id、question、可选 region、now")

    kb = sub.add_parser("kb", help="知识库维护")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    check = kb_sub.add_parser("check", help="校验全部通知文件，错误按 文件: 位置: 说明 输出")
    check.add_argument("--dir", help="通知文件目录（默认 knowledge/notices）")
    draft = kb_sub.add_parser(
        "draft",
        help="从通知纯文本生成知识库草稿（YAML 输出到标准输出，每条提取的条目标 review: true）",
        description="提取文号、发文单位、日期、相对期限、职业名单、联系方式和附件表格；无法确定的写入 problems。"
        "转发类通知中的每份文件各输出一个 YAML 文档（以 --- 分隔）。",
    )
    draft.add_argument("file", metavar="NOTICE.txt", help="通知正文的纯文本文件（UTF-8 或 GB18030）")
    draft.add_argument("--region", help="本文（第一份文件）适用的地区，如 广州、吉林；默认按发文单位判断")

    serve = sub.add_parser("serve", help="启动服务：网页聊天、微信公众号、Telegram、/healthz、/metrics")
    serve.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    serve.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    serve.add_argument("--workers", type=int, default=1, help="进程数（多进程请用 PostgreSQL 与 Telegram webhook）")

    chat = sub.add_parser("chat", help="在终端或管道中与机器人对话（每行一条消息）")
    chat.add_argument("--user", required=True, help="用户标识")
    chat.add_argument("--channel", default="cli", help="渠道名（默认 cli）")
    chat.add_argument("--now", help="把今天固定为 YYYY-MM-DD（北京时间）")

    requests = sub.add_parser("requests", help="退考退费申请")
    req_sub = requests.add_subparsers(dest="requests_command", metavar="REQUESTS", required=True)
    req_list = req_sub.add_parser("list", help="列出申请（个人信息已脱敏）")
    req_list.add_argument("--status", help="只列出该状态：submitted、approved、rejected、refunded")
    req_list.add_argument("--json", action="store_true", help="输出 JSON")

    broadcast = sub.add_parser("broadcast", help="向订阅者群发通知（经发件箱、限速、每人一次）")
    broadcast.add_argument("--region", help="受众地区，如 吉林、广州（含下级地区的订阅者）")
    broadcast.add_argument("--occupation", help="只发给订阅了该职业的考生")
    broadcast.add_argument("--channel", help="只发该渠道：wechat、telegram、web")
    broadcast.add_argument("--text", help="群发内容")
    broadcast.add_argument("--at", help="发送时间 YYYY-MM-DDTHH:MM（北京时间，默认立即）")
    broadcast.add_argument("--dry-run", action="store_true", help="只统计受众人数并列出样例")
    broadcast.add_argument("--cancel", type=int, metavar="ID", help="取消一次群发（未发出的不再发送）")

    reminders = sub.add_parser("reminders", help="提醒与群发的发送情况")
    rem_sub = reminders.add_subparsers(dest="reminders_command", metavar="REMINDERS", required=True)
    rem_sub.add_parser("status", help="各渠道待发、已发、失败条数与下一条待发时间")

    staff = sub.add_parser("staff", help="员工控制台（/admin）账号：创建、列出、改密码、停用")
    staff_sub = staff.add_subparsers(dest="staff_command", metavar="STAFF", required=True)
    staff_add = staff_sub.add_parser("add", help="创建账号（输入两次密码；标准输入不是终端时读一行）")
    staff_add.add_argument("name", metavar="NAME", help="账号名（登录用）")
    roles = ("admin", "reviewer", "viewer")
    staff_add.add_argument("--role", required=True, choices=roles, help="admin 管理员、reviewer 审核员、viewer 只读")
    staff_add.add_argument(
        "--region",
        action="append",
        help="负责地区，可重复或用逗号分隔，如 --region 广东 --region 吉林；审核员必填，其他角色不填为全部地区",
    )
    staff_add.add_argument("--password-stdin", action="store_true", help="从标准输入读一行作为密码")
    staff_sub.add_parser("list", help="列出账号、角色、地区与状态")
    staff_passwd = staff_sub.add_parser("passwd", help="修改密码（同时解除锁定，原有登录失效）")
    staff_passwd.add_argument("name", metavar="NAME")
    staff_passwd.add_argument("--password-stdin", action="store_true", help="从标准输入读一行作为密码")
    staff_disable = staff_sub.add_parser("disable", help="停用账号（原有登录立即失效）")
    staff_disable.add_argument("name", metavar="NAME")

    wechat = sub.add_parser("wechat", help="微信公众号管理")
    wechat_sub = wechat.add_subparsers(dest="wechat_command", metavar="WECHAT", required=True)
    menu = wechat_sub.add_parser("menu", help="按配置（WECHAT_MENU，默认内置菜单）创建自定义菜单")
    menu.add_argument("--dry-run", action="store_true", help="只校验并打印菜单 JSON，不调用接口")

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (SettingsError, ValidationError) as exc:
        # A mistyped environment variable: say which, without a traceback (values may be secrets).
        print(f"配置有误（环境变量或 .env）：{_config_problem(exc)}", file=sys.stderr)
        return 2


def _config_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
    return str(exc)


def _run(args: argparse.Namespace) -> int:
    if args.command == "ask":
        from bot.commands.ask import run_ask

        return run_ask(args)
    if args.command == "kb":
        from bot.commands.kb import run_kb

        return run_kb(args)
    if args.command == "serve":
        from bot.commands.serve import run_serve

        return run_serve(args)
    if args.command == "chat":
        from bot.commands.chat import run_chat

        return run_chat(args)
    if args.command == "requests":
        from bot.commands.requests import run_requests

        return run_requests(args)
    if args.command == "broadcast":
        from bot.commands.reminders import run_broadcast

        return run_broadcast(args)
    if args.command == "reminders":
        from bot.commands.reminders import run_reminders

        return run_reminders(args)
    if args.command == "staff":
        from bot.commands.staff import run_staff

        return run_staff(args)
    if args.command == "wechat":
        from bot.commands.wechat import run_wechat

        return run_wechat(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
