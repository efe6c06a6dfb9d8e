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
