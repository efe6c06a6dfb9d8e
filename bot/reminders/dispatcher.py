"""The dispatcher: claims due outbox rows, sends them through each channel's Push within that
channel's rate limit, and records every outcome.

Outcomes are written in small batches as they come back. What was handed to a channel API but not
yet written when the process dies is sent again by whoever reclaims it: at most `concurrency`
messages in flight plus the unflushed outcomes (`flush_every`), which keeps the duplicate bound small.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass

from aiolimiter import AsyncLimiter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.push import Push
from handlers.clock import Clock
from handlers.messages import Outbound
from storage.database import Database
from storage.models import Conversation
from storage.outbox import Attempt, Claimed, ClaimStats, Delivery, Rules, claim, record

log = logging.getLogger(__name__)



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
    seconds: float = 0.0

    def add(self, delivery: Delivery) -> None:
        if delivery.ok:
            self.sent += 1
        elif delivery.status == "retry":
            self.retried += 1
        elif delivery.status == "unreachable":
            self.unreachable += 1
        else:
            self.failed += 1


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
    ) -> None:
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

    def stop(self) -> None:
        self._stop.set()

    async def run_once(self, *, budget: float = 55.0) -> DispatchStats:
        """Sends what is due until nothing is left, `budget` seconds have passed, or `stop()`."""
        self._stop.clear()
        started = time.perf_counter()
        stats = DispatchStats()
        pending: list[Attempt] = []
        in_flight: set[asyncio.Task[None]] = set()
        slots = asyncio.Semaphore(self.concurrency)
        flush_lock = asyncio.Lock()

        async def flush() -> None:
            async with flush_lock:
                if not pending:
                    return
                batch = pending[:]
                pending.clear()
                async with self.db.transaction() as session:
                    await record(session, batch, worker=self.worker, now=self.clock(), rules=self.rules)

        async def deliver(message: Claimed, last_seen: dt.datetime | None) -> None:
            try:
                delivery = await self._send(message, last_seen)
                stats.add(delivery)
                pending.append((message, delivery))
                if len(pending) >= self.flush_every:
                    await flush()
            finally:
                slots.release()

        def more() -> bool:
            return not self._stop.is_set() and time.perf_counter() - started < budget

        async def claim_next() -> tuple[list[Claimed], ClaimStats, dict[tuple[str, str], dt.datetime]]:
            async with self.db.transaction() as session:
                claimed, claim_stats = await claim(
                    session,
                    worker=self.worker,
                    now=self.clock(),
                    rules=self.rules,
                    limit=self.claim_batch,
                    lease=self.lease,
                    channels=list(self.pushers),
                )
                return claimed, claim_stats, await _last_seen(session, claimed)

        prefetch: asyncio.Task[tuple[list[Claimed], ClaimStats, dict[tuple[str, str], dt.datetime]]] | None = None
        try:
            batch = await claim_next() if more() else None
            while batch is not None:
                claimed, claim_stats, seen = batch
                batch = None
                stats.deferred += claim_stats.deferred
                stats.skipped += claim_stats.skipped
                if not claimed:
                    if (claim_stats.deferred or claim_stats.skipped) and more():
                        batch = await claim_next()
                    continue
                # Claim the next batch while the second half of this one goes out, so that the
                # channel never waits for the database. A claimed batch waits at most half a batch.
                halfway = len(claimed) // 2
                for i, message in enumerate(claimed):
                    await slots.acquire()
                    task = asyncio.create_task(deliver(message, seen.get((message.channel, message.user_id))))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    if i == halfway and prefetch is None and more():
                        prefetch = asyncio.create_task(claim_next())
                if prefetch is not None:
                    batch, prefetch = await prefetch, None
        finally:
            if prefetch is not None:
                # Stopped between claiming a batch and sending it: its claims expire with the lease
                # and the next run sends them.
                prefetch.cancel()
                await asyncio.gather(prefetch, return_exceptions=True)
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            await flush()
        stats.seconds = time.perf_counter() - started
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

    async def _send(self, message: Claimed, last_seen: dt.datetime | None) -> Delivery:
        push = self.pushers.get(message.channel)
        if push is None:
            return Delivery("failed", error=f"渠道 {message.channel} 不支持主动消息")
        limiter = self.limiters.get(message.channel)
        if limiter is not None:
            await limiter.acquire()
        outbound = Outbound(text=message.text, kind=message.kind, fields=message.fields)
        try:
            return await push.send(message.user_id, outbound, last_seen=last_seen, now=self.clock())
        except Exception as exc:  # noqa: BLE001 - a Push must not raise; if one does, retry later
            log.exception("push for %s raised", message.channel)
            return Delivery("retry", error=type(exc).__name__)


async def _last_seen(session: AsyncSession, claimed: list[Claimed]) -> dict[tuple[str, str], dt.datetime]:
    """When each user last wrote to us (the conversation's last save), for WeChat's 48-hour window."""
    out: dict[tuple[str, str], dt.datetime] = {}
    by_channel: dict[str, list[str]] = {}
    for message in claimed:
        by_channel.setdefault(message.channel, []).append(message.user_id)
    for channel, users in by_channel.items():
        for start in range(0, len(users), 500):
            stmt = select(Conversation.user_id, Conversation.updated_at).where(
                Conversation.channel == channel, Conversation.user_id.in_(users[start : start + 500])
            )
            for user_id, updated_at in (await session.execute(stmt)).all():
                out[(channel, user_id)] = updated_at
    return out
