"""Builds the reminder service from the settings and the running app's runtime and channels."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from bot.app import runtime_of
from bot.config import Settings
from bot.reminders.dispatcher import Dispatcher, worker_name
from bot.reminders.leader import leadership_for
from bot.reminders.planner import Planner
from bot.reminders.service import ReminderService
from bot.retention import EVERY_SECONDS as RETENTION_EVERY
from bot.retention import RetentionJob


def channel_rates(settings: Settings) -> dict[str, float]:
    return {
        "wechat": settings.wechat_rate_per_second,
        "telegram": settings.telegram_rate_per_second,
        "web": settings.web_rate_per_second,
    }


@contextlib.asynccontextmanager
async def reminders_running(app: Starlette, settings: Settings) -> AsyncIterator[ReminderService]:
    runtime = runtime_of(app)
    policy = runtime.services.schedule
    worker = worker_name()
    planner = Planner(runtime.knowledge, runtime.db, runtime.clock, policy)
    dispatcher = Dispatcher(
        runtime.db,
        runtime.pushers,
        runtime.clock,
        policy.rules,
        rates=channel_rates(settings),
        worker=worker,
        lease=dt.timedelta(seconds=settings.claim_seconds),
        observe=runtime.metrics.count_send,
    )
    leadership = leadership_for(runtime.db, worker, ttl=dt.timedelta(seconds=settings.leader_lease_seconds))
    service = ReminderService(planner, dispatcher, leadership, interval=settings.scheduler_interval_seconds)
    runtime.reminders = service
    service.start()
    # The retention job shares the scheduler and its leadership: one process erases, whichever leads.
    job = RetentionJob(runtime.db, runtime.services.cipher, runtime.clock, settings)
    service.add_leader_job("retention", job.run_once, seconds=RETENTION_EVERY)
    try:
        yield service
    finally:
        await service.stop()
