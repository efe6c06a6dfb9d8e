"""After a withdrawal, reminders concern only what still concerns the candidate: not the fee
deadline or the day of the exam they gave up, but what comes after it."""

from __future__ import annotations

import datetime as dt

from handlers.context import Services
from handlers.engine import ConversationEngine
from knowledge.reminders import Interest, due_dates
from knowledge.snapshot import KnowledgeSnapshot
from storage.database import Database
from tests.dialogs import Chat, SettableClock, dialog, make_id_number

WITHDRAWN = dt.date(2017, 10, 15)


def test_a_withdrawn_exam_leaves_only_the_dates_after_it() -> None:
    kb = KnowledgeSnapshot.shipped().kb
    today = dt.date(2017, 9, 27)
    sitting = due_dates(kb, Interest("广州市", "秘书", exam_date=WITHDRAWN), today=today)
    withdrawn = due_dates(kb, Interest("广州市", "秘书", withdrawn_from=WITHDRAWN), today=today)
    assert any(d.day <= WITHDRAWN for d in sitting), "the candidate who sits the exam has dates before it"
    assert any(d.kind == "exam" for d in sitting)
    assert withdrawn, "dates after the withdrawn exam are still reminded"
    assert all(d.day > WITHDRAWN and not d.personal for d in withdrawn)
    assert {d.key for d in withdrawn} <= {d.key for d in sitting} | {
        d.key for d in due_dates(kb, Interest("广州市", "秘书"), today=today)
    }


async def test_subscribing_after_a_withdrawal_leaves_out_the_withdrawn_exam(db: Database, services: Services) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 27))), user="w")
    for line in [*dialog("广州", "秘书", "2017年10月15日", make_id_number()), "确认弃考"]:
        reply = await chat.say(line)
    assert "QK-" in reply

    reply = await chat.say("訂閱截止提醒")  # the command word in traditional characters
    assert "已为申请QK-" in reply and "审核进度和退费结果" in reply
    assert "缴交截止" not in reply and "考试日" not in reply

    listing = await chat.say("我的提醒")
    assert "退考退费申请：退费和审核进度" in listing
    assert "10月15日" not in listing and "缴交截止" not in listing

    reply = await chat.say("考试那天也提醒我一下吧")
    assert "您已申请放弃这次鉴定" in reply and "QK-" in reply and "10月15日" not in reply


async def test_a_reminder_asked_in_a_sentence_starts_the_subscription(db: Database, services: Services) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 1))), user="r")
    reply = await chat.say("到时候提醒我一下交钱的日子，广州的")
    assert "没有找到可靠的答案" not in reply
    assert "订阅" in reply
