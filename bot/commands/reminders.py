"""`python -m bot broadcast …` and `python -m bot reminders status`: staff broadcasts through the
outbox, and what the outbox holds. The running server's planner and dispatcher do the sending."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from typing import TYPE_CHECKING

from bot.commands.common import current_time, open_database

if TYPE_CHECKING:
    from bot.commands.common import Subparsers
    from bot.config import Settings
    from storage.models import Broadcast


def register(subparsers: Subparsers) -> None:
    broadcast = subparsers.add_parser("broadcast", help="向订阅者群发通知（经发件箱、限速、每人一次）")
    broadcast.add_argument("--region", help="受众地区，如 吉林、广州（含下级地区的订阅者）")
    broadcast.add_argument("--occupation", help="只发给订阅了该职业的考生")
    broadcast.add_argument("--channel", help="只发该渠道：wechat、telegram、web")
    broadcast.add_argument("--text", help="群发内容")
    broadcast.add_argument("--at", help="发送时间 YYYY-MM-DDTHH:MM（北京时间，默认立即）")
    broadcast.add_argument("--dry-run", action="store_true", help="只统计受众人数并列出样例")
    broadcast.add_argument("--cancel", type=int, metavar="ID", help="取消一次群发（未发出的不再发送）")
    broadcast.set_defaults(run=run_broadcast)

    reminders = subparsers.add_parser("reminders", help="提醒与群发的发送情况")
    rem_sub = reminders.add_subparsers(dest="reminders_command", metavar="REMINDERS", required=True)
    status = rem_sub.add_parser("status", help="各渠道待发、已发、失败条数与下一条待发时间")
    status.set_defaults(run=run_reminders)


def _local(at: dt.datetime) -> str:
    from knowledge.timezone import SHANGHAI

    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


async def _cancel(number: int, settings: Settings) -> int:
    from bot.reminders.planner import cancel_broadcast
    from storage.models import Broadcast

    async with open_database(settings) as db:
        async with db.transaction() as session:
            found = await session.get(Broadcast, number)
        if found is None:
            print(f"没有编号为 {number} 的群发。", file=sys.stderr)
            return 1
        cancelled = await cancel_broadcast(db, number)
    print(f"群发 {number} 已取消：{cancelled} 条未发出的消息不再发送。")
    return 0


def _requested(args: argparse.Namespace, region: str, moment: dt.datetime) -> Broadcast | str:
    """The broadcast the arguments ask for at `moment` (not yet stored), or what is wrong with them."""
    from bot.reminders.planner import BROADCAST_CHANNELS, MAX_BROADCAST_TEXT
    from handlers.clock import start_instant
    from storage.models import Broadcast

    if args.channel and args.channel not in BROADCAST_CHANNELS:
        return f"渠道应为 {'、'.join(BROADCAST_CHANNELS)} 之一。"
    send_at = moment
    if args.at:
        try:
            send_at = start_instant(dt.datetime.fromisoformat(args.at)).astimezone(dt.UTC)
        except ValueError:
            return f"--at 应为 YYYY-MM-DDTHH:MM（北京时间），收到：{args.at}"
    text = args.text.strip()
    if not text or len(text) > MAX_BROADCAST_TEXT:
        return f"群发内容不能为空，且不超过 {MAX_BROADCAST_TEXT} 字。"
    return Broadcast(
        region=region,
        occupation=args.occupation,
        channel=args.channel,
        text=text,
        send_at=send_at,
        status="scheduled",
        created_by="cli",
        created_at=moment,
    )


async def _broadcast(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reminders.planner import broadcast_audience
    from bot.reminders.policy import schedule_from_settings
    from knowledge.base import KnowledgeBase
    from storage.masking import mask_user_id
    from storage.outbox import cost_lines, quota_outlook

    if args.cancel is not None:
        return await _cancel(args.cancel, settings)
    if not args.region or not args.text:
        print("请用 --region 与 --text 指定受众地区和内容（或用 --cancel ID 取消群发）。", file=sys.stderr)
        return 2
    kb = KnowledgeBase.load()
    region = kb.regions.resolve(args.region)
    if region is None:
        print(f"不认识的地区：{args.region}", file=sys.stderr)
        return 2
    broadcast = _requested(args, region, current_time(settings))
    if isinstance(broadcast, str):
        print(broadcast, file=sys.stderr)
        return 2
    async with open_database(settings) as db:
        audience = await broadcast_audience(db, kb, broadcast)
        size = audience.size
        if args.dry_run:
            scope = region + (f"·{args.occupation}" if args.occupation else "")
            print(f"受众：{size} 人（{scope}，渠道：{args.channel or '全部'}）")
            for channel, user in audience.sample:
                print(f"  {channel}  {mask_user_id(user)}")
            async with db.sessions() as session:
                outlooks = await quota_outlook(
                    session, schedule_from_settings(settings).rules, now=current_time(settings)
                )
            for outlook in outlooks:
                for line in cost_lines(audience.channels[outlook.channel], outlook):
                    print(line)
            return 0
        async with db.transaction() as session:
            broadcast.audience = size
            session.add(broadcast)
            await session.flush()
            number = broadcast.id
    print(
        f"群发 {number} 已排队：约 {size} 人，{_local(broadcast.send_at)} 起由运行中的服务发送。"
        f"取消：python -m bot broadcast --cancel {number}"
    )
    return 0


async def _status(settings: Settings) -> int:
    from sqlalchemy import select

    from bot.reminders.planner import BROADCAST_CHANNELS
    from bot.reminders.policy import schedule_from_settings
    from storage.models import Broadcast
    from storage.outbox import broadcast_counts, next_due, outlook_lines, quota_outlook, status_counts

    async with open_database(settings) as db:
        async with db.sessions() as session:
            counts = await status_counts(session)
            due = await next_due(session)
            broadcasts = (
                (await session.execute(select(Broadcast).order_by(Broadcast.id.desc()).limit(5))).scalars().all()
            )
            progress = await broadcast_counts(session, [b.id for b in broadcasts])
            outlooks = await quota_outlook(session, schedule_from_settings(settings).rules, now=current_time(settings))
    columns = ("pending", "sending", "sent", "failed", "skipped", "cancelled")
    print(f"{'渠道':<10}" + "".join(f"{c:>10}" for c in columns))
    for channel in sorted({c for c, _ in counts} or set(BROADCAST_CHANNELS)):
        print(f"{channel:<12}" + "".join(f"{counts.get((channel, c), 0):>10}" for c in columns))
    print(f"下一条待发：{_local(due) if due else '无'}")
    for outlook in outlooks:
        for line in outlook_lines(outlook):
            print(line)
    for b in broadcasts:
        of_broadcast = progress.get(b.id, {})
        done = of_broadcast.get("sent", 0)
        left = of_broadcast.get("pending", 0) + of_broadcast.get("sending", 0)
        print(f"群发 {b.id}｜{b.region}｜{b.status}｜已发 {done}，待发 {left}，受众约 {b.audience}｜{b.text[:20]}")
    return 0


def _settings() -> Settings:
    from bot.config import Settings
    from bot.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def run_broadcast(args: argparse.Namespace) -> int:
    return asyncio.run(_broadcast(args, _settings()))


def run_reminders(args: argparse.Namespace) -> int:
    return asyncio.run(_status(_settings()))
