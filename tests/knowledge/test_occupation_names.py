"""Everyday occupation names (木匠, 理发师, 电梯工) are read as the listed occupation they mean, with
the reading shown; a name that fits several (厨师) is asked about, never guessed."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.base import KnowledgeBase
from knowledge.occupation_names import everyday_names, listed_without_everyday_name
from knowledge.qa import PolicyQA
from knowledge.withdrawal import withdrawal_rules

DAY = dt.date(2020, 9, 20)


def test_every_listed_occupation_has_everyday_names(kb: KnowledgeBase) -> None:
    assert listed_without_everyday_name(kb.occupations) == []


def test_an_everyday_name_never_hides_an_official_one(kb: KnowledgeBase) -> None:
    assert not set(everyday_names(kb.occupations)) & set(kb.occupations)


@pytest.mark.parametrize(
    ("question", "official"),
    [
        ("福建木匠还能考吗", "手工木工"),
        ("福建理发师还能考吗", "美发师"),
        ("福建电梯工还能报名吗", "电梯安装维修工"),
        ("福建做面点的还能考吗", "中式面点师"),
        ("福建开叉车的证还能考吗", "起重装卸机械操作工"),
    ],
)
def test_an_everyday_name_is_read_as_the_listed_occupation(qa: PolicyQA, question: str, official: str) -> None:
    answer = qa.answer(question, now=DAY)
    assert answer.matched and f"按“{official}”理解" in answer.text
    assert "不在" not in answer.text.split("\n")[1], "the list holds it under its official name"


@pytest.mark.parametrize(("question", "options"), [("吉林策划师哪天考", ("会展策划师", "商务策划师"))])
def test_a_name_that_fits_several_is_asked_about(qa: PolicyQA, question: str, options: tuple[str, ...]) -> None:
    # 会展策划师 is on 吉林's provincial list, 商务策划师 on the national one: the answers differ.
    answer = qa.answer(question, now=dt.date(2017, 6, 1))
    assert not answer.matched and answer.kind == "clarify"
    assert all(o in answer.text for o in options)


def test_a_name_whose_occupations_every_list_treats_alike_is_answered_for_all(qa: PolicyQA) -> None:
    answer = qa.answer("福建厨师还能考吗", now=DAY)
    assert answer.matched and "中式烹调师、西式烹调师" in answer.text and "规定相同" in answer.text


def test_another_name_in_the_question_settles_an_ambiguous_one(qa: PolicyQA) -> None:
    # 厨师 fits two occupations; 炒菜 (an everyday name of one of them) settles which.
    answer = qa.answer("福建炒菜厨师的证还在目录里吗", now=DAY)
    assert answer.matched and "按“中式烹调师”理解" in answer.text


def test_the_words_of_an_everyday_name_do_not_count_against_the_answer(qa: PolicyQA) -> None:
    # hr / 人力 / 资源 name the occupation; left as words, no fact would match them.
    answer = qa.answer("吉林搞HR人力资源的那个证是统一考的吗", now=dt.date(2017, 6, 1))
    assert answer.matched and "企业人力资源管理师属于全国统一鉴定职业" in answer.text


@pytest.mark.parametrize(
    ("text", "official"),
    [
        ("我是电梯工还能考吗", "电梯安装维修工"),
        ("我自己是做木匠的", "手工木工"),
        ("福建西式点心师傅还能考吗", "西式面点师"),
    ],
)
def test_typo_repair_leaves_everyday_names_and_ordinary_words_alone(qa: PolicyQA, text: str, official: str) -> None:
    # 我是电梯工 was repaired into 我试点梯工, 我自己是 into 我自技师.
    repaired = qa.analyzer.repair(text)
    assert repaired == text
    found = qa.occupations.find(repaired)
    assert found is not None and found.name == official


@pytest.mark.parametrize(("text", "official"), [("叉车工还能考吗", "起重装卸机械操作工"), ("模具钳工", "模具工")])
def test_a_longer_everyday_name_wins_over_the_official_name_inside_it(qa: PolicyQA, text: str, official: str) -> None:
    found = qa.occupations.find(text)
    assert found is not None and found.name == official


def test_a_name_inside_the_ambiguous_one_does_not_settle_it(qa: PolicyQA) -> None:
    found = qa.occupations.find("美容美发的证还能考吗")
    assert found is not None and set(found.alternatives) == {"美容师", "美发师"}


def test_a_group_of_occupations_is_answered_from_the_list(qa: PolicyQA) -> None:
    answer = qa.answer("福建退出目录里建筑类工种有哪些", now=DAY)
    assert answer.matched and answer.sources == ("闽人社办〔2020〕143号",)
    for name in ("砌筑工", "混凝土工", "钢筋工", "架子工"):
        assert name in answer.text
    assert "美发师" not in answer.text and "以名单原文为准" in answer.text


def test_a_group_named_by_what_people_do_is_not_read_as_one_occupation(qa: PolicyQA) -> None:
    answer = qa.answer("福建退出目录的职业里有哪些做饭做点心的？", now=DAY)
    assert answer.matched and "中式面点师" in answer.text and "中式烹调师" in answer.text
    assert "按“中式面点师”理解" not in answer.text


def test_the_withdrawal_form_suggests_the_official_name(kb: KnowledgeBase) -> None:
    rules = withdrawal_rules(kb, "福建省", on=DAY)
    assert rules is not None
    check = rules.match_occupation("木匠")
    assert (check.kind, check.name) == ("suggest", "手工木工")


def test_whether_an_occupation_is_still_examined_asked_in_everyday_words(qa: PolicyQA) -> None:
    answer = qa.answer("福建幼儿园保育阿姨的证是不是不考了", now=DAY)
    assert answer.matched and "按“保育员”理解" in answer.text and "退出国家职业资格目录" in answer.text


def test_a_slip_that_is_itself_a_word_is_repaired_into_a_core_term(qa: PolicyQA) -> None:
    assert "鉴定站" in qa.analyzer.repair("厦门的坚定站什么时候不收报名了")
    assert qa.analyzer.repair("我们坚定支持") == "我们坚定支持", "a real phrase around it is left alone"
