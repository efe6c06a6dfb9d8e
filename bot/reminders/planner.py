"""The planner: turns subscriptions and scheduled broadcasts into outbox rows, idempotently.

It streams subscriptions from the database in batches and computes each one's dates from the
knowledge base (cached by what the subscription asks for, since many candidates ask the same).
A row's key is (subscription, date, offset) or (broadcast, user), so running the planner twice, at
once, or on two hosts creates each message once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.clock import Clock
from handlers.reminder_schedule import ReminderSchedule
from handlers.reminder_times import Offset
from knowledge.base import KnowledgeBase
from knowledge.reminders import DueDate, Interest, due_dates
from knowledge.snapshot import KnowledgeHolder
from knowledge.timezone import SHANGHAI
from storage.database import Database
from storage.models import Broadcast, OutboxMessage, Subscription
from storage.outbox import Planned, enqueue
from storage.subscriptions import active_subscriptions

log = logging.getLogger(__name__)


BROADCAST_CHANNELS = ("wechat", "telegram", "web")
MAX_BROADCAST_TEXT = 600
AUDIENCE_BATCH = 2000
ANALYZE_AFTER = 10_000
"""New outbox rows in one run after which PostgreSQL's statistics are refreshed at once: the dispatcher
claims from them in the next seconds (storage.database.Database.analyze)."""


def day_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def countdown(days: int) -> str:
    return {0: "今天", 1: "明天"}.get(days, f"还有{days}天")


def reminder_text(due: DueDate, days_left: int) -> str:
    return (
        f"【鉴定提醒·{countdown(days_left)}】{due.text}\n"
        f"来源：{due.doc_no}\n"
        "回复“我的提醒”查看订阅，回复“退订”停止提醒。"
    )


def broadcast_text(broadcast: Broadcast) -> str:
    return f"【通知】{broadcast.text}\n（{broadcast.region}职业技能鉴定服务群发；回复“退订”不再接收）"


@dataclass
class PlanStats:
    subscriptions: int = 0
    created: int = 0
    broadcasts: int = 0
    seconds: float = 0.0


class Planner:
    def __init__(
        self, knowledge: KnowledgeHolder, db: Database, clock: Clock, policy: ReminderSchedule, *, batch: int = 1000
    ) -> None:
        self.knowledge = knowledge
        self._planned_from: KnowledgeBase | None = None
        self.db = db
        self.clock = clock
        self.policy = policy
        self.batch = batch
        self._dates: dict[tuple[Interest, dt.date], list[DueDate]] = {}

    @property
    def kb(self) -> KnowledgeBase:
        """The current knowledge base. When it changed (a notice was published or withdrawn), the due
        dates worked out from the previous one are forgotten."""
        kb = self.knowledge.current.kb
        if kb is not self._planned_from:
            self._planned_from = kb
            self._dates = {}
        return kb

    def dates_for(self, interest: Interest, today: dt.date) -> list[DueDate]:
        key = (interest, today)
        found = self._dates.get(key)
        if found is None:
            if len(self._dates) > 50_000:
                self._dates.clear()
            found = self._dates[key] = due_dates(self.kb, interest, today=today)
        return found

    def reminders_for(self, subscription: Subscription, now: dt.datetime) -> list[Planned]:
        today = now.astimezone(SHANGHAI).date()
        interest = Interest.of_subscription(
            subscription.region,
            subscription.occupation,
            subscription.exam_kind,
            subscription.exam_date,
            withdrawn=subscription.request_id is not None,
        )
        window = self.policy.between(
            self.dates_for(interest, today), now - self.policy.grace, now + self.policy.horizon
        )
        return [self._planned(subscription, u.due, u.offset, u.at) for u in window]

    def _planned(self, subscription: Subscription, due: DueDate, offset: Offset, at: dt.datetime) -> Planned:
        return Planned(
            key=f"rem:{subscription.id}:{due.key}:{offset.name}",
            channel=subscription.channel,
            user_id=subscription.user_id,
            kind="reminder",
            text=reminder_text(due, offset.days),
            fields={
                "title": due.title,
                "date": day_text(due.day),
                "source": due.doc_no,
                "note": countdown(offset.days),
            },
            event_day=due.day,
            subscription_id=subscription.id,
            due_at=at,
        )

    async def run_once(self) -> PlanStats:
        started = time.perf_counter()
        stats = PlanStats()
        now = self.clock()
        last = 0
        while True:
            # One short transaction per batch: SQLite has one writer at a time, and the dispatcher
            # must get its turn between batches.
            async with self.db.transaction() as session:
                batch = await active_subscriptions(session, after_id=last, limit=self.batch)
                if not batch:
                    break
                last = batch[-1].id
                stats.subscriptions += len(batch)
                planned = [p for s in batch for p in self.reminders_for(s, now)]
                stats.created += await enqueue(session, planned, now=now)
        stats.created += await self._plan_broadcasts(now, stats)
        if stats.created >= ANALYZE_AFTER:
            await self.db.analyze(OutboxMessage.__tablename__)
        stats.seconds = time.perf_counter() - started
        if stats.created:
            log.info("planner: %d new messages from %d subscriptions", stats.created, stats.subscriptions)
        return stats

    async def _plan_broadcasts(self, now: dt.datetime, stats: PlanStats) -> int:
        async with self.db.transaction() as session:
            due = (
                (
                    await session.execute(
                        select(Broadcast).where(Broadcast.status == "scheduled", Broadcast.send_at <= now)
                    )
                )
                .scalars()
                .all()
            )
        created = 0
        for broadcast in due:
            created += await self.queue_broadcast(broadcast, now)
            stats.broadcasts += 1
        return created

    async def queue_broadcast(self, broadcast: Broadcast, now: dt.datetime) -> int:
        """Writes one outbox row per user of the audience (a user with several matching
        subscriptions gets it once), then marks the broadcast queued."""
        text = broadcast_text(broadcast)
        fields = {
            "title": "鉴定服务通知",
            "date": day_text(now.astimezone(SHANGHAI).date()),
            "source": broadcast.region,
            "note": broadcast.text,
        }
        created, last = 0, 0
        while True:
            async with self.db.transaction() as session:
                if await _cancelled(session, broadcast.id):
                    return created
                batch = await active_subscriptions(session, after_id=last, limit=self.batch)
                if not batch:
                    break
                last = batch[-1].id
                planned = [
                    Planned(
                        key=f"bc:{broadcast.id}:{s.channel}:{s.user_id}",
                        channel=s.channel,
                        user_id=s.user_id,
                        kind="broadcast",
                        text=text,
                        fields=fields,
                        broadcast_id=broadcast.id,
                        due_at=max(broadcast.send_at, now),
                    )
                    for s in batch
                    if audience_matches(self.kb, broadcast, s)
                ]
                created += await enqueue(session, planned, now=now)
        async with self.db.transaction() as session:
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast.id, Broadcast.status == "scheduled")
                .values(status="queued")
            )
        return created


async def _cancelled(session: AsyncSession, broadcast_id: int) -> bool:
    status = (await session.execute(select(Broadcast.status).where(Broadcast.id == broadcast_id))).scalar()
    return status == "cancelled"


def audience_matches(kb: KnowledgeBase, broadcast: Broadcast, subscription: Subscription) -> bool:
    if broadcast.channel and subscription.channel != broadcast.channel:
        return False
    if broadcast.occupation and subscription.occupation != broadcast.occupation:
        return False
    return subscription.region == broadcast.region or kb.regions.contains(broadcast.region, subscription.region)


@dataclass(frozen=True)
class Audience:
    size: int
    sample: list[tuple[str, str]]
    """The first few (channel, user id) in order."""
    channels: Counter[str]
    """Channel → users: what the broadcast costs each channel's daily quota."""


async def broadcast_audience(db: Database, kb: KnowledgeBase, probe: Broadcast, *, sample: int = 5) -> Audience:
    """Whom a broadcast like `probe` reaches now (each user once, however many of their subscriptions
    match): the dry run's preview. The same test as `queue_broadcast`, so the preview counts whom the
    planner will write to."""
    users: set[tuple[str, str]] = set()
    last = 0
    while True:
        async with db.sessions() as session:
            batch = await active_subscriptions(session, after_id=last, limit=AUDIENCE_BATCH)
        if not batch:
            return Audience(len(users), sorted(users)[:sample], Counter(channel for channel, _ in users))
        last = batch[-1].id
        users.update((s.channel, s.user_id) for s in batch if audience_matches(kb, probe, s))


async def cancel_broadcast_in(session: AsyncSession, broadcast_id: int) -> int:
    """`cancel_broadcast` inside the caller's transaction (the console audits in the same one)."""
    await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(status="cancelled"))
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status == "pending")
        .values(status="cancelled", last_error="群发已取消")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def cancel_broadcast(db: Database, broadcast_id: int) -> int:
    """Stops a broadcast: no more rows are planned and unsent ones are cancelled. Returns how many."""
    async with db.transaction() as session:
        return await cancel_broadcast_in(session, broadcast_id)
