"""Working-day arithmetic on China's official calendar (chinese_calendar).

Statutory holidays do not count and adjusted working weekends do. For a year the calendar
has no data for, weekends alone are used and the result says so, because a silently wrong
date costs a candidate the exam fee.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar

WEEKDAYS = "一二三四五六日"
DAYS_REMEMBERED = 4096
"""Days whose calendar facts are kept: chinese_calendar scans its whole holiday table on every
call (about 0.1 ms), and a date calculation asks about dozens of days."""


@dataclass(frozen=True)
class WorkdayResult:
    date: dt.date
    exact: bool
    """False when some day in the range had no official data and weekends were used instead."""
    uncovered_years: tuple[int, ...] = ()


@lru_cache(maxsize=DAYS_REMEMBERED)
def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(is a working day, the official calendar knew this day)."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


def shift_workdays(anchor: dt.date, amount: int, direction: str) -> WorkdayResult:
    """The day reached by stepping `amount` working days from `anchor`, the anchor itself not counted.

    `direction` is "before" or "after". 3 working days before Friday 2026-10-09 is 2026-09-29.
    """
    if direction not in ("before", "after"):
        raise ValueError(f"direction must be before or after, not {direction!r}")
    step = dt.timedelta(days=-1 if direction == "before" else 1)
    day = anchor
    counted = 0
    uncovered: set[int] = set()
    # Bounded: the longest run of non-working days in China is about 10 days.
    while counted < amount:
        day += step
        working, known = is_workday(day)
        if not known:
            uncovered.add(day.year)
        if working:
            counted += 1
    return WorkdayResult(day, not uncovered, tuple(sorted(uncovered)))


def shift_days(anchor: dt.date, amount: int, direction: str) -> dt.date:
    delta = dt.timedelta(days=amount)
    return anchor - delta if direction == "before" else anchor + delta


def format_date(day: dt.date, weekday: bool = False) -> str:
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（星期{WEEKDAYS[day.weekday()]}）" if weekday else text


@lru_cache(maxsize=DAYS_REMEMBERED)
def holiday_name(day: dt.date) -> str | None:
    """Name of the statutory holiday covering `day`, in Chinese, if the calendar knows one."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    if not on_holiday or name is None:
        return None
    return _HOLIDAY_NAMES.get(str(name), None)


_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
