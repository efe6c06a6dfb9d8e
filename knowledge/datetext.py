"""Dates written by candidates: 2026年6月22日, 6月22号, 2026-06-22, 2026/6/22, 6.22, 下周一 is not supported.

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

_PATTERNS = [
    # 2026年6月22日 / 2026年6月22号 / 2026 年 6 月 22 日
    re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"),
    # 2026-06-22, 2026/6/22, 2026.6.22
    re.compile(r"(?P<y>(?:19|20)\d{2})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)"),
    # 6月22日 / 6月22号
    re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"),
    # 6.22 or 6/22 (not part of a longer number or a decimal such as 1.5)
    re.compile(
        r"(?<![\d./])(?P<m>1[0-2]|0?[1-9])[./](?P<d>3[01]|[12]\d|0?[1-9])(?![\d./])(?!\s*(?:小时|个|分|倍|万|元|岁|天|周|年|%|米|公里|级))"
    ),
]


@dataclass(frozen=True)
class FoundDate:
    text: str
    date: dt.date | None
    """None when the text names a day that does not exist."""
    year_given: bool
    span: tuple[int, int]


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
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append(m.span())
            groups = m.groupdict()
            month, day = int(groups["m"]), int(groups["d"])
            year_given = groups.get("y") is not None
            year = int(groups["y"]) if year_given else today.year
            try:
                value: dt.date | None = dt.date(year, month, day)
            except ValueError:
                value = None
            if future and value is not None and not year_given and value < today - dt.timedelta(days=31):
                try:
                    value = dt.date(year + 1, month, day)
                except ValueError:  # 2月29日 in a non-leap year
                    value = None
            found.append(FoundDate(m.group(0).strip(), value, year_given, m.span()))
    found.sort(key=lambda f: f.span)
    return found
