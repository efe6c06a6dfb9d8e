"""Absolute dates and periods in a notice: 2017年12月31日之前, 9月22日前, 3月15日至4月14日,
5月20、21日, 2020年5月至12月, 2020年下半年, 2020-03-12.

A date without a year takes the year of a dated expression in the same sentence, else the
notice's own year. When that year is uncertain (the notice has none, its number and title
disagree, or the day would fall months before the notice was issued) the date is left
undetermined and said so. A day that does not exist (2月30日) is reported, never adjusted.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from knowledge.drafting.clock import CLOSES_AT, SAME_DAY, TO, T, time_of, times_after
from knowledge.drafting.view import View
from knowledge.workdays import format_date

YearStatus = Literal["given", "sentence", "notice", "order", "undetermined"]

_Y = r"(?:(?P<{0}>(?:19|20)\d{{2}})\s*年\s*)"
_RANGE = re.compile(
    _Y.format("y1")
    + r"?(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*[日号]?"
    + T.format("t1")
    + "?"
    + TO
    + _Y.format("y2")
    + r"?(?:(?P<m2>\d{1,2})\s*月\s*)?(?P<d2>\d{1,2})\s*[日号]"
    + T.format("t2")
    + "?"
)
_DAY_LIST = re.compile(_Y.format("y") + r"?(?P<m>\d{1,2})\s*月\s*(?P<days>\d{1,2}(?:\s*[、,和及]\s*\d{1,2})+)\s*[日号]")
_MONTH_RANGE = re.compile(
    _Y.format("y1")
    + r"?(?<![\d.])(?P<m1>\d{1,2})\s*(?:月份?)?"
    + TO
    + _Y.format("y2")
    + r"?(?P<m2>\d{1,2})\s*月份?(?!\s*\d|龄)"
)
_DAY = re.compile(_Y.format("y") + r"?(?<![\d.])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]" + T.format("t") + "?")
_ISO = re.compile(r"(?<![\d/.-])(?P<y>(?:19|20)\d{2})\s*([-/.])\s*(?P<m>\d{1,2})\s*\2\s*(?P<d>\d{1,2})(?![\d/-]|\.\d)")
"""2025-03-10, 2025/03/10, 2025.3.10."""
_ISO_DAY = r"(?P<{0}y>(?:19|20)\d{{2}})\s*[-/.]\s*(?P<{0}m>\d{{1,2}})\s*[-/.]\s*(?P<{0}d>\d{{1,2}})"
_ISO_RANGE = re.compile(
    r"(?<![\d/.-])"
    + _ISO_DAY.format("a")
    + "(?:"
    + T.format("t1")
    + ")?"
    + TO
    + _ISO_DAY.format("b")
    + "(?:"
    + T.format("t2")
    + ")?"
    + r"(?![\d/-]|\.\d)"
)
"""2024.7.8~2024.7.19, 2025/02/17 09:00 － 2025/02/28 17:00."""
_HALF = re.compile(_Y.format("y") + r"(?P<half>上|下)半年")
_MONTH = re.compile(_Y.format("y") + r"?(?<![\d.])(?P<m>\d{1,2})\s*月份?(?!\s*\d|龄)")
_MONTH_PART = re.compile(r"\s*(?P<part>中下旬|上中旬|上旬|中旬|下旬|底|末|初)(?:\s*(?:之前|以前|前))?")
"""What follows a month: 5月中下旬 (the 11th to the end), 12月底前 (by the last day), 3月初."""
_NAMES_A_ROUND = re.compile(r"\s*(?:职业|技能|全省|全市|全州|全区|全县|全国|专项|统一|集中|第|的)")
_BY_AFTER = re.compile(r"^\s*(?:之前|以前|前|为止|止|截止|完成|结束)")
_BY_BEFORE = re.compile(r"(?:截止|截至|不迟于|最迟|最晚)(?:到|至|于)?\s*$")
_BEFORE_WORD = re.compile(r"^\s*(?:之前|以前|前)")


@dataclass(frozen=True)
class YearContext:
    """What the notice says about its own year."""

    year: int | None
    issued: dt.date | None = None
    doubt: str | None = None
    """Why the notice's year cannot be trusted for dates written without one."""
    from_body: bool = False
    """The year is the one the body names (为做好2024年上半年…), the header having none."""
    last: dt.date | None = None
    """The last day named so far, in reading order (what 同日 refers to)."""
    latest: dt.date | None = None
    """The latest day the notice has named so far, in reading order: 1月10日 after 12月16日至1月8日
    in a notice of December is in the next year."""

    def after(self, days: Sequence[dt.date]) -> YearContext:
        """This context once the reader has passed `days`."""
        if not days:
            return self
        latest = max([*days, *([self.latest] if self.latest else [])])
        return dataclasses.replace(self, latest=latest, last=days[-1])

    @classmethod
    def of(
        cls, issued: dt.date | None, doc_year: int | None, title_years: list[int], body_years: Sequence[int] = ()
    ) -> YearContext:
        if issued is not None:
            return cls(issued.year, issued)
        years = sorted({y for y in [doc_year, *title_years] if y is not None})
        if not years:
            # The header has no year: the body's, when it names one year more often than any other.
            ranked = Counter(body_years).most_common(2)
            if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
                return cls(ranked[0][0], None, None, from_body=True)
            return cls(None, None, "通知中没有年份（无落款日期、文号年份）")
        if len(years) > 1:
            return cls(None, None, f"文号与标题的年份不一致（{'、'.join(map(str, years))}），且无落款日期")
        return cls(years[0])


@dataclass(frozen=True)
class FoundDate:
    """A date or period found in a sentence. `start`/`end` are None when the date cannot be
    determined (`problem` says why)."""

    kind: Literal["date", "range"]
    start: dt.date | None
    end: dt.date | None
    text: str
    span: tuple[int, int]
    bound: Literal["on", "by"] = "on"
    precision: Literal["day", "month"] = "day"
    year: YearStatus = "given"
    problem: str | None = None
    month_before: bool = False
    """'2014年10月前': the knowledge base writes it as the first day of the month, bound by."""
    start_time: str | None = None
    """HH:MM when the text gives the time of day (报名时间：1月8日9:00-2月13日16:00)."""
    end_time: str | None = None
    part_of_month: str | None = None
    """上旬, 中下旬…: the range is the whole month and the label keeps the notice's words."""

    @property
    def days(self) -> list[dt.date]:
        return [d for d in (self.start, self.end) if d is not None]


def _exists(month: int, day: int, year: int | None = None) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    return day <= calendar.monthrange(year if year is not None else 2000, month)[1]  # 2000: 2月29日 can exist


class _Resolver:
    """Years for dates written without one, and the problems found on the way."""

    def __init__(self, ctx: YearContext, sentence_year: int | None) -> None:
        self.ctx = ctx
        self.sentence_year = sentence_year

    def year_for(self, month: int, day: int, *, month_only: bool = False) -> tuple[int | None, YearStatus, str | None]:
        """The year of a day written without one; `month_only` when the text names only its month."""
        if self.sentence_year is not None:
            return self.sentence_year, "sentence", None
        if self.ctx.year is None:
            return None, "undetermined", f"年份无法确定：{self.ctx.doubt}"
        if self.ctx.issued is not None and _exists(month, day, self.ctx.year):
            guess = dt.date(self.ctx.year, month, day)
            if guess < self.ctx.issued - dt.timedelta(days=60):
                later = self.ctx.year + 1
                latest = self.ctx.latest
                if latest is not None and _exists(month, day, later):
                    following = dt.date(later, month, calendar.monthrange(later, month)[1] if month_only else day)
                    if latest - dt.timedelta(days=7) <= following <= latest + dt.timedelta(days=200):
                        after = format_date(latest)
                        what = f"{month}月" if month_only else f"{month}月{day}日"
                        note = f"年份推断：未写年份的{what}排在{after}之后，按{later}年理解，请核对"
                        return later, "order", note
                issued = format_date(self.ctx.issued)
                return None, "undetermined", f"年份无法确定：发文日期为{issued}，可能是{self.ctx.year}年或{later}年"
        return self.ctx.year, "notice", None


def _date(year: int | None, month: int, day: int, text: str) -> tuple[dt.date | None, str | None]:
    """The day, or why it cannot exist. With no year, only whether some year has it."""
    if not 1 <= month <= 12:
        return None, f"日期不存在：{text.strip()}（没有{month}月）"
    if not _exists(month, day, year):
        when = f"{year}年" if year is not None else ""
        return None, f"日期不存在：{text.strip()}（{when}{month}月没有{day}日）"
    return (dt.date(year, month, day) if year is not None else None), None


def find_dates(view: View, ctx: YearContext) -> list[FoundDate]:
    """Every date and period in one sentence, in order."""
    text = view.text
    sentence_years = [int(m.group("y")) for m in _DAY.finditer(text) if m.group("y")]
    sentence_years += [int(m.group("y")) for m in _ISO.finditer(text)]
    resolver = _Resolver(ctx, sentence_years[0] if len(set(sentence_years)) == 1 else None)
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []

    def free(m: re.Match[str]) -> bool:
        return not any(m.start() < e and s < m.end() for s, e in taken)

    def add(item: FoundDate) -> None:
        found.append(item)
        taken.append(item.span)

    for m in _ISO_RANGE.finditer(text):
        if free(m):
            add(_iso_range(view, m))
    for m in _RANGE.finditer(text):
        if free(m):
            add(_range(view, m, resolver))
    for m in _DAY_LIST.finditer(text):
        if free(m):
            for item in _day_list(view, m, resolver):
                add(item)
    for m in _MONTH_RANGE.finditer(text):
        if free(m):
            add(_month_range(view, m, resolver))
    for pattern in (_DAY, _ISO):
        for m in pattern.finditer(text):
            if free(m):
                add(_day(view, m, resolver))
    for m in _HALF.finditer(text):
        # 2024年上半年职业技能等级认定: the name of a round of exams, not a period of dates.
        if free(m) and not _NAMES_A_ROUND.match(text[m.end() :]):
            year = int(m.group("y"))
            first, last = (1, 6) if m.group("half") == "上" else (7, 12)
            end = dt.date(year, last, calendar.monthrange(year, last)[1])
            add(FoundDate("range", dt.date(year, first, 1), end, view.original(*m.span()), m.span(), precision="month"))
    for m in _MONTH.finditer(text):
        if free(m):
            add(_month(view, m, resolver))
    day_before = found[-1].end if found and found[-1].end else ctx.last
    for m in SAME_DAY.finditer(text):
        if free(m) and day_before is not None and time_of(m, "a") and time_of(m, "b"):
            raw = view.original(*m.span())
            add(
                FoundDate(
                    "range", day_before, day_before, raw, m.span(), start_time=time_of(m, "a"), end_time=time_of(m, "b")
                )
            )
    closing = CLOSES_AT.search(text)
    ranges = [k for k, f in enumerate(found) if f.kind == "range" and f.precision == "day" and f.end_time is None]
    if closing is not None and free(closing) and len(ranges) == 1 and time_of(closing, "c"):
        k = ranges[0]
        found[k] = dataclasses.replace(found[k], end_time=time_of(closing, "c"))
    found.sort(key=lambda f: f.span)
    return found


def _extend_by(view: View, start: int, end: int) -> tuple[tuple[int, int], Literal["on", "by"]]:
    """Widen a date's span over 前/之前/截止 and say whether it is a last day (by)."""
    after = _BY_AFTER.match(view.text[end:])
    before = _BY_BEFORE.search(view.text[max(0, start - 8) : start])
    if after and re.match(r"\s*(?:之前|以前|前|为止|止|截止)", after.group(0)):
        return (start, end + after.end()), "by"
    return (start, end), "by" if after or before else "on"


def _day(view: View, m: re.Match[str], resolver: _Resolver) -> FoundDate:
    month, day = int(m.group("m")), int(m.group("d"))
    given = m.group("y")
    at, until, stop = times_after(view, m)
    if until is not None:
        found = _day_at(view, m, resolver, given, month, day, (m.start(), stop))
        return dataclasses.replace(found, kind="range", start_time=at, end_time=until)
    span, bound = _extend_by(view, m.start(), stop)
    raw = view.original(*span)
    if given:
        value, problem = _date(int(given), month, day, raw)
        return FoundDate("date", value, value, raw, span, bound, problem=problem, start_time=at)
    if not _exists(month, day):
        return FoundDate("date", None, None, raw, span, bound, "day", "undetermined", _date(None, month, day, raw)[1])
    year, status, problem = resolver.year_for(month, day)
    value, impossible = _date(year, month, day, raw)
    return FoundDate("date", value, value, raw, span, bound, year=status, problem=problem or impossible, start_time=at)


def _day_at(
    view: View, m: re.Match[str], resolver: _Resolver, given: str | None, month: int, day: int, span: tuple[int, int]
) -> FoundDate:
    """The day of a one-day period with its hours (the caller sets the times)."""
    raw = view.original(*span)
    if given:
        value, problem = _date(int(given), month, day, raw)
        return FoundDate("date", value, value, raw, span, problem=problem)
    if not _exists(month, day):
        return FoundDate("date", None, None, raw, span, "on", "day", "undetermined", _date(None, month, day, raw)[1])
    year, status, problem = resolver.year_for(month, day)
    value, impossible = _date(year, month, day, raw)
    return FoundDate("date", value, value, raw, span, year=status, problem=problem or impossible)


def _range(view: View, m: re.Match[str], resolver: _Resolver) -> FoundDate:
    raw = view.original(*m.span())
    m1, d1 = int(m.group("m1")), int(m.group("d1"))
    m2, d2 = int(m.group("m2") or m1), int(m.group("d2"))
    for month, day in ((m1, d1), (m2, d2)):
        if not _exists(month, day):
            return FoundDate(
                "range", None, None, raw, m.span(), year="undetermined", problem=_date(None, month, day, raw)[1]
            )
    if m.group("y1"):
        y1: int | None = int(m.group("y1"))
        status: YearStatus = "given"
        problem = None
    else:
        y1, status, problem = resolver.year_for(m1, d1)
    if y1 is None:
        return FoundDate("range", None, None, raw, m.span(), year=status, problem=problem)
    y2 = int(m.group("y2")) if m.group("y2") else (y1 + 1 if (m2, d2) < (m1, d1) else y1)
    start, bad1 = _date(y1, m1, d1, raw)
    end, bad2 = _date(y2, m2, d2, raw)
    if start is None or end is None:
        return FoundDate("range", None, None, raw, m.span(), year=status, problem=bad1 or bad2)
    return FoundDate(
        "range",
        start,
        end,
        raw,
        m.span(),
        year=status,
        problem=problem,
        start_time=time_of(m, "t1"),
        end_time=time_of(m, "t2"),
    )


def _iso_range(view: View, m: re.Match[str]) -> FoundDate:
    raw = view.original(*m.span())
    start, bad1 = _date(int(m.group("ay")), int(m.group("am")), int(m.group("ad")), raw)
    end, bad2 = _date(int(m.group("by")), int(m.group("bm")), int(m.group("bd")), raw)
    if start is None or end is None:
        return FoundDate("range", None, None, raw, m.span(), problem=bad1 or bad2)
    return FoundDate("range", start, end, raw, m.span(), start_time=time_of(m, "t1"), end_time=time_of(m, "t2"))


def _day_list(view: View, m: re.Match[str], resolver: _Resolver) -> list[FoundDate]:
    """5月20、21日: consecutive days are one period; other lists are separate days."""
    raw = view.original(*m.span())
    month = int(m.group("m"))
    days = [int(d) for d in re.findall(r"\d{1,2}", m.group("days"))]
    bad = [d for d in days if not _exists(month, d)]
    if bad:
        return [
            FoundDate(
                "date", None, None, raw, m.span(), year="undetermined", problem=_date(None, month, bad[0], raw)[1]
            )
        ]
    if m.group("y"):
        year: int | None = int(m.group("y"))
        status: YearStatus = "given"
        problem = None
    else:
        year, status, problem = resolver.year_for(month, days[0])
    if year is None or any(not _exists(month, d, year) for d in days):
        problem = problem or _date(year, month, next(d for d in days if not _exists(month, d, year)), raw)[1]
        return [FoundDate("date", None, None, raw, m.span(), year=status, problem=problem)]
    dates = [dt.date(year, month, d) for d in days]
    if all((b - a).days == 1 for a, b in zip(dates, dates[1:], strict=False)):
        return [FoundDate("range", dates[0], dates[-1], raw, m.span(), year=status, problem=problem)]
    return [FoundDate("date", d, d, raw, m.span(), year=status, problem=problem) for d in dates]


def _month_range(view: View, m: re.Match[str], resolver: _Resolver) -> FoundDate:
    raw = view.original(*m.span())
    m1, m2 = int(m.group("m1")), int(m.group("m2"))
    status: YearStatus = "given"
    problem: str | None = None
    if m.group("y1") or m.group("y2"):
        y1 = int(m.group("y1") or m.group("y2"))
    else:
        year, status, problem = (
            resolver.year_for(m1, 1, month_only=True) if 1 <= m1 <= 12 else (None, "undetermined", None)
        )
        if year is None:
            why = problem or f"月份不存在：{raw}"
            return FoundDate("range", None, None, raw, m.span(), precision="month", year=status, problem=why)
        y1 = year
    y2 = int(m.group("y2")) if m.group("y2") else (y1 + 1 if m2 < m1 else y1)
    if not (1 <= m1 <= 12 and 1 <= m2 <= 12):
        return FoundDate("range", None, None, raw, m.span(), precision="month", problem=f"月份不存在：{raw}")
    end = dt.date(y2, m2, calendar.monthrange(y2, m2)[1])
    return FoundDate("range", dt.date(y1, m1, 1), end, raw, m.span(), precision="month", year=status, problem=problem)


def _month(view: View, m: re.Match[str], resolver: _Resolver) -> FoundDate:
    month = int(m.group("m"))
    raw = view.original(*m.span())
    if not 1 <= month <= 12:
        return FoundDate("date", None, None, raw, m.span(), precision="month", problem=f"月份不存在：{raw}")
    status: YearStatus = "given"
    problem: str | None = None
    if m.group("y"):
        year = int(m.group("y"))
    else:
        guess, status, problem = resolver.year_for(month, 1, month_only=True)
        if guess is None:
            return FoundDate("range", None, None, raw, m.span(), precision="month", year=status, problem=problem)
        year = guess
    part = _MONTH_PART.match(view.text[m.end() :])
    if part:
        last = calendar.monthrange(year, month)[1]
        first_day, last_day = {
            "上旬": (1, 10),
            "中旬": (11, 20),
            "下旬": (21, last),
            "中下旬": (11, last),
            "上中旬": (1, 20),
            "初": (1, 10),
        }.get(part.group("part"), (last, last))
        span = (m.start(), m.end() + part.end())
        raw = view.original(*span)
        if first_day == last_day:  # 月底, 月末: the last day, a deadline
            day = dt.date(year, month, last_day)
            return FoundDate("date", day, day, raw, span, "by", year=status, problem=problem)
        # 11月下旬: the month, with the notice's own words kept; the days of a 旬 are the bureau's to fix.
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
        return FoundDate(
            "range",
            dt.date(year, month, 1),
            end,
            raw,
            span,
            precision="month",
            year=status,
            problem=problem,
            part_of_month=part.group("part"),
        )
    before = _BEFORE_WORD.match(view.text[m.end() :])
    if before:
        span = (m.start(), m.end() + before.end())
        first = dt.date(year, month, 1)
        return FoundDate(
            "date", first, first, view.original(*span), span, "by", "month", status, problem, month_before=True
        )
    end = dt.date(year, month, calendar.monthrange(year, month)[1])
    return FoundDate(
        "range", dt.date(year, month, 1), end, raw, m.span(), precision="month", year=status, problem=problem
    )
