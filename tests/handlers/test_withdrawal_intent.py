"""Withdrawal said in everyday words gets the region's rule and the button; a message that only
names a region sets it for the questions after it. Neither is a knowledge gap."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from handlers.context import Services
from handlers.engine import ConversationEngine
from handlers.withdrawal_intent import is_withdrawal_intent
from storage.database import Database
from storage.models import UnansweredQuestion, WithdrawalRequest
from tests.dialogs import Chat, SettableClock, dialog, make_id_number


@pytest.mark.parametrize(
    "text",
    [
        "这个考试我不参加了交的钱咋办",
        "能不能不考了把钱要回来",
        "退钱",
        "考试那天回不来了，钱能退不",
        "我不想考了",
        "福建那边退考有啥规定",
        "退费流程是怎样的",
        "厦门退考按哪个文件",
        "我天河区的 那个秘书的考试我不想去了 交的报名费咋整啊",
        "你好我之前报了个物流师的考试现在听说这个职业不在目录里面了那我还要不要去考啊考了这个证书以后还有没有用"
        "如果我不考了的话那个钱能不能退回来要去哪里办要带什么材料啊",
    ],
)
def test_everyday_withdrawal_is_an_intent(text: str) -> None:
    assert is_withdrawal_intent(text)


@pytest.mark.parametrize(
    "text",
    [
        "广东省退考退费截止时间",
        "退费多久到账",
        "弃考后还能补考吗",
        "鉴定费多少钱",
        "电工还能报名吗",
        "弃考声明交了能改吗",
        # whether the occupation is still examined, not the candidate withdrawing
        "福建育婴员这个证是不是不考了",
        "电工以后还考不考",
    ],
)
def test_a_question_about_one_thing_is_not_the_intent(text: str) -> None:
    assert not is_withdrawal_intent(text)


async def test_how_the_fee_comes_back_is_said_even_after_the_deadline(db: Database, services: Services) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 25))), user="h")
    reply = await chat.say("深圳的 不考了钱怎么退回来")
    assert "现已截止" in reply and "原路退回" in reply, reply


async def gaps(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(UnansweredQuestion)) or 0)


async def test_the_intent_without_a_region_asks_for_it_then_gives_the_rule(db: Database, services: Services) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 27))), user="i")
    reply = await chat.say("这个考试我不参加了交的钱咋办")
    assert "哪个城市或省份" in reply and "广州市" in chat.choices
    reply = await chat.say("广州的")
    assert "2017年9月30日" in reply and "还有3天" in reply and "穗人社职鉴函〔2017〕145号" in reply
    assert "广州退考退费" in chat.choices
    reply = await chat.say("广州退考退费")  # the button: the form starts for 广州, without asking the region
    assert "目录之外的职业吗" in reply and "穗人社职鉴函〔2017〕145号" in reply
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WithdrawalRequest)) == 0
    assert await gaps(db) == 0


async def test_a_city_without_its_own_notice_gets_its_province_rule_and_a_passed_deadline(
    db: Database, services: Services
) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 25))), user="s")
    reply = await chat.say("深圳的 不考了钱能退不")
    assert reply.startswith("【深圳市，按广东省的通知】")
    assert "2017年9月22日" in reply and "现已截止" in reply
    assert "退考退费" not in chat.choices and "转人工" in chat.choices


async def test_a_message_naming_only_a_region_sets_it(db: Database, services: Services) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2020, 9, 22))), user="r")
    reply = await chat.say("哦 不过我自己是江苏的")
    assert "按江苏省的通知" in reply and "没有找到" not in reply
    assert "江苏省" in await chat.say("证书最晚啥时候发")
    assert await gaps(db) == 0


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("帮我办一下退考", "哪个省份或城市报考"),
        ("我想申请退费 广州的", "目录之外的职业吗"),
        ("麻烦帮我办理退考，我是广州的", "目录之外的职业吗"),
        ("广州退考退费", "目录之外的职业吗"),
    ],
)
async def test_an_explicit_request_in_other_words_starts_the_form(
    db: Database, services: Services, text: str, asks: str
) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 20))), user="e")
    reply = await chat.say(text)
    assert "开始办理退考退费登记" in reply and asks in reply


async def test_a_follow_up_by_when_after_talk_of_withdrawing_means_the_withdrawal_deadline(
    db: Database, services: Services
) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 28))), user="f")
    await chat.say("深圳的 不考了钱能退不")
    reply = await chat.say("我朋友是广州的 她的截止是哪天")
    assert "退考退费登记截止：2017年9月30日" in reply and "穗人社职鉴函〔2017〕145号" in reply
    assert "2021年2月1日" in await chat.say("江苏证书最晚啥时候发"), "a deadline with its own subject is not it"


async def test_before_the_citys_notice_was_issued_its_province_rule_is_given(db: Database, services: Services) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 21))), user="g")
    reply = await chat.say("广州的，不想考了钱能退吗")
    assert reply.startswith("【广州市，按广东省的通知】")
    assert "145号于2017年9月26日才印发" in reply and "2017年9月22日（还有1天" in reply


async def test_after_filing_a_question_about_the_money_gets_the_requests_status_and_the_refund(
    db: Database, services: Services
) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 28))), user="m")
    for line in [*dialog("广州", "秘书", "2017年10月15日", make_id_number()), "确认弃考"]:
        await chat.say(line)
    reply = await chat.say("钱什么时候退回来")
    assert "目前状态：已提交，待审核" in reply and "原路退回" in reply and "穗人社职鉴函〔2017〕145号" in reply
    assert "哪个城市或省份" not in reply


async def test_the_withdrawal_deadline_asked_for_a_region_gets_the_days_left(db: Database, services: Services) -> None:
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2020, 9, 16))), user="d")
    reply = await chat.say("江苏这边退考退费截止到哪天")
    assert "未规定单独的登记截止日" in reply and "2020年9月30日" in reply and "苏人社函〔2020〕239号" in reply


async def test_an_institution_asking_its_own_deadline_gets_the_report_rule_not_the_candidates(
    db: Database, services: Services
) -> None:
    # The registration institution reports the list of withdrawals by 9月30日; the candidates'
    # own registration closed on 9月22日.
    chat = Chat(ConversationEngine(db, services, SettableClock(dt.date(2017, 9, 26))), user="e")
    reply = await chat.say("我们是佛山一家报考机构，退考的名单最迟哪天要交上去")
    assert "2017年9月30日" in reply and "报送名单" in reply and "粤人社职鉴〔2017〕70号" in reply
    assert "无法再登记退考退费" not in reply
