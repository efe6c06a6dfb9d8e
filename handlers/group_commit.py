"""Group commit: messages that arrive while a transaction runs are handled together in the next one.

What it buys. Each message's transaction costs the same fixed work whatever it carries: SQLAlchemy's
session and connection checkout, BEGIN, one read of the conversation rows, one write of each kind,
COMMIT. Under load, a queue takes whatever has arrived once the previous transaction is done (and
what arrives while the next one begins) and handles it in one transaction, so a busy server pays the
fixed cost once per batch instead of once per message. Measured with `python -m benchmarks.wechat`
(docs/benchmarks.md, 2026-12-06, 2 cores, SQLite): the shipped bot answered 1,417 WeChat messages/s
with it and 288/s without it (+392%), about 50 messages per transaction at saturation.

What it costs. A batch waits for its slowest message, and a message that fails rolls back the whole
batch: every message of a failed batch is then handled again on its own (`ConversationEngine.handle`,
with its retries), so a failure still costs only its own reply.

How to turn it off: `GROUP_COMMIT=false` (Settings.group_commit); the engine then runs each message
in its own transaction (`ConversationEngine.submit`).
"""

from __future__ import annotations

import asyncio
import collections
import logging

from handlers.engine import ConversationEngine
from handlers.messages import Inbound, Reply

log = logging.getLogger(__name__)

MAX_BATCH = 64
"""Messages handled in one transaction at most; a batch waits for the slowest of its messages."""


class GroupCommit:
    """Queues messages for `engine` and handles them in batches, one transaction each.

    `submit` and `handle` are safe to call concurrently from one event loop."""

    def __init__(self, engine: ConversationEngine, *, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._waiting: collections.deque[tuple[Inbound, asyncio.Future[list[Reply]]]] = collections.deque()
        self._runner: asyncio.Task[None] | None = None

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Never raises: a failure is logged (masked) and the candidate gets an apology."""
        return await self.submit(inbound)

    def submit(self, inbound: Inbound) -> asyncio.Future[list[Reply]]:
        """Queues the message; the future gets its replies (it never gets an exception)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Reply]] = loop.create_future()
        self._waiting.append((inbound, done))
        # (A runner of another, closed event loop never finishes: a CLI or test may build a new loop.)
        if self._runner is None or self._runner.done() or self._runner.get_loop() is not loop:
            # Its own task: a caller that goes away (a closed connection) must not abandon the
            # batch that carries other callers' messages.
            self._runner = asyncio.create_task(self._run())
        return done

    async def _run(self) -> None:
        """Handles what is waiting, batch after batch, until nothing is."""
        while self._waiting:
            await self._handle_batch()

    async def _handle_batch(self) -> None:
        batch: list[tuple[Inbound, asyncio.Future[list[Reply]]]] = []

        def take() -> list[Inbound]:
            # Taken once the transaction has begun: what arrived while it began joins it.
            batch.extend(self._waiting.popleft() for _ in range(min(self.max_batch, len(self._waiting))))
            return [inbound for inbound, _ in batch]

        try:
            results = await self.engine.handle_together(take)
        except Exception as exc:  # noqa: BLE001 - every message is tried again on its own below
            if not batch:  # failed before it began: the waiting messages are tried alone, with retries
                take()
            log.info("batch of %d rolled back (%s); handling each alone", len(batch), type(exc).__name__)
        else:
            for (_, done), replies in zip(batch, results, strict=True):
                _settle(done, replies)
            return
        for inbound, done in batch:
            _settle(done, await self.engine.handle(inbound))


def _settle(done: asyncio.Future[list[Reply]], replies: list[Reply]) -> None:
    # A caller cancelled while waiting (a closed connection) cancelled its future with it; the
    # message was handled all the same.
    if not done.done():
        done.set_result(replies)
