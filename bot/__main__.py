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

    bench = sub.add_parser("bench", help="性能基准（不属于测试）")
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="BENCH", required=True)
    qa = bench_sub.add_parser("qa", help="问答延迟 p50/p99、冷启动时间、万条 FAQ 知识库")
    qa.add_argument("--rounds", type=int, default=20, help="每个问题重复次数")
    qa.add_argument("--faq", type=int, default=10_000, help="生成的 FAQ 条目数")
    chat_bench = bench_sub.add_parser(
        "chat",
        help="并发模拟多名考生完整办理退考退费登记：吞吐量、每条消息延迟、受理编号与存储核对",
        description="注意：指定 --database-url 时会先清空该数据库的 public 模式（全部数据被删除），"
        "只能用于专门的测试库。",
    )
    chat_bench.add_argument("--users", type=int, default=1000, help="模拟考生人数（默认 1000）")
    chat_bench.add_argument("--concurrency", type=int, default=20, help="同时办理的考生数上限（默认 20）")
    chat_bench.add_argument(
        "--database-url",
        help="数据库地址，例如 postgresql+asyncpg://…；警告：会先清空该库的 public 模式！默认使用临时 SQLite 文件",
    )
    rb = bench_sub.add_parser("reminders", help="十万订阅者的规划与限速发送：规划耗时、发送速率、峰值内存、重复")
    rb.add_argument("--subscribers", type=int, default=100_000, help="订阅者人数（默认 100000）")
    rb.add_argument("--rate", type=float, default=1000.0, help="发送速率上限，条/秒（默认 1000）")
    rb.add_argument("--database-url", help="数据库地址；警告：PostgreSQL 会先清空 public 模式！默认临时 SQLite")
    wx = bench_sub.add_parser("wechat", help="微信消息负载：本服务与仅验签解密回显的裸端点对比")
    wx.add_argument("--clients", type=int, default=50, help="并发连接数（默认 50）")
    wx.add_argument("--users", type=int, default=2000, help="模拟用户（openid）数（默认 2000）")
    wx.add_argument("--duration", type=int, default=15, help="饱和阶段每个服务的时长，秒（默认 15）")
    wx.add_argument("--latency-duration", type=int, default=30, help="定速延迟阶段每个服务的时长，秒（默认 30）")
    wx.add_argument("--rate", type=float, help="定速阶段的发送速率，条/秒（默认：本服务饱和吞吐量的 50%%）")
    wx.add_argument("--warmup", type=int, default=1000, help="每个服务预热消息数（默认 1000）")
    cb = bench_sub.add_parser("console", help="十万条申请下员工控制台申请列表的延迟（各筛选 p50/p99）与万行 XLSX 导出")
    cb.add_argument("--requests", type=int, default=100_000, help="临时 SQLite 库中的申请数（默认 100000）")
    cb.add_argument("--rounds", type=int, default=200, help="每种筛选请求列表页的次数（默认 200）")
    cb.add_argument("--seed", type=int, default=6, help="生成数据的随机种子")
    cb.add_argument("--plans", action="store_true", help="同时打印每种筛选的 SQLite 查询计划")
    bd = bench_sub.add_parser("draft", help="知识库草稿的召回率：与手工条目逐类比较（文号、日期、期限、名单、电话）")
    bd.add_argument("--seeds", help="原文目录（默认 ../shared/seeds，或环境变量 SEEDS_DIR）")
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
    if args.command == "bench":
        if args.bench_command == "reminders":
            from bot.commands.bench_reminders import run_reminders_bench

            return run_reminders_bench(args)
        if args.bench_command == "draft":
            from bot.commands.bench_draft import run_draft_bench

            return run_draft_bench(args)
        if args.bench_command == "wechat":
            from bot.commands.bench_wechat import run_wechat_bench

            return run_wechat_bench(args)
        if args.bench_command == "console":
            from bot.commands.bench_console import run_console_bench

            return run_console_bench(args)
        from bot.commands.bench import run_bench

        return run_bench(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
