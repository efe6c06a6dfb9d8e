"""Small talk gets a short, friendly reply: never the abstention, the full greeting, a fact, or a gap."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from handlers.context import Services
from handlers.engine import ConversationEngine
from handlers.small_talk import small_talk_kind
from storage.database import Database
from storage.models import UnansweredQuestion
from tests.dialogs import Chat, SettableClock


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("谢谢", "thanks"),
        ("谢谢你啊！！", "thanks"),
        ("好的，谢谢", "thanks"),
        ("好的谢谢，再见", "bye"),
        ("拜拜~", "bye"),
        ("嗯嗯 知道了", "ack"),
        ("OK", "ack"),
        ("您好", "greeting"),
        ("在吗？", "greeting"),
        ("謝謝", "thanks"),  # traditional characters
        ("谢谢你啊 好人", "thanks"),
        ("👌 好滴", "ack"),
        ("ok 晓得了", "ack"),
    ],
)
def test_small_talk_is_recognised(text: str, kind: str) -> None:
    assert small_talk_kind(text) == kind


@pytest.mark.parametrize(
    "text", ["谢谢，退考截止哪天", "好的那我什么时候交钱", "你好我想退考", "早点告诉我", "在吗 广州的", "", "？？"]
)
def test_a_message_that_says_anything_else_is_not_small_talk(text: str) -> None:
    assert small_talk_kind(text) is None


async def test_small_talk_gets_a_short_reply_and_is_never_a_gap(db: Database, services: Services) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 20))), user="c")
    await chat.say("广州退考退费登记截止到哪天？")
    for text in ("谢谢", "好的", "拜拜"):
        reply = await chat.say(text)
        assert len(reply) < 40, reply
        assert "没有找到" not in reply and "来源" not in reply and "转人工" not in reply
    assert "再见" in reply
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(UnansweredQuestion)) == 0
