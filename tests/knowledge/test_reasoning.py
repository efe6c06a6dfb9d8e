"""Structured questions are answered by reasoning over the knowledge base, not by canned text."""

from __future__ import annotations

import datetime as dt

import pytest

D = dt.date


def test_deadline_ahead_says_how_many_days_are_left(qa):
    a = qa.answer("我想在广州退考，还来得及吗", now=D(2017, 9, 27))
    assert a.matched and a.sources[0] == "穗人社职鉴函〔2017〕145号"
    assert "2017年9月30日" in a.text and "还有3天" in a.text


def test_deadline_today_is_the_last_day(qa):
    a = qa.answer("广州退考退费登记截止哪天", now=D(2017, 9, 30))
    assert "今天" in a.text and "最后一天" in a.text


def test_deadline_passed_gives_the_consequence(qa):
    a = qa.answer("广州退考退费现在还能登记吗", now=D(2017, 10, 20))
    assert a.matched
    assert "已过" in a.text
    assert "视为选择继续参加考试" in a.text


def test_city_notice_wins_over_the_province_for_a_city_candidate(qa):
    city = qa.answer("退考退费登记截止哪天", region="广州")
    province = qa.answer("退考退费登记截止哪天", region="深圳")
    assert "9月30日" in city.text and city.sources[0] == "穗人社职鉴函〔2017〕145号"
    assert "9月22日" in province.text and province.sources[0] == "粤人社职鉴〔2017〕70号"


def test_the_citys_own_notice_wins_when_the_provinces_scores_slightly_higher(qa):
    # 70号 and 145号 both say refunds go back the way they were paid; a 广州 candidate is answered
    # from 145号, which implements 70号 for the city.
    a = qa.answer("广州那边退考的钱是怎么退回来的", now=D(2017, 10, 1))
    assert a.matched and a.sources[0] == "穗人社职鉴函〔2017〕145号" and "原路退回" in a.text


@pytest.mark.parametrize("question", ["吉林物流师的补考是那天", "吉林物流师补考在那天"])
def test_which_day_written_with_the_wrong_character_is_read_as_which_day(qa, question):
    a = qa.answer(question, now=D(2017, 3, 1))
    assert a.matched and "吉人社办字〔2017〕11号" in a.sources and "5月20日" in a.text


def test_a_month_named_with_the_day_asked_prefers_the_dates_in_that_month(qa):
    # Registration (September–October) and the exam (November) both match 下半年统考.
    a = qa.answer("吉林下半年统考是11月几号", now=D(2017, 6, 1))
    assert a.matched and "11月18日" in a.text and "9月5日" not in a.text


def test_the_money_of_a_fee_is_the_fee(qa):
    a = qa.answer("广州日常鉴定的钱得提前多久交齐啊", now=D(2017, 10, 1))
    assert a.matched and "考前7个工作日" in a.text


def test_no_region_gives_each_regions_answer(qa):
    a = qa.answer("退考退费登记截止到哪天")
    assert a.kind == "multi_region" and a.asks_region
    assert "9月30日" in a.text and "9月22日" in a.text
    assert {"穗人社职鉴函〔2017〕145号", "粤人社职鉴〔2017〕70号"} <= set(a.sources)


@pytest.mark.parametrize(
    ("question", "now", "expected"),
    [
        ("吉林日常鉴定2026年6月22日考试，报名最晚哪天", D(2026, 5, 1), "2026年6月5日"),  # Dragon Boat Festival
        ("广州日常鉴定2026年5月11日考试，鉴定费最晚哪天交", D(2026, 4, 1), "2026年4月28日"),  # May Day, 9 May worked
        # Sat 10 Oct worked; 1–7 Oct (National Day) and Fri 25 Sep (Mid-Autumn) off.
        ("广州日常鉴定2026年10月12日考，鉴定费哪天前交", D(2026, 9, 1), "2026年9月24日"),
        ("吉林2026年9月19日考的日常鉴定，成绩最晚哪天出", D(2026, 9, 20), "2026年10月15日"),
    ],
)
def test_working_day_deadlines_use_the_official_calendar(qa, question, now, expected):
    a = qa.answer(question, now=now)
    assert a.matched, a.text
    assert expected in a.text, a.text


def test_year_without_calendar_data_says_so(qa):
    a = qa.answer("吉林日常鉴定2031年3月10日考试，报名截止哪天", now=D(2031, 1, 5))
    assert a.matched
    assert "2031年2月24日" in a.text  # ten weekdays back from Monday 10 March
    assert "尚未收录" in a.text and "只按周末推算" in a.text


def test_relative_rule_without_a_date_asks_for_one(qa):
    a = qa.answer("吉林日常鉴定报名截止是考前几个工作日")
    assert "10个工作日" in a.text and "告诉我定期鉴定日是哪天" in a.text


@pytest.mark.parametrize(("question", "typed"), [("电功退出目录了吗", "电功"), ("福建的钳工还能考吗", None)])
def test_occupation_on_the_exit_list(qa, question, typed):
    a = qa.answer(question, region="福建", now=D(2020, 9, 1))
    assert a.kind == "occupation_status" and a.matched
    assert "退出" in a.text and "2020年9月30日" in a.text and "还有29天" in a.text
    assert "闽人社办〔2020〕143号" in a.sources
    if typed:
        assert f"您说的“{typed}”" in a.text


def test_exit_list_after_the_cut_off_points_to_skill_level_recognition(qa):
    a = qa.answer("育婴员还能考职业资格证吗", region="福建", now=D(2021, 3, 1))
    assert "已过" in a.text and "职业技能等级" in a.text


def test_occupation_not_on_the_list_is_said_so_not_guessed(qa):
    a = qa.answer("焊工退出目录了吗", region="福建")
    assert "焊工不在" in a.text and "42个职业" in a.text and "转人工" in a.text


def test_occupation_without_region_names_the_regions_that_list_it(qa):
    a = qa.answer("企业人力资源管理师还能考吗")
    assert "福建省" in a.text and "吉林省" in a.text
    assert {"闽人社办〔2020〕143号", "吉人社办字〔2017〕11号"} <= set(a.sources)


def test_region_without_a_notice_abstains(qa):
    a = qa.answer("北京电工证还能考吗")
    assert not a.matched and "北京市" in a.text and "转人工" in a.text


def test_every_answer_names_its_source(qa):
    for q in ("技师理论考试多长时间", "竞赛类鉴定费什么时候交", "江苏证书遗失了怎么办", "技工院校试点对象是谁"):
        a = qa.answer(q)
        assert a.matched and a.sources, q
        assert all(doc in a.text for doc in a.sources), q


@pytest.mark.parametrize(
    ("question", "doc", "count"),
    [
        ("广州这份落实目录的通知一共有几个附件？", "穗人社职鉴函〔2017〕145号", 3),
        ("福建退出目录的通知附件是什么", "闽人社办〔2020〕143号", 1),
    ],
)
def test_a_notices_attachments_are_listed_from_its_header(qa, question, doc, count):
    a = qa.answer(question, now=D(2020, 10, 1))
    assert a.matched and a.sources == (doc,) and f"共有{count}个附件" in a.text


def test_the_attachments_of_the_shipped_notices_are_those_the_seeds_list(kb):
    seeds = {n.doc_no: n.attachments for n in kb.notices.values()}
    assert seeds["粤人社职鉴〔2017〕70号"] == ["个人弃考声明", "“双证书”毕业生计划参加职业技能鉴定情况统计表"]
    assert len(seeds["粤人社函〔2020〕61号"]) == 3 and seeds["苏人社函〔2020〕239号"] == []


def test_who_is_responsible_is_answered_with_the_rule_naming_the_bodies(qa):
    a = qa.answer("技师和高级技师归哪里鉴定？", region="吉林", now=D(2017, 6, 1))
    assert a.matched and ("省职业技能鉴定中心" in a.text or "省鉴定中心" in a.text)


def test_regions_that_differ_get_a_short_line_each_with_their_dates(qa):
    a = qa.answer("市属职业院校的双证书统计表截止日期是哪天？", now=D(2017, 10, 1))
    assert a.kind == "multi_region" and "2017年12月20日" in a.text and "2017年12月30日" in a.text
    region_lines = [line for line in a.text.split("\n") if line.startswith("【")]
    assert len(region_lines) >= 2 and all(len(line) <= 160 for line in region_lines), region_lines


def test_whether_it_is_still_possible_is_answered_with_the_deadline_first(qa):
    # 还能申请退费吗 asks whether the registration deadline has passed, not how refunds are paid.
    a = qa.answer("广东的还能申请退费吗", now=D(2017, 10, 5))
    first = a.text.split("\n")
    assert a.matched and "9月22日" in first[0] and "已过" in a.text


def test_an_exam_over_two_days_counts_after_from_its_last_day(qa):
    a = qa.answer("吉林2017年下半年统一鉴定11月18、19日考，成绩最晚哪天要公布？")
    assert a.matched and "2017年12月15日" in a.text


def test_all_certificates_issued_is_the_certificate_deadline(qa):
    a = qa.answer("水平评价类职业资格证书最晚什么时候前要全部发完？", region="江苏", now=D(2020, 10, 1))
    assert a.matched and "2021年2月1日" in a.text


def test_a_city_that_restates_its_provinces_deadline_is_answered_and_cited_from_its_own_notice(qa):
    a = qa.answer("厦门2020年9月30日以后还受理电工报名吗？", now=D(2020, 9, 20))
    assert (
        a.matched and "在厦门" in a.text and "厦人社〔2020〕141号" in a.sources and "（厦人社〔2020〕141号）" in a.text
    )


def test_when_an_occupations_exam_is_asks_the_date_not_the_list(qa):
    a = qa.answer("吉林秘书考试是哪天", now=D(2017, 6, 1))
    assert a.matched and "5月20日" in a.text and "11月18日" in a.text


def test_regions_that_say_the_same_rule_are_answered_once_citing_each(qa):
    answer = qa.answer("弃考声明签了以后能变更吗", now=dt.date(2017, 10, 1))
    assert answer.matched and "各地规定不同" not in answer.text
    assert "不可变更" in answer.text, "the rule in full, not its gist"
    assert {"穗人社职鉴函〔2017〕145号", "粤人社职鉴〔2017〕70号"} <= set(answer.sources)


def test_the_province_level_asked_for_picks_the_provinces_rule(qa):
    answer = qa.answer("双证书统计表省里的联系人是谁", now=dt.date(2017, 10, 1))
    assert answer.matched and "戴宇虹" in answer.text and "张宗辉" not in answer.text, answer.text


def test_a_list_status_counts_from_today_once_and_names_the_list_briefly(qa):
    a = qa.answer("福建电工证还能报名吗", now=dt.date(2020, 8, 25))
    assert a.kind == "occupation_status" and "共42个职业" in a.text
    assert a.text.count("按今天") == 1 and a.text.count("还有") >= 3, a.text


def test_two_asks_joined_by_a_comma_are_each_answered_when_both_are_sure(qa):
    a = qa.answer("退出目录的有多少项职业资格，共涉及几个职业", now=dt.date(2020, 9, 1))
    assert a.kind == "parts" and "22项" in a.text and "42个职业" in a.text, a.text
    # …but not when a part would only be guessed: the whole question is read as one.
    b = qa.answer("考评员资格证怎么考，要什么条件", now=dt.date(2020, 9, 1))
    assert b.kind != "parts", b.text
