"""WeChat's daily quotas decide what is sent: the most urgent first (what the user waits for, then the
nearest deadline, then broadcasts by their time), nothing spent on what is superseded or too late, a
pause from the API's 45009 until Beijing midnight, and what could not go reported to staff. Real
database, real dispatcher and WeChatPush, fake WeChat API on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import Counter

from sqlalchemy import select

from bot.reminders.dispatcher import Dispatcher
from storage.models import Conversation, OutboxMessage, SendQuota
from storage.outbox import Planned, enqueue, outlook_lines, quota_outlook, shortfall
from tests.reminders.conftest import FrozenClock, Harness

NOW = "2026-09-04T09:00"
TODAY = dt.date(2026, 9, 4)


def quota_dispatcher(harness: Harness, *, template: int, custom: int = 1000, worker: str = "q1") -> Dispatcher:
    rules = dataclasses.replace(harness.schedule.rules, quotas={"wechat": {"template": template, "custom": custom}})
    return Dispatcher(
        harness.db,
        {"wechat": harness.push},
        harness.clock,
        rules,
        rates={"wechat": 1000},
        worker=worker,
        concurrency=4,
        claim_batch=10,
        flush_every=4,
    )


def reminder(
    user: str, day: dt.date, *, subscription: int | None = None, offset: str = "1d", due: str = NOW
) -> Planned:
    return Planned(
        key=f"rem:{user}:{day}:{offset}",
        channel="wechat",
        user_id=user,
        kind="reminder",
        text=f"提醒 {day}",
        fields={"title": "报名截止", "date": str(day), "note": offset},
        event_day=day,
        subscription_id=subscription,
        due_at=FrozenClock.parse(due),
    )


def broadcast(user: str, due: str) -> Planned:
    return Planned(
        key=f"bc:{due}:{user}",
        channel="wechat",
        user_id=user,
        kind="broadcast",
        text="群发",
        fields={"title": "通知", "note": "补报名"},
        due_at=FrozenClock.parse(due),
    )


async def queue(harness: Harness, items: list[Planned]) -> None:
    async with harness.db.transaction() as session:
        await enqueue(session, items, now=harness.clock())


async def quota_rows(harness: Harness) -> dict[tuple[str, dt.date], tuple[int, bool]]:
    async with harness.db.sessions() as session:
        rows = (await session.execute(select(SendQuota))).scalars().all()
        return {(q.route, q.day): (q.used, q.exhausted_at is not None) for q in rows}


async def by_status(harness: Harness) -> dict[str, list[str]]:
    async with harness.db.sessions() as session:
        rows = (await session.execute(select(OutboxMessage.key, OutboxMessage.status))).all()
    out: dict[str, list[str]] = {}
    for key, status in rows:
        out.setdefault(status, []).append(key)
    return out


async def test_a_scarce_quota_goes_to_the_nearest_deadlines_then_broadcasts_by_time(harness: Harness) -> None:
    harness.clock.move_to(NOW)
    days = [TODAY + dt.timedelta(days=n) for n in (9, 2, 5, 1, 30)]
    # Queued in an order unlike their urgency: the broadcasts first, the far deadlines before the near.
    items = [broadcast(f"oB{i}", "2026-09-04T08:30") for i in range(4)]
    items += [broadcast(f"oC{i}", "2026-09-04T08:00") for i in range(4)]
    items += [reminder(f"oR{n}-{i}", day) for n, day in enumerate(days) for i in range(4)]
    await queue(harness, items)
    stats = await quota_dispatcher(harness, template=14).run_once(budget=30)

    assert stats.sent == 14 and stats.held > 0
    sent = Counter(str(m["touser"])[:3] for m in harness.received())
    # The 4+4+4 reminders of the three nearest dates (+1, +2, +5 days), then 2 of the +9 days.
    assert sent == {"oR3": 4, "oR1": 4, "oR2": 4, "oR0": 2}
    assert await quota_rows(harness) == {("template", TODAY): (14, False), ("custom", TODAY): (0, False)}

    # The next Beijing day: a fresh quota, and the order goes on where it stopped.
    harness.fake.templates.clear()
    harness.clock.move_to("2026-09-05T09:00")
    await quota_dispatcher(harness, template=7).run_once(budget=30)
    assert Counter(str(m["touser"])[:3] for m in harness.received()) == {"oR0": 2, "oR4": 4, "oC0": 1}
    assert await quota_rows(harness) == {
        ("template", TODAY): (14, False),
        ("custom", TODAY): (0, False),
        ("template", TODAY + dt.timedelta(days=1)): (7, False),
        ("custom", TODAY + dt.timedelta(days=1)): (0, False),
    }


async def test_a_user_who_wrote_within_48_hours_is_sent_a_customer_service_message_on_its_own_quota(
    harness: Harness,
) -> None:
    harness.clock.move_to(NOW)
    async with harness.db.transaction() as session:
        seen = harness.clock() - dt.timedelta(hours=3)
        session.add(Conversation(channel="wechat", user_id="oTalked", state={}, created_at=seen, updated_at=seen))
    await queue(harness, [reminder("oTalked", TODAY + dt.timedelta(days=1)), reminder("oQuiet", TODAY)])
    stats = await quota_dispatcher(harness, template=0).run_once(budget=30)
    # The template quota is 0: only the customer-service message goes, the other waits.
    assert stats.sent == 1 and [m["touser"] for m in harness.fake.sent] == ["oTalked"]
    assert harness.fake.templates == []
    assert (await by_status(harness))["pending"] == [f"rem:oQuiet:{TODAY}:1d"]
    assert (await quota_rows(harness))[("custom", TODAY)] == (1, False)


async def test_an_older_reminder_of_the_same_date_is_superseded_not_sent(harness: Harness) -> None:
    harness.clock.move_to(NOW)
    subscription = await harness.subscribe("oSup", "吉林省")
    day = TODAY + dt.timedelta(days=1)
    # The 7-day reminder never went (yesterday's quota); the 1-day one is due now.
    older = reminder("oSup", day, subscription=subscription, offset="7d", due="2026-08-29T09:00")
    await queue(harness, [older, reminder("oSup", day, subscription=subscription, offset="1d")])
    await quota_dispatcher(harness, template=5).run_once(budget=30)
    assert [m["data"]["time2"]["value"] for m in harness.received()] == [str(day)]  # type: ignore[index]
    statuses = await by_status(harness)
    assert statuses["skipped"] == [f"rem:oSup:{day}:7d"] and statuses["sent"] == [f"rem:oSup:{day}:1d"]
    assert (await quota_rows(harness))[("template", TODAY)] == (1, False), "the superseded one spent nothing"


async def test_45009_pauses_the_template_quota_until_beijing_midnight(harness: Harness) -> None:
    harness.clock.move_to(NOW)
    await queue(harness, [reminder(f"oP{i:02d}", TODAY + dt.timedelta(days=3)) for i in range(30)])
    harness.fake.template_quota = 6  # WeChat's own count ends before ours (100)
    first = await quota_dispatcher(harness, template=100).run_once(budget=30)
    assert first.sent == 6
    calls_after_pause = len(harness.fake.templates)
    assert (await quota_rows(harness))[("template", TODAY)][1] is True, "marked exhausted for the day"
    assert (await quota_rows(harness))[("template", TODAY)][0] == 6, "refused sends gave their unit back"

    # Later the same day: nothing is tried (no more 45009s spent on the API).
    harness.fake.template_quota = 100
    harness.clock.move_to("2026-09-04T20:00")
    later = await quota_dispatcher(harness, template=100).run_once(budget=30)
    assert later.sent == 0 and len(harness.fake.templates) == calls_after_pause

    # After Beijing midnight (and the quiet hours that follow it) the rest go, each once.
    harness.clock.move_to("2026-09-05T08:00")
    await quota_dispatcher(harness, template=100).run_once(budget=30)
    received = Counter(m["touser"] for m in harness.fake.templates)
    assert len(received) == 30 and set(received.values()) == {1}
    assert await harness.statuses() == {"sent": 30}


async def test_two_dispatchers_at_once_never_claim_more_than_the_quota(harness: Harness) -> None:
    harness.clock.move_to(NOW)
    await queue(harness, [reminder(f"oT{i:03d}", TODAY + dt.timedelta(days=1 + i % 5)) for i in range(120)])
    harness.fake.send_delay = 0.002
    one, two = quota_dispatcher(harness, template=50, worker="a"), quota_dispatcher(harness, template=50, worker="b")
    stats = await asyncio.gather(one.run_once(budget=30), two.run_once(budget=30))
    assert sum(s.sent for s in stats) == 50 == len(harness.fake.templates)
    assert (await quota_rows(harness))[("template", TODAY)] == (50, False)
    # The 50 sent are the most urgent: every deadline sent is no later than any still waiting.
    async with harness.db.sessions() as session:
        rows = (await session.execute(select(OutboxMessage.status, OutboxMessage.event_day))).all()
    assert max(d for s, d in rows if s == "sent") <= min(d for s, d in rows if s == "pending")


async def test_what_could_not_go_in_time_is_reported_and_what_will_not_is_forecast(harness: Harness) -> None:
    harness.clock.move_to("2026-09-03T09:00")
    await queue(harness, [reminder(f"oL{i}", TODAY - dt.timedelta(days=1 if i < 3 else 0)) for i in range(5)])
    await queue(harness, [reminder(f"oF{i}", TODAY + dt.timedelta(days=1)) for i in range(9)])
    harness.clock.move_to(NOW)  # Sept 3's three reminders were never sent (the quota was spent)
    dispatcher = quota_dispatcher(harness, template=2)
    stats = await dispatcher.run_once(budget=30)
    assert stats.expired == 3 and stats.sent == 2
    assert {str(m["touser"]) for m in harness.received()} == {"oL3", "oL4"}, "today's deadline first"

    rules = dispatcher.rules
    async with harness.db.sessions() as session:
        [outlook] = await quota_outlook(session, rules, now=harness.clock())
    assert outlook.missed == [(TODAY - dt.timedelta(days=1), 3)]
    # Tomorrow's 9 can use today's 0 left and tomorrow's 2: 7 will not go before their date.
    assert outlook.at_risk == [(TODAY + dt.timedelta(days=1), 7)]
    lines = outlook_lines(outlook)
    assert "wechat 模板消息：今日已用 2 / 2" in lines
    assert "截止日 2026-09-03 的 3 条提醒未能在截止前发出" in lines
    assert "按当前配额，截止日 2026-09-05 的 7 条提醒将无法在截止前发出" in lines


def test_the_forecast_is_earliest_deadline_first() -> None:
    today = dt.date(2026, 9, 4)
    days = [today + dt.timedelta(days=n) for n in range(4)]
    demand = [(days[3], 50), (days[0], 30), (days[1], 100), (days[2], 10)]
    # Capacity through each day: 20 left today, then 60 a day.
    assert shortfall(demand, today=today, left_today=20, daily=60) == {days[0]: 10, days[1]: 40}
    assert shortfall([(today - dt.timedelta(days=1), 4)], today=today, left_today=9, daily=9) == {
        today - dt.timedelta(days=1): 4
    }
    assert shortfall(demand, today=today, left_today=500, daily=0) == {}
