"""A notice governs from its issue date, and a region without rules of its own follows the nearest
enclosing region that has them: the withdrawal rules, their deadline check, and the answers."""

from __future__ import annotations

import datetime as dt

from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from knowledge.withdrawal import not_yet_issued, withdrawal_rules

D = dt.date
GZ = "穗人社职鉴函〔2017〕145号"  # 广州市, issued 2017-09-26
GD = "粤人社职鉴〔2017〕70号"  # 广东省, issued 2017-09-20
FJ = "闽人社办〔2020〕143号"  # 福建省, issued 2020-07-31


def doc(kb: KnowledgeBase, region: str, on: dt.date | None = None) -> str | None:
    rules = withdrawal_rules(kb, region, on=on)
    return rules.doc_no if rules else None


def test_a_region_follows_the_nearest_enclosing_rules(kb: KnowledgeBase) -> None:
    assert doc(kb, "番禺区") == GZ  # a district of 广州: the city's notice
    assert doc(kb, "汕头市") == GD  # a city of 广东 without a notice: the province's
    assert doc(kb, "思明区") == FJ  # 厦门's own notice has no withdrawal rules: 福建's
    assert doc(kb, "福州市鼓楼区") == FJ
    assert doc(kb, "长春市") is None  # 吉林's notice has no withdrawal rules
    assert doc(kb, "成都市") is None


def test_before_its_issue_date_a_notice_does_not_govern(kb: KnowledgeBase) -> None:
    assert doc(kb, "广州市", on=D(2017, 9, 21)) == GD  # 145号 not yet issued: 广东's 70号
    assert doc(kb, "番禺区", on=D(2017, 9, 25)) == GD
    assert doc(kb, "广州市", on=D(2017, 9, 26)) == GZ  # from its issue day on
    assert doc(kb, "广州市", on=D(2017, 9, 15)) is None  # neither was issued
    assert doc(kb, "福建省", on=D(2020, 7, 20)) is None
    assert doc(kb, "福建省", on=D(2020, 7, 31)) == FJ


def test_the_notice_not_yet_issued_is_named(kb: KnowledgeBase) -> None:
    upcoming = not_yet_issued(kb, "广州市", D(2017, 9, 21))
    assert upcoming is not None and upcoming.doc_no == GZ
    upcoming = not_yet_issued(kb, "厦门市", D(2020, 7, 20))
    assert upcoming is not None and upcoming.doc_no == FJ
    assert not_yet_issued(kb, "广州市", D(2017, 9, 27)) is None
    assert not_yet_issued(kb, "汕头市", D(2017, 9, 21)) is None


def test_the_deadline_check_says_a_notice_was_not_yet_issued(kb: KnowledgeBase) -> None:
    rules = withdrawal_rules(kb, "广州市")
    assert rules is not None and rules.doc_no == GZ
    check = rules.deadline_check(D(2017, 9, 21))
    assert not check.open and "于2017年9月26日才印发" in check.text
    assert rules.deadline_check(D(2017, 9, 27)).open


def test_an_answer_before_the_city_notice_comes_from_the_province(qa: PolicyQA) -> None:
    a = qa.answer("我想在广州退考，还来得及吗", now=D(2017, 9, 21))
    assert a.sources[0] == GD and "2017年9月22日" in a.text and "还有1天" in a.text
    assert f"{GZ}于2017年9月26日才印发" in a.text
    later = qa.answer("我想在广州退考，还来得及吗", now=D(2017, 9, 27))
    assert later.sources[0] == GZ and "才印发" not in later.text


def test_an_answer_from_a_notice_not_yet_issued_says_so(qa: PolicyQA) -> None:
    a = qa.answer("福建退考能退费吗", now=D(2020, 7, 20))
    assert a.sources[0] == FJ
    assert "于2020年7月31日才印发" in a.text and "尚未发布" in a.text


def test_an_answer_says_whose_rules_a_region_follows(qa: PolicyQA) -> None:
    a = qa.answer("番禺退考截止哪天", now=D(2017, 9, 27))
    assert a.region == "番禺区" and a.sources[0] == GZ
    assert "番禺区属于广州市，按广州市的规定" in a.text and "2017年9月30日" in a.text
    b = qa.answer("广东汕头退考截止哪天", now=D(2017, 9, 21))
    assert b.region == "汕头市" and b.sources[0] == GD and "汕头市属于广东省" in b.text
    own = qa.answer("广州退考截止哪天", now=D(2017, 9, 27))
    assert "属于" not in own.text.split("\n")[0]


def test_the_innermost_region_is_answered_whatever_the_order(qa: PolicyQA) -> None:
    for question in ("广东广州退考截止哪天", "广州 广东 退考截止哪天", "广东省广州市番禺区退考截止哪天"):
        a = qa.answer(question, now=D(2017, 9, 27))
        assert a.sources[0] == GZ and "2017年9月30日" in a.text, question


def test_other_regions_of_china_are_not_covered_rather_than_not_understood(qa: PolicyQA) -> None:
    for question, region in (("成都退考截止哪天", "成都市"), ("北京海淀区电工还能报名吗", "海淀区")):
        a = qa.answer(question)
        assert a.kind == "region_not_covered" and a.region == region, question
    assert qa.answer("汕头退考截止哪天").kind != "region_not_covered"
    assert qa.answer("福州鼓楼区电工还能报名吗").kind != "region_not_covered"
