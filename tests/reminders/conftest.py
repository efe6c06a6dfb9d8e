"""A reminder harness: the real planner and dispatcher on a real database, sending through the
real WeChatPush to a fake WeChat API on loopback, under a frozen clock the test moves."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.channels.wechat_api import WeChatApi, new_http_session
from bot.channels.wechat_push import WeChatPush
from bot.config import Settings, WeChatTemplate
from bot.reminders.dispatcher import Dispatcher
from bot.reminders.planner import Planner
from handlers.reminder_schedule import DEFAULT_SCHEDULE, ReminderSchedule
from knowledge.base import KnowledgeBase
from knowledge.snapshot import KnowledgeHolder, KnowledgeSnapshot
from knowledge.timezone import SHANGHAI
from storage.api_tokens import SharedToken
from storage.database import Database
from storage.models import OutboxMessage
from storage.outbox import Planned
from storage.pii import PiiCipher
from storage.subscriptions import NewSubscription, subscribe
from tests.channels.conftest import serving
from tests.channels.fake_wechat import APP_ID, SECRET, FakeWeChatApi

TEMPLATES = {
    kind: WeChatTemplate(template_id=f"TPL-{kind}", fields={"thing1": "title", "time2": "date", "thing3": "source"})
    for kind in ("reminder", "broadcast")
}


def waiting_reminders(counts: Mapping[dt.date, int], *, due_at: dt.datetime) -> list[Planned]:
    """WeChat reminders due at `due_at`, `counts[date]` of them for each date, each to its own user."""
    return [
        Planned(
            key=f"waiting:{day}:{n}",
            channel="wechat",
            user_id=f"oQ{day:%m%d}-{n}",
            kind="reminder",
            text="提醒",
            event_day=day,
            due_at=due_at,
        )
        for day, count in counts.items()
        for n in range(count)
    ]


class FrozenClock:
    """Stands still until the test moves it."""

    def __init__(self, local: str) -> None:
        self.at = self.parse(local)

    @staticmethod
    def parse(local: str) -> dt.datetime:
        return dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)

    def move_to(self, local: str) -> None:
        self.at = self.parse(local)

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)

    def __call__(self) -> dt.datetime:
        return self.at


@dataclass
class Harness:
    kb: KnowledgeBase
    db: Database
    fake: FakeWeChatApi
    push: WeChatPush
    clock: FrozenClock
    schedule: ReminderSchedule
    planner: Planner
    dispatcher: Dispatcher

    async def tick(self) -> None:
        """One planner run and one dispatcher run, as the scheduler does every few seconds."""
        await self.planner.run_once()
        await self.dispatcher.run_once(budget=30)

    async def subscribe(self, user: str, region: str, **terms: object) -> int:
        async with self.db.transaction() as session:
            new = NewSubscription(channel="wechat", user_id=user, region=region, **terms)  # type: ignore[arg-type]
            subscription, _ = await subscribe(session, new, now=self.clock())
            return subscription.id

    def received(self, user: str | None = None) -> list[dict[str, object]]:
        """Every message the fake API accepted (customer-service and template), in order."""
        messages = [*self.fake.sent, *self.fake.templates]
        return [m for m in messages if user is None or m["touser"] == user]

    async def statuses(self) -> dict[str, int]:
        async with self.db.sessions() as session:
            rows = await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
            return {status: int(n) for status, n in rows.all()}

    def dispatcher_like(self, db: Database, worker: str) -> Dispatcher:
        return Dispatcher(
            db, {"wechat": self.push}, self.clock, self.schedule.rules, rates={"wechat": 1000}, worker=worker
        )


@pytest.fixture(autouse=True)
def _shared_kb(shared_knowledge_base: KnowledgeBase) -> None:
    """Commands run in-process here skip re-reading the shipped notices (see tests/conftest.py)."""


@pytest.fixture
async def harness(
    db: Database, kb: KnowledgeBase, knowledge: KnowledgeSnapshot, tmp_path: Path
) -> AsyncIterator[Harness]:
    fake = FakeWeChatApi()
    clock = FrozenClock("2026-08-01T10:00")
    async with serving(fake.app) as base, new_http_session(timeout=5) as client:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, wechat_app_id=APP_ID, wechat_app_secret=SECRET, wechat_api_base_url=base
        )
        token = SharedToken(db, PiiCipher(secrets.token_bytes(32)), f"wechat:{APP_ID}")
        push = WeChatPush(WeChatApi(settings, client, token), TEMPLATES)
        schedule = DEFAULT_SCHEDULE
        planner = Planner(KnowledgeHolder(knowledge), db, clock, schedule)
        dispatcher = Dispatcher(db, {"wechat": push}, clock, schedule.rules, rates={"wechat": 1000}, worker="w1")
        yield Harness(kb, db, fake, push, clock, schedule, planner, dispatcher)
