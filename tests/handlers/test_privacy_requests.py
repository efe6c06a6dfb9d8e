"""删除我的信息 and the like: recorded for staff as a handoff, the candidate told what happens next;
questions that only mention information are not taken for such a request."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from handlers.context import Services
from handlers.engine import ConversationEngine
from storage.database import Database
from storage.models import Handoff
from tests.dialogs import Chat, SettableClock


def chat(db: Database, services: Services, user: str) -> Chat:
    return Chat(ConversationEngine(db, services, SettableClock(dt.date(2026, 5, 1))), user=user)


@pytest.mark.parametrize("text", ["删除我的信息", "请删掉我的个人资料", "我想查看我的个人信息", "我的信息请删除"])
async def test_a_personal_data_request_goes_to_staff(db: Database, services: Services, text: str) -> None:
    candidate = chat(db, services, f"u-{text}")
    reply = await candidate.say(text)
    assert "RG-" in reply and "核实" in reply and "180 天" in reply and "弃考声明" in reply
    async with db.sessions() as session:
        [handoff] = (await session.execute(select(Handoff).where(Handoff.user_id == candidate.key.user_id))).scalars()
    assert handoff.reason.startswith("个人信息申请") and handoff.status == "pending"
    follow = await candidate.say("我的身份证号是多少你们都知道吧")
    assert "RG-" not in follow, "the next message goes to staff, as in any handoff"


@pytest.mark.parametrize("text", ["报名信息怎么修改", "怎么查询成绩信息", "我的准考证信息填错了怎么办"])
async def test_questions_about_other_information_are_not_such_requests(
    db: Database, services: Services, text: str
) -> None:
    candidate = chat(db, services, f"q-{text}")
    await candidate.say(text)
    async with db.sessions() as session:
        assert not list(
            (await session.execute(select(Handoff).where(Handoff.user_id == candidate.key.user_id))).scalars()
        )
