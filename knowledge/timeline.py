"""Reasoning about a fact's dates relative to 'now' and to a date the candidate gives."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from knowledge.schema import DateRange, Event, OnDate, Relative, Rule
from knowledge.workdays import format_date, holiday_name, shift_days, shift_workdays


def _days(n: int) -> str:
    return f"{n}天"


def _month_text(d: dt.date) -> str:
    return f"{d.year}年{d.month}月"


def clock(time: str | None) -> str:
    """09:00 as a notice writes it after a date (9:00); empty when there is no time."""
    if not time:
        return ""
    hours, minutes = time.split(":")
    return f"{int(hours)}:{minutes}"


def describe_when(when: OnDate | DateRange | Relative) -> str:
    """The date rule as a candidate reads it."""
    if isinstance(when, OnDate):
        text = format_date(when.date) + clock(when.time) + ("前" if when.bound == "by" else "")
    elif isinstance(when, DateRange):
        if when.precision == "month":
            text = (
                _month_text(when.start)
                if when.start.month == when.end.month
                else (f"{_month_text(when.start)}至{when.end.month}月")
            )
        else:
            text = f"{format_date(when.start)}{clock(when.start_time)}至{format_date(when.end)}{clock(when.end_time)}"
    else:
        unit = "个工作日" if when.unit == "working_days" else "天"
        side = "前" if when.direction == "before" else "后"
        text = f"{when.anchor}{side}{when.amount}{unit}"
    return f"{when.label}：{text}" if when.label else text


@dataclass(frozen=True)
class Status:
    text: str
    passed: bool
    """Every date of the fact lies before 'now'."""


LONG_PAST_DAYS = 730
"""Dates older than this are not reasoned about one by one: the answer says its notice is old."""


def _ago(delta: dt.timedelta) -> str:
    """How long ago, when it still matters to a candidate (days, within a month); else nothing."""
    return f"（已过去{_days(delta.days)}）" if delta.days <= 31 else ""


def status_now(event: Event, now: dt.date, *, say_today: bool = True) -> Status | None:
    """Whether the fact's fixed dates are ahead or past; None when it only has relative dates.
    `say_today`: lead with the day they are counted from (按今天（…）计), which a line after
    another that said it leaves out."""
    fixed = [w for w in event.dates if not isinstance(w, Relative)]
    if not fixed:
        return None
    parts: list[str] = []
    all_passed = True
    for when in fixed:
        label = f"{when.label}：" if when.label and len(fixed) > 1 else ""
        if isinstance(when, OnDate):
            d, deadline = when.date, when.bound == "by"
            name = f"截止日期{format_date(d)}" if deadline else format_date(d)
            if now < d:
                all_passed = False
                parts.append(f"{label}{name}，还有{_days((d - now).days)}")
            elif now == d:
                all_passed = False
                parts.append(f"{label}今天（{format_date(d)}）就是{'最后一天' if deadline else '当天'}")
            else:
                parts.append(f"{label}{name}已过{_ago(now - d)}")
        else:
            start, end = when.start, when.end
            if when.precision == "month":
                end = (end.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            span = describe_when(when.model_copy(update={"label": None}))
            if now < start:
                all_passed = False
                parts.append(f"{label}{span}尚未开始，还有{_days((start - now).days)}开始")
            elif now <= end:
                all_passed = False
                parts.append(f"{label}{span}正在进行中，还有{_days((end - now).days)}结束")
            else:
                parts.append(f"{label}{span}已结束{_ago(now - end)}")
    latest = max((w.date if isinstance(w, OnDate) else w.end) for w in fixed)
    if all_passed and (now - latest).days > LONG_PAST_DAYS:
        # Years past: the answer states the dates with their year and says how old its notice is.
        return Status("", True)
    elif all_passed:
        text = "；".join(parts) + f"（今天是{format_date(now)}）。"
    else:
        text = (f"按今天（{format_date(now)}）计：" if say_today else "") + "；".join(parts) + "。"
    if all_passed and event.if_missed and event.if_missed.strip().rstrip("。") not in event.answer:
        text += f"逾期的后果：{event.if_missed.strip().rstrip('。')}。"
    return Status(text, all_passed)


@dataclass(frozen=True)
class Computed:
    text: str
    date: dt.date
    exact: bool


def compute_relative(rel: Relative, anchor: dt.date, action: str, now: dt.date | None) -> Computed:
    """'N working days before the exam on D' for a concrete D, with the calendar caveats."""
    if rel.unit == "working_days":
        res = shift_workdays(anchor, rel.amount, rel.direction)
        day, exact = res.date, res.exact
    else:
        day, exact = shift_days(anchor, rel.amount, rel.direction), True
    side = "前" if rel.direction == "before" else "后"
    unit = "个工作日" if rel.unit == "working_days" else "天"
    text = (
        f"按{rel.anchor}{format_date(anchor, weekday=True)}推算，{rel.anchor}{side}{rel.amount}{unit}"
        f"是{format_date(day, weekday=True)}：{action}。"
    )
    if rel.unit == "working_days":
        lo, hi = sorted((anchor, day))
        holidays = sorted({h for d in _each_day(lo, hi) if (h := holiday_name(d))})
        if exact:
            text += "（按国家法定节假日和调休安排计算工作日，当天本身不计"
            text += f"；期间的{'、'.join(holidays)}假期不计）" if holidays else "）"
        else:
            years = "、".join(str(y) for y in res.uncovered_years)
            text += f"（注意：{years}年的法定节假日安排尚未收录，以上只按周末推算，可能有出入，请以官方通知为准）"
    if now is not None:
        if day > now:
            text += f"距今还有{_days((day - now).days)}。"
        elif day == now:
            text += "就是今天。"
        else:
            text += f"该日期已过（已过去{_days((now - day).days)}）。"
    return Computed(text, day, exact)


def _each_day(lo: dt.date, hi: dt.date) -> list[dt.date]:
    return [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]


def relative_rules(fact: Event | Rule) -> list[Relative]:
    if isinstance(fact, Event):
        return [w for w in fact.dates if isinstance(w, Relative)]
    return list(fact.periods)
