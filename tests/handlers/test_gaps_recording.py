"""A question the bot abstains on is recorded as a knowledge gap, in the message's transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

import handlers.policy_qa
from handlers.context import Services
from handlers.engine import ConversationEngine
from storage import gaps
from storage.database import Database
from storage.models import GapGroup, TranscriptLine, UnansweredQuestion
from tests.dialogs import Chat, SettableClock, make_id_number

ABSTAINED = "鉴定费几号前得打过去"


def engine_for(db: Database, services: Services) -> ConversationEngine:
    return ConversationEngine(db, services, SettableClock(dt.date(2026, 5, 1)))


async def recorded(db: Database) -> list[UnansweredQuestion]:
    async with db.sessions() as session:
        return list((await session.execute(select(UnansweredQuestion).order_by(UnansweredQuestion.id))).scalars())


async def test_an_abstained_question_is_recorded_and_an_answered_one_is_not(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services), user="candidate-1", channel="web")
    assert "转人工" in await chat.say("广州的，" + ABSTAINED)
    assert "转人工" in chat.choices
    assert "2017年9月30日" in await chat.say("广州退考退费登记截止到哪天？")
    await chat.say("你好")  # small talk: not a gap
    await chat.say("？？？")  # no words at all: not a gap
    reply = await chat.say("<script>alert(1)</script>")  # markup: nothing asked, not a gap
    assert "请用中文描述" in reply and "<script>" not in reply and "抱歉" not in reply
    assert "请用中文描述" in await chat.say("how can I get my fee back")

    questions = await recorded(db)
    assert [(q.channel, q.user_id, q.text, q.region) for q in questions] == [
        ("web", "candidate-1", "广州的，" + ABSTAINED, "广州市")
    ]
    async with db.sessions() as session:
        [group] = await gaps.list_groups(session)
    assert group.count == 1 and group.representative == "广州的，" + ABSTAINED


async def test_repeated_and_similar_questions_count_in_one_group(db: Database, services: Services) -> None:
    engine = engine_for(db, services)
    first, second = Chat(engine, user="a"), Chat(engine, user="b")
    await first.say(ABSTAINED)
    await second.say("我的鉴定費幾號前得打過去啊？")  # traditional characters, filler, punctuation
    await first.say("公务员考试几月报名")
    async with db.sessions() as session:
        groups = await gaps.list_groups(session)
    assert [(g.representative, g.count) for g in groups] == [(ABSTAINED, 2), ("公务员考试几月报名", 1)]


async def test_a_retried_message_is_recorded_once(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services))
    await chat.say(ABSTAINED, message_id="wx-1")
    await chat.say(ABSTAINED, message_id="wx-1")  # WeChat's retry of the same message
    assert len(await recorded(db)) == 1


async def test_a_question_about_a_region_without_notices_is_a_gap(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services))
    assert "还没有" in await chat.say("北京的鉴定费什么时候交")
    [question] = await recorded(db)
    assert question.region is not None and question.region.startswith("北京")


async def test_personal_numbers_in_a_recorded_question_are_masked(db: Database, services: Services) -> None:
    id_number = make_id_number(seq=321)
    chat = Chat(engine_for(db, services))
    await chat.say(f"身份证{id_number}手机13912345678的成绩为啥查不到")
    [question] = await recorded(db)
    assert id_number not in question.text and "13912345678" not in question.text
    assert "139****5678" in question.text


async def test_a_failure_to_record_never_costs_the_reply(
    db: Database, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(session: AsyncSession, **_: object) -> None:
        # A real SQL error: on PostgreSQL it would abort the whole transaction without the savepoint.
        await session.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(handlers.policy_qa, "record_unanswered", broken)
    chat = Chat(engine_for(db, services))
    reply = await chat.say(ABSTAINED)
    assert "没有找到可靠的答案" in reply and "系统暂时无法处理" not in reply
    async with db.sessions() as session:
        lines = (await session.execute(select(TranscriptLine.direction))).scalars().all()
        assert lines == ["in", "out"], "the rest of the message's transaction was committed"
        assert (await session.execute(select(GapGroup))).first() is None


async def test_one_user_records_a_limited_number_of_gaps_a_day(db: Database, services: Services) -> None:
    clock = SettableClock(dt.date(2026, 5, 1))
    engine = ConversationEngine(db, dataclasses.replace(services, gaps_per_user_day=3), clock)
    flooder, other = Chat(engine, user="flooder", channel="web"), Chat(engine, user="other", channel="web")
    topics = ("火星基地", "海底隧道", "月球车", "南极科考站", "太空电梯")
    for topic in topics:
        assert "转人工" in await flooder.say(f"{topic}的鉴定费几号前得打过去")
    assert "转人工" in await other.say("鉴定费几号前得打过去")
    by_user = [q.user_id for q in await recorded(db)]
    assert by_user.count("flooder") == 3, "the rest of the day's questions still abstain, unrecorded"
    assert by_user.count("other") == 1
    clock.set(dt.date(2026, 5, 2))
    await flooder.say("飞艇的鉴定费几号前得打过去")
    assert [q.user_id for q in await recorded(db)].count("flooder") == 4, "a new day, a new allowance"
