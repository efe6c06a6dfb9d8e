"""The one path from any channel into the engine: timing, counting and the replies."""

from __future__ import annotations

import time

from bot.metrics import Metrics
from handlers.engine import SORRY, ConversationEngine
from handlers.messages import Inbound, Reply


async def handle(engine: ConversationEngine, metrics: Metrics, inbound: Inbound) -> list[Reply]:
    started = time.perf_counter()
    replies = await engine.handle(inbound)
    channel = inbound.key.channel
    metrics.latency_of(channel).observe(time.perf_counter() - started)
    metrics.messages_of(channel, "error" if SORRY in replies else "ok").inc()
    for reply in replies:
        if reply.kind in ("answer", "abstain"):
            metrics.answers_of(reply.kind).inc()
    return replies
