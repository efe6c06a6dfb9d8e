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


@pytest.mark.parametrize(("question", "options"), [("福建厨师还能考吗", ("中式烹调师", "西式烹调师"))])
def test_a_name_that_fits_several_is_asked_about(qa: PolicyQA, question: str, options: tuple[str, ...]) -> None:
    answer = qa.answer(question, now=DAY)
    assert not answer.matched and answer.kind == "clarify"
    assert all(o in answer.text for o in options)


def test_the_withdrawal_form_suggests_the_official_name(kb: KnowledgeBase) -> None:
    rules = withdrawal_rules(kb, "福建省", on=DAY)
    assert rules is not None
    check = rules.match_occupation("木匠")
    assert (check.kind, check.name) == ("suggest", "手工木工")


def test_whether_an_occupation_is_still_examined_asked_in_everyday_words(qa: PolicyQA) -> None:
    answer = qa.answer("福建幼儿园保育阿姨的证是不是不考了", now=DAY)
    assert answer.matched and "按“保育员”理解" in answer.text and "退出国家职业资格目录" in answer.text
