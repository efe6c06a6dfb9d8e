"""Through the engine: a follow-up is read with the previous question for 30 minutes; 原文 gives the
verbatim text an answer relies on and 更多 the related facts it left out."""

from __future__ import annotations

import datetime as dt

from handlers.context import Services
from handlers.engine import ConversationEngine
from storage.database import Database
from tests.dialogs import Chat, SettableClock


async def test_follow_ups_quote_and_more(db: Database, services: Services) -> None:
    clock = SettableClock(dt.date(2017, 6, 1))
    chat = Chat(ConversationEngine(db, services, clock), user="f")
    first = await chat.say("吉林统一鉴定哪天考")
    assert "5月20日" in first and "来源：吉人社办字〔2017〕11号" in first and "原文" in chat.choices
    assert "“" not in first.split("来源：")[1], "the verbatim text waits for 原文"
    assert "3月15日" in await chat.say("那报名呢")
    quote = await chat.say("原文")
    assert "原文：“" in quote and "吉人社办字〔2017〕11号" in quote
    assert "没有找到可靠的答案" in await chat.say("那身份证丢了怎么补")


async def test_a_follow_up_after_a_long_pause_stands_alone(db: Database, services: Services) -> None:
    clock = SettableClock(dt.date(2017, 6, 1))
    chat = Chat(ConversationEngine(db, services, clock), user="p")
    await chat.say("吉林统一鉴定哪天考")
    clock.set(dt.date(2017, 6, 2))  # the next day: the previous question no longer leans on this one
    reply = await chat.say("那报名呢")
    fresh = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 6, 2))), user="fresh")
    await fresh.say("吉林的")  # the same region, no previous question
    assert reply == await fresh.say("那报名呢")


async def test_more_gives_what_the_answer_left_out(db: Database, services: Services) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 6, 1))), user="m")
    await chat.say("吉林统一鉴定哪天考")
    assert "更多" in chat.choices
    more = await chat.say("更多")
    assert "【吉林省】" in more and "来源：" in more
    assert "没有可以展开" in await chat.say("更多"), "what was given is not given again"


async def test_a_region_button_under_an_answer_for_several_regions_answers_there(
    db: Database, services: Services
) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 27))), user="r")
    reply = await chat.say("退考退费登记截止到哪天")
    assert "各地规定不同" in reply and {"广州", "广东"} <= set(chat.choices)
    reply = await chat.say("广州")
    assert "2017年9月30日" in reply and "还有3天" in reply and "穗人社职鉴函〔2017〕145号" in reply
