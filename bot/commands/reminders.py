"""`python -m bot broadcast …` and `python -m bot reminders status`: staff broadcasts through the
outbox, and what the outbox holds. The running server's planner and dispatcher do the sending."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select

from bot.config import Settings
from bot.logs import configure_logging
from bot.reminders.planner import BROADCAST_CHANNELS as CHANNELS
from bot.reminders.planner import MAX_BROADCAST_TEXT, broadcast_audience, cancel_broadcast
from handlers.clock import running_clock, start_instant, system_clock
from knowledge.base import KnowledgeBase
from knowledge.timezone import SHANGHAI
from storage.database import Database
from storage.masking import mask_user_id
from storage.models import Broadcast
from storage.outbox import broadcast_counts, next_due, status_counts


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    try:
        await db.migrate()
        yield db
    finally:
        await db.dispose()


def _now(settings: Settings) -> dt.datetime:
    return running_clock(start_instant(settings.bot_now))() if settings.bot_now else system_clock()


def _local(at: dt.datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


async def _broadcast(args: argparse.Namespace, settings: Settings) -> int:
    if args.cancel is not None:
        async with _database(settings) as db:
            async with db.transaction() as session:
                found = await session.get(Broadcast, args.cancel)
            if found is None:
                print(f"没有编号为 {args.cancel} 的群发。", file=sys.stderr)
                return 1
            cancelled = await cancel_broadcast(db, args.cancel)
        print(f"群发 {args.cancel} 已取消：{cancelled} 条未发出的消息不再发送。")
        return 0
    if not args.region or not args.text:
        print("请用 --region 与 --text 指定受众地区和内容（或用 --cancel ID 取消群发）。", file=sys.stderr)
        return 2
    kb = KnowledgeBase.load()
    region = kb.regions.resolve(args.region)
    if region is None:
        print(f"不认识的地区：{args.region}", file=sys.stderr)
        return 2
    if args.channel and args.channel not in CHANNELS:
        print(f"渠道应为 {'、'.join(CHANNELS)} 之一。", file=sys.stderr)
        return 2
    now = _now(settings)
    send_at = now
    if args.at:
        try:
            send_at = start_instant(dt.datetime.fromisoformat(args.at)).astimezone(dt.UTC)
        except ValueError:
            print(f"--at 应为 YYYY-MM-DDTHH:MM（北京时间），收到：{args.at}", file=sys.stderr)
            return 2
    text = args.text.strip()
    if not text or len(text) > MAX_BROADCAST_TEXT:
        print(f"群发内容不能为空，且不超过 {MAX_BROADCAST_TEXT} 字。", file=sys.stderr)
        return 2
    probe = Broadcast(region=region, occupation=args.occupation, channel=args.channel, text=text)
    async with _database(settings) as db:
        size, sample = await broadcast_audience(db, kb, probe)
        if args.dry_run:
            scope = region + (f"·{args.occupation}" if args.occupation else "")
            print(f"受众：{size} 人（{scope}，渠道：{args.channel or '全部'}）")
            for channel, user in sample:
                print(f"  {channel}  {mask_user_id(user)}")
            return 0
        async with db.transaction() as session:
            broadcast = Broadcast(
                region=region,
                occupation=args.occupation,
                channel=args.channel,
                text=text,
                send_at=send_at,
                status="scheduled",
                audience=size,
                created_by="cli",
                created_at=now,
            )
            session.add(broadcast)
            await session.flush()
            number = broadcast.id
    print(
        f"群发 {number} 已排队：约 {size} 人，{_local(send_at)} 起由运行中的服务发送。"
        f"取消：python -m bot broadcast --cancel {number}"
    )
    return 0


async def _status(settings: Settings) -> int:
    async with _database(settings) as db:
        async with db.sessions() as session:
            counts = await status_counts(session)
            due = await next_due(session)
            broadcasts = (
                (await session.execute(select(Broadcast).order_by(Broadcast.id.desc()).limit(5))).scalars().all()
            )
            progress = await broadcast_counts(session, [b.id for b in broadcasts])
    columns = ("pending", "sending", "sent", "failed", "skipped", "cancelled")
    print(f"{'渠道':<10}" + "".join(f"{c:>10}" for c in columns))
    for channel in sorted({c for c, _ in counts} or set(CHANNELS)):
        print(f"{channel:<12}" + "".join(f"{counts.get((channel, c), 0):>10}" for c in columns))
    print(f"下一条待发：{_local(due) if due else '无'}")
    for b in broadcasts:
        counts = progress.get(b.id, {})
        done = counts.get("sent", 0)
        left = counts.get("pending", 0) + counts.get("sending", 0)
        print(f"群发 {b.id}｜{b.region}｜{b.status}｜已发 {done}，待发 {left}，受众约 {b.audience}｜{b.text[:20]}")
    return 0


def run_broadcast(args: argparse.Namespace) -> int:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return asyncio.run(_broadcast(args, settings))


def run_reminders(args: argparse.Namespace) -> int:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return asyncio.run(_status(settings))
