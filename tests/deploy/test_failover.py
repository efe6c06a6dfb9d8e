"""Two instances on one PostgreSQL database, as deployed; the one that leads the reminders is killed
(`kill -9`) in the middle of a large broadcast. The other takes over: the gap in sending stays within a
lease, a tick and a claim's expiry, every subscriber gets the message, and only messages in flight at
the kill may go out twice (the bound in docs/operations.md, as tests/reminders/test_crash.py)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.channels.conftest import free_port, serving
from tests.channels.fake_wechat import APP_ID, SECRET
from tests.deploy.instances import deployment_env, reported_on_failure, running_instances
from tests.deploy.recording_api import RecordingWeChatApi
from tests.dialogs import PG_URL
from tests.reminders.test_crash import DUPLICATE_BOUND, broadcast_statuses, prepare_broadcast

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL: the instances elect their leader in PostgreSQL"),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

USERS = 1500
NOW = "2026-09-04T10:00"
TICK = 0.5
CLAIM = 3.0
LEASE = 2.0
KILL_AFTER = 437
"""Sends before the kill: mid-batch, with sends in flight and outcomes not yet written."""


async def _leading(base_url: str) -> float:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    found = re.search(r"^bot_scheduler_leading ([0-9.]+)$", text, re.M)
    assert found, "the instance exports bot_scheduler_leading"
    return float(found.group(1))


async def test_the_other_instance_takes_over_when_the_leader_is_killed(tmp_path: Path, database_url: str) -> None:
    await prepare_broadcast(database_url, users=USERS, prefix="oFail")
    fake = RecordingWeChatApi(send_delay=0.02)
    templates = {"broadcast": {"template_id": "TPL-b", "fields": {"thing1": "title", "thing2": "note"}}}
    reports: dict[str, Callable[[], str]] = {}
    with reported_on_failure(reports):
        async with serving(fake.app) as api:
            data = tmp_path / "data"
            data.mkdir(mode=0o700)
            env = deployment_env(
                data,
                database_url,
                WECHAT_TOKEN="tok",
                WECHAT_APP_ID=APP_ID,
                WECHAT_APP_SECRET=SECRET,
                WECHAT_API_BASE_URL=api + "/",
                WECHAT_TEMPLATES=json.dumps(templates),
                WECHAT_RATE_PER_SECOND="300",
                SCHEDULER_INTERVAL_SECONDS=str(TICK),
                CLAIM_SECONDS=str(CLAIM),
                LEADER_LEASE_SECONDS=str(LEASE),
                BOT_NOW=NOW,
            )
            async with running_instances((free_port(), free_port()), env, tmp_path) as instances:
                for instance in instances:
                    reports[f"instance on {instance.port} (pid {instance.pid})"] = instance.output
                for _ in range(1200):
                    if len(fake.deliveries) >= KILL_AFTER:
                        break
                    await asyncio.sleep(0.01)
                assert len(fake.deliveries) >= KILL_AFTER, "the broadcast never got going"
                # The leader is the instance whose process the API saw sending (its User-Agent names its pid).
                senders = {d.pid for d in fake.deliveries}
                [leader] = [i for i in instances if i.pid in senders]
                [survivor] = [i for i in instances if i is not leader]
                assert senders == {leader.pid}, "one instance sends while both run"
                # What an operator's monitoring sees: each instance says whether it leads.
                assert [await _leading(i.base_url) for i in (leader, survivor)] == [1.0, 0.0]
                leader.process.send_signal(signal.SIGKILL)
                await leader.process.wait()
                killed_at = time.monotonic()
                at_kill = len(fake.deliveries)
                assert at_kill < USERS, "killed in the middle of the dispatch"

                for _ in range(600):
                    if (await broadcast_statuses(database_url)).get("sent") == USERS:
                        break
                    await asyncio.sleep(0.1)
                assert await _leading(survivor.base_url) == 1.0

    last_by_leader = max(d.at for d in fake.deliveries if d.pid == leader.pid)
    first_by_survivor = min((d.at for d in fake.deliveries if d.pid == survivor.pid), default=float("inf"))
    takeover = first_by_survivor - killed_at
    received = Counter(d.user for d in fake.deliveries)
    lost = USERS - len(received)
    duplicates = sum(received.values()) - len(received)
    print(
        f"\nkill -9 of the leader after {at_kill} of {USERS} sends: the other instance sent again "
        f"{takeover:.2f} s after the kill ({first_by_survivor - last_by_leader:.2f} s after the last send "
        f"before it); lost {lost}, sent twice {duplicates}"
    )
    assert takeover <= LEASE + TICK + CLAIM, f"takeover took {takeover:.2f} s"
    assert lost == 0
    assert duplicates <= DUPLICATE_BOUND
    assert await broadcast_statuses(database_url) == {"sent": USERS}
    assert {d.pid for d in fake.deliveries} == {leader.pid, survivor.pid}
