"""An open 转人工 through the real engine and a real database: what the candidate types goes to staff
(told once, then silence), global commands still work, 结束人工 ends it, a form waits and resumes,
staff replies and closing, and the region the handoff is filed under."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from handlers import handoff_replies as replies
from handlers.context import Services
from handlers.engine import ConversationEngine
from handlers.handoff import TOLD
from handlers.messages import Command
from storage.database import Database
from storage.handoffs import CANDIDATE
from storage.models import (
    AnswerStat,
    Conversation,
    Handoff,
    OutboxMessage,
    Subscription,
    TranscriptLine,
    UnansweredQuestion,
    WithdrawalRequest,
)
from tests.dialogs import Chat, SettableClock, dialog, make_id_number

DAY = dt.date(2017, 9, 27)
WEB = replies.Reach(pushable=frozenset({"web"}), wechat_window=dt.timedelta(hours=47), wechat_template=False)
ABSTAINED = "鉴定费几号前得打过去"  # the bot has no reliable answer: a knowledge gap outside a handoff
ANSWERED = "广州退考退费登记截止到哪天？"
JIANGSU = "江苏已经受理的全省统考，考生不想考了怎么办"
STAFF_AT = dt.datetime(2017, 9, 27, 6, 0, tzinfo=dt.UTC)  # 14:00 in Beijing, after the candidate's messages


def chat_at(db: Database, services: Services, user: str = "u1", channel: str = "web", day: dt.date = DAY) -> Chat:
    return Chat(ConversationEngine(db, services, SettableClock(day)), user=user, channel=channel)


async def handoffs(db: Database) -> list[Handoff]:
    async with db.sessions() as session:
        return list((await session.execute(select(Handoff).order_by(Handoff.id))).scalars())


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def staff_reply(db: Database, handoff_id: int, text: str, token: str) -> replies.Result:
    """A member of staff (who sees every region) replies from the handoff's page."""
    async with db.transaction() as session:
        return await replies.reply(
            session, handoff_id=handoff_id, text=text, token=token, actor="li", visible=None, reach=WEB, now=STAFF_AT
        )


async def staff_close(db: Database, handoff_id: int, note: str | None, message: str | None = None) -> replies.Result:
    async with db.transaction() as session:
        return await replies.resolve(
            session,
            handoff_id=handoff_id,
            note=note,
            message=message,
            actor="li",
            visible=None,
            reach=WEB,
            now=STAFF_AT,
        )


async def test_messages_go_to_staff_told_once_then_silence_and_never_gaps(db: Database, services: Services) -> None:
    chat = chat_at(db, services)
    assert "RG-" in await chat.say("转人工")
    assert await chat.say("我的准考证号填错了，想改一下") == TOLD
    assert chat.choices == ("结束人工",)
    for text in (ABSTAINED, ANSWERED, "退考退费", "取消", "电话13812345678", "在吗？"):
        assert await chat.say(text) == "", text
        assert chat.replies == []

    [handoff] = await handoffs(db)
    assert handoff.status == "pending" and handoff.unread_after is not None
    assert (await count(db, UnansweredQuestion), await count(db, AnswerStat)) == (0, 0), "not gaps, not answers"
    async with db.sessions() as session:
        said = (
            await session.execute(
                select(TranscriptLine.text).where(TranscriptLine.direction == "in").order_by(TranscriptLine.id)
            )
        ).scalars()
        assert list(said)[1:] == [
            "我的准考证号填错了，想改一下",
            ABSTAINED,
            ANSWERED,
            "退考退费",
            "取消",
            "电话138****5678",  # kept masked, like every transcript line
            "在吗？",
        ]
        assert await session.scalar(select(func.count(WithdrawalRequest.id))) == 0
        state = await session.scalar(select(Conversation.state))
    assert state is not None and "form" not in state, "typing 退考退费 started no form"
    assert state["handoff"] == {"id": handoff.id, "told": True}


async def test_global_commands_still_work_and_menu_clicks_wait(db: Database, services: Services) -> None:
    chat = chat_at(db, services)
    await chat.say("转人工")
    help_text = await chat.say("帮助")
    assert "政策问答" in help_text and "正在处理中" in help_text and "结束人工" in help_text
    assert "还没有提交过" in await chat.say("我的申请")
    assert "还没有提交过" in await chat.command(Command.MY_REQUESTS)
    assert "已在处理队列中" in await chat.say("转人工")
    assert "已在处理队列中" in await chat.command(Command.HUMAN)
    held = await chat.command(Command.WITHDRAW)
    assert "请先回复“结束人工”" in held and "“退考退费”" in held and "省份" not in held
    assert len(await handoffs(db)) == 1
    assert await chat.say("我的问题是这样的") == TOLD, "commands are not what the acknowledgement is for"


async def test_the_candidate_ends_it_and_the_bot_answers_again(db: Database, services: Services) -> None:
    chat = chat_at(db, services)
    await chat.say("转人工")
    await chat.say("算了，我自己看看")  # 算了 cancels a form; here it is said to staff
    ended = await chat.say("取消人工")
    assert "已结束人工服务" in ended and "RG-" in ended
    [handoff] = await handoffs(db)
    assert (handoff.status, handoff.resolved_by) == ("resolved", CANDIDATE)
    assert "2017年9月30日" in await chat.say(ANSWERED)
    assert "当前没有进行中的人工服务" in await chat.say("结束人工")
    assert "已为您转接人工服务" in await chat.say("转人工"), "a new handoff after the old one ended"
    assert [h.status for h in await handoffs(db)] == ["resolved", "pending"]


async def test_a_form_in_progress_waits_and_resumes_after_the_handoff(db: Database, services: Services) -> None:
    chat = chat_at(db, services)
    for line in ["退考退费", "广州", "是"]:
        await chat.say(line)
    asked = await chat.say("转人工")
    assert "退考退费登记已保留" in asked and "请输入您报考的职业" not in asked
    assert await chat.say("秘书") == TOLD, "not an answer to the form: staff get it"
    help_text = await chat.say("帮助")
    assert "请输入您报考的职业" not in help_text, "the form does not speak while staff handle the conversation"
    resumed = await chat.say("结束人工")
    assert "已结束人工服务" in resumed and "请输入您报考的职业" in resumed
    assert "原定考试日期" in await chat.say("秘书")
    for line in dialog("广州", "秘书", "2017年10月15日", make_id_number())[4:]:
        reply = await chat.say(line)
    assert "确认弃考" in reply
    assert "受理编号" in await chat.say("确认弃考")


async def test_staff_reply_and_close(db: Database, services: Services) -> None:
    chat = chat_at(db, services)
    for line in ["退考退费", "广州", "是"]:
        await chat.say(line)
    await chat.say("转人工")
    [handoff] = await handoffs(db)
    # Staff write first: the candidate is talking with a person, nothing automatic comes in between.
    assert (await staff_reply(db, handoff.id, "您好，请说明您的问题", "t-1")).changed
    assert (await handoffs(db))[0].unread_after is None
    assert await chat.say("我报错了职业") == ""
    assert (await handoffs(db))[0].unread_after is not None, "unread again until staff look"
    assert (await staff_reply(db, handoff.id, "请重新填写即可", "t-2")).changed
    assert await chat.say("好的，谢谢") == ""

    done = await staff_close(db, handoff.id, "已解答", "祝考试顺利")
    assert done.changed and "考生不会收到" not in done.message
    again = await staff_close(db, handoff.id, None)
    assert not again.changed
    async with db.sessions() as session:
        closing = (await session.execute(select(OutboxMessage).where(OutboxMessage.key.like("handoff:%")))).scalars()
        [message] = list(closing)
    assert message.key == f"handoff:{handoff.id}:closed" and message.kind == "staff_reply" and not message.capped
    assert (
        message.text
        == f"【人工客服】祝考试顺利\n人工服务已结束（编号 RG-{handoff.id:05d}）。如还有问题，可随时回复“转人工”。"
    )

    # The first message afterwards is not taken as an answer to the form it interrupted.
    after = await chat.say("好的")
    assert "人工服务已结束" in after and "请输入您报考的职业" in after
    assert "原定考试日期" in await chat.say("秘书")
    assert await count(db, UnansweredQuestion) == 0


async def test_closing_without_words_sends_the_plain_notice(db: Database, services: Services) -> None:
    chat = chat_at(db, services)
    await chat.say("转人工")
    await chat.say("问个事")
    [handoff] = await handoffs(db)
    assert (await staff_close(db, handoff.id, "内部说明，不发给考生")).changed
    async with db.sessions() as session:
        [message] = list((await session.execute(select(OutboxMessage))).scalars())
        last = (await session.execute(select(TranscriptLine).order_by(TranscriptLine.id.desc()).limit(1))).scalar_one()
    assert message.text.startswith("人工服务已结束") and "内部说明" not in message.text
    assert (last.direction, last.staff, last.text) == ("out", None, message.text)
    assert "2017年9月30日" in await chat.say(ANSWERED), "the bot answers again"


async def test_the_handoff_goes_to_the_candidates_current_region(db: Database, services: Services) -> None:
    # The issue's example: a Jiangsu question long ago, then a Guangzhou request.
    chat = chat_at(db, services, user="gz")
    assert "苏人社函〔2020〕239号" in await chat.say(JIANGSU), "answered, so the conversation names 江苏省"
    for line in [*dialog("广州", "秘书", "2017年10月15日", make_id_number()), "确认弃考"]:
        await chat.say(line)
    await chat.say("转人工")
    assert [h.region for h in await handoffs(db)] == ["广州市"]

    # An open form's region comes first, even before the latest request's (later on, when Fujian's
    # notice is in force).
    chat = chat_at(db, services, user="gz", day=dt.date(2020, 10, 1))
    for line in ["结束人工", "退考退费", "福建"]:
        await chat.say(line)
    await chat.say("转人工")
    assert [h.region for h in await handoffs(db)] == ["广州市", "福建省"]

    # With no form and no request, the region the conversation last named.
    other = chat_at(db, services, user="js")
    await other.say(JIANGSU)
    await other.say("转人工")
    assert (await handoffs(db))[-1].region == "江苏省"

    # Knowing nothing else, the region of their latest subscription.
    async with db.transaction() as session:
        session.add(Subscription(channel="web", user_id="sub", region="厦门市", created_at=STAFF_AT))
    await chat_at(db, services, user="sub").say("转人工")
    assert (await handoffs(db))[-1].region == "厦门市"


@pytest.mark.parametrize("text", ["福建的 我有事要问人", "能转人工吗", "有没有真人啊", "我要找工作人员"])
async def test_a_person_asked_for_in_a_sentence_is_a_handoff(db: Database, services: Services, text: str) -> None:
    chat = chat_at(db, services, user=f"words-{text}")
    assert "已为您转接人工服务" in await chat.say(text)
    [handoff] = await handoffs(db)
    assert handoff.region == ("福建省" if "福建" in text else None)
