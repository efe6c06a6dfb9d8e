"""Regions as candidates name them, through the engine: the innermost region named wins in the
withdrawal form, a district follows its city's rules and is kept by city, a shared name is asked
about, a region of China the notices do not govern is told so, and a notice counts from its issue date."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from handlers.context import Services
from handlers.engine import ConversationEngine
from handlers.staff_scope import visible_regions
from knowledge.base import KnowledgeBase
from storage.database import Database
from storage.models import Handoff
from tests.dialogs import Chat, SettableClock, dialog, make_id_number
from tests.handlers.test_withdrawal_dialogs import run, stored

GZ = "穗人社职鉴函〔2017〕145号"
GD = "粤人社职鉴〔2017〕70号"
FJ = "闽人社办〔2020〕143号"


def chat_on(db: Database, services: Services, day: dt.date, user: str = "u1") -> Chat:
    return Chat(ConversationEngine(db, services, SettableClock(day)), user=user)


async def file(chat: Chat, region: str, scope: str | None = "是") -> str:
    occupation, exam = ("电工", "2020年11月14日") if scope is None else ("秘书", "2017年10月15日")
    await run(chat, dialog(region, occupation, exam, make_id_number(), scope=scope))
    return await chat.say("确认弃考")


async def test_province_and_city_together_are_the_city(db: Database, services: Services) -> None:
    # The issue's case: a Guangzhou candidate told that Guangdong's deadline had passed.
    chat = chat_on(db, services, dt.date(2017, 9, 27))
    reply = await run(chat, ["退考退费", "广东省广州市"])
    assert "9月22日" not in reply and "属于目录之外的职业吗" in reply
    assert "受理编号" in await file(chat_on(db, services, dt.date(2017, 9, 27), "u2"), "广州 广东")
    requests = await stored(db)
    assert [r.region for r in requests] == ["广州市"] and requests[0].doc_no == GZ


async def test_a_district_follows_its_city_and_is_kept_by_city(db: Database, services: Services) -> None:
    chat = chat_on(db, services, dt.date(2017, 9, 27))
    reply = await run(chat, ["退考退费", "番禺"])
    assert f"番禺区属于广州市，按广州市的规定（{GZ}）办理" in reply
    reply = await file(chat_on(db, services, dt.date(2020, 10, 14), "u2"), "思明区", scope=None)
    assert "受理编号" in reply
    [request] = await stored(db)
    assert request.region == "厦门市" and request.doc_no == FJ


async def test_a_city_of_a_covered_province_follows_the_province(db: Database, services: Services) -> None:
    chat = chat_on(db, services, dt.date(2017, 9, 20))
    reply = await run(chat, ["退考退费", "汕头"])
    assert f"汕头市属于广东省，按广东省的规定（{GD}）办理" in reply and "属于目录之外的职业吗" in reply
    late = await run(chat_on(db, services, dt.date(2017, 9, 27), "u2"), ["退考退费", "广东省深圳市"])
    assert "9月22日" in late and "现已截止" in late and GZ not in late


async def test_a_shared_name_is_asked_about(db: Database, services: Services) -> None:
    chat = chat_on(db, services, dt.date(2020, 10, 14))
    reply = await run(chat, ["退考退费", "鼓楼区"])
    assert "有多个地区叫“鼓楼区”" in reply and "福州市鼓楼区" in reply and "南京市鼓楼区" in reply
    reply = await chat.say("福州鼓楼区")
    assert "请输入您报考的职业名称" in reply and "福州市鼓楼区属于福建省" in reply
    reminders = await run(chat_on(db, services, dt.date(2020, 10, 14), "u2"), ["订阅提醒", "鼓楼区"])
    assert "有多个地区叫“鼓楼区”" in reminders


async def test_a_region_the_notices_do_not_govern_is_not_covered(db: Database, services: Services) -> None:
    reply = await run(chat_on(db, services, dt.date(2017, 9, 27)), ["退考退费", "成都"])
    assert "四川省成都市没有可在线登记的退考退费规定" in reply and "没有识别出地区" not in reply
    assert await stored(db) == []


async def test_a_notice_counts_from_its_issue_date(db: Database, services: Services) -> None:
    # 2017-09-21: 广州's 145号 is not issued yet, 广东's 70号 is, and its deadline is the next day.
    chat = chat_on(db, services, dt.date(2017, 9, 21))
    reply = await run(chat, ["退考退费", "广州"])
    assert f"{GZ}于2017年9月26日才印发，目前按广东省的规定（{GD}）办理" in reply
    await run(chat, ["是", "秘书", "2017年10月15日", "同意", "张三", make_id_number(), "中级", "广州市第一技工学校"])
    summary = await run(chat, ["跳过", "13812345678"])
    assert GD in summary and GZ not in summary
    # 2020-07-20: 福建's 143号 is not issued yet, and no other notice provides for withdrawal.
    early = await run(chat_on(db, services, dt.date(2020, 7, 20), "u2"), ["退考退费", "福建"])
    assert f"{FJ}于2020年7月31日才印发" in early and "暂不能登记" in early


async def test_a_handoff_about_a_district_goes_to_its_city(db: Database, services: Services) -> None:
    chat = chat_on(db, services, dt.date(2017, 9, 27))
    await chat.say("番禺退考截止哪天")
    await chat.say("转人工")
    async with db.sessions() as session:
        [handoff] = (await session.execute(select(Handoff))).scalars()
    assert handoff.region == "广州市"


def test_staff_of_a_province_see_its_cities_and_districts(kb: KnowledgeBase) -> None:
    visible = visible_regions(["广东省"], kb.regions)
    assert visible is not None and {"广东省", "广州市", "番禺区", "汕头市"} <= visible
    assert "厦门市" not in visible
