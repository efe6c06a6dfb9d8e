"""Bad input gets a polite answer or an abstention, never a traceback."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize("question", ["", "   ", "\n\t　", "？？？", "😀😀😀", "🙏"])
def test_empty_or_symbol_only_asks_for_a_question(qa, question):
    a = qa.answer(question)
    assert not a.matched and a.kind == "empty"
    assert "请用文字描述" in a.text


@pytest.mark.parametrize("message", ["你好", "谢谢！", "帮助", "在吗？", "Hello"])
def test_small_talk_gets_an_introduction_not_a_lookup(qa, message):
    a = qa.answer(message)
    assert not a.matched and a.kind == "smalltalk"
    assert "请直接输入您的问题" in a.text


def test_very_long_question_is_answered_from_its_beginning(qa):
    a = qa.answer("广州退考退费登记截止到哪天？" + "啊" * 10_000)
    assert a.matched and "9月30日" in a.text


@pytest.mark.parametrize("question", ["What is the deadline for withdrawal?", "hello", "asdfghjkl qwerty"])
def test_english_or_gibberish_abstains(qa, question):
    a = qa.answer(question)
    assert not a.matched and "转人工" in a.text


def test_full_width_and_half_width_mixed(qa):
    a = qa.answer("吉林日常鉴定２０２６年６月２２日考试，报名最晚哪天？", now=dt.date(2026, 5, 1))
    assert a.matched and "2026年6月5日" in a.text


@pytest.mark.parametrize("question", ["吉林日常鉴定2026年2月30日考试，报名截止哪天", "2026年13月45日考试报名截止"])
def test_impossible_date_is_named_back_politely(qa, question):
    a = qa.answer(question)
    assert not a.matched and a.kind == "bad_date"
    assert "不存在" in a.text


def test_traditional_characters(qa):
    a = qa.answer("江蘇職業資格證書最晚幾號發完")
    assert a.matched and "2021年2月1日" in a.text


def test_unknown_region_option_is_ignored_not_guessed(qa):
    a = qa.answer("技师理论考试多长时间", region="火星")
    assert a.matched and "90分钟" in a.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(max_size=300),
    region=st.one_of(st.none(), st.sampled_from(["广州", "吉林", "厦门", "北京", "", "x"]), st.text(max_size=5)),
    day=st.one_of(st.none(), st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31))),
)
def test_any_text_gets_an_answer_and_never_raises(qa, text, region, day):
    a = qa.answer(text, region=region, now=day)
    assert a.text.strip()
    assert a.matched == bool(a.sources)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.sampled_from(["吉林日常鉴定", "广州日常鉴定", "考试", ""]),
    y=st.integers(1990, 2060),
    m=st.integers(0, 14),
    d=st.integers(0, 33),
    tail=st.sampled_from(["考试，报名最晚哪天", "考，鉴定费哪天交", "考的，成绩哪天出", ""]),
)
def test_any_date_in_a_question_is_handled(qa, prefix, y, m, d, tail):
    a = qa.answer(f"{prefix}{y}年{m}月{d}日{tail}", now=dt.date(2026, 1, 1))
    assert a.text.strip()
