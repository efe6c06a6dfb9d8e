"""`kill -9` of the server in the middle of a large dispatch, then a restart: nothing is lost, and
only messages in flight at the moment of the kill may go out twice (bound stated in docs/operations.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from storage.database import Database
from storage.models import Broadcast, OutboxMessage, Subscription
from tests.channels.conftest import free_port, serving
from tests.channels.fake_wechat import APP_ID, SECRET, FakeWeChatApi
from tests.reminders.conftest import FrozenClock

ROOT = Path(__file__).resolve().parents[2]
USERS = 1500
START = dt.datetime(2026, 9, 4, 10, 0)
"""BOT_NOW of the first server (Beijing time): the broadcast is due from 09:00."""
REGION = "西藏自治区"
"""No notice in the knowledge base governs it, so the subscribers have no reminders planned: the
outbox holds the broadcast alone (reminders would only fail, for want of a reminder template, for
seconds before the broadcast's turn)."""
DUPLICATE_BOUND = 48
"""In flight (the dispatcher's 16 concurrent sends) plus outcomes not yet written (up to two flushes of 16)."""


async def prepare_broadcast(database_url: str, *, users: int = USERS, prefix: str = "oCrash") -> None:
    """`users` subscribers of REGION and a broadcast to them due since 09:00 (shared with tests/deploy)."""
    db = Database(database_url)
    try:
        await db.migrate()
        at = FrozenClock.parse("2026-09-04T09:00")
        async with db.transaction() as session:
            session.add_all(
                Subscription(channel="wechat", user_id=f"{prefix}{i:05d}", region=REGION, active=True, created_at=at)
                for i in range(users)
            )
            session.add(Broadcast(region=REGION, text="补报名通知", send_at=at, created_by="test", created_at=at))
    finally:
        await db.dispose()


async def broadcast_statuses(database_url: str) -> dict[str, int]:
    """The broadcast's rows by status."""
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            stmt = (
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.broadcast_id.is_not(None))
                .group_by(OutboxMessage.status)
            )
            rows = await session.execute(stmt)
            return {status: int(n) for status, n in rows.all()}
    finally:
        await db.dispose()


async def test_kill_and_restart_loses_nothing_and_repeats_at_most_the_in_flight(
    tmp_path: Path, database_url: str
) -> None:
    await prepare_broadcast(database_url)
    fake = FakeWeChatApi(send_delay=0.02)
    templates = {"broadcast": {"template_id": "TPL-b", "fields": {"thing1": "title", "thing2": "note"}}}
    async with serving(fake.app) as api:
        env = {
            **os.environ,
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "WECHAT_TOKEN": "tok",
            "WECHAT_APP_ID": APP_ID,
            "WECHAT_APP_SECRET": SECRET,
            "WECHAT_API_BASE_URL": api + "/",
            "WECHAT_TEMPLATES": json.dumps(templates),
            "WECHAT_RATE_PER_SECOND": "300",
            "SCHEDULER_INTERVAL_SECONDS": "0.5",
            "CLAIM_SECONDS": "3",
            "LEADER_LEASE_SECONDS": "2",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "text",
        }

        first_start = time.monotonic()

        def start() -> asyncio.subprocess.Process:
            # The clock (BOT_NOW) goes on from where the first server's is, as a real one would: set
            # back to 10:00 again, the restarted server saw the dead one's claims and lease, taken
            # over the seconds it ran, as fresh for as many seconds more.
            now = START + dt.timedelta(seconds=time.monotonic() - first_start)
            argv = [sys.executable, "-m", "bot", "serve", "--port", str(free_port())]
            return asyncio.create_subprocess_exec(  # type: ignore[return-value]
                *argv, cwd=ROOT, env={**env, "BOT_NOW": now.isoformat(timespec="seconds")}
            )

        server = await start()  # type: ignore[misc]
        try:
            for _ in range(1200):
                if len(fake.templates) >= 437:  # mid-batch: sends are in flight, outcomes unwritten
                    break
                await asyncio.sleep(0.05)
            assert len(fake.templates) >= 437, "the first server never got going"
            server.send_signal(signal.SIGKILL)
            await server.wait()
            at_kill = len(fake.templates)
            assert at_kill < USERS, "killed in the middle of the dispatch"

            server = await start()  # type: ignore[misc]
            for _ in range(2400):
                statuses = await broadcast_statuses(database_url)
                if statuses.get("sent") == USERS:
                    break
                await asyncio.sleep(0.1)
        finally:
            if server.returncode is None:
                server.terminate()
                await server.wait()
    received = Counter(m["touser"] for m in fake.templates if m["template_id"] == "TPL-b")
    lost = USERS - len(received)
    duplicates = sum(received.values()) - len(received)
    print(f"\nkill -9 after {at_kill} of {USERS} sends: lost {lost}, sent twice {duplicates}")
    assert lost == 0
    assert duplicates <= DUPLICATE_BOUND
    assert await broadcast_statuses(database_url) == {"sent": USERS}
