"""Dates written by candidates: 2026年6月22日, 6月22号, 2026-06-22, 2026/6/22, 6.22, and dates relative to
today: 明天, 后天, 下周三, 这周六, 周日, 下个月15号, 3天后.

A date that cannot exist (2月30日) is reported, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

# Several days of one month: 11月18、19日, 11月18-19日, 11月18日至19日 (the first and the last day).
_DAYS_OF_A_MONTH = re.compile(
    r"(?:(?P<y>(?:19|20)\d{2})\s*年\s*)?(?<!\d)(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?\s*"
    r"(?:、|，|,|-|－|—|~|～|至|到)\s*(?P<d2>\d{1,2})\s*[日号]"
)
# A year said apart from its dates, earlier in the same clause: 2017年下半年统一鉴定11月18日.
_YEAR_ALONE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年(?!\s*\d{1,2}\s*月)")
_CLAUSE_END = re.compile(r"[，。；？！,;?!\n]")

_PATTERNS = [
    # 2026年6月22日 / 2026年6月22号 / 2026 年 6 月 22 日
    re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"),
    # 2026-06-22, 2026/6/22, 2026.6.22
    re.compile(r"(?P<y>(?:19|20)\d{2})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)"),
    # 6月22日 / 6月22号
    re.compile(r"(?<!\d)(?<!\d年)(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"),
    # 6.22 or 6/22 (not part of a longer number or a decimal such as 1.5)
    re.compile(
        r"(?<![\d./])(?P<m>1[0-2]|0?[1-9])[./](?P<d>3[01]|[12]\d|0?[1-9])(?![\d./])(?!\s*(?:小时|个|分|倍|万|元|岁|天|周|年|%|米|公里|级))"
    ),
]


_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_DAYS_FROM_TODAY = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
_RELATIVE = re.compile(
    r"(?P<named>大后天|后天|明天|明日|今天|今日)"
    r"|(?P<week>下下|下个?|这个?|本)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天末1-7])"
    r"|(?P<month>下个?月|这个?月|本月)(?P<md>\d{1,2})[日号]"
    r"|(?P<n>\d{1,3})(?:天|日)(?:后|以后|之后)"
)


@dataclass(frozen=True)
class FoundDate:
    text: str
    date: dt.date | None
    """None when the text names a day that does not exist."""
    year_given: bool
    span: tuple[int, int]


def day_word(day: dt.date) -> str:
    """The search word of a day, whatever its year (9月30日): a question naming a day a fact
    holds is about that fact (９月３０号当天系统会怎么处理)."""
    return f"{day.month}月{day.day}日"


def cn_number(run: str) -> int:
    """一 → 1, 十五 → 15, 三十一 → 31, 二〇二〇 → 2020 (a year written digit by digit)."""
    if all(c in _CN_DIGITS for c in run) and len(run) >= 3:
        return int("".join(str(_CN_DIGITS[c]) for c in run))
    total, cur = 0, 0
    for c in run:
        if c == "十":
            total += (cur or 1) * 10
            cur = 0
        else:
            cur = _CN_DIGITS[c]
    return total + cur


CN_NUMERAL_RUN = "[〇零一二两三四五六七八九十]+"


def _cn_to_arabic(text: str) -> str:
    """二〇二六年六月二十二日 → 2026年6月22日, only inside date-like runs."""
    return re.sub(rf"({CN_NUMERAL_RUN})(?=\s*[年月日号])", lambda m: str(cn_number(m.group(1))), text)


def find_dates(text: str, today: dt.date, *, future: bool = True) -> list[FoundDate]:
    """Dates named in `text`. A date without a year is taken in `today`'s year; with `future`
    (candidates mostly ask about coming exams) a day more than a month past moves to next year."""
    text = _cn_to_arabic(text)
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []
    said = [(y.start(), int(y.group(1))) for y in _YEAR_ALONE.finditer(text)]

    def said_year(at: int) -> int | None:
        """The year said before position `at` in the same clause (2017年下半年…11月18日), if any."""
        before = [(start, year) for start, year in said if start < at and not _CLAUSE_END.search(text, start, at)]
        return before[-1][1] if before else None

    for m in _DAYS_OF_A_MONTH.finditer(text):
        taken.append(m.span())
        year = int(m["y"]) if m["y"] else said_year(m.start())
        for day in (m["d"], m["d2"]):
            found.append(_dated(m, int(m["m"]), int(day), year, today, future))
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append(m.span())
            groups = m.groupdict()
            year = int(groups["y"]) if groups.get("y") is not None else said_year(m.start())
            found.append(_dated(m, int(groups["m"]), int(groups["d"]), year, today, future))
    for m in _RELATIVE.finditer(text):
        if not any(m.start() < e and s < m.end() for s, e in taken):
            taken.append(m.span())
            # Counted from today, so as exact as a date with its year.
            found.append(FoundDate(m.group(0), _relative_day(m, today), True, m.span()))
    found.sort(key=lambda f: f.span)
    return found


def _dated(m: re.Match[str], month: int, day: int, year: int | None, today: dt.date, future: bool) -> FoundDate:
    """The date a match names; without a year, `today`'s, or next year's when `future` and more
    than a month past."""
    try:
        value: dt.date | None = dt.date(year or today.year, month, day)
    except ValueError:
        value = None
    if future and value is not None and year is None and value < today - dt.timedelta(days=31):
        try:
            value = dt.date(today.year + 1, month, day)
        except ValueError:  # 2月29日 in a non-leap year
            value = None
    return FoundDate(m.group(0).strip(), value, year is not None, m.span())


def _relative_day(m: re.Match[str], today: dt.date) -> dt.date | None:
    if m.group("named"):
        return today + dt.timedelta(days=_DAYS_FROM_TODAY[m.group("named")])
    if m.group("n"):
        return today + dt.timedelta(days=int(m.group("n")))
    if m.group("wd"):
        wd = m.group("wd")
        weekday = int(wd) - 1 if wd.isdigit() else _WEEKDAYS[wd]
        which = m.group("week") or ""
        monday = today - dt.timedelta(days=today.weekday())
        if which.startswith("下下"):
            return monday + dt.timedelta(weeks=2, days=weekday)
        if which.startswith("下"):
            return monday + dt.timedelta(weeks=1, days=weekday)
        if which:  # 这周三, 本周三: this week's, even when it has passed
            return monday + dt.timedelta(days=weekday)
        # 周三 alone: the coming one (today included).
        return today + dt.timedelta(days=(weekday - today.weekday()) % 7)
    months = 1 if m.group("month").startswith("下") else 0
    year, month = divmod(today.month - 1 + months, 12)
    try:
        return dt.date(today.year + year, month + 1, int(m.group("md")))
    except ValueError:  # 下个月31号 in a 30-day month
        return None
