"""Which dates concern a subscriber: the pure part of reminder planning.

`due_dates` reads the notices that govern the candidate's region and turns their dated facts
into days to remind of: fixed deadlines and windows, yearly windows projected into the coming
years, and deadlines counted back from the candidate's own exam date. It knows nothing of
subscribers, channels or the scheduler; the planner turns each `DueDate` into reminders and
builds its idempotency key from `DueDate.key`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from knowledge.base import ENCLOSING_FLOOR, Entry, KnowledgeBase, notice_card
from knowledge.schema import DateRange, Event, Notice, OccupationList, OnDate, Relative
from knowledge.workdays import format_date, shift_days, shift_workdays

DueKind = Literal["deadline", "opens", "exam"]

# A region's own notice fits with 1.0 and an enclosing region's with 0.7 to 0.8 (KnowledgeBase.applicability);
# a notice for a region *inside* the candidate's (INSIDE: 广州 for someone in 广东) does not bind them.
_GOVERNS = ENCLOSING_FLOOR
# Guangdong calls the provincial unified exam 全省统考; Jilin calls it 全省统一鉴定.
_SAME_KIND: dict[str, frozenset[str]] = {
    "全省统一鉴定": frozenset({"全省统一鉴定", "全省统考"}),
    "全省统考": frozenset({"全省统一鉴定", "全省统考"}),
}
# Bodies a candidate registers and pays through: their deadlines for the candidate's own exam
# (the fee, 考前7个工作日) decide whether that candidate gets a certificate.
_INTERMEDIARIES = frozenset({"报考机构", "鉴定机构", "单位"})
_TITLE_MAX = 20
# One wrong character in five still names the same occupation; shorter names must match exactly.
_OCCUPATION_CUTOFF = 80.0


@dataclass(frozen=True)
class Interest:
    """What a subscriber told us: where they take the exam and, optionally, what and when."""

    region: str
    """Canonical region name, as RegionRegistry.resolve gives it."""
    occupation: str | None = None
    exam_kind: str | None = None
    """One of schema.ExamKind; 全省统一鉴定 and 全省统考 are taken as the same kind."""
    exam_date: dt.date | None = None
    withdrawn_from: dt.date | None = None
    """The day of the exam the candidate withdrew from: its fee deadline, exam day and withdrawal
    registration no longer concern them, only what comes after it (the next registration)."""

    @classmethod
    def of_subscription(
        cls, region: str, occupation: str | None, exam_kind: str | None, exam_date: dt.date | None, *, withdrawn: bool
    ) -> Interest:
        """A stored subscription's interest; one made for a withdrawal request (`withdrawn`) keeps
        its exam's date as the date withdrawn from, not as the candidate's exam."""
        if withdrawn:
            return cls(region, occupation, exam_kind, None, withdrawn_from=exam_date)
        return cls(region, occupation, exam_kind, exam_date)


@dataclass(frozen=True)
class DueDate:
    """One day to remind a candidate of, with the notice that states it."""

    key: str
    """Stable across runs: fact id, date index and part, plus the year of a projection or the exam date."""
    day: dt.date
    kind: DueKind
    title: str
    """One line of at most 20 characters (a WeChat template field)."""
    text: str
    doc_no: str
    fact_id: str
    personal: bool = False
    """Computed from the candidate's own exam date."""
    recurring: bool = False
    """Projected from a yearly-recurring date of an earlier year's notice."""
    exact: bool = True
    """False when working days were counted without the official holiday calendar for some year."""


def due_dates(kb: KnowledgeBase, interest: Interest, *, today: dt.date, horizon_days: int = 400) -> list[DueDate]:
    """Dates from `today` (inclusive) to today+horizon that concern `interest`, sorted by day, no duplicates."""
    last = today + dt.timedelta(days=horizon_days)
    entries = _governing(kb, interest.region)
    if not entries:
        return []
    found: list[DueDate] = []
    for entry in entries:
        fact = entry.fact
        if not isinstance(fact, Event) or not _concerns(kb, fact, interest):
            continue
        found.extend(_fixed(entry, fact, today, last))
        if interest.exam_date is not None:
            found.extend(_personal(entry, fact, interest.exam_date))
    if interest.exam_date is not None:
        found.append(_exam_day(kb, entries, interest))
    kept: list[DueDate] = []
    seen: set[object] = set()
    for due in found:
        # The same reminder stated twice (identical wording for the same day) is sent once.
        marks = (due.key, (due.day, due.kind, due.text))
        if interest.withdrawn_from is not None and due.day <= interest.withdrawn_from:
            continue
        if today <= due.day <= last and not seen.intersection(marks):
            seen.update(marks)
            kept.append(due)
    return sorted(kept, key=lambda d: (d.day, d.key))


# ── which facts concern the candidate ─────────────────────────────────────────────────────


def _governing(kb: KnowledgeBase, region: str) -> list[Entry]:
    """Facts of the notices governing `region`, without those a more local notice replaces.

    A notice that forwards (落实) another one and dates the same topic sets the local date: 广州's
    145号 moves 广东's 退考退费 deadline from 9月22日 to 9月30日, so 广东's date is dropped for 广州.
    """
    entries = [e for e in kb.entries if kb.applicability(e, region) >= _GOVERNS]
    docs = {e.doc_no for e in entries}
    superseded: set[str] = set()
    local_topics: dict[str, set[str]] = {}  # forwarded doc_no -> topics the forwarding notice dates
    for doc_no in docs:
        notice = kb.notices[doc_no]
        superseded.update(notice.supersedes)
        for old in notice.forwards:
            local_topics.setdefault(old, set()).update(f.topic for f in notice.facts if isinstance(f, Event))
    return [
        e
        for e in entries
        if e.doc_no not in superseded
        and not (isinstance(e.fact, Event) and e.fact.topic in local_topics.get(e.doc_no, ()))
    ]


def _concerns(kb: KnowledgeBase, fact: Event, interest: Interest) -> bool:
    applies = fact.applies
    if interest.exam_kind is not None and applies.exam_kinds:
        if not _related(interest.exam_kind) & set(applies.exam_kinds):
            return False
    if interest.occupation is not None and applies.occupation_lists:
        listed = [
            name
            for list_id in applies.occupation_lists
            if isinstance(lst := kb.by_id[list_id].fact, OccupationList)
            for name in lst.occupations
        ]
        if not any(_same_occupation(interest.occupation, name) for name in listed):
            return False
    return True


def _related(exam_kind: str | None) -> frozenset[str]:
    if exam_kind is None:
        return frozenset()
    return _SAME_KIND.get(exam_kind, frozenset({exam_kind}))


def _for_candidates(fact: Event) -> bool:
    return not fact.applies.audience or "考生" in fact.applies.audience


def _same_occupation(typed: str, listed: str) -> bool:
    """Lenient on purpose: a needless reminder costs less than a missed deadline."""
    typed = re.sub(r"\s+", "", typed)
    if typed == listed or (len(typed) >= 2 and (typed in listed or listed in typed)):
        return True
    bare = re.sub(r"（[^）]*）|\([^)]*\)", "", listed)
    return typed == bare or (len(bare) >= 4 and fuzz.ratio(typed, bare) >= _OCCUPATION_CUTOFF)


# ── fixed and yearly dates ────────────────────────────────────────────────────────────────


def _fixed(entry: Entry, fact: Event, today: dt.date, last: dt.date) -> Iterator[DueDate]:
    if not _for_candidates(fact):
        return
    multi = len([w for w in fact.dates if not isinstance(w, Relative)]) > 1
    exam = _is_exam(fact)
    for index, when in enumerate(fact.dates):
        if isinstance(when, Relative):
            continue
        # Month-precision periods (2020年5月至12月) are spans of activity, not days a candidate acts on.
        if isinstance(when, DateRange) and when.precision == "month":
            continue
        # A non-exam "on" date of an event (发文, 目录公布) is a reference date, nothing to do that day.
        if isinstance(when, OnDate) and when.bound == "on" and not exam and fact.kind == "event":
            continue
        # Last year's projection too, for a period running over New Year; the window drops the rest.
        first = max(today.year - 1, _year(when))
        years = [None] if fact.recurs is None else list(range(first, last.year + 1))
        for year in years:
            shown = when if year is None else _projected(when, year)
            yield from _parts(entry, fact, index, shown, exam, multi, year, projected=year not in (None, _year(when)))


def _parts(
    entry: Entry,
    fact: Event,
    index: int,
    when: OnDate | DateRange,
    exam: bool,
    multi: bool,
    year: int | None,
    *,
    projected: bool,
) -> Iterator[DueDate]:
    head = _head(entry, when.label if multi else None)
    tail = f"以上按{entry.doc_no}每年的安排推算，具体以{year}年的通知为准。" if projected else f"（依据{entry.doc_no}）"
    suffix = "" if year is None else f":{year}"
    action = fact.action.rstrip("。")

    def due(part: str, day: dt.date, kind: DueKind, body: str) -> DueDate:
        sentence = body + ("。" + tail if projected else tail + "。")
        if fact.if_missed and kind == "deadline":
            sentence += fact.if_missed.strip()
        return DueDate(
            key=f"{fact.id}#{index}:{part}{suffix}",
            day=day,
            kind=kind,
            title=_title(fact, when.label if multi else None, kind),
            text=sentence,
            doc_no=entry.doc_no,
            fact_id=fact.id,
            recurring=projected,
        )

    if isinstance(when, OnDate):
        if exam:
            yield due("on", when.date, "exam", f"{head}{action}的日期为{format_date(when.date)}")
        else:
            yield due(when.bound, when.date, "deadline", f"{head}{action}，截止日期为{format_date(when.date)}")
        return
    span = f"{format_date(when.start)}至{format_date(when.end)}"
    if exam:
        yield due("start", when.start, "exam", f"{head}{action}的日期为{span}")
        return
    yield due("start", when.start, "opens", f"{head}{action}的期间为{span}，将于{format_date(when.start)}开始")
    yield due("end", when.end, "deadline", f"{head}{action}的期间为{span}，将于{format_date(when.end)}截止")


def _year(when: OnDate | DateRange) -> int:
    return when.date.year if isinstance(when, OnDate) else when.start.year


def _projected(when: OnDate | DateRange, year: int) -> OnDate | DateRange:
    shift = year - _year(when)
    if isinstance(when, OnDate):
        return when.model_copy(update={"date": _same_day(when.date, when.date.year + shift)})
    start, end = _same_day(when.start, when.start.year + shift), _same_day(when.end, when.end.year + shift)
    return when.model_copy(update={"start": start, "end": end})


def _same_day(day: dt.date, year: int) -> dt.date:
    """The same month and day in `year`; 2月29日 becomes 2月28日 in a common year."""
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def _is_exam(fact: Event) -> bool:
    """Taking an exam (参加…考试, 参加补考), as opposed to registering for one (报名参加…)."""
    return fact.action.startswith("参加") and ("考" in fact.action or "鉴定" in fact.action)


# ── dates from the candidate's own exam date ─────────────────────────────────────────────


def _personal(entry: Entry, fact: Event, exam_date: dt.date) -> Iterator[DueDate]:
    audience = set(fact.applies.audience)
    for index, when in enumerate(fact.dates):
        if not isinstance(when, Relative) or when.anchor_kind not in ("exam_date", "exam_end"):
            continue
        if when.direction == "before":
            # Before the exam: the candidate's own deadlines, and the registering body's for this
            # exam (the fee), which the candidate can chase.
            by_intermediary = not _for_candidates(fact) and bool(audience & _INTERMEDIARIES)
            if not _for_candidates(fact) and not by_intermediary:
                continue
        else:
            # After the exam mostly come results and certificates; only a candidate's own deadline counts.
            # The exam date stands in for its end: for a multi-day exam that reminds early, never late.
            if fact.kind != "deadline" or not _for_candidates(fact):
                continue
            by_intermediary = False
        yield _relative(entry, fact, index, when, exam_date, by_intermediary)


def _relative(
    entry: Entry, fact: Event, index: int, rel: Relative, exam_date: dt.date, by_intermediary: bool
) -> DueDate:
    uncovered: tuple[int, ...] = ()
    if rel.unit == "working_days":
        res = shift_workdays(exam_date, rel.amount, rel.direction)
        day, uncovered, unit = res.date, res.uncovered_years, "个工作日"
    else:
        day, unit = shift_days(exam_date, rel.amount, rel.direction), "天"
    exact = not uncovered
    side = "前" if rel.direction == "before" else "后"
    how = f"按您的{rel.anchor}{format_date(exam_date)}{side}{rel.amount}{unit}推算"
    notes = [how, *_asides(rel.label), f"依据{entry.doc_no}"]
    text = f"{_head(entry, None)}{fact.action.rstrip('。')}，截止日期为{format_date(day)}（{'；'.join(notes)}）。"
    if not exact:
        years = "、".join(str(y) for y in uncovered)
        text += f"{years}年的法定节假日安排尚未收录，以上只按周末推算，请以官方通知为准。"
    if by_intermediary:
        who = "或".join(a for a in fact.applies.audience if a in _INTERMEDIARIES)
        text += f"此事由{who}办理，请向您的{who}确认。"
    if fact.if_missed:
        text += fact.if_missed.strip()
    return DueDate(
        key=f"{fact.id}#{index}:{rel.direction}@{exam_date.isoformat()}",
        day=day,
        kind="deadline",
        title=_title(fact, None, "deadline"),
        text=text,
        doc_no=entry.doc_no,
        fact_id=fact.id,
        personal=True,
        exact=exact,
    )


def _exam_day(kb: KnowledgeBase, entries: list[Entry], interest: Interest) -> DueDate:
    """The candidate's own exam day, citing the most local notice (one about their kind of exam if any)."""
    assert interest.exam_date is not None
    notice = _citing_notice(kb, entries, interest)
    card = notice_card(notice)
    kind = interest.exam_kind or ""
    title = f"{kind}日" if "考" in kind else f"{kind}考试日"
    day = format_date(interest.exam_date, weekday=True)
    return DueDate(
        key=f"{card.id}#exam@{interest.exam_date.isoformat()}",
        day=interest.exam_date,
        kind="exam",
        title=title,
        text=f"您在{interest.region}的{kind or '鉴定'}考试定于{day}，请按时参加（适用{notice.doc_no}）。",
        doc_no=notice.doc_no,
        fact_id=card.id,
        personal=True,
    )


def _citing_notice(kb: KnowledgeBase, entries: list[Entry], interest: Interest) -> Notice:
    related = _related(interest.exam_kind)

    def rank(notice: Notice) -> tuple[float, bool, int]:
        fit = max(kb.applicability(e, interest.region) for e in entries if e.doc_no == notice.doc_no)
        about_kind = any(related & set(f.applies.exam_kinds) for f in notice.facts)
        return fit, about_kind, notice.year

    notices = {e.doc_no: e.notice for e in entries}
    return max(notices.values(), key=rank)


# ── wording ───────────────────────────────────────────────────────────────────────────────


def _head(entry: Entry, label: str | None) -> str:
    where = "、".join(entry.regions)
    return f"{where}（{label}）：" if label else f"{where}："


def _asides(label: str | None) -> list[str]:
    """Parenthesised remarks of a date label: 报名截止（各地可…延长1—2个工作日） gives the remark."""
    return re.findall(r"（([^）]+)）", label or "")


_DATE_IN_TITLE = re.compile(r"在?\d{4}年(?:\d{1,2}月)?(?:\d{1,2}日)?(?:之前|前|当天)?")


def _title(fact: Event, label: str | None, kind: DueKind) -> str:
    """A short line from the fact's title: without dates and remarks, with 截止/开始 when it lacks one."""

    def bare(text: str) -> str:
        text = re.sub(r"（[^）]*）|\([^)]*\)", "", text.split("：")[0])
        return _DATE_IN_TITLE.sub("", text).strip("，、 ")

    base = re.sub(r"(日期|时间|时限|期限)$", "", bare(fact.title))
    if label:
        short = bare(label)
        if len(short) <= 4:
            base = short + base
        elif len(short) <= _TITLE_MAX:
            base = short
    if kind == "deadline" and not any(w in base for w in ("截止", "停止", "完成", "结束")):
        base += "截止"
    elif kind == "opens":
        base += "开始"
    elif kind == "exam" and "考" not in base:
        base += "考试"
    return base if len(base) <= _TITLE_MAX else base[: _TITLE_MAX - 1] + "…"
