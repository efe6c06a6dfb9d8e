"""A refresh that runs at start-up and then every few seconds while the server runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)

MAX_INTERVAL = 60.0


class Poller:
    """Calls `refresh()` every `interval` seconds (at most a minute) in a task of its own; a
    failed refresh is logged and tried again at the next one. Subclasses say what they reload."""

    what = "data"
    """For the log: what could not be reloaded."""

    def __init__(self, interval: float) -> None:
        self.interval = min(interval, MAX_INTERVAL)
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> bool:
        raise NotImplementedError

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.refresh()
            except Exception:  # noqa: BLE001 - a failed poll is retried at the next one
                log.warning("could not reload %s", self.what, exc_info=True)

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name=f"poll {self.what}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
