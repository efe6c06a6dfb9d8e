"""The one path from any channel into the engine: timing, counting and the replies."""

from __future__ import annotations

import asyncio
import time

from bot.app import Runtime
from handlers.engine import SORRY
from handlers.messages import Inbound, Reply


def submit(runtime: Runtime, inbound: Inbound) -> asyncio.Future[list[Reply]]:
    """Hands the message to the runtime's conversations; its replies are counted when they are ready."""
    metrics = runtime.metrics
    started = time.perf_counter()
    channel = inbound.key.channel

    def count(future: asyncio.Future[list[Reply]]) -> None:
        if future.cancelled():
            return
        replies = future.result()
        metrics.latency_of(channel).observe(time.perf_counter() - started)
        metrics.messages_of(channel, "error" if SORRY in replies else "ok").inc()
        for reply in replies:
            if reply.kind in ("answer", "abstain"):
                metrics.answers_of(reply.kind).inc()

    future = runtime.conversations.submit(inbound)
    future.add_done_callback(count)
    return future


async def handle(runtime: Runtime, inbound: Inbound) -> list[Reply]:
    return await submit(runtime, inbound)
