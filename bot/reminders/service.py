"""APScheduler drives the planner and the dispatcher in the elected process; every process asks
for leadership on each tick, so another takes over within a tick or a lease when the leader dies."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.reminders.dispatcher import Dispatcher
from bot.reminders.leader import Leadership
from bot.reminders.planner import Planner
from knowledge.timezone import SHANGHAI

log = logging.getLogger(__name__)


class ReminderService:
    def __init__(self, planner: Planner, dispatcher: Dispatcher, leadership: Leadership, *, interval: float) -> None:
        self.planner = planner
        self.dispatcher = dispatcher
        self.leadership = leadership
        if not 0 < interval <= 60:  # Settings refuses other values with a message; this guards other callers
            raise ValueError(f"scheduler interval must be in (0, 60] seconds, got {interval}")
        self.interval = interval
        self.scheduler = AsyncIOScheduler(timezone=SHANGHAI)
        self.leading = False
        # The plan and dispatch jobs ask at the same time; one question at a time on one connection.
        self._asking = asyncio.Lock()
        self._dispatching: asyncio.Task[object] | None = None
        self._woken = False

    def start(self) -> None:
        first = dt.datetime.now(SHANGHAI)
        common = {"trigger": "interval", "seconds": self.interval, "max_instances": 1, "coalesce": True}
        self.scheduler.add_job(self.plan, id="plan", next_run_time=first, **common)
        self.scheduler.add_job(self.dispatch, id="dispatch", next_run_time=first, **common)
        self.scheduler.start()

    def add_leader_job(self, job_id: str, run: Callable[[], Awaitable[object]], *, seconds: float) -> None:
        """Runs `run` every `seconds` in the elected process only (the retention job), first at start."""

        async def job() -> None:
            if not await self._lead():
                return
            try:
                await run()
            except Exception:  # noqa: BLE001 - the next run tries again; the job must stay scheduled
                log.exception("%s failed", job_id)

        first = dt.datetime.now(SHANGHAI)
        self.scheduler.add_job(
            job, id=job_id, trigger="interval", seconds=seconds, max_instances=1, coalesce=True, next_run_time=first
        )

    def wake(self) -> None:
        """Dispatches now rather than at the next tick: a staff reply should not wait up to an
        interval. Only the leader dispatches; in another process this changes nothing and the
        leader sends the message at its next tick."""
        if self._dispatching is not None:
            # The running dispatch may have looked before the new row was committed: go again after it.
            self._woken = True
            return
        job = self.scheduler.get_job("dispatch")
        if job is not None:
            job.modify(next_run_time=dt.datetime.now(SHANGHAI))

    async def _lead(self) -> bool:
        try:
            async with self._asking:
                leading = await self.leadership.hold()
        except Exception:  # noqa: BLE001 - a database hiccup: not leading this tick
            log.exception("leader election failed")
            leading = False
        if self.leading and not leading:
            self.dispatcher.stop()
        self.leading = leading
        return leading

    async def plan(self) -> None:
        if not await self._lead():
            return
        try:
            await self.planner.run_once()
        except Exception:  # noqa: BLE001 - the next tick tries again; the job must stay scheduled
            log.exception("reminder planner failed")

    async def dispatch(self) -> None:
        if not await self._lead():
            return
        self._dispatching = asyncio.current_task()
        try:
            while True:
                self._woken = False
                await self.dispatcher.run_once(budget=max(1.0, self.interval * 0.9))
                if not self._woken:
                    break
        except Exception:  # noqa: BLE001
            log.exception("reminder dispatcher failed")
        finally:
            self._dispatching = None

    async def stop(self) -> None:
        self.dispatcher.stop()
        self.scheduler.shutdown(wait=False)
        # Let a running dispatch notice the stop and record what it sent before the database closes.
        running = self._dispatching
        if running is not None:
            await asyncio.wait({running}, timeout=10)
        try:
            # A plan or dispatch job may be asking about the lease on the same connection right now.
            async with self._asking:
                await self.leadership.release()
        except Exception:  # noqa: BLE001
            log.warning("could not release the reminder leadership")
