"""Follow-up questions read with the previous one: the region, notice and subject carry over
unless the follow-up names others; a follow-up about something the notices never cover stays out
of scope. And things the notices are never about are out of scope on their own too."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.qa import PolicyQA

DAY = dt.date(2017, 6, 1)
FIRST = "吉林统一鉴定哪天考"


def test_a_follow_up_keeps_the_region_and_the_exam_kind(qa: PolicyQA) -> None:
    answer = qa.answer("那报名呢", region="吉林省", now=DAY, previous=FIRST)
    assert answer.matched and "3月15日" in answer.text and "吉人社办字〔2017〕11号" in answer.sources
    assert answer.asked, "the question as understood is kept for the next follow-up"


def test_a_follow_up_naming_a_region_asks_the_previous_question_there(qa: PolicyQA) -> None:
    answer = qa.answer(
        "那厦门呢", region="福建省", now=dt.date(2020, 9, 1), previous="福建哪天起不再受理退出目录职业的报名"
    )
    assert answer.matched and "9月30日" in answer.text and "厦人社〔2020〕141号" in answer.sources


def test_a_question_that_stands_alone_is_not_read_as_a_follow_up(qa: PolicyQA) -> None:
    alone = qa.answer("广州退考退费登记截止到哪天？", now=dt.date(2017, 9, 27))
    after = qa.answer("广州退考退费登记截止到哪天？", now=dt.date(2017, 9, 27), previous=FIRST)
    assert after.text == alone.text


@pytest.mark.parametrize("follow_up", ["那身份证丢了怎么补", "那驾照呢", "技校一年学费多少"])
def test_a_follow_up_about_something_else_entirely_stays_out_of_scope(qa: PolicyQA, follow_up: str) -> None:
    answer = qa.answer(follow_up, region="吉林省", now=DAY, previous="吉林证书丢了能补办吗")
    assert not answer.matched


@pytest.mark.parametrize("question", ["身份证丢了怎么补办", "结婚登记要带什么证件", "吉林事业单位招聘什么时候报名"])
def test_things_the_notices_never_cover_are_out_of_scope(qa: PolicyQA, question: str) -> None:
    assert not qa.answer(question, now=DAY).matched


def test_a_question_in_two_parts_gets_both_answered(qa: PolicyQA) -> None:
    answer = qa.answer("吉林统一鉴定哪天考？那报名呢？", now=DAY)
    assert answer.matched and answer.kind == "parts"
    assert "5月20日" in answer.text and "3月15日" in answer.text


def test_a_question_whose_second_part_finds_nothing_is_answered_whole(qa: PolicyQA) -> None:
    whole = qa.answer("吉林统一鉴定哪天考？明天会下雨吗？", now=DAY)
    assert whole.kind != "parts"


def test_whether_it_is_still_possible_re_reasons_the_previous_answer_about_today(qa: PolicyQA) -> None:
    previous = "广东技工院校职业技能等级认定试点的备案申请什么时候截止？"
    answer = qa.answer("现在还能申请吗", region="广东省", now=dt.date(2020, 4, 10), previous=previous)
    assert answer.matched and "3月31日" in answer.text and "已过" in answer.text


def test_a_new_subject_replaces_the_previous_one(qa: PolicyQA) -> None:
    answer = qa.answer("那成绩多久出来", region="吉林省", now=DAY, previous="吉林日常鉴定初级工理论考试考多久？")
    assert answer.matched and "15个工作日" in answer.text


def test_a_region_switch_keeps_the_subject_even_when_worded_differently_there(qa: PolicyQA) -> None:
    answer = qa.answer(
        "那厦门呢", region="吉林省", now=dt.date(2020, 9, 1), previous="吉林职业技能鉴定报名咨询电话多少？"
    )
    assert answer.matched and "5320155" in answer.text and "厦人社〔2020〕141号" in answer.sources


def test_a_new_subject_keeps_how_the_previous_question_asked(qa: PolicyQA) -> None:
    # 证书呢 after a "when" question asks when, for certificates: the certificate deadline, not
    # how a lost certificate is replaced (which the subject alone would find).
    previous = "江苏第一批退出目录的职业资格评价什么时候收尾？"
    answer = qa.answer("证书呢", now=dt.date(2020, 9, 20), previous=previous)
    assert answer.matched and "2021年2月1日" in answer.text


def test_a_new_subject_is_found_in_the_facts_keywords_too(qa: PolicyQA) -> None:
    answer = qa.answer("考试呢", now=dt.date(2017, 3, 1), previous="吉林上半年统一鉴定报名是哪几天")
    assert answer.matched and "5月20日" in answer.text and "3月15日" not in answer.text


def test_what_comes_after_the_previous_step_is_a_follow_up(qa: PolicyQA) -> None:
    previous = "福建参加退出目录职业的鉴定前要签什么？"
    answer = qa.answer("签了以后交给谁保管", now=dt.date(2020, 9, 10), previous=previous)
    assert answer.matched and "存档" in answer.text


def test_whom_to_contact_is_answered_with_a_contact_and_switches_region(qa: PolicyQA) -> None:
    day = dt.date(2020, 9, 20)
    first = qa.answer("广东职业技能等级认定有问题联系谁？", now=day)
    assert first.matched and "83189554" in first.text
    answer = qa.answer("那江苏呢", now=day, previous="广东职业技能等级认定有问题联系谁？")
    assert answer.matched and "省职业技能鉴定中心" in answer.text and answer.sources == ("苏人社函〔2020〕239号",)


def test_a_when_question_prefers_the_fact_holding_a_date(qa: PolicyQA) -> None:
    # Both facts are about certificates in Jiangsu; only one of them says when.
    answer = qa.answer("江苏的证书什么时候停发", now=dt.date(2020, 10, 1))
    assert answer.matched and "2021年2月1日" in answer.text


def test_one_question_about_two_things_is_asked_of_each(qa: PolicyQA) -> None:
    answer = qa.answer("广东双证书统计表，部省属院校和市属院校分别哪天前交？", now=dt.date(2017, 10, 1))
    assert answer.matched and "2017年12月10日" in answer.text and "2017年12月30日" in answer.text
    assert len(answer.text.split("\n")) == len(set(answer.text.split("\n"))), "no line is shown twice"


def test_a_follow_up_is_read_by_an_answerer_with_variants_too(qa: PolicyQA) -> None:
    tuned = qa.with_variants([])
    answer = tuned.answer("那报名呢", region="吉林省", now=DAY, previous=FIRST)
    assert answer.matched and "3月15日" in answer.text


def test_the_very_facts_of_the_previous_answer_need_a_new_word_to_answer_a_follow_up(qa: PolicyQA) -> None:
    day = dt.date(2020, 9, 15)
    previous = "福建已经受理报名的退出目录职业，鉴定机构最晚哪天向指导中心提出鉴定申请？"
    answer = qa.answer("那鉴定要在什么时候前做完", now=day, previous=previous)
    assert answer.matched and "12月31日" in answer.text
    # The contact says both: 地址呢 after 电话多少 is answered by the same fact.
    address = qa.answer("地址呢", now=dt.date(2017, 10, 10), previous="广州命题部电话多少")
    assert address.matched and "东华南路148号" in address.text


def test_a_follow_up_about_a_year_no_notice_covers_says_so(qa: PolicyQA) -> None:
    answer = qa.answer("那2018年上半年呢", now=DAY, previous="吉林全省统一鉴定上半年是哪天？")
    assert not answer.matched and "2018" in answer.text


def test_a_short_second_part_leans_on_the_first(qa: PolicyQA) -> None:
    answer = qa.answer("吉林下半年统一鉴定哪天考？报名又是啥时候？", now=DAY)
    assert answer.matched and "11月18日" in answer.text and "9月5日" in answer.text


def test_a_second_part_is_not_answered_with_the_first_parts_fact(qa: PolicyQA) -> None:
    answer = qa.answer("广东技工院校试点什么时候前接受备案申请？试点从几月开始？", now=dt.date(2020, 3, 1))
    assert answer.matched and "3月31日" in answer.text and "5月" in answer.text


def test_next_year_asked_after_a_dated_answer_is_said_to_be_uncovered(qa: PolicyQA) -> None:
    answer = qa.answer("明年的呢", now=dt.date(2017, 12, 1), previous="吉林统一鉴定下半年报名是哪几天")
    assert not answer.matched and "2018" in answer.text


def test_whether_it_is_still_possible_adds_the_dates_to_a_rule_without_them(qa: PolicyQA) -> None:
    answer = qa.answer("吉林去年考没过的，那些国务院取消的职业还能补考吗", now=DAY)
    assert answer.matched and "4月22日" in answer.text and "5月20日" in answer.text


def test_not_sixteen_yet_is_the_notices_under_sixteen(qa: PolicyQA) -> None:
    answer = qa.answer("广州以前有学生没满16岁考的试一直没发证，现在还能补办吗", now=dt.date(2017, 11, 1))
    assert answer.matched and "12月31日" in answer.text


def test_a_correction_re_asks_the_previous_question_about_what_it_names(qa: PolicyQA) -> None:
    answer = qa.answer("不对，我是问报名", now=DAY, previous=FIRST)
    assert answer.matched and answer.text.startswith("2017年全国、全省统一鉴定报名日期")


def test_a_follow_up_naming_another_occupation_asks_the_previous_question_of_it(qa: PolicyQA) -> None:
    day = dt.date(2020, 9, 1)
    answer = qa.answer("那修电梯的呢", now=day, previous="福建做面点的证还在目录里吗")
    assert answer.matched and "电梯安装维修工" in answer.text and "中式面点师" not in answer.text


def test_missing_the_day_asks_the_consequence(qa: PolicyQA) -> None:
    previous = "广州目录外职业退考退费登记截止哪天"
    # The conversation knows the region (广州) from the question before.
    answer = qa.answer("过了日子没登记会怎样", region="广州市", now=dt.date(2017, 9, 28), previous=previous)
    assert answer.matched and "继续参加考试" in answer.text


def test_whether_another_occupation_also_counts_is_a_membership_question(qa: PolicyQA) -> None:
    answer = qa.answer("带小孩的育婴员也算吗", now=dt.date(2020, 9, 1), previous="厦门做美发的还能报吗")
    assert answer.matched and "育婴员" in answer.text


def test_a_correction_never_gets_the_previous_answer_again(qa: PolicyQA) -> None:
    day = dt.date(2017, 9, 28)
    previous = qa.answer("广州退考退费登记截止哪天", now=day)
    answer = qa.answer("不对，我是问钱怎么退", now=day, previous="广州退考退费登记截止哪天")
    assert answer.matched and answer.fact_ids[:1] != previous.fact_ids[:1] and "原路退回" in answer.text


def test_an_occupations_certificate_is_not_a_switch_of_topic(qa: PolicyQA) -> None:
    # 厨师证 is about 厨师: the previous question (still open for registration?) asked of it.
    answer = qa.answer("那厨师证呢", now=dt.date(2020, 8, 1), previous="福建电工证现在还能报名吗")
    assert answer.matched and answer.kind == "occupation_status" and "9月30日" in answer.text


def test_a_repaired_exam_centre_is_an_exam_institution(qa: PolicyQA) -> None:
    answer = qa.answer("厦门的坚定站什么时候不收报名了", now=dt.date(2020, 9, 1))
    assert answer.matched and "9月30日" in answer.text


def test_a_second_part_with_no_subject_of_its_own_is_answered_by_the_first_parts_fact(qa: PolicyQA) -> None:
    # 最晚哪天 asks when of the same registration: not some other dated fact of the notice.
    answer = qa.answer("弃考要去哪里登记？截止到哪天？", region="广州", now=dt.date(2017, 9, 27))
    assert answer.matched and "原报考机构" in answer.text and "9月30日" in answer.text
    assert "未满16周岁" not in answer.text


def test_a_compound_another_notice_uses_as_one_word_counts_where_a_fact_says_it_in_two(qa: PolicyQA) -> None:
    # 证书发放 is one word of other notices; 江苏's cut-off says 证书…不得发放.
    position = qa._retriever.position["js239.certificate-deadline"]
    coverage, matched = qa.index.coverage(["证书发放"], position)
    assert matched == ("证书发放",) and coverage > 0.5
    assert qa.index.coverage(["证书发放"], qa._retriever.position["js239.complaint-phone"])[0] == 0.0


def test_several_occupations_asked_together_are_each_answered(qa: PolicyQA) -> None:
    answer = qa.answer("福建的美容师和育婴员是不是都不能考了", now=dt.date(2020, 10, 10))
    assert answer.kind == "occupation_status"
    assert "【福建省】美容师" in answer.text and "【福建省】育婴员" in answer.text
    # The dates the two share are said once.
    assert answer.text.count("不再受理相关职业资格的考生报名工作") == 1, answer.text


def test_an_occupation_named_after_several_replaces_them_all(qa: PolicyQA) -> None:
    answer = qa.answer("那修车的呢", now=dt.date(2020, 10, 10), previous="福建的美容师和育婴员是不是都不能考了")
    assert "汽车维修工" in answer.text
    assert "美容师" not in answer.text and "育婴员" not in answer.text, answer.text


def test_a_follow_up_on_what_the_previous_fact_only_mentions_finds_its_own_fact(qa: PolicyQA) -> None:
    # The withdrawal rule mentions 考试 in passing (继续参加考试); 完成 is what is asked now.
    answer = qa.answer("那考试要在什么时候之前完成", now=dt.date(2017, 9, 20), previous="广州退考登记最晚哪天")
    assert answer.matched and "12月31日" in answer.text, answer.text


@pytest.mark.parametrize("bare", ["证书", "补考"])
def test_a_bare_noun_after_a_question_is_read_as_a_follow_up(qa: PolicyQA, bare: str) -> None:
    answer = qa.answer(bare, now=dt.date(2020, 9, 1), previous="厦门退出目录的职业哪天起不再受理报名")
    assert answer.kind != "multi_region" and answer.sources == ("闽人社办〔2020〕143号",), answer.text


def test_which_of_a_list_the_candidates_everyday_names_mean(qa: PolicyQA) -> None:
    # 其中 leans on the list just talked about; two everyday names, each answered from it.
    answer = qa.answer(
        "其中修车和开吊车的是哪几个", now=dt.date(2020, 8, 20), previous="福建退出目录的职业一共有多少个"
    )
    assert answer.kind == "occupation_status"
    assert "汽车维修工" in answer.text and "起重装卸机械操作工" in answer.text, answer.text


def test_a_word_inside_a_longer_one_does_not_make_a_question_out_of_scope(qa: PolicyQA) -> None:
    assert not qa.analyzer.is_foreign("能不能组织学生去外地集中考")
    assert qa.analyzer.is_foreign("孩子明年中考报名在哪")


@pytest.mark.parametrize(
    ("previous", "day", "verdict"),
    [
        ("厦门美容师最晚报名到哪天", dt.date(2020, 8, 25), "还来得及"),
        ("广州退考登记截止哪天", dt.date(2017, 10, 5), "已经过了"),
    ],
)
def test_whether_it_is_still_possible_is_answered_with_a_verdict_first(
    qa: PolicyQA, previous: str, day: dt.date, verdict: str
) -> None:
    answer = qa.answer("现在还来得及吗", now=day, previous=previous)
    assert answer.text.startswith(verdict), answer.text


def test_a_follow_up_the_combined_reading_cannot_answer_tries_the_others(qa: PolicyQA) -> None:
    # 要带啥 read with the registration dates finds no materials there; the materials list answers.
    answer = qa.answer("要带啥", now=dt.date(2017, 6, 1), previous="吉林下半年统一鉴定什么时候报名")
    assert answer.matched and "身份证" in answer.text, answer.text


@pytest.mark.parametrize("follow_up", ["省里那个哪天发的", "省里的那个是哪天印发的"])
def test_the_provinces_notice_asked_after_a_citys_is_the_one_it_forwards(qa: PolicyQA, follow_up: str) -> None:
    answer = qa.answer(follow_up, region="厦门市", now=dt.date(2020, 9, 1), previous="厦门退出目录的通知是几号文")
    assert "闽人社办〔2020〕143号" in answer.sources and "7月31日" in answer.text, answer.text
