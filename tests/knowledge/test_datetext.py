import datetime as dt

import pytest

from knowledge.datetext import find_dates

TODAY = dt.date(2026, 5, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017年10月15日考试", dt.date(2017, 10, 15)),
        ("2017 年 10 月 15 日", dt.date(2017, 10, 15)),
        ("2017-10-15", dt.date(2017, 10, 15)),
        ("2017/10/15", dt.date(2017, 10, 15)),
        ("10月15日考", dt.date(2026, 10, 15)),
        ("10月15号考", dt.date(2026, 10, 15)),
        ("10.15考试", dt.date(2026, 10, 15)),
        ("二〇二六年六月二十二日", dt.date(2026, 6, 22)),
        ("２０２６年６月２２日", None),  # callers normalise full-width digits (NFKC) first
    ],
)
def test_chinese_date_forms(text, expected):
    found = find_dates(text, TODAY)
    if expected is None:
        assert found == []
    else:
        assert found and found[0].date == expected


def test_past_day_without_year_means_next_year_for_coming_exams():
    assert find_dates("3月1日考试", TODAY)[0].date == dt.date(2027, 3, 1)
    assert find_dates("3月1日考完的", TODAY, future=False)[0].date == dt.date(2026, 3, 1)


@pytest.mark.parametrize("text", ["2026年2月30日", "2026年13月45日", "2月30号"])
def test_impossible_dates_are_reported_not_guessed(text):
    found = find_dates(text, TODAY)
    assert found and found[0].date is None


@pytest.mark.parametrize("text", ["考试时长1.5小时", "照片2张", "16周岁", "90分钟"])
def test_numbers_that_are_not_dates(text):
    assert find_dates(text, TODAY) == []


@pytest.mark.parametrize("text", ["11月18、19日考", "11月18-19日考试", "11月18日至19日考试"])
def test_several_days_of_one_month_give_the_first_and_the_last(text: str) -> None:
    found = find_dates(text, dt.date(2017, 6, 1))
    assert [f.date for f in found] == [dt.date(2017, 11, 18), dt.date(2017, 11, 19)]


def test_a_year_said_earlier_in_the_clause_is_the_dates_year() -> None:
    found = find_dates("吉林2017年下半年统一鉴定11月18日考", dt.date(2026, 12, 6))
    assert [f.date for f in found] == [dt.date(2017, 11, 18)] and found[0].year_given


def test_a_year_in_another_clause_is_not_the_dates_year() -> None:
    # 2014 is when the candidate sat the exam; 12月31日 is this year's deadline.
    found = find_dates("我2014年考的，12月31日前还能补吗", dt.date(2017, 10, 1))
    assert [f.date for f in found] == [dt.date(2017, 12, 31)]


def test_a_date_after_half_a_year_is_read() -> None:
    assert [f.date for f in find_dates("2020年下半年6月22日考", dt.date(2026, 1, 1))] == [dt.date(2020, 6, 22)]
