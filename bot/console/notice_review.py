"""The notice review form: what the draft page shows of each drafted fact, and how the submitted
form changes the draft's knowledge-base mapping and the reviewer's decisions.

Values are kept as typed (a date such as 2027-02-30 stays text): publishing validates the mapping
as `kb check` does and names the fact and the field, so a mistake is shown, never silently dropped.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from bot.console.fact_fields import (
    DATED_KINDS,
    KIND_LABELS,
    added_fact,
    apply_kind_fields,
    kind_fields,
    number_of,
    set_value,
    split_list,
)
from bot.console.forms import form_text
from knowledge.loader import LoadProblem
from knowledge.published import ACCEPT, REJECT, fact_of_problem
from knowledge.regions import RegionRegistry

DECISION_LABELS = {ACCEPT: "采用", REJECT: "不采用", "": "待审核"}
BOUND_LABELS = {"by": "截止（此日前）", "on": "当天"}
UNIT_LABELS = {"working_days": "个工作日", "days": "天"}
DIRECTION_LABELS = {"before": "之前", "after": "之后"}
SHOWN_KEYS = ("status", "emails", "durations")
"""Other fields of a fact, shown read-only beside the editable ones."""
_DATE_KEYS = dict.fromkeys(
    (
        "kind",
        "date",
        "time",
        "bound",
        "start",
        "start_time",
        "end",
        "end_time",
        "precision",
        "amount",
        "unit",
        "direction",
        "anchor",
        "label",
    )
)
"""Every key a date of any kind may have: the templates read them all without checking which kind."""
_MESSAGES = (
    ("Input should be a valid date", "日期无效：应为存在的日期，格式 YYYY-MM-DD"),
    ("Field required", "必填"),
    ("String should have at least", "内容太短"),
    ("List should have at least 1 item", "至少需要一项"),
    ("Input should be a valid integer", "应为整数"),
    ("Input should be a valid string", "不能为空"),
    ("Value error, end is before start", "结束日期早于开始日期"),
    ("Value error, either issued or issued_year is required", "发文日期或年份必须填写一个"),
    ("String should match pattern", "格式不正确"),
)
_TAGS = frozenset({*KIND_LABELS, "date", "range", "relative"})
_FIELD_LABELS = {
    "doc_no": "文号",
    "issuer": "发文单位",
    "issued": "发文日期",
    "issued_year": "发文年份",
    "title": "标题",
    "regions": "地区",
    "summary": "概要",
    "supersedes": "取代的文件",
    "facts": "条目",
    "review": "审核标记",
    "problems": "起草问题",
    "answer": "回答",
    "topic": "主题",
    "action": "事项",
    "dates": "日期",
    "date": "日期",
    "start": "开始日期",
    "end": "结束日期",
    "time": "钟点",
    "start_time": "开始钟点",
    "end_time": "结束钟点",
    "amount": "数量",
    "label": "说明",
    "anchor": "相对于",
    "applies": "适用范围",
    "occupation_lists": "职业名单",
}


def canonical_regions(value: str, registry: RegionRegistry) -> list[str]:
    """广州, 吉林 → 广州市, 吉林省; a name that is no region is kept as typed, for validation to name."""
    out: list[str] = []
    for name in split_list(value):
        out.append(registry.named(name) or name)
    return list(dict.fromkeys(out))


def source_segments(text: str, quotes: list[tuple[int, str]]) -> list[tuple[str, int | None]]:
    """The notice's full text cut into (piece, fact number or None): the sentence each fact came from
    marked where it first occurs, so the page can link the two both ways. Overlaps keep the first."""
    spans: list[tuple[int, int, int]] = []
    for number, quote in quotes:
        quote = quote.strip()
        at = text.find(quote) if len(quote) >= 4 else -1
        if at >= 0 and not any(at < e and s < at + len(quote) for s, e, _ in spans):
            spans.append((at, at + len(quote), number))
    out: list[tuple[str, int | None]] = []
    pos = 0
    for start, end, number in sorted(spans):
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], number))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def highlight(quote: str, found: list[str]) -> list[tuple[str, bool]]:
    """The quote cut into (text, extracted?) pieces, so the page can mark what the draft took from it."""
    marked = [False] * len(quote)
    for piece in found:
        if not piece:
            continue
        start = quote.find(piece)
        while start >= 0:
            for k in range(start, start + len(piece)):
                marked[k] = True
            start = quote.find(piece, start + len(piece))
    pieces: list[tuple[str, bool]] = []
    for char, mark in zip(quote, marked, strict=True):
        if pieces and pieces[-1][1] == mark:
            pieces[-1] = (pieces[-1][0] + char, mark)
        else:
            pieces.append((char, mark))
    return pieces


def describe(problem: LoadProblem, data: Mapping[str, Any]) -> str:
    """A validation problem as a reviewer reads it: the field in Chinese, the message translated."""
    message = problem.message
    for english, chinese in _MESSAGES:
        if message.startswith(english):
            message = chinese
            break
    fact = fact_of_problem(problem, data)
    location = problem.location
    # The draft marks, in the words of this page rather than of a YAML file.
    if location == "review":
        return "文头尚待核对：核对文号、发文单位、日期、标题和地区后，勾选“文头已核对”"
    if location.startswith("problems."):
        return "起草问题尚未解决：" + message.removeprefix("起草问题尚未解决：") + "（处理后勾选“已解决”）"
    if fact is not None and location.endswith(".review"):
        return "尚待审核：请对照原文核对后选择“采用”或“不采用”"
    if fact is not None and not location.split(".")[1].isdigit():
        location = location[len(f"facts.{fact}") :].lstrip(".")  # the cross-checks name a fact by its id
    parts = location.split(".")
    # The schema's locations carry the tag of each union member (facts.3.deadline.dates.0.date.date).
    parts = [x for k, x in enumerate(parts) if not (x in _TAGS and k and parts[k - 1].isdigit())]
    if fact is not None and len(parts) > 1 and parts[0] == "facts" and parts[1].isdigit():
        parts = parts[2:]  # the fact is named by the card the message sits in
    words: list[str] = []
    for part in parts:
        if part.isdigit():
            # 日期1, as the page's legends number them; 第1项 where no field name came before.
            if words:
                words[-1] = f"{words[-1]}{int(part) + 1}"
            else:
                words.append(f"第{int(part) + 1}项")
        elif part in _FIELD_LABELS:
            words.append(_FIELD_LABELS[part])
    where = " · ".join(words)
    return f"{where}：{message}" if where else message


def problems_by_fact(problems: list[LoadProblem], data: Mapping[str, Any]) -> tuple[list[str], dict[str, list[str]]]:
    """The problems of the notice's header, and those of each fact by id."""
    header: list[str] = []
    facts: dict[str, list[str]] = {}
    for problem in problems:
        fact = fact_of_problem(problem, data)
        text = describe(problem, data)
        if fact is None:
            header.append(text)
        else:
            facts.setdefault(fact, []).append(text)
    return header, facts


def fact_views(
    data: Mapping[str, Any], decisions: Mapping[str, str], errors: Mapping[str, list[str]]
) -> list[dict[str, Any]]:
    """What the draft page shows of each fact: the source beside the editable fields."""
    facts = data.get("facts") or []
    lists = [(f.get("id"), f.get("title")) for f in facts if f.get("kind") == "occupation_list"]
    views = []
    for i, fact in enumerate(facts):
        source = fact.get("source") or {}
        applies = fact.get("applies") or {}
        ident = str(fact.get("id"))
        views.append(
            {
                "i": i,
                "id": ident,
                "kind": fact.get("kind"),
                "kinds": DATED_KINDS if fact.get("kind") in DATED_KINDS else (fact.get("kind"),),
                "title": fact.get("title") or "",
                "topic": fact.get("topic") or "",
                "answer": fact.get("answer") or "",
                "action": fact.get("action"),
                "questions": "\n".join(fact.get("questions") or []),
                "keywords": "、".join(fact.get("keywords") or []),
                "regions": "、".join(fact.get("regions") or []),
                "note": applies.get("occupations_note") or "",
                "lists": [
                    {"id": lid, "title": ltitle, "checked": lid in (applies.get("occupation_lists") or [])}
                    for lid, ltitle in lists
                    if lid != ident
                ],
                "dates": [{**_DATE_KEYS, **d} for d in fact.get("dates") or []],
                "decision": decisions.get(ident, ""),
                "clause": source.get("clause") or "",
                "quote": highlight(str(source.get("quote") or ""), [str(x) for x in source.get("found") or []]),
                "shown": [(key, fact[key]) for key in SHOWN_KEYS if fact.get(key) not in (None, [], "")],
                "errors": errors.get(ident, []),
                **kind_fields(fact),
            }
        )
    return views


def _dates(form: FormData, prefix: str, dates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for j, when in enumerate(dates):
        p = f"{prefix}_d{j}"
        if form.get(f"{p}_drop") == "1":
            continue
        when = dict(when)
        kind = when.get("kind")
        fields = {
            "date": ("date", "time", "bound"),
            "range": ("start", "start_time", "end", "end_time"),
            "relative": ("amount", "unit", "direction", "anchor"),
        }.get(str(kind), ())
        for name in fields:
            key = f"{p}_{name}"
            if key in form:
                value = form_text(form, key, limit=200)
                when[name] = number_of(value) if name == "amount" else value or None
        if f"{p}_label" in form:
            set_value(when, "label", form_text(form, f"{p}_label", limit=200))
        out.append(when)
    return out


def apply_form(
    data: Mapping[str, Any], decisions: Mapping[str, str], form: FormData, registry: RegionRegistry
) -> tuple[dict[str, Any], dict[str, str]]:
    """The draft's mapping and decisions with the submitted form applied. A field missing from the
    form leaves its value alone; checkbox groups carry a hidden `…_shown` marker for that reason."""
    out = copy.deepcopy(dict(data))
    chosen = dict(decisions)
    for key, limit in (("doc_no", 64), ("issuer", 200), ("title", 500)):
        if key in form:
            out[key] = form_text(form, key, limit=limit) or None
    if "issued" in form:
        issued = form_text(form, "issued", limit=20)
        set_value(out, "issued", issued or None)
        if issued:
            out.pop("issued_year", None)
    if "issued_year" in form and not out.get("issued"):
        set_value(out, "issued_year", number_of(form_text(form, "issued_year", limit=8)))
    if "regions" in form:
        out["regions"] = canonical_regions(form_text(form, "regions", limit=500), registry)
    if "summary" in form:
        out["summary"] = form_text(form, "summary", limit=2000)
    if form.get("supersedes_shown") == "1":
        set_value(out, "supersedes", [v for v in form.getlist("supersedes") if isinstance(v, str) and v])
    if form.get("header_shown") == "1":
        set_value(out, "review", None if form.get("header_checked") == "1" else True)
        resolved = {int(v) for v in form.getlist("resolved") if isinstance(v, str) and v.isdigit()}
        problems = [p for k, p in enumerate(out.get("problems") or []) if k not in resolved]
        out["problems"] = problems
    out["facts"] = [
        _apply_fact(form, f"f{i}", dict(fact), chosen, registry)
        for i, fact in enumerate(out.get("facts") or [])
        if form.get(f"f{i}_delete") != "1"
    ]
    for i, fact in enumerate(data.get("facts") or []):
        if form.get(f"f{i}_delete") == "1":
            chosen.pop(str(fact.get("id")), None)
    if form.get("withdrawal_shown") == "1":
        set_value(out, "withdrawal", _withdrawal(form) if form.get("withdrawal_on") == "1" else None)
    added = added_fact(form, out)
    if added is not None:
        out["facts"].append(added)
        chosen[added["id"]] = ACCEPT  # written by staff: nothing left to review
    return out, chosen


def _apply_fact(
    form: FormData, p: str, fact: dict[str, Any], chosen: dict[str, str], registry: RegionRegistry
) -> dict[str, Any]:
    """One fact with its fields of the form (named `p`_…) applied; its decision goes into `chosen`."""
    ident = str(fact.get("id"))
    decision = form.get(f"{p}_decision")
    if decision in (ACCEPT, REJECT):
        chosen[ident] = decision
    elif decision == "":
        chosen.pop(ident, None)
    kind = form.get(f"{p}_kind")
    if fact.get("kind") in DATED_KINDS and kind in DATED_KINDS:
        fact["kind"] = kind
    for key, limit in (("title", 300), ("topic", 100), ("answer", 4000)):
        if f"{p}_{key}" in form:
            fact[key] = form_text(form, f"{p}_{key}", limit=limit)
    if "action" in fact and f"{p}_action" in form:
        fact["action"] = form_text(form, f"{p}_action", limit=1000)
    if f"{p}_questions" in form:
        set_value(fact, "questions", [q.strip() for q in str(form.get(f"{p}_questions")).splitlines() if q.strip()])
    if f"{p}_keywords" in form:
        set_value(fact, "keywords", split_list(form_text(form, f"{p}_keywords", limit=1000)))
    if f"{p}_regions" in form:
        set_value(fact, "regions", canonical_regions(form_text(form, f"{p}_regions", limit=500), registry))
    applies = dict(fact.get("applies") or {})
    if f"{p}_note" in form:
        set_value(applies, "occupations_note", form_text(form, f"{p}_note", limit=500))
    if form.get(f"{p}_lists_shown") == "1":
        set_value(applies, "occupation_lists", [v for v in form.getlist(f"{p}_lists") if isinstance(v, str) and v])
    set_value(fact, "applies", applies)
    if fact.get("dates"):
        fact["dates"] = _dates(form, p, list(fact["dates"]))
    apply_kind_fields(form, p, fact)
    return fact


WITHDRAWAL_REFS = ("grant", "deadline", "exam_by", "occupation_list", "refund", "report")
"""Parts of a withdrawal rule that name a fact of the notice (chosen from its facts)."""
WITHDRAWAL_TEXTS = {"scope_question": 300, "template": 4000, "template_note": 500, "register_with": 100}


def _withdrawal(form: FormData) -> dict[str, Any]:
    """The notice's withdrawal rule from the draft page (退考退费办理规则): which facts grant it, bound
    it and list who may; the declaration's wording; where candidates register. Validation says what
    is missing, as `kb check` does."""
    rule: dict[str, Any] = {}
    for name in WITHDRAWAL_REFS:
        set_value(rule, name, form_text(form, f"wd_{name}", limit=128) or None)
    for name, limit in WITHDRAWAL_TEXTS.items():
        set_value(rule, name, form_text(form, f"wd_{name}", limit=limit) or None)
    rule.setdefault("grant", "")
    return rule
