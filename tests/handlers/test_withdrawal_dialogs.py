"""Whole withdrawal dialogs through the real engine and a real database, for every region whose
notice provides for withdrawal with refund."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from handlers.context import Services
from handlers.engine import ConversationEngine
from storage.database import Database
from storage.models import Conversation, Handoff, RequestEvent, WithdrawalRequest
from tests.dialogs import Chat, SettableClock, dialog, make_id_number

ID = make_id_number()
REFERENCE = re.compile(r"受理编号：(QK-\d{8}-\d{4})")


def engine_at(db: Database, services: Services, day: dt.date) -> tuple[ConversationEngine, SettableClock]:
    clock = SettableClock(day)
    return ConversationEngine(db, services, clock), clock


async def stored(db: Database) -> list[WithdrawalRequest]:
    async with db.sessions() as session:
        return list((await session.execute(select(WithdrawalRequest).order_by(WithdrawalRequest.id))).scalars())


async def run(chat: Chat, lines: list[str]) -> str:
    reply = ""
    for line in lines:
        reply = await chat.say(line)
    return reply


@pytest.mark.parametrize(
    ("region", "day", "occupation", "exam", "scope", "doc_no", "wording"),
    [
        (
            "广州",
            dt.date(2017, 9, 27),
            "秘书",
            "2017年10月15日",
            "是",
            "穗人社职鉴函〔2017〕145号",
            "本人清楚选择弃考后不可变更",
        ),
        (
            "广东",
            dt.date(2017, 9, 21),
            "秘书",
            "10月28日",
            "是",
            "粤人社职鉴〔2017〕70号",
            "本人清楚选择弃考后不可变更",
        ),
        (
            "福建",
            dt.date(2020, 9, 1),
            "电工",
            "2020-10-20",
            None,
            "闽人社办〔2020〕143号",
            "对考生自愿放弃的，应退回有关费用",
        ),
        (
            "厦门",
            dt.date(2020, 9, 1),
            "美容师",
            "11.5",
            None,
            "闽人社办〔2020〕143号",
            "对考生自愿放弃的，应退回有关费用",
        ),
        ("江苏", dt.date(2020, 9, 20), "秘书", "2020年11月3日", "是", "苏人社函〔2020〕239号", "退回鉴定费用"),
    ],
)
async def test_a_request_is_filed_confirmed_and_stored(
    db: Database, services: Services, region, day, occupation, exam, scope, doc_no, wording
) -> None:
    engine, _ = engine_at(db, services, day)
    chat = Chat(engine)
    summary = await run(chat, dialog(region, occupation, exam, ID, scope=scope))
    assert doc_no in summary
    assert wording in summary
    assert ID not in summary, "the summary shows the ID number masked"
    assert ID[:4] + "**********" + ID[-4:] in summary
    assert "确认弃考" in chat.choices

    reply = await chat.say("确认弃考")
    reference = REFERENCE.search(reply)
    assert reference, reply
    assert reference.group(1) == f"QK-{day:%Y%m%d}-0001"
    assert "已提交" in reply and doc_no in reply

    [request] = await stored(db)
    assert request.reference == reference.group(1)
    assert request.status == "submitted"
    assert request.doc_no == doc_no
    assert request.occupation == occupation
    assert request.level == "四级/中级工"
    assert services.cipher.decrypt(request.id_number_cipher, context="id_number") == ID
    assert services.cipher.decrypt(request.phone_cipher, context="phone") == "13812345678"
    declaration = services.cipher.decrypt(request.declaration_cipher, context="declaration")
    assert ID in declaration and "张三" in declaration and occupation in declaration
    assert ID not in request.declaration_masked and "张*" in request.declaration_masked
    assert request.occupation_listed is (scope is None)

    mine = await chat.say("我的申请")
    assert reference.group(1) in mine and "已提交" in mine and ID not in mine


async def test_every_field_refuses_bad_input_first_and_keeps_the_form(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    await chat.say("我要退考")
    steps = [
        ("火星", "没有识别出地区", "广州"),
        ("随便", "请回复“是”“否”或“不确定”", "是"),
        ("12345", "中文名称", "秘书"),
        ("2月30日", "不存在", "2017年10月15日"),
        ("随便", "个人信息处理说明", "同意"),
        ("张", "姓名", "张三"),
        ("440103199001011234", "核对", ID),
        ("超级", "五级/初级工", "中级"),
        ("!!!", "机构", "广州市第一技工学校"),
        ("票据@@", "跳过", "跳过"),
        ("12345", "11位", "13812345678"),
    ]
    for bad, complaint, good in steps:
        reply = await chat.say(bad)
        assert complaint in reply, (bad, reply)
        reply = await chat.say(good)
        assert complaint not in reply or good == "跳过", (good, reply)
    assert "请核对您的退考退费登记" in reply
    assert len(await stored(db)) == 0


async def test_id_number_refusals_explain_themselves(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    await run(chat, ["退考退费", "广州", "是", "秘书", "2017年10月15日", "同意", "张三"])
    old = await chat.say("440103900101123")
    assert "15位" in old and "18位" in old
    assert "440103900101123" not in old
    wrong = ID[:-1] + ("0" if ID[-1] != "0" else "1")
    reply = await chat.say(wrong)
    assert "核对" in reply and wrong not in reply


async def test_an_exam_date_in_the_past_or_after_the_cutoff_is_refused(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    await run(chat, ["退考退费", "广州", "是", "秘书"])
    assert "已过" in await chat.say("2017年9月1日")
    late = await chat.say("2018年1月5日")
    assert "2017年12月31日" in late and "穗人社职鉴函〔2017〕145号" in late
    assert "姓名" in await chat.say("2017年11月2日")


async def test_fuzzy_occupation_is_confirmed_or_asked_again(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2020, 9, 1))
    chat = Chat(engine)
    await run(chat, ["退考退费", "厦门"])
    question = await chat.say("美容")
    assert "您是指『美容师』吗" in question and chat.choices == ("是", "否")
    assert "原定考试日期" in await chat.say("是")

    other = Chat(engine, user="u2")
    await run(other, ["退考退费", "福建"])
    assert "『育婴员』" in await other.say("育婴园")
    assert "请输入您报考的职业" in await other.say("不是")
    assert "原定考试日期" in await other.say("电工")


async def test_homophone_typo_of_a_listed_occupation_is_confirmed(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2020, 9, 1))
    chat = Chat(engine)
    await run(chat, ["退考退费", "福建"])
    assert "『电工』" in await chat.say("电功")


async def test_an_occupation_off_the_fujian_list_is_refused_with_the_source(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2020, 9, 1))
    chat = Chat(engine)
    await run(chat, ["退考退费", "福建"])
    reply = await chat.say("焊工")
    assert "不在" in reply and "闽人社办〔2020〕143号" in reply and "转人工" in reply
    assert "原定考试日期" in await chat.say("钳工"), "the form stays open for a corrected name"


async def test_not_in_scope_ends_the_request(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    await run(chat, ["退考退费", "广州"])
    reply = await chat.say("否")
    assert "无需也无法" in reply
    assert "没有正在办理" in await chat.say("取消")


async def test_after_the_deadline_nothing_is_stored_and_the_consequence_is_cited(
    db: Database, services: Services
) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 10, 1))
    chat = Chat(engine)
    reply = await run(chat, ["我要退考", "广州"])
    assert "2017年9月30日" in reply and "现已截止" in reply
    assert "视为选择继续参加考试" in reply and "穗人社职鉴函〔2017〕145号" in reply
    assert len(await stored(db)) == 0
    # Guangdong's own deadline (22 Sept) has passed too, although Guangzhou's had not on the 25th.
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    assert "现已截止" in await run(Chat(engine, user="u2"), ["退考退费", "广东"])


async def test_the_deadline_passing_before_confirmation_stops_the_submission(db: Database, services: Services) -> None:
    engine, clock = engine_at(db, services, dt.date(2017, 9, 30))
    chat = Chat(engine)
    await run(chat, dialog("广州", "秘书", "2017年10月15日", ID))
    clock.set(dt.date(2017, 10, 1))
    reply = await chat.say("确认弃考")
    assert "现已截止" in reply and "未提交" in reply
    assert len(await stored(db)) == 0


async def test_region_without_withdrawal_rules_says_so(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    reply = await run(Chat(engine), ["退考退费", "吉林"])
    assert "吉林省" in reply and "没有可在线登记的退考退费规定" in reply and "转人工" in reply


async def test_region_given_with_the_request_is_used(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    reply = await Chat(engine).say("我要退考，我在广州")
    assert "属于目录之外的职业吗" in reply, "asked positively (the double negative confused candidates)"


async def test_cancel_half_way_stores_nothing(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    await run(chat, ["退考退费", "广州", "是", "秘书", "2017年10月15日", "同意", "张三", ID])
    reply = await chat.say("取消")
    assert "已取消退考退费登记" in reply
    assert len(await stored(db)) == 0
    async with db.sessions() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
    assert "form" not in conversation.state
    assert "还没有提交过" in await chat.say("我的申请")


async def test_back_and_edit_change_a_field(db: Database, services: Services) -> None:
    engine, clock = engine_at(db, services, dt.date(2017, 9, 20))
    chat = Chat(engine)
    await run(chat, ["退考退费", "广州", "是", "秘书", "2017年10月15日"])
    assert "回到上一项" in await chat.say("返回") and "原定考试日期" in chat.replies[0].text
    await run(chat, ["2017年10月20日", "同意", "张三", ID, "中级", "广州市第一技工学校", "跳过", "13812345678"])
    assert "2017年10月20日" in chat.replies[0].text
    reply = await chat.say("修改手机号")
    assert "重新填写手机号" in reply
    summary = await chat.say("13900001111")
    assert "139****1111" in summary, "an edit goes straight back to the confirmation"
    await chat.say("修改地区")
    # The occupation and the exam date were validated against the region: they are asked again.
    await chat.say("广东")
    assert "属于目录之外的职业吗" in chat.replies[0].text
    assert "张*" not in chat.replies[0].text
    await run(chat, ["是", "秘书", "2017年10月20日"])
    summary = chat.replies[0].text
    assert "粤人社职鉴〔2017〕70号" in summary and "139****1111" in summary, "other fields were kept"

    # An edit that cannot go on (the region's deadline has passed) keeps the rest of the form.
    clock.set(dt.date(2017, 9, 27))
    await chat.say("修改地区")
    reply = await chat.say("广东")
    assert "现已截止" in reply and "重新填写地区" in reply
    assert "请核对您的退考退费登记" in await run(chat, ["广州", "是", "秘书", "2017年10月20日"])


async def test_anything_but_the_confirmation_phrase_keeps_the_form_open(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    await run(chat, dialog("广州", "秘书", "2017年10月15日", ID))
    for text in ("好的", "确认", "是"):
        assert "尚未提交" in await chat.say(text)
    assert len(await stored(db)) == 0
    assert "受理编号" in await chat.say("确认弃考")


async def test_a_question_in_the_middle_is_answered_and_the_form_resumes(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    await run(chat, ["退考退费", "广州", "是", "秘书"])
    reply = await chat.say("退的钱是原路返回吗？")
    assert "原路退回" in reply and "穗人社职鉴函〔2017〕145号" in reply
    assert "继续办理" in reply and "原定考试日期" in reply
    assert "个人信息处理说明" in await chat.say("2017年10月15日")


async def test_global_commands_work_inside_the_form(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    await run(chat, ["退考退费", "广州", "是"])
    help_text = await chat.say("帮助")
    assert "我的申请" in help_text and "请输入您报考的职业" in help_text
    handoff = await chat.say("转人工")
    assert "人工服务" in handoff and "RG-" in handoff
    assert "已在处理队列中" in await chat.say("转人工")
    async with db.sessions() as session:
        assert (await session.execute(select(func.count(Handoff.id)))).scalar_one() == 1
    # While the handoff is open what the candidate types is for staff; the form waits, then resumes.
    assert "原定考试日期" not in await chat.say("秘书")
    assert "请输入您报考的职业" in await chat.say("结束人工")
    assert "原定考试日期" in await chat.say("秘书"), "the form continues after the handoff"


async def test_a_second_request_for_the_same_exam_is_caught_at_the_id_number(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    first = Chat(engine, user="phone-a")
    await run(first, [*dialog("广州", "秘书", "2017年10月15日", ID), "确认弃考"])
    # The same account again: caught as soon as the ID number is typed, and shown its own request.
    lines = dialog("广州", "秘书", "2017年10月15日", ID)
    again = await run(first, lines[: lines.index(ID) + 1])
    assert "已为这场考试提交过" in again and "QK-20170927-0001" in again
    # Another account typing that ID number learns only that a request exists: no reference, date or status.
    second = Chat(engine, user="phone-b", channel="wechat")
    other = await run(second, lines[: lines.index(ID)] + [ID.lower()])
    assert "已为这场考试提交过" in other and "转人工" in other
    assert "QK-" not in other and "2017-09-27" not in other and "待审核" not in other
    assert len(await stored(db)) == 1
    # Another exam of the same person is a new request.
    third = await run(second, [*dialog("广州", "秘书", "2017年11月15日", ID), "确认弃考"])
    assert "QK-20170927-0002" in third
    async with db.sessions() as session:
        events = (await session.execute(select(func.count(RequestEvent.id)))).scalar_one()
    assert events == 2


async def test_a_new_process_continues_the_same_form(database_url: str, services: Services) -> None:
    first_db = Database(database_url)
    await first_db.migrate()
    engine = ConversationEngine(first_db, services, SettableClock(dt.date(2017, 9, 27)))
    await run(Chat(engine), ["退考退费", "广州", "是", "秘书", "2017年10月15日", "同意", "张三"])
    await first_db.dispose()

    restarted = Database(database_url)
    await restarted.migrate()
    engine = ConversationEngine(restarted, services, SettableClock(dt.date(2017, 9, 27)))
    chat = Chat(engine)
    assert "申报等级" in await chat.say(ID)
    reply = await run(chat, ["中级", "广州市第一技工学校", "跳过", "13812345678", "确认弃考"])
    assert "QK-20170927-0001" in reply
    await restarted.dispose()


async def test_same_message_id_three_times_is_handled_once(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    await run(chat, ["退考退费", "广州", "是"])
    replies = [await chat.say("秘书", message_id="wx-42") for _ in range(3)]
    assert replies[0] == replies[1] == replies[2]
    assert "原定考试日期" in replies[0]
    # Had the retry run again, "秘书" would have been taken as the exam date and refused.
    assert "个人信息处理说明" in await chat.say("2017年10月15日")


async def test_status_changes_show_in_my_requests_and_a_filed_request_cannot_be_edited(
    db: Database, services: Services
) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    await run(chat, [*dialog("广州", "秘书", "2017年10月15日", ID), "确认弃考"])
    refused = await chat.say("修改手机号")
    assert "不可由本人更改" in refused and "转人工" in refused
    async with db.transaction() as session:
        request = (await session.execute(select(WithdrawalRequest))).scalar_one()
        request.status, request.status_reason = "rejected", "考试已于报名前取消"
    mine = await chat.say("我的申请")
    assert "未通过" in mine and "考试已于报名前取消" in mine
    async with db.transaction() as session:
        request = (await session.execute(select(WithdrawalRequest))).scalar_one()
        request.status, request.refunded_on = "refunded", dt.date(2017, 10, 20)
    mine = await chat.say("我的申请")
    assert "已退费" in mine and "2017年10月20日" in mine


async def test_typing_the_id_number_at_a_name_check_accepts_the_name_and_takes_the_number(
    db: Database, services: Services
) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine, user="moved-on")
    lines = dialog("广州", "秘书", "2017年10月15日", ID)
    name_at = lines.index("张三")
    await run(chat, lines[:name_at])
    assert "请确认您的姓名是“鑫鑫”" in await chat.say("鑫鑫")  # no known family name: asked back
    assert "申报等级" in await chat.say(ID), "the ID number answered the next question; the name stands"
    await run(chat, [*lines[name_at + 2 :], "确认弃考"])
    [request] = await stored(db)
    assert request.name == "鑫鑫"


@pytest.mark.parametrize(
    "edit",
    ["修改手机号为139 0000 1111", "手机号改成+86 139-0000-1111", "号码填错了，修改手机号为13900001111"],
)
async def test_a_value_is_changed_in_one_message_at_the_summary(db: Database, services: Services, edit: str) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine, user="edit")
    assert "确认弃考" in await run(chat, dialog("广州", "秘书", "2017年10月15日", ID))
    reply = await chat.say(edit)
    assert "139****1111" in reply and "请核对" in reply, "the summary again, with the new number"
    assert "QK-" in await chat.say("确认弃考")
    [request] = await stored(db)
    assert services.cipher.decrypt(request.phone_cipher, context="phone") == "13900001111"


@pytest.mark.parametrize(
    ("answer", "goes_on"),
    [
        ("是", True),
        ("对，不在", True),
        ("不在目录里的", True),
        ("已经退出了", True),
        ("目录之外的", True),
        ("否", False),
        ("还在目录里", False),
        ("不属于", False),
    ],
)
async def test_the_scope_question_understands_natural_answers(
    db: Database, services: Services, answer: str, goes_on: bool
) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine, user=f"scope-{answer}")
    await run(chat, ["退考退费", "广州"])
    reply = await chat.say(answer)
    if goes_on:
        assert "请输入您报考的职业" in reply, reply
    else:
        assert "本次无需也无法在此登记退考退费" in reply, reply


async def test_personal_questions_wait_for_the_candidates_agreement(db: Database, services: Services) -> None:
    engine, _ = engine_at(db, services, dt.date(2017, 9, 27))
    chat = Chat(engine)
    notice = await run(chat, ["退考退费", "广州", "是", "秘书", "2017年10月15日"])
    for told in ("姓名、身份证号、手机号", "用途", "鉴定中心", "180 天", "删除我的信息"):
        assert told in notice, told
    assert chat.choices == ("同意", "不同意")
    assert "请先阅读" in await chat.say("张三"), "a name typed before agreeing is not taken"
    assert "姓名" in await chat.say("同意")
    await run(chat, ["张三", ID, "中级", "广州市第一技工学校", "跳过", "13812345678"])
    assert "已同意" in chat.replies[0].text, "the summary shows the agreement"
    await run(chat, ["确认弃考"])

    declines = Chat(engine, user="u2")
    reply = await run(declines, ["退考退费", "广州", "是", "秘书", "2017年10月15日", "不同意"])
    assert "无法在线办理" in reply and "转人工" in declines.choices
    assert "已结束" in reply
    [request] = await stored(db)
    async with db.sessions() as session:
        [event] = (await session.execute(select(RequestEvent).where(RequestEvent.request_id == request.id))).scalars()
    assert event.note and event.note.startswith("考生已同意个人信息处理说明（版本 ")
