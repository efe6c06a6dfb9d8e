"""Reminders end to end under a frozen clock: each offset fires once at its minute, quiet hours defer,
the daily cap holds, past dates are skipped, unsubscribing stops pending sends, API errors retry,
fall back or deactivate, and concurrent planners and dispatchers send each reminder exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

from sqlalchemy import select

from bot.reminders.planner import Planner, cancel_broadcast
from handlers.context import Services
from handlers.engine import ConversationEngine
from handlers.messages import ConversationKey, Inbound
from storage.database import Database
from storage.models import Broadcast, DeliveryAttempt, OutboxMessage, Recipient
from tests.reminders.conftest import FrozenClock, Harness


def texts(messages: list[dict[str, object]]) -> list[str]:
    out = []
    for m in messages:
        if "text" in m:
            out.append(str(m["text"]["content"]))  # type: ignore[index]
        else:
            out.append(" ".join(str(v["value"]) for v in m["data"].values()))  # type: ignore[union-attr]
    return out


async def test_each_offset_fires_once_at_its_minute(harness: Harness) -> None:
    await harness.subscribe("oJilin", "吉林省", exam_kind="全国统一鉴定")
    # Jilin's unified-exam registration opens on 9 September each year (吉人社办字〔2017〕11号): the
    # reminders are due at 09:00 on 29 August, 4 September and 5 September.
    harness.clock.move_to("2026-08-29T08:59")
    await harness.tick()
    assert harness.received() == []
    for _ in range(3):  # the scheduler runs many times within the minute: still one message
        harness.clock.move_to("2026-08-29T09:00")
        await harness.tick()
    [first] = harness.received()
    assert first["touser"] == "oJilin" and first["template_id"] == "TPL-reminder"
    values = [v["value"] for v in first["data"].values()]  # type: ignore[union-attr]
    assert "2026年9月5日" in values and "吉人社办字〔2017〕11号" in values

    for day in ("2026-09-04", "2026-09-05"):
        harness.clock.move_to(f"{day}T08:59")
        await harness.tick()
        harness.clock.move_to(f"{day}T09:00")
        await harness.tick()
        await harness.tick()
    assert len(harness.received()) == 3
    harness.clock.move_to("2026-09-06T09:00")
    await harness.tick()
    assert len(harness.received()) == 3, "nothing more until the deadline's own reminders"


async def test_inside_the_window_the_full_text_goes_as_a_customer_service_message(
    harness: Harness, services: Services
) -> None:
    harness.clock.move_to("2026-09-04T08:00")
    engine = ConversationEngine(harness.db, services, harness.clock)
    await engine.handle(Inbound(ConversationKey("wechat", "oTalker"), text="帮助", message_id="t1"))
    await harness.subscribe("oTalker", "吉林省", exam_kind="全国统一鉴定")
    harness.clock.move_to("2026-09-04T09:00")
    await harness.tick()
    [message] = texts(harness.received("oTalker"))
    assert "【鉴定提醒·明天】" in message and "2026年9月5日" in message and "来源：吉人社办字〔2017〕11号" in message


async def test_the_daily_cap_defers_the_fourth_reminder_to_the_next_morning(harness: Harness) -> None:
    # Four subscriptions whose reminders all fall at 09:00 on the same day.
    for kind in ("全国统一鉴定", "全省统一鉴定"):
        await harness.subscribe("oBusy", "吉林省", exam_kind=kind)
    for occupation in ("心理咨询师", "企业培训师"):
        await harness.subscribe("oBusy", "吉林省", occupation=occupation)
    harness.clock.move_to("2026-09-04T09:00")
    await harness.tick()
    assert len(harness.received("oBusy")) == 3
    async with harness.db.sessions() as session:
        pending = (await session.execute(select(OutboxMessage).where(OutboxMessage.status == "pending"))).scalars()
        deferred = [r for r in pending if r.due_at <= harness.clock()]
    assert [r.next_attempt_at for r in deferred] == [FrozenClock.parse("2026-09-05T08:00")]
    harness.clock.move_to("2026-09-05T08:00")
    await harness.tick()
    assert len(harness.received("oBusy")) == 4, "the deferred one goes the next morning, under that day's cap"
    harness.clock.move_to("2026-09-05T09:00")
    await harness.tick()
    assert len(harness.received("oBusy")) == 6, "two more that day: three in all on 5 September"


async def test_quiet_hours_hold_a_broadcast_until_morning(harness: Harness) -> None:
    await harness.subscribe("oNight", "吉林省")
    harness.clock.move_to("2026-09-04T22:30")
    await _broadcast(harness, "吉林省", "明日起开放补报名。")
    await harness.tick()
    assert harness.received() == []
    harness.clock.move_to("2026-09-05T07:59")
    await harness.tick()
    assert harness.received() == []
    harness.clock.move_to("2026-09-05T08:00")
    await harness.tick()
    assert len(harness.received("oNight")) == 1


async def test_past_dates_are_never_reminded(harness: Harness) -> None:
    await harness.subscribe("oLate", "吉林省", exam_kind="全国统一鉴定")
    harness.clock.move_to("2026-10-11T09:00")  # the day after registration closed
    await harness.tick()
    assert harness.received("oLate") == []
    # A reminder planned but not sent before its day passed (e.g. the server was down) is skipped.
    harness.clock.move_to("2026-10-09T09:00")
    await harness.planner.run_once()
    harness.clock.move_to("2026-10-11T10:00")
    await harness.dispatcher.run_once(budget=10)
    assert harness.received("oLate") == []
    assert (await harness.statuses()).get("skipped", 0) >= 1


async def test_unsubscribing_on_wechat_cancels_pending_sends(harness: Harness, services: Services) -> None:
    await harness.subscribe("oLeaver", "吉林省", exam_kind="全国统一鉴定")
    harness.clock.move_to("2026-09-04T08:00")
    await harness.planner.run_once()
    assert (await harness.statuses()).get("pending") == 2  # the 1-day and same-day reminders
    engine = ConversationEngine(harness.db, services, harness.clock)
    await engine.handle(Inbound(ConversationKey("wechat", "oLeaver"), event="unsubscribe", message_id="e1"))
    harness.clock.move_to("2026-09-04T09:00")
    await harness.tick()
    harness.clock.move_to("2026-09-05T09:00")
    await harness.tick()
    assert harness.received("oLeaver") == []
    assert (await harness.statuses()) == {"cancelled": 2}


async def test_transient_errors_retry_with_backoff_and_every_attempt_is_recorded(harness: Harness) -> None:
    await harness.subscribe("oFlaky", "吉林省", exam_kind="全国统一鉴定")
    harness.fake.template_errors["oFlaky"] = -1  # system busy
    harness.clock.move_to("2026-09-05T09:00")
    await harness.tick()
    assert harness.received() == []
    await harness.tick()
    assert harness.received() == [], "not before the backoff has passed"
    harness.fake.template_errors.clear()
    harness.clock.advance(seconds=31)
    await harness.tick()
    assert len(harness.received("oFlaky")) == 1
    async with harness.db.sessions() as session:
        attempts = [a.status for a in (await session.execute(select(DeliveryAttempt))).scalars()]
    assert attempts == ["retry", "sent"]


async def test_unsubscribed_user_is_deactivated_and_other_errors_fail_with_the_code(harness: Harness) -> None:
    await harness.subscribe("oGone", "吉林省", exam_kind="全国统一鉴定")
    await harness.subscribe("oGone", "吉林省", exam_kind="全省统一鉴定")
    await harness.subscribe("oBad", "吉林省", exam_kind="全国统一鉴定")
    harness.fake.template_errors.update({"oGone": 43004, "oBad": 40037})
    harness.clock.move_to("2026-09-04T09:00")
    await harness.tick()
    async with harness.db.sessions() as session:
        gone = await session.get(Recipient, ("wechat", "oGone"))
        rows = list((await session.execute(select(OutboxMessage))).scalars())
    assert gone is not None and not gone.reachable
    by_user = Counter((r.user_id, r.status) for r in rows)
    # Both of the day's reminders were already on their way; the later ones are cancelled.
    assert by_user[("oGone", "failed")] == 2 and by_user[("oGone", "cancelled")] >= 1
    assert by_user[("oBad", "failed")] == 1
    assert any("40037" in (r.last_error or "") for r in rows if r.user_id == "oBad")
    # Nothing more is planned for the unreachable user.
    harness.clock.move_to("2026-09-05T09:00")
    await harness.tick()
    assert harness.fake.templates == []


async def test_a_broadcast_reaches_each_user_once_and_can_be_cancelled(harness: Harness) -> None:
    for kind in ("全国统一鉴定", "补考"):
        await harness.subscribe("oTwice", "吉林省", exam_kind=kind)
    await harness.subscribe("oOther", "广州市")
    harness.clock.move_to("2026-09-04T10:00")
    first = await _broadcast(harness, "吉林省", "请留意补考安排。")
    await harness.tick()
    await harness.tick()
    broadcasts = [m for m in harness.received() if m["template_id"] == "TPL-broadcast"]
    assert [m["touser"] for m in broadcasts] == ["oTwice"], "once, although two subscriptions match"
    second = await _broadcast(harness, "吉林省", "这条会被取消。")
    assert await cancel_broadcast(harness.db, second) == 0  # not yet planned: nothing to cancel, none planned later
    await harness.tick()
    assert len([m for m in harness.received() if m["template_id"] == "TPL-broadcast"]) == 1
    assert first != second


async def test_two_planners_and_two_dispatchers_at_once_send_each_reminder_once(
    harness: Harness, database_url: str
) -> None:
    users = [f"oMany{i}" for i in range(120)]
    for user in users:
        await harness.subscribe(user, "吉林省", exam_kind="全国统一鉴定")
    harness.clock.move_to("2026-09-05T09:00")
    other_db = Database(database_url)
    try:
        other_planner = Planner(harness.planner.knowledge, other_db, harness.clock, harness.schedule, batch=7)
        await asyncio.gather(harness.planner.run_once(), other_planner.run_once(), harness.planner.run_once())
        other = harness.dispatcher_like(other_db, "w2")
        await asyncio.gather(harness.dispatcher.run_once(budget=30), other.run_once(budget=30))
    finally:
        await other_db.dispose()
    received = Counter(m["touser"] for m in harness.received())
    assert set(received) == set(users) and set(received.values()) == {1}
    assert await harness.statuses() == {"sent": 120}


async def _broadcast(harness: Harness, region: str, text: str) -> int:
    async with harness.db.transaction() as session:
        broadcast = Broadcast(
            region=region, text=text, send_at=harness.clock(), created_by="test", created_at=harness.clock()
        )
        session.add(broadcast)
        await session.flush()
        return broadcast.id


def test_frozen_clock_parses_beijing_time() -> None:
    assert FrozenClock.parse("2026-09-05T09:00") == dt.datetime(2026, 9, 5, 1, 0, tzinfo=dt.UTC)
