"""Facts in the knowledge-base format, built from what a sentence or paragraph yields.

Each fact is a plain mapping shaped like an entry of knowledge/notices/*.yaml, marked
`review: true`, with the sentence it came from as `source.quote` and the extracted fragments as
`source.found`, so a reviewer (or the console's review page) sees each value beside its source.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.drafting.contacts import FoundContact, find_contact, find_counts, find_durations
from knowledge.drafting.corrections import replaced_dates
from knowledge.drafting.dates import FoundDate, YearContext, find_dates
from knowledge.drafting.forms import FoundForm
from knowledge.drafting.occupations import FoundList, find_enumerations, status_of
from knowledge.drafting.prose_rules import prose_rule_facts
from knowledge.drafting.relative import UNKNOWN_ANCHOR, FoundRelative, find_relatives
from knowledge.drafting.rule_sentences import rule_fact
from knowledge.drafting.view import View

Fact = dict[str, Any]

# The view's clause separators (，；：（） after NFKC): a parenthesis is a clause of its own.
_SPLIT = re.compile(r"[,;()]|:(?!\d)")  # not the colons of a time, 11:15:49
_LEAD = re.compile(r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d{1,2}\s*[、.．](?!\d))\s*")
_BEFORE_TRIM = re.compile(r"(?:须|应|要|需|请|并|可|将)?\s*(?:于|在|为|是|截止|截至|到|自|从)?\s*$")
_AFTER_TRIM = re.compile(r"^\s*(?:之前|以前|前|当天|起|止)?")
_CJK = re.compile(r"[\u4e00-\u9fff]")


class Flow(dict[str, Any]):
    """A mapping written on one line in YAML ({kind: date, date: …}), as the hand-made files do."""


class FlowList(list[Any]):
    """A list written on one line in YAML ([a, b])."""


def strip_enumeration(sentence: str) -> str:
    """一、对已经… → 对已经…: the clause label carries the number."""
    return _LEAD.sub("", sentence, count=1).strip()


@dataclass
class Numbering:
    """Fact ids: `<prefix>.<kind>-<n>`, numbered per kind in document order."""

    prefix: str
    counts: dict[str, int] = field(default_factory=dict)

    def next(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return f"{self.prefix}.{kind}-{self.counts[kind]}"


def _source(clause: str, quote: str, found: list[str]) -> Fact:
    quote = quote if len(quote) >= 4 else f"{quote}（原文过短）"
    return {"clause": clause, "quote": quote, "found": FlowList(dict.fromkeys(f for f in found if f))}


def _clause_bounds(view: View, start: int) -> tuple[int, int]:
    cuts = [m.start() for m in _SPLIT.finditer(view.text)]
    left = max([c + 1 for c in cuts if c < start], default=0)
    right = min([c for c in cuts if c >= start], default=len(view.text))
    return left, right


def _neighbour_clause(view: View, left: int, right: int) -> str:
    """The next clause with words in it, else the previous one (2017年12月31日之前，按原计划…)."""
    cuts = [-1, *(m.start() for m in _SPLIT.finditer(view.text)), len(view.text)]
    parts = [(a + 1, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a + 1]
    after = [view.original(s, e).strip() for s, e in parts if s >= right]
    before = [view.original(s, e).strip() for s, e in parts if e <= left]
    for text in [*after, *reversed(before)]:
        if _CJK.search(text) and not re.search(r"\d+\s*月\s*\d+\s*日", text):
            return text
    return ""


def label_of(view: View, span: tuple[int, int], others: list[str]) -> tuple[str, str]:
    """(label, action): what the value bounds, from its clause with the value taken out, and
    the clause itself verbatim (with the next one when the clause is only the date)."""
    left, right = _clause_bounds(view, span[0])
    clause = view.original(left, right).strip()
    before = _BEFORE_TRIM.sub("", _LEAD.sub("", view.original(left, span[0]).strip()))
    after = _AFTER_TRIM.sub("", view.original(span[1], right)).strip()
    for other in others:
        before, after = before.replace(other, ""), after.replace(other, "")
    # 9月30日、12月31日当天: with the other date taken out, 当天 belongs to both.
    before, after = before.strip(" 、，,和及与并"), _AFTER_TRIM.sub("", after.strip(" 、，,和及与")).strip()
    label = f"{before}{after}" if _CJK.search(after) else before
    if not _CJK.search(label):
        # 2017年12月31日之前，按原计划正常组织考试: the clause is only the date; the action follows.
        label = _neighbour_clause(view, left, right)
        clause = f"{clause}，{label}" if label else clause
    return re.sub(r"\s+", "", label).strip("（）()。；;，,"), clause


def _phrase(view: View, span: tuple[int, int]) -> str:
    """The clause around a count, parentheses kept: 秘书（涉外秘书）、劳动关系协调员 6 个职业."""
    cuts = [m.start() for m in re.finditer(r"[,;:]", view.text)]
    left = max([c + 1 for c in cuts if c < span[0]], default=0)
    right = min([c for c in cuts if c >= span[1]], default=len(view.text))
    return view.original(left, right).strip().rstrip("。；;")


@dataclass
class SentenceFacts:
    """What one sentence yields: facts, and problems to tell the reviewer."""

    facts: list[Fact] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dated: bool = False
    stated_counts: list[int] = field(default_factory=list)
    days: list[dt.date] = field(default_factory=list)
    """The days the sentence names, for reading the next sentences' years in order."""


def _when(found: FoundDate, label: str) -> Flow:
    if found.kind == "range":
        out = Flow(kind="range", start=found.start, end=found.end)
        if found.precision == "month":
            out["precision"] = "month"
        if found.start_time:
            out["start_time"] = found.start_time
        if found.end_time:
            out["end_time"] = found.end_time
    else:
        out = Flow(kind="date", date=found.start, bound=found.bound)
        if found.start_time:
            out["time"] = found.start_time
    if found.month_before:
        label = f"{label}（原文只写到月：{found.text}）"
    elif found.part_of_month and found.text not in label:
        label = f"{label}（{found.text}）"
    if label:
        out["label"] = label
    return out


def _relative(found: FoundRelative, label: str) -> Flow:
    out = Flow(
        kind="relative",
        amount=found.amount,
        unit=found.unit,
        direction=found.direction,
        anchor=found.anchor,
        anchor_kind=found.anchor_kind,
    )
    if label:
        out["label"] = label
    return out


@dataclass(frozen=True)
class _Sentence:
    """One sentence being read: its text (enumeration label removed), where it stands, and the
    numbering its facts take their ids from."""

    quote: str
    view: View
    clause: str
    where: str
    """第N行（clause）, for the reviewer's problems."""
    ids: Numbering

    def source(self, found: list[str]) -> Fact:
        return _source(self.clause, self.quote, found)


def sentence_facts(
    sentence: str,
    *,
    clause: str,
    line: int,
    ctx: YearContext,
    ids: Numbering,
    signature: bool = False,
    heading: str | None = None,
    previous: str = "",
) -> SentenceFacts:
    """Dated events, relative deadlines, occupation lists, durations and counts of one sentence;
    `heading` is its section's heading line (五、收费标准), which says what its bare lines are about."""
    quote = strip_enumeration(sentence)
    s = _Sentence(quote, View.of(quote), clause, f"第{line}行（{clause}）", ids)
    out = SentenceFacts()
    dates = find_dates(s.view, ctx)
    relatives = find_relatives(s.view)
    out.dated = bool(dates)
    out.days = [day for found in dates for day in found.days]
    _add_dated_fact(s, dates, relatives, out, signature=signature)
    _add_list_facts(s, out)
    _add_duration_fact(s, out)
    prose = prose_rule_facts(s.view, s.quote, s.clause, s.ids, s.source, heading or "")
    out.facts += prose
    if not signature and not any(f["kind"] == "rule" for f in prose):
        spans = [*(d.span for d in dates), *(r.span for r in relatives)]
        rule = rule_fact(s.view, s.quote, s.clause, s.ids, s.source, heading or "", spans, previous)
        out.facts += [rule] if rule is not None else []
    _add_counts(s, [r.span for r in relatives], out)
    _report_unread_dates(s, [*(d.span for d in dates), *(r.span for r in relatives)], out, signature=signature)
    return out


_DATE_LIKE = re.compile(
    r"\d{1,2}\s*月\s*(?:上旬|中旬|下旬|中下旬|上中旬|底|初|末|份)|月底|月初|月末|(?<![\d〕\]）)])\d{1,2}\s*日(?![\d])"
    r"|\d+\s*个?(?:工作日|自然日)|\d+\s*(?:日|天)(?:内|前|后|以内)"
)
"""Date-like phrases: 5月中下旬, 12月底, 15日, 10个工作日, 30天内. One no date or deadline covers is reported."""


def _report_unread_dates(s: _Sentence, covered: list[tuple[int, int]], out: SentenceFacts, *, signature: bool) -> None:
    """Every date-like phrase becomes a fact or a problem: nothing is dropped without a word."""
    if signature:
        return
    covered = [*covered, *(c.span for c in find_counts(s.view, []))]  # 延长1—2个工作日 is a count
    for m in _DATE_LIKE.finditer(s.view.text):
        if not any(a <= m.start() < b or a < m.end() <= b for a, b in covered):
            phrase = s.view.original(*m.span())
            out.problems.append(f"{s.where}未能识别的日期或期限：“{phrase}”，请核对后补充条目；原文：{s.quote[:60]}")


@dataclass
class _Timing:
    """The dates and relative deadlines of a sentence, with the clause and the text of each."""

    when: list[Flow] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)

    def add(self, entry: Flow, clause: str, text: str) -> None:
        self.when.append(entry)
        self.clauses.append(clause)
        self.found.append(text)


def _add_dated_fact(
    s: _Sentence, dates: list[FoundDate], relatives: list[FoundRelative], out: SentenceFacts, *, signature: bool
) -> None:
    """One event or deadline fact holding every date and relative deadline of the sentence."""
    replaced = replaced_dates(s.view, dates)
    for found in replaced:
        out.problems.append(f"{s.where}“{found.text}”是调整前的原定日期，未作为条目；原文：{s.quote[:60]}")
    dates = [d for d in dates if d not in replaced]
    for found in dates:
        if found.problem:
            out.problems.append(f"{s.where}{found.problem}；原文：{s.quote[:60]}")
    others = [d.text for d in dates] + [r.text for r in relatives]
    timing = _Timing()
    for found in dates:
        label, text = label_of(s.view, found.span, [o for o in others if o != found.text])
        if signature and re.fullmatch(r"[\d\s年月日]+(?:印发|发布)?", s.view.text):
            label = "印发" if s.quote.endswith("印发") else "发文"
        if found.start is None and found.problem and not found.problem.startswith("年份无法确定"):
            continue  # a day that cannot exist gets no date at all, only the problem
        timing.add(_date_entry(found, label), text, found.text)
    for rel in relatives:
        label, text = label_of(s.view, rel.span, [o for o in others if o != rel.text])
        timing.add(_relative(rel, label), text, rel.text)
        if rel.anchor == UNKNOWN_ANCHOR:
            out.problems.append(f"{s.where}“{rel.text}”没有写明从哪天算起；原文：{s.quote[:60]}")
    if timing.when:
        out.facts.append(_dated_fact(s, timing))


def _date_entry(found: FoundDate, label: str) -> Flow:
    """A date entry; when the year is unknown, the day is left for the reviewer to fill in."""
    if found.start is not None:
        return _when(found, label)
    blank = Flow(kind="range", start=None, end=None) if found.kind == "range" else Flow(kind="date", date=None)
    blank.update({"bound": found.bound} if found.kind == "date" else {})
    blank["label"] = f"{label}（原文：{found.text}，年份待定）"
    return blank


def _dated_fact(s: _Sentence, timing: _Timing) -> Fact:
    first = timing.found[0]
    when = timing.when
    bound_by = any(w.get("bound") == "by" for w in when) or any(w["kind"] == "relative" for w in when)
    title_label = next((w.get("label") for w in when if w.get("label")), "")
    return {
        "id": s.ids.next("date"),
        "kind": "deadline" if bound_by else "event",
        "review": True,
        "title": f"{first}：{title_label}"[:80] if title_label else first,
        "topic": "日期",
        "dates": when,
        "action": "，".join(dict.fromkeys(timing.clauses)),
        "answer": s.quote,
        "source": s.source(timing.found),
    }


def _add_list_facts(s: _Sentence, out: SentenceFacts) -> None:
    for found_list in find_enumerations(s.view):
        out.facts.append(list_fact(found_list, s.ids, s.clause, s.quote, s.quote))
        if found_list.mismatch:
            out.problems.append(
                f"{s.where}职业名单列出{len(found_list.occupations)}个职业，原文写{found_list.stated}个：请核对；"
                f"原文：{found_list.text[:60]}"
            )


def _add_duration_fact(s: _Sentence, out: SentenceFacts) -> None:
    durations = find_durations(s.view)
    if not durations:
        return
    out.facts.append(
        {
            "id": s.ids.next("rule"),
            "kind": "rule",
            "review": True,
            "title": f"考试时长（{durations[0].subject}）",
            "topic": "考试时长",
            "durations": [
                Flow(subject=d.subject, levels=FlowList(d.levels), minutes=d.minutes)
                if d.levels
                else Flow(subject=d.subject, minutes=d.minutes)
                for d in durations
            ],
            "answer": s.quote,
            "source": s.source([d.text for d in durations]),
        }
    )


def _add_counts(s: _Sentence, skip: list[tuple[int, int]], out: SentenceFacts) -> None:
    """Counts (6个职业, 3个工作日 outside relative deadlines): on the sentence's first fact, or as a
    fact of their own."""
    counts = find_counts(s.view, skip)
    out.stated_counts = [c.value for c in counts if c.unit.startswith("个职业")]
    if not counts:
        return
    entries = [Flow(value=c.value, unit=c.unit, what=_phrase(s.view, c.span)) for c in counts]
    if out.facts:
        out.facts[0]["counts"] = entries
        out.facts[0]["source"]["found"] += [c.text for c in counts if c.text not in out.facts[0]["source"]["found"]]
        return
    out.facts.append(
        {
            "id": s.ids.next("count"),
            "kind": "rule",
            "review": True,
            "title": f"数量：{'、'.join(c.text for c in counts)}"[:80],
            "topic": "数量",
            "counts": entries,
            "answer": s.quote,
            "source": s.source([c.text for c in counts]),
        }
    )


def list_fact(
    found: FoundList, ids: Numbering, clause: str, quote: str, context: str, title: str | None = None
) -> Fact:
    """An occupation_list fact."""
    if title is None:
        head = re.split(r"[:：]", quote)[0] if re.search(r"[:：]", quote) else ""
        title = head if head and len(head) <= 30 else f"{'、'.join(found.occupations[:2])}等"
    count = found.stated if found.stated is not None else len(found.occupations)
    fact: Fact = {
        "id": ids.next("list"),
        "kind": "occupation_list",
        "review": True,
        "title": f"{title}（{count}个）" if found.complete else f"{title}（原文以“等”结尾，未列全）",
        "topic": "职业名单",
        "status": status_of(context),
        "occupations": FlowList(found.occupations),
    }
    if found.stated is not None:
        fact["stated_count"] = found.stated
    if not found.complete:
        fact["applies"] = {"occupations_note": "原文列举后写“等”，名单并不完整"}
    fact["answer"] = quote
    fact["source"] = _source(clause, quote, [found.text] if len(found.text) <= 80 else list(found.occupations[:1]))
    return fact


def contact_fact(
    paragraph: str, *, clause: str, issuer: str | None, ids: Numbering, in_phone_section: bool = False
) -> Fact | None:
    """A contact fact for a paragraph that gives a phone, e-mail, address or contact person
    (`in_phone_section`: the paragraph is under a heading such as 咨询电话)."""
    quote = strip_enumeration(paragraph)
    found: FoundContact = find_contact(View.of(quote), in_phone_section=in_phone_section)
    if not (found.phones or found.emails or found.address or found.person):
        if not found.unit or "联系" not in quote:
            return None
    unit = found.unit
    org_like = unit is not None and re.search(r"(?:中心|厅|局|办公室|委员会|站|所|院)$", unit)
    fact: Fact = {
        "id": ids.next("contact"),
        "kind": "contact",
        "review": True,
        "title": f"联系方式（{clause}）",
        "topic": "联系方式",
        "organization": unit if org_like else (issuer or "（待填写）"),
    }
    if unit and not org_like:
        fact["department"] = unit
    if found.person:
        fact["person"] = found.person
    if found.phones:
        fact["phones"] = [
            Flow(number=p.number, label=p.label) if p.label else Flow(number=p.number) for p in found.phones
        ]
    if found.emails:
        fact["emails"] = FlowList(found.emails)
    if found.address:
        fact["address"] = found.address
    if found.postcode:
        fact["postcode"] = found.postcode
    fact["answer"] = quote
    fact["source"] = _source(clause, quote, [*found.found, found.address or "", found.postcode or ""])
    return fact


def form_fact(form: FoundForm, *, clause: str, quote: str, ids: Numbering) -> Fact:
    """A form fact: name, fields with a guessed kind, columns and notes."""
    fact: Fact = {
        "id": ids.next("form"),
        "kind": "form",
        "review": True,
        "title": f"《{form.name}》（{clause}）",
        "topic": "表格",
        "name": form.name,
    }
    if form.fields:
        fact["fields"] = [
            Flow(label=label, kind=kind) if kind != "text" else Flow(label=label) for label, kind in form.fields
        ]
    if form.columns:
        fact["columns"] = list(form.columns)
    notes = list(form.notes)
    if form.blanks:
        notes.append(f"正文有{form.blanks}处空白待填写（请在 fields 中补上对应的栏目）")
    if notes:
        fact["notes"] = notes
    labels = "、".join(label for label, _ in form.fields) or "见原表"
    fact["answer"] = f"《{form.name}》（{clause}）需填写：{labels}。"
    fact["source"] = _source(clause, quote, [])
    return fact
