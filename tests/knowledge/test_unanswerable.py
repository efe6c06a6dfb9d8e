"""Questions the notices cannot answer although a fact shares their words: the bot says why it
abstains instead of answering about something else."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.qa import PolicyQA

DAY = dt.date(2020, 10, 1)


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("人社部发〔2017〕68号公布的目录一共有多少项职业资格？", "人社部发〔2017〕68号"),
        ("人社厅发[2020]80号里第二批是哪天退出", "人社厅发[2020]80号"),
    ],
)
def test_the_content_of_a_document_not_held_is_not_answered_from_another(qa: PolicyQA, question: str, why: str) -> None:
    answer = qa.answer(question, now=DAY)
    assert not answer.matched and why in answer.text and "没有找到可靠的答案" in answer.text


def test_how_a_held_notice_relates_to_another_document_is_still_answered(qa: PolicyQA) -> None:
    answer = qa.answer("福建143号是落实人社厅发〔2020〕80号的吗", now=DAY)
    assert answer.matched and "闽人社办〔2020〕143号" in answer.sources


@pytest.mark.parametrize("question", ["吉林2019年下半年统一鉴定哪天考？", "吉林2018年上半年统考报名几号开始"])
def test_a_year_no_notice_has_dates_for_is_said_so(qa: PolicyQA, question: str) -> None:
    answer = qa.answer(question, now=DAY)
    assert not answer.matched and "2017年" in answer.text


def test_a_year_the_fact_speaks_of_is_answered(qa: PolicyQA) -> None:
    # 2014 is in the fact (exams before October 2014); the deadline itself is in 2017.
    answer = qa.answer("广州2014年考的没满16岁没出证，补办最晚哪天", now=dt.date(2017, 10, 1))
    assert answer.matched and "12月31日" in answer.text


def test_an_amount_no_notice_states_is_said_so(qa: PolicyQA) -> None:
    answer = qa.answer("广州目录外职业的鉴定费一次要交多少钱？", now=dt.date(2017, 9, 1))
    assert not answer.matched and "金额" in answer.text


def test_a_date_asked_for_a_year_a_standing_rule_does_not_speak_of_is_said_so(qa: PolicyQA) -> None:
    # The best fact is the pilot's conditions (a standing rule, no date), from a 2020 notice.
    answer = qa.answer("2022年广东技工院校第二批职业技能等级认定试点什么时候申报？", now=DAY)
    assert not answer.matched and "2022" in answer.text and "2020年的通知" in answer.text


def test_a_standing_rule_still_answers_whether_something_holds_in_a_later_year(qa: PolicyQA) -> None:
    # 还能 asks whether it still holds, not for a date of that year.
    answer = qa.answer("江苏2021年证书丢了还能补办吗", now=dt.date(2021, 3, 1))
    assert answer.matched and "苏人社函〔2020〕239号" in answer.sources


def test_a_year_in_another_clause_is_context_not_the_year_asked(qa: PolicyQA) -> None:
    # 2016 is when the candidate failed; the make-up dates asked are 2017's.
    answer = qa.answer("吉林国务院取消的统一鉴定职业，2016年没考过的，补考在哪天？", now=dt.date(2017, 3, 1))
    assert answer.matched and "5月20日" in answer.text


def test_a_special_equipment_licence_is_not_a_skill_certificate(qa: PolicyQA) -> None:
    assert not qa.answer("厦门考叉车证去哪里报名？", now=DAY).matched


@pytest.mark.parametrize("question", ["广东试点院校的名单里都有哪些学校", "江苏第二批退出目录的具体有哪些职业"])
def test_the_members_of_a_list_no_notice_gives_are_not_answered_with_another_fact(qa: PolicyQA, question: str) -> None:
    answer = qa.answer(question, now=dt.date(2020, 10, 1))
    assert not answer.matched and answer.kind == "unanswerable" and "名单" in answer.text


def test_a_list_the_notice_gives_is_still_answered(qa: PolicyQA) -> None:
    answer = qa.answer("福建退出目录的具体是哪些职业", now=dt.date(2020, 10, 1))
    assert answer.matched and "电工" in answer.text


@pytest.mark.parametrize("question", ["广州考电工要交多少鉴定费", "福建的考试费一般是多少", "吉林鉴定费标准是多少"])
def test_a_fee_amount_no_notice_states_is_said_to_be_missing(qa: PolicyQA, question: str) -> None:
    answer = qa.answer(question, now=dt.date(2017, 10, 1))
    assert not answer.matched and "金额" in answer.text


def test_how_many_days_to_pay_a_fee_is_no_amount(qa: PolicyQA) -> None:
    assert qa.answer("广州日常鉴定费要提前多少个工作日交", now=dt.date(2017, 10, 1)).matched


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("吉林定期鉴定日具体是几号", "没有写明具体日期"),
        ("广东试点院校哪一天开始试点，具体日期是几号", "只写到月份"),
    ],
)
def test_a_calendar_day_no_fact_states_is_said_to_be_missing(qa: PolicyQA, question: str, why: str) -> None:
    answer = qa.answer(question, now=DAY)
    assert not answer.matched and why in answer.text, answer.text


def test_a_day_counted_from_one_the_candidate_gives_is_still_answered(qa: PolicyQA) -> None:
    answer = qa.answer("吉林日常鉴定2017年9月16日考的，成绩几号出", now=DAY)
    assert answer.matched and "工作日" in answer.text, answer.text


@pytest.mark.parametrize("question", ["江苏证书补办要多久能拿到", "福建鉴定自愿书要存档多久", "广州退费要多少天到账"])
def test_how_long_no_fact_states_is_said_to_be_missing(qa: PolicyQA, question: str) -> None:
    answer = qa.answer(question, now=DAY)
    assert not answer.matched and "没有写明需要多长时间" in answer.text, answer.text


@pytest.mark.parametrize(
    ("question", "span"), [("吉林单科合格成绩能保留多久", "一年"), ("吉林统计数据多久报一次", "季")]
)
def test_how_long_a_fact_states_is_answered(qa: PolicyQA, question: str, span: str) -> None:
    answer = qa.answer(question, now=DAY)
    assert answer.matched and span in answer.text, answer.text


@pytest.mark.parametrize("question", ["延边州鉴定中心的联系电话", "佛山市人社局电话多少"])
def test_a_local_body_whose_contact_no_notice_gives_is_not_answered_with_the_province(
    qa: PolicyQA, question: str
) -> None:
    answer = qa.answer(question, now=DAY)
    assert not answer.matched and "联系方式" in answer.text, answer.text


def test_a_local_body_the_notice_names_is_answered_with_its_contact(qa: PolicyQA) -> None:
    answer = qa.answer("广州市职业技能鉴定指导中心的电话是多少", now=dt.date(2017, 10, 1))
    assert answer.matched and "83829402" in answer.text, answer.text


def test_the_members_of_a_group_of_schools_no_notice_lists_are_not_answered(qa: PolicyQA) -> None:
    answer = qa.answer("江苏那些重点技师学院都有哪些", now=DAY)
    assert not answer.matched and "名单" in answer.text, answer.text


@pytest.mark.parametrize(
    ("question", "detail"),
    [("吉林心理咨询师理论考多少分算及格", "及格分数"), ("江苏在线考务管理平台的网址是什么", "网址")],
)
def test_a_detail_no_fact_states_is_said_to_be_missing(qa: PolicyQA, question: str, detail: str) -> None:
    answer = qa.answer(question, now=DAY)
    assert not answer.matched and detail in answer.text, answer.text


def test_an_amount_asked_of_an_occupation_is_not_answered_with_its_list(qa: PolicyQA) -> None:
    answer = qa.answer("福建退出目录的美容师证换等级证书要多少钱", now=DAY)
    assert not answer.matched and "金额" in answer.text, answer.text


@pytest.mark.parametrize("question", ["广东试点学校有名单吗", "福建以后做等级认定的机构都有哪些"])
def test_a_list_of_schools_or_institutions_no_notice_gives_is_said_to_be_missing(qa: PolicyQA, question: str) -> None:
    # 福建's list is of occupations: it does not name the institutions asked for.
    answer = qa.answer(question, now=DAY)
    assert not answer.matched and "名单" in answer.text, answer.text


def test_a_day_of_a_month_no_fact_is_dated_in_is_said_to_be_missing(qa: PolicyQA) -> None:
    answer = qa.answer("广州目录外职业2017年10月的鉴定考试是几号", now=dt.date(2017, 9, 1))
    assert not answer.matched and "10月" in answer.text, answer.text


@pytest.mark.parametrize(
    ("question", "day", "why"),
    [
        ("广州鉴定指导中心命题部周末上班吗", "2017-10-01", "办公时间"),
        ("广州退考登记以后钱多久能退回来", "2017-09-27", "多长时间"),
        ("佛山市华材技师学院能申请试点吗", "2020-03-01", "没有点名具体学校"),
        ("2018年吉林鉴定工作怎么安排的", "2018-03-01", "2018年"),
    ],
)
def test_what_the_notices_leave_unsaid_is_said_so(qa: PolicyQA, question: str, day: str, why: str) -> None:
    answer = qa.answer(question, now=dt.date.fromisoformat(day))
    assert not answer.matched and why in answer.text, answer.text


def test_a_deadline_answers_how_long_is_left_but_not_how_long_a_step_takes(qa: PolicyQA) -> None:
    answer = qa.answer("广州退考登记还有多久截止", now=dt.date(2017, 9, 27))
    assert answer.matched and "9月30日" in answer.text, answer.text


def test_a_school_described_not_named_is_answered_with_the_conditions(qa: PolicyQA) -> None:
    answer = qa.answer("广东高水平技师学院试点能认定到什么级别", now=dt.date(2020, 3, 1))
    assert answer.matched and "技师及以下" in answer.text, answer.text


def test_which_batch_an_occupation_is_in_where_no_notice_lists_occupations_is_not_answered(qa: PolicyQA) -> None:
    answer = qa.answer("江苏的焊工属于第一批还是第二批", now=DAY)
    assert not answer.matched, answer.text
    other = qa.answer("江苏的电工还能报名吗", now=DAY)
    assert other.matched and other.text.startswith("江苏省的通知没有列出具体职业名单"), other.text


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("帮我把广州的鉴定费交了", "不能代为报名或缴费"),
        ("厦门市职业技能鉴定中心在哪个位置", "地址"),
        ("吉林统考成绩出来在哪查", "查询方式"),
        ("2019年江苏的鉴定考试怎么安排", "2019年"),
        ("苏州技师学院能开展社会化评价吗", "没有点名具体学校"),
    ],
)
def test_what_the_service_cannot_do_or_the_notices_do_not_say_is_said_so(qa: PolicyQA, question: str, why: str) -> None:
    answer = qa.answer(question, now=DAY)
    assert not answer.matched and why in answer.text, answer.text


def test_a_fee_asked_is_answered_by_the_fact_that_states_it(qa: PolicyQA) -> None:
    answer = qa.answer("广东试点院校发的证书上网查询收费吗", now=DAY)
    assert answer.matched and "免费" in answer.text, answer.text


def test_which_day_a_body_must_act_is_no_question_of_its_address(qa: PolicyQA) -> None:
    answer = qa.answer("福建鉴定机构要在哪天前向指导中心提出鉴定申请", now=DAY)
    assert answer.matched and "10月31日" in answer.text, answer.text


def test_materials_no_fact_lists_are_said_to_be_missing(qa: PolicyQA) -> None:
    answer = qa.answer("福建育婴员退出目录以后考等级证书要带哪些材料", now=DAY)
    assert not answer.matched and "所需材料" in answer.text, answer.text
    listed = qa.answer("吉林报名要带什么材料", now=dt.date(2017, 6, 1))
    assert listed.matched and "身份证" in listed.text, listed.text
