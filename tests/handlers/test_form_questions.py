"""A question asked inside the withdrawal form is answered from the form first: its deadline,
who receives it, how the fee comes back, why a field is asked, what happens to personal data.
Questions about anything else still go to the knowledge base, for the form's region."""

from __future__ import annotations

import datetime as dt

from handlers.context import Services
from handlers.engine import ConversationEngine
from storage.database import Database
from tests.dialogs import Chat, SettableClock


def chat_at(db: Database, services: Services, day: dt.date) -> Chat:
    return Chat(ConversationEngine(db, services, SettableClock(day)), user="f")


async def test_the_forms_own_questions_are_answered_from_the_form(db: Database, services: Services) -> None:
    chat = chat_at(db, services, dt.date(2017, 9, 27))
    for line in ["退考退费", "广州", "是", "秘书"]:
        await chat.say(line)
    reply = await chat.say("截止到哪天？")
    assert "退考退费登记截止：2017年9月30日" in reply and "还有3天" in reply
    assert "原定考试日期" in reply, "the form's question follows"
    assert "原报考机构" in await chat.say("这个表最后是交给谁的")
    assert "原路退回" in await chat.say("钱怎么退给我")
    reply = await chat.say("为啥要手机号")
    assert "联系您办理退费" in reply and "加密保存" in reply
    assert "加密保存" in await chat.say("你们会泄露我的信息吗")
    assert "加密保存" in await chat.say("为什么要实名？")
    reply = await chat.say("为什么要身份证号")
    assert "核对您的报名记录" in reply
    assert "准考证" in await chat.say("考试日期在哪里能看到")
    assert "收据或发票上的编号" in await chat.say("收据号又是什么东西")
    assert "学校、培训机构" in await chat.say("报考机构是指啥")


async def test_a_deadline_of_something_else_goes_to_the_knowledge_base(db: Database, services: Services) -> None:
    chat = chat_at(db, services, dt.date(2020, 9, 22))
    for line in ["退考退费", "江苏"]:
        await chat.say(line)
    reply = await chat.say("证书最晚啥时候发")
    assert "2021年2月1日" in reply and "苏人社函〔2020〕239号" in reply


async def test_a_notice_without_a_withdrawal_deadline_gives_the_date_it_does_set(
    db: Database, services: Services
) -> None:
    chat = chat_at(db, services, dt.date(2020, 9, 11))
    await chat.say("退考退费")
    await chat.say("厦门")
    reply = await chat.say("截止到哪天")
    assert "未规定单独的登记截止日" in reply and "2020年12月31日前完成" in reply
