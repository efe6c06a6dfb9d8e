"""The dispatcher: claims due outbox rows, sends them through each channel's Push within that
channel's rate limit, and records every outcome.

One run is three kinds of task in an `asyncio.TaskGroup`, connected by queues: the claimer claims a
batch, the senders (`concurrency` of them) send, the recorder writes outcomes. The claimer claims
the next batch as soon as the senders have taken half of the last one, while the second half goes
out, so that the channel never waits for the database; a claimed message waits at most half a batch.

Outcomes are written in small batches (`flush_every`) as they come back. What was handed to a channel
API but not yet written when the process dies is sent again by whoever reclaims it: at most
`concurrency` messages in flight plus the unwritten outcomes (the recorder's batch and its queue, each
`flush_every`), which keeps the duplicate bound small. An error in any task ends the run; whatever it
had claimed and not recorded goes out again once its claims expire.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from bot.channels.push import Push
from handlers.clock import Clock
from handlers.messages import Outbound
from storage.database import Database
from storage.models import OutboxMessage, Recipient
from storage.outbox import Attempt, Claimed, ClaimStats, Delivery, Rules, claim, expire_passed, record
from storage.statuses import DeliveryStatus

log = logging.getLogger(__name__)

ANALYZE_FIRST, ANALYZE_EVERY = 2_000, 20_000
"""Messages claimed in one run before the first refresh of PostgreSQL's statistics, and between the next
ones (_Run.refresh_statistics)."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class DispatchStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: int = 0
    deferred: int = 0
    skipped: int = 0
    held: int = 0
    """Left pending because the channel's daily quota for their route is spent."""
    expired: int = 0
    """Reminders skipped in bulk at the run's start: their day was over before they could go."""
    seconds: float = 0.0

    def add(self, delivery: Delivery) -> None:
        if delivery.ok:
            self.sent += 1
        elif delivery.status == DeliveryStatus.RETRY:
            self.retried += 1
        elif delivery.status == DeliveryStatus.UNREACHABLE:
            self.unreachable += 1
        else:
            self.failed += 1

    def add_claims(self, claim_stats: ClaimStats) -> None:
        self.deferred += claim_stats.deferred
        self.skipped += claim_stats.skipped
        self.held += claim_stats.held


class Dispatcher:
    def __init__(
        self,
        db: Database,
        pushers: Mapping[str, Push],
        clock: Clock,
        rules: Rules,
        *,
        rates: Mapping[str, float],
        worker: str | None = None,
        concurrency: int = 16,
        claim_batch: int = 200,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        flush_every: int = 16,
        observe: Callable[[str, str, str | None], None] | None = None,
    ) -> None:
        self.observe = observe
        """Told (channel, result, error) of every send (metrics)."""
        self.db = db
        self.pushers = pushers
        self.clock = clock
        self.rules = rules
        self.worker = worker or worker_name()
        self.concurrency = concurrency
        self.claim_batch = claim_batch
        self.lease = lease
        self.flush_every = flush_every
        self.limiters = {channel: AsyncLimiter(rate, 1) for channel, rate in rates.items()}
        self._stop = asyncio.Event()
        self._expired_before: dt.date | None = None

    def stop(self) -> None:
        """Claims no more; what is claimed is still sent and recorded."""
        self._stop.set()

    async def run_once(self, *, budget: float = 55.0) -> DispatchStats:
        """Sends what is due until nothing is left, `budget` seconds have passed, or `stop()`."""
        self._stop.clear()
        expired = await self._expire_passed()
        run = _Run(self, deadline=time.perf_counter() + budget)
        run.stats.expired = expired
        pipeline = asyncio.create_task(run.pipeline())
        try:
            await asyncio.shield(pipeline)
        except asyncio.CancelledError:
            # Cancelled (the scheduler shutting down): nothing more is claimed or started, but the
            # sends in flight finish and are recorded, so that they do not go out again later.
            run.drain()
            await pipeline
            raise
        stats = run.stats
        if stats.sent or stats.failed or stats.unreachable:
            log.info(
                "dispatcher: %d sent, %d to retry, %d failed, %d unreachable in %.1f s",
                stats.sent,
                stats.retried,
                stats.failed,
                stats.unreachable,
                stats.seconds,
            )
        return stats

    async def _expire_passed(self) -> int:
        """Once a Beijing day: the pending reminders whose day is over are skipped in one statement."""
        today = self.rules.local(self.clock()).date()
        if self._expired_before == today:
            return 0
        async with self.db.transaction() as session:
            expired = await expire_passed(session, today=today)
        self._expired_before = today
        if expired:
            log.warning("dispatcher: %d reminders could not be sent before their date and were skipped", expired)
        return expired

    def _route(self, channel: str, last_seen: dt.datetime | None, now: dt.datetime) -> str | None:
        push = self.pushers.get(channel)
        return push.route(last_seen, now) if push is not None else None

    async def _claim(self) -> tuple[list[Claimed], ClaimStats]:
        async with self.db.transaction() as session:
            return await claim(
                session,
                worker=self.worker,
                now=self.clock(),
                rules=self.rules,
                limit=self.claim_batch,
                lease=self.lease,
                channels=list(self.pushers),
                route=self._route,
            )

    async def _record(self, attempts: list[Attempt]) -> None:
        async with self.db.transaction() as session:
            await record(session, attempts, worker=self.worker, now=self.clock(), rules=self.rules)

    async def _send(self, message: Claimed) -> Delivery:
        delivery = await self._send_once(message)
        if self.observe is not None:
            self.observe(message.channel, str(delivery.status), delivery.error)
        return delivery

    async def _send_once(self, message: Claimed) -> Delivery:
        push = self.pushers.get(message.channel)
        if push is None:
            return Delivery(DeliveryStatus.FAILED, error=f"渠道 {message.channel} 不支持主动消息")
        limiter = self.limiters.get(message.channel)
        if limiter is not None:
            await limiter.acquire()
        outbound = Outbound(text=message.text, kind=message.kind, fields=message.fields)
        try:
            return await push.send(message.user_id, outbound, last_seen=message.last_seen, now=self.clock())
        except Exception as exc:  # noqa: BLE001 - a Push must not raise; if one does, retry later
            log.exception("push for %s raised", message.channel)
            return Delivery(DeliveryStatus.RETRY, error=type(exc).__name__)


class _Run:
    """One `run_once`: the claimer, the senders and the recorder, and the queues between them."""

    def __init__(self, dispatcher: Dispatcher, *, deadline: float) -> None:
        self.dispatcher = dispatcher
        self.deadline = deadline
        self.started = time.perf_counter()
        self.stats = DispatchStats()
        # Half a batch: the claimer claims the next batch once the senders have taken half of this one.
        self.to_send: asyncio.Queue[Claimed | None] = asyncio.Queue(maxsize=max(1, dispatcher.claim_batch // 2))
        self.to_record: asyncio.Queue[Attempt | None] = asyncio.Queue(maxsize=dispatcher.flush_every)
        self.draining = False
        self.claimer: asyncio.Task[None] | None = None
        self.group: asyncio.TaskGroup | None = None

    def more(self) -> bool:
        """Whether to claim another batch."""
        stopped = self.draining or self.dispatcher._stop.is_set()
        return not stopped and time.perf_counter() < self.deadline

    def drain(self) -> None:
        """Claims nothing more and sends nothing more of what is queued (its claims expire and the next
        run sends it); the sends in flight finish and are recorded."""
        self.draining = True
        if self.claimer is not None:
            self.claimer.cancel()

    async def pipeline(self) -> None:
        async with asyncio.TaskGroup() as group:
            self.group = group
            self.claimer = group.create_task(self.claim_batches())
            for _ in range(self.dispatcher.concurrency):
                group.create_task(self.send_messages())
            group.create_task(self.record_outcomes())
            await asyncio.wait([self.claimer])  # finished, failed, or cancelled by drain()
            await self.to_send.join()  # every message the claimer queued is sent and its outcome queued
            for _ in range(self.dispatcher.concurrency):
                await self.to_send.put(None)
            await self.to_record.put(None)
        self.stats.seconds = time.perf_counter() - self.started

    async def claim_batches(self) -> None:
        claimed_so_far, analyze_at = 0, ANALYZE_FIRST
        while self.more():
            claimed, claim_stats = await self.dispatcher._claim()
            self.stats.add_claims(claim_stats)
            claimed_so_far += len(claimed)
            if claimed_so_far >= analyze_at and self.group is not None:
                analyze_at = claimed_so_far + ANALYZE_EVERY
                self.group.create_task(self.refresh_statistics())
            if not claimed:
                if claim_stats.deferred or claim_stats.skipped:
                    continue  # those were moved out of the way: there may be more due behind them
                return  # nothing due, or only what today's quota cannot carry (held where it was)
            for message in claimed:
                await self.to_send.put(message)

    async def refresh_statistics(self) -> None:
        """A large send creates recipients and moves outbox rows faster than autovacuum refreshes
        PostgreSQL's statistics; with stale ones the claim's lookups by key read whole tables. On a
        connection of its own, beside the claims: ANALYZE of a million rows takes a few hundred ms."""
        try:
            for table in (Recipient.__tablename__, OutboxMessage.__tablename__):
                await self.dispatcher.db.analyze(table)
        except Exception:  # noqa: BLE001 - the send goes on; the next refresh tries again
            log.warning("could not refresh the database's statistics", exc_info=True)

    async def send_messages(self) -> None:
        while (item := await self.to_send.get()) is not None:
            try:
                if self.draining:
                    continue  # left claimed: the next run sends it once the claim expires
                message = item
                delivery = await self.dispatcher._send(message)
                self.stats.add(delivery)
                await self.to_record.put((message, delivery))
            finally:
                self.to_send.task_done()

    async def record_outcomes(self) -> None:
        batch: list[Attempt] = []
        while (attempt := await self.to_record.get()) is not None:
            batch.append(attempt)
            if len(batch) >= self.dispatcher.flush_every:
                await self.dispatcher._record(batch)
                batch = []
        if batch:
            await self.dispatcher._record(batch)
