"""The one path from any channel into the engine: timing, counting and the replies."""

from __future__ import annotations

import asyncio
import time

from bot.app import Runtime
from bot.rate_limits import SLOW_DOWN
from handlers.engine import SORRY
from handlers.messages import Inbound, Reply


def submit(runtime: Runtime, inbound: Inbound) -> asyncio.Future[list[Reply]]:
    """Hands the message to the runtime's conversations; its replies are counted when they are ready.

    A user over the rate limit is told to slow down, without touching the database; events
    (subscribe, unsubscribe) always go through, since they record what the platform did."""
    metrics = runtime.metrics
    started = time.perf_counter()
    channel = inbound.key.channel
    if inbound.event is None and not runtime.rate_limits.user_allowed(inbound.key):
        metrics.messages_of(channel, "throttled").inc()
        throttled: asyncio.Future[list[Reply]] = asyncio.get_running_loop().create_future()
        throttled.set_result([Reply(SLOW_DOWN, kind="throttled")])
        return throttled

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
