"""Helpers for tests that talk to the real engine over a real database."""

from __future__ import annotations

import datetime as dt
import itertools
import os

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from handlers.engine import ConversationEngine
from handlers.field_parsers import id_check_char
from handlers.messages import Command, ConversationKey, Inbound, Reply
from knowledge.timezone import SHANGHAI

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


class SettableClock:
    """Stands on a chosen day (10:00 Beijing time), advancing a second per call to keep order."""

    def __init__(self, day: dt.date) -> None:
        self.set(day)

    def set(self, day: dt.date) -> None:
        self._base = dt.datetime.combine(day, dt.time(10, 0), SHANGHAI).astimezone(dt.UTC)
        self._ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        return self._base + dt.timedelta(seconds=next(self._ticks))


class Chat:
    """One candidate: push a message, read the reply."""

    _ids = itertools.count(1)

    def __init__(self, engine: ConversationEngine, user: str = "u1", channel: str = "test") -> None:
        self.engine = engine
        self.key = ConversationKey(channel, user)
        self.replies: list[Reply] = []

    async def say(self, text: str, *, message_id: str | None = None) -> str:
        mid = message_id or f"m{next(self._ids)}"
        self.replies = await self.engine.handle(Inbound(key=self.key, text=text, message_id=mid))
        return "\n".join(r.text for r in self.replies)

    async def event(self, event: str, *, message_id: str | None = None) -> str:
        mid = message_id or f"e{next(self._ids)}"
        self.replies = await self.engine.handle(Inbound(key=self.key, event=event, message_id=mid))
        return "\n".join(r.text for r in self.replies)

    async def command(self, command: Command, *, message_id: str | None = None) -> str:
        """A menu click or a Telegram command: the command without words."""
        mid = message_id or f"c{next(self._ids)}"
        self.replies = await self.engine.handle(Inbound(key=self.key, command=command, message_id=mid))
        return "\n".join(r.text for r in self.replies)

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(c for r in self.replies for c in r.choices)


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def make_id_number(area: str = "440103", birth: dt.date = dt.date(1990, 1, 1), seq: int = 123) -> str:
    """A valid 18-digit ID number (GB 11643 check digit), for tests only."""
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_char(body)


def dialog(region: str, occupation: str, exam: str, id_number: str, *, scope: str | None = "是") -> list[str]:
    """The messages of a successful request, in order (scope: the answer to the 是否 question
    asked where the notice has no occupation list; None where it has one)."""
    lines = ["退考退费", region]
    if scope is not None:
        lines.append(scope)
    return [*lines, occupation, exam, "同意", "张三", id_number, "中级", "广州市第一技工学校", "跳过", "13812345678"]
