"""The real APScheduler drives the planner and the dispatcher in the elected process only, under a
frozen clock the test moves; another process takes over when the leader dies."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from bot.reminders.leader import AdvisoryLockLeadership, LeaseLeadership, leadership_for
from bot.reminders.planner import Planner
from bot.reminders.service import ReminderService
from storage.database import Database
from tests.reminders.conftest import Harness

TTL = dt.timedelta(seconds=1)


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


def service(harness: Harness, db: Database, owner: str) -> ReminderService:
    planner = Planner(harness.planner.knowledge, db, harness.clock, harness.schedule)
    dispatcher = harness.dispatcher_like(db, owner)
    return ReminderService(planner, dispatcher, leadership_for(db, owner, ttl=TTL), interval=0.1)


async def test_the_scheduler_sends_a_reminder_once_when_the_clock_reaches_its_minute(harness: Harness) -> None:
    await harness.subscribe("oSched", "吉林省", exam_kind="全国统一鉴定")
    harness.clock.move_to("2026-09-04T08:59")
    running = service(harness, harness.db, "p1")
    running.start()
    try:
        await asyncio.sleep(0.6)  # several ticks
        assert harness.received() == []
        harness.clock.move_to("2026-09-04T09:00")
        await eventually(lambda: len(harness.received()) == 1)
        await asyncio.sleep(0.6)
        assert len(harness.received()) == 1, "later ticks send nothing again"
    finally:
        await running.stop()


async def test_one_process_leads_and_another_takes_over_when_it_dies(harness: Harness, database_url: str) -> None:
    other_db = Database(database_url)
    first, second = service(harness, harness.db, "p1"), service(harness, other_db, "p2")
    try:
        first.start()
        await eventually(lambda: first.leading)
        second.start()
        await asyncio.sleep(0.5)
        assert first.leading and not second.leading, "exactly one process runs the jobs"

        # The leader dies without a word: its scheduler stops and its lock or lease is abandoned.
        first.scheduler.shutdown(wait=False)
        if isinstance(first.leadership, AdvisoryLockLeadership):
            assert first.leadership.conn is not None
            await first.leadership.conn.invalidate()  # as if the process's connection dropped
        else:
            assert isinstance(first.leadership, LeaseLeadership)
        await eventually(lambda: second.leading, timeout=TTL.total_seconds() + 5)

        await harness.subscribe("oAfter", "吉林省", exam_kind="全国统一鉴定")
        harness.clock.move_to("2026-09-05T09:00")
        await eventually(lambda: len(harness.received("oAfter")) == 1)
    finally:
        await second.stop()
        await other_db.dispose()
