"""The engine outside the withdrawal form: events, commands, questions, bad input, personal
data at rest, and a property test that it always replies."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from handlers.context import Services
from handlers.engine import ConversationEngine
from handlers.messages import Command, ConversationKey, Inbound
from knowledge.withdrawal import withdrawal_regions
from storage.database import Database
from storage.handoffs import open_handoff
from storage.models import Base, Conversation, TranscriptLine
from tests.conftest import fresh_sqlite
from tests.dialogs import Chat, SettableClock, dialog, make_id_number

DAY = dt.date(2017, 9, 27)


def engine_for(db: Database, services: Services) -> ConversationEngine:
    return ConversationEngine(db, services, SettableClock(DAY))


async def test_subscribe_gets_a_welcome_and_media_a_polite_text(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services), channel="wechat")
    welcome = await chat.event("subscribe")
    assert "欢迎关注" in welcome and "退考退费" in welcome
    assert "图片" in await chat.event("image")
    assert "语音" in await chat.event("voice")
    assert "文字" in await chat.event("some-future-event")
    assert await chat.event("unsubscribe") == ""
    async with db.sessions() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
    assert conversation.state.get("unsubscribed") is True


async def test_commands_from_a_menu_need_no_words(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services), channel="wechat")
    assert "请问您是在哪个省份或城市报考的" in await chat.command(Command.WITHDRAW)
    assert "您正在办理其他事项" in await chat.command(Command.REMIND), "one form at a time"
    assert "（继续办理退考退费登记）" in await chat.command(Command.HELP), "the form resumes after help"
    assert "已取消退考退费登记" in await chat.command(Command.CANCEL)
    assert "还没有提交过" in await chat.command(Command.MY_REQUESTS)
    assert "人工服务" in await chat.command(Command.HUMAN)
    # While the handoff is open, a menu click other than 帮助/我的申请/转人工 waits for its end.
    held = await chat.command(Command.QA)
    assert "请先回复“结束人工”" in held and "请直接输入您的问题" not in held
    assert "已结束人工服务" in await chat.say("结束人工")
    assert "请直接输入您的问题" in await chat.command(Command.QA)


async def test_typed_command_words_and_channel_commands_are_one_command(db: Database, services: Services) -> None:
    typed, clicked = Chat(engine_for(db, services), user="typed"), Chat(engine_for(db, services), user="clicked")
    # 转人工 last: after it the conversation is with staff, where typed words are messages for them
    # and menu clicks are held (tests/handlers/test_handoff_mode.py).
    for command in sorted(Command, key=lambda c: c == Command.HUMAN):
        # The same reply, but for numbers the two conversations count apart (handoff numbers).
        said, clicked_reply = await typed.say(command.label), await clicked.command(command)
        assert re.sub(r"\d+", "#", said) == re.sub(r"\d+", "#", clicked_reply), command


async def test_questions_are_answered_with_their_source(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services))
    reply = await chat.say("广州退考退费登记截止到哪天？")
    assert "2017年9月30日" in reply and "穗人社职鉴函〔2017〕145号" in reply
    assert "广州退考退费" in chat.choices, "a refund answer offers to start the request there"
    unknown = await chat.say("明天会下雨吗")
    assert "转人工" in unknown


async def test_a_question_about_withdrawing_is_answered_not_started(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services))
    reply = await chat.say("退考退费要在哪天前登记？")
    assert "请问您是在哪个省份" not in reply
    assert "9月" in reply


async def test_cancel_and_help_outside_a_form(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services))
    assert "没有正在办理" in await chat.say("取消")
    assert "政策问答" in await chat.say("菜单")
    assert "提醒" in await chat.say("订阅提醒")


async def test_an_empty_or_huge_message_gets_a_reply(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services))
    assert await chat.say("   ")
    assert await chat.say("退" * 100_000)
    assert await chat.say("<xml><![CDATA[x]]></xml>")


async def test_personal_numbers_never_reach_the_database_in_clear(db: Database, services: Services) -> None:
    id_number = make_id_number(seq=777)
    chat = Chat(engine_for(db, services))
    # Half-way (state holds the ID number), then the transcript, then a stored request.
    for line in dialog("广州", "秘书", "2017年10月15日", id_number)[:7]:
        await chat.say(line)
    # At the level prompt: the phone number volunteered with the ID number again is taken.
    await chat.say(f"我的身份证是{id_number}，电话13812345678")
    for line in ["中级", "广州市第一技工学校", "跳过"]:
        await chat.say(line)
    assert "受理编号" in await chat.say("确认弃考")

    dump = []
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = (await conn.execute(text(f"SELECT * FROM {table.name}"))).all()
            dump.extend(str(value) for row in rows for value in row)
    everything = "\n".join(dump)
    assert id_number not in everything
    assert id_number.lower() not in everything
    assert "13812345678" not in everything
    assert id_number[:4] + "**********" + id_number[-4:] in everything, "the masked form is what is kept"


async def test_the_transcript_is_masked_and_ordered(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services))
    await chat.say("我的电话13812345678")
    async with db.sessions() as session:
        lines = (await session.execute(select(TranscriptLine).order_by(TranscriptLine.id))).scalars().all()
    assert [line.direction for line in lines] == ["in", "out"]
    assert "138****5678" in lines[0].text


async def test_a_message_without_id_is_still_handled(db: Database, services: Services) -> None:
    engine = engine_for(db, services)
    key = ConversationKey("test", "no-id")
    replies = await engine.handle(Inbound(key=key, text="帮助"))
    assert replies and "我的申请" in replies[0].text


_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=string.digits + "XxＸ年月日.-/ ", max_size=25),
    st.sampled_from(
        [
            "退考退费",
            "取消",
            "返回",
            "修改手机号",
            "修改",
            "确认弃考",
            "是",
            "否",
            "广州",
            "厦门",
            "电工",
            "转人工",
            "帮助",
        ]
    ),
)
_EVENT = st.sampled_from(["subscribe", "unsubscribe", "image", "", "LOCATION", *Command])


@pytest.fixture
def fuzz_db(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[asyncio.Runner, Database]]:
    """One event loop and one database for every example of the property test below, each example
    talking as a new user: a database per example spent most of the test's time opening connections
    and compiling SQL for its new engine."""
    with asyncio.Runner() as runner:
        db = Database(fresh_sqlite(sqlite_template, tmp_path / "bot.db"))
        try:
            yield runner, db
        finally:
            runner.run(db.dispose())


_fuzz_users = itertools.count()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],  # fuzz_db: shared on purpose
    database=None,
)
@given(st.lists(st.one_of(_TEXT, _EVENT.map(lambda e: ("event", e))), min_size=1, max_size=12))
def test_random_messages_never_raise_and_always_reply(
    fuzz_db: tuple[asyncio.Runner, Database], services: Services, messages
) -> None:
    runner, db = fuzz_db

    async def scenario() -> None:
        engine = ConversationEngine(db, services, SettableClock(DAY))
        key = ConversationKey("fuzz", f"u{next(_fuzz_users)}")
        for i, message in enumerate(messages):
            if isinstance(message, tuple) and isinstance(message[1], Command):
                inbound = Inbound(key=key, command=message[1], message_id=str(i))
            elif isinstance(message, tuple):
                inbound = Inbound(key=key, event=message[1] or None, message_id=str(i))
            else:
                inbound = Inbound(key=key, text=message, message_id=str(i))
            replies = await engine.handle(inbound)
            if not replies and inbound.event != "unsubscribe":
                # Silence only for a candidate already told that staff will reply to what they write.
                async with db.sessions() as session:
                    assert await open_handoff(session, channel=key.channel, user_id=key.user_id), message
                    state = await session.scalar(select(Conversation.state).where(Conversation.user_id == key.user_id))
                assert state is not None and state["handoff"]["told"], message
            if inbound.event != "unsubscribe":
                assert all(r.text.strip() for r in replies)
                assert not any("抱歉，系统暂时无法处理" in r.text for r in replies), message

    runner.run(scenario())


async def test_at_the_summary_a_bare_edit_offers_the_answers_to_change(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services))
    for line in dialog("广州", "秘书", "2017年10月15日", make_id_number(seq=778)):
        await chat.say(line)
    assert chat.replies[-1].choices == ("确认弃考", "修改", "取消")
    assert "请选择要修改的项目" in await chat.say("修改")
    offered = chat.replies[-1].choices
    assert "修改手机号" in offered and "修改姓名" in offered and offered[-1] == "返回确认"
    assert "修改个人信息处理" not in offered, "consent is given or not, not edited"
    assert "确认无误" in await chat.say("返回确认")
    assert "手机号" in await chat.say("修改手机号")
    await chat.say("13912345678")
    assert "受理编号" in await chat.say("确认弃考")


async def test_the_region_question_offers_the_regions_with_online_withdrawal(db: Database, services: Services) -> None:
    chat = Chat(engine_for(db, services))
    assert "哪个省份或城市" in await chat.say("退考退费")
    offered = chat.replies[-1].choices
    covered = tuple(dict.fromkeys(withdrawal_regions(services.knowledge.current.kb)))
    assert offered and offered == covered[: len(offered)]
    # A button is an answer the form takes.
    assert "哪个省份或城市" not in await chat.say(offered[0])
