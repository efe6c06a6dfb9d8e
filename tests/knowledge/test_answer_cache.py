"""The answer cache: a repeated question is answered from it, and only the same question."""

from __future__ import annotations

import datetime as dt

from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA

QUESTION = "广州退考退费登记截止到哪天"
DAY = dt.date(2017, 9, 25)


def test_a_repeated_question_is_answered_from_the_cache(kb: KnowledgeBase) -> None:
    qa = PolicyQA(kb)
    first = qa.answer(QUESTION, now=DAY)
    assert qa.answer(QUESTION, now=DAY) is first


def test_the_region_and_the_day_are_part_of_the_question(kb: KnowledgeBase) -> None:
    qa = PolicyQA(kb)
    first = qa.answer(QUESTION, now=DAY)
    later = qa.answer(QUESTION, now=DAY + dt.timedelta(days=400))
    assert later is not first and later.text != first.text
    anywhere = qa.answer("退考退费登记截止到哪天", now=DAY)
    in_jilin = qa.answer("退考退费登记截止到哪天", region="吉林", now=DAY)
    assert in_jilin.region == "吉林省" and anywhere.region is None


def test_with_no_cache_every_question_is_answered_afresh(kb: KnowledgeBase) -> None:
    qa = PolicyQA(kb, cache_size=0)
    first = qa.answer(QUESTION, now=DAY)
    again = qa.answer(QUESTION, now=DAY)
    assert again is not first and again == first
    derived = qa.with_variants([])
    assert derived.answer(QUESTION, now=DAY) is not derived.answer(QUESTION, now=DAY), "no cache either"
