"""The dispatcher's run: batches follow each other within one run, `stop()` finishes the claimed batch
and claims no more, and a cancelled run (the scheduler shutting down) records the sends in flight
and starts no more."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import pytest

from bot.metrics import Metrics, error_code
from bot.reminders.dispatcher import Dispatcher
from tests.reminders.conftest import Harness

DUE = "2026-09-05T09:00"
"""Jilin's unified-exam registration reminder: one message per subscriber at this minute."""


async def _due(harness: Harness, count: int) -> list[str]:
    users = [f"oRun{i:03d}" for i in range(count)]
    for user in users:
        await harness.subscribe(user, "吉林省", exam_kind="全国统一鉴定")
    harness.clock.move_to(DUE)
    await harness.planner.run_once()
    return users


def _small(harness: Harness) -> Dispatcher:
    return Dispatcher(
        harness.db,
        {"wechat": harness.push},
        harness.clock,
        harness.schedule.rules,
        rates={"wechat": 1000},
        worker="small",
        concurrency=3,
        claim_batch=10,
        flush_every=4,
    )


async def test_one_run_sends_batch_after_batch_each_message_once(harness: Harness) -> None:
    users = await _due(harness, 45)
    stats = await _small(harness).run_once(budget=30)
    assert stats.sent == 45
    received = Counter(m["touser"] for m in harness.received())
    assert set(received) == set(users) and set(received.values()) == {1}
    assert await harness.statuses() == {"sent": 45}


async def test_stop_sends_the_claimed_batch_and_claims_no_more(harness: Harness) -> None:
    await _due(harness, 45)
    harness.fake.send_delay = 0.02
    dispatcher = _small(harness)
    run = asyncio.create_task(dispatcher.run_once(budget=30))
    while not harness.received():
        await asyncio.sleep(0.005)
    dispatcher.stop()
    stats = await run
    assert 0 < stats.sent < 45
    # What was claimed is sent: whole batches of 10, plus at most the next one claimed before the stop.
    assert stats.sent % 10 == 0
    assert await harness.statuses() == {"sent": stats.sent, "pending": 45 - stats.sent}


async def test_a_cancelled_run_records_what_was_in_flight_and_starts_nothing_more(harness: Harness) -> None:
    await _due(harness, 45)
    harness.fake.send_delay = 0.05
    run = asyncio.create_task(_small(harness).run_once(budget=30))
    while len(harness.received()) < 5:
        await asyncio.sleep(0.005)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    received = len(harness.received())
    await asyncio.sleep(0.2)
    assert len(harness.received()) == received, "nothing was sent after the run ended"
    statuses = await harness.statuses()
    assert statuses["sent"] == received, "every send that reached the API is recorded"
    assert statuses.get("sending", 0) > 0, "claimed and never started: left for the claim to expire"
    # Once the claims expire the next run sends the rest, each message once.
    harness.fake.send_delay = 0
    harness.clock.advance(minutes=2)
    await harness.dispatcher.run_once(budget=30)
    assert set(Counter(m["touser"] for m in harness.received()).values()) == {1}
    assert await harness.statuses() == {"sent": 45}


async def test_each_send_is_counted_by_channel_result_and_error_code(harness: Harness) -> None:
    users = await _due(harness, 4)
    harness.fake.custom_errors[users[0]] = 45047  # over the customer-service limit: a retry
    harness.fake.template_errors[users[0]] = 45009  # and the template's daily quota reached
    metrics = Metrics()
    dispatcher = _small(harness)
    dispatcher.observe = metrics.count_send
    await dispatcher.run_once(budget=30)
    text = metrics.render().decode()
    sent = re.search(r'bot_sends_total\{channel="wechat",error="",result="sent"\} ([0-9.]+)', text)
    assert sent and float(sent.group(1)) == 3
    assert re.search(r'bot_sends_total\{channel="wechat",error="450(09|47)",result="(retry|failed)"\} 1\.0', text), text
    assert [error_code(e) for e in ("errcode 45009", "HTTP 503", "ClientConnectorError: x", None)] == [
        "45009",
        "503",
        "ClientConnectorError",
        "",
    ]
