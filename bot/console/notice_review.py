"""The notice review form: what the draft page shows of each drafted fact, and how the submitted
form changes the draft's knowledge-base mapping and the reviewer's decisions.

Values are kept as typed (a date such as 2027-02-30 stays text): publishing validates the mapping
as `kb check` does and names the fact and the field, so a mistake is shown, never silently dropped.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from bot.console.forms import form_text
from knowledge.loader import LoadProblem
from knowledge.published import ACCEPT, REJECT, fact_of_problem
from knowledge.regions import RegionRegistry

DECISION_LABELS = {ACCEPT: "采用", REJECT: "不采用", "": "待审核"}
KIND_LABELS = {
    "event": "事件",
    "deadline": "截止期限",
    "rule": "规定",
    "contact": "联系方式",
    "form": "表格",
    "occupation_list": "职业名单",
}
DATED_KINDS = ("event", "deadline")
"""Kinds a reviewer may switch between: both hold dates and an action, so nothing is lost."""
BOUND_LABELS = {"by": "截止（此日前）", "on": "当天"}
UNIT_LABELS = {"working_days": "个工作日", "days": "天"}
DIRECTION_LABELS = {"before": "之前", "after": "之后"}
SHOWN_KEYS = ("occupations", "stated_count", "status", "phones", "emails", "address", "durations", "fields", "name")
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
_SPLIT = re.compile(r"[,，、;；\n]+")
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


def split_list(value: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(value) if part.strip()]


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
            }
        )
    return views


def _set(target: dict[str, Any], key: str, value: Any) -> None:
    """Sets a key, or removes it when the value is empty (the schema's default then applies)."""
    if value in (None, "", []):
        target.pop(key, None)
    else:
        target[key] = value


def _number(value: str) -> int | str | None:
    if not value:
        return None
    return int(value) if value.isdigit() else value


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
                when[name] = _number(value) if name == "amount" else value or None
        if f"{p}_label" in form:
            _set(when, "label", form_text(form, f"{p}_label", limit=200))
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
        _set(out, "issued", issued or None)
        if issued:
            out.pop("issued_year", None)
    if "issued_year" in form and not out.get("issued"):
        _set(out, "issued_year", _number(form_text(form, "issued_year", limit=8)))
    if "regions" in form:
        out["regions"] = canonical_regions(form_text(form, "regions", limit=500), registry)
    if "summary" in form:
        out["summary"] = form_text(form, "summary", limit=2000)
    if form.get("supersedes_shown") == "1":
        _set(out, "supersedes", [v for v in form.getlist("supersedes") if isinstance(v, str) and v])
    if form.get("header_shown") == "1":
        _set(out, "review", None if form.get("header_checked") == "1" else True)
        resolved = {int(v) for v in form.getlist("resolved") if isinstance(v, str) and v.isdigit()}
        problems = [p for k, p in enumerate(out.get("problems") or []) if k not in resolved]
        out["problems"] = problems
    out["facts"] = [
        _apply_fact(form, f"f{i}", dict(fact), chosen, registry) for i, fact in enumerate(out.get("facts") or [])
    ]
    if form.get("withdrawal_shown") == "1":
        _set(out, "withdrawal", _withdrawal(form) if form.get("withdrawal_on") == "1" else None)
    added = _added_fact(form, out)
    if added is not None:
        out["facts"].append(added)
        chosen[added["id"]] = ACCEPT  # written by staff: nothing left to review
    return out, chosen


NEW_KINDS = ("deadline", "event", "rule", "contact", "occupation_list", "form")
"""Kinds staff can add to a draft by hand (补充起草漏掉的条目)."""


def _added_fact(form: FormData, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The fact the draft page's 补充 fields describe, or None when they are left empty."""
    kind = form_text(form, "new_kind", limit=20)
    title = form_text(form, "new_title", limit=300)
    answer = form_text(form, "new_answer", limit=4000)
    if kind not in NEW_KINDS or not (title or answer):
        return None
    taken = {str(f.get("id")) for f in data.get("facts") or []}
    prefix = next((str(i).split(".")[0] for i in taken if "." in str(i)), "draft")
    number = next(n for n in range(1, 10_000) if f"{prefix}.added-{n}" not in taken)
    fact: dict[str, Any] = {
        "id": f"{prefix}.added-{number}",
        "kind": kind,
        "title": title or answer[:40],
        "topic": title[:20] or KIND_LABELS[kind],
        "answer": answer or title,
        "source": {
            "clause": form_text(form, "new_clause", limit=40) or "人工补充",
            "quote": form_text(form, "new_quote", limit=2000) or answer or title,
        },
    }
    if kind in DATED_KINDS:
        fact["action"] = title or answer[:40]
        amount = form_text(form, "new_amount", limit=6)
        when: dict[str, Any]
        if amount:
            when = {"kind": "relative", "amount": _number(amount)}
            for name in ("unit", "direction", "anchor"):
                _set(when, name, form_text(form, f"new_{name}", limit=100) or None)
        elif form_text(form, "new_start", limit=20) or form_text(form, "new_end", limit=20):
            when = {"kind": "range"}
            for name in ("start", "start_time", "end", "end_time"):
                _set(when, name, form_text(form, f"new_{name}", limit=20) or None)
        else:
            when = {"kind": "date", "bound": form_text(form, "new_bound", limit=4) or "by"}
            for name in ("date", "time"):
                _set(when, name, form_text(form, f"new_{name}", limit=20) or None)
            when.setdefault("date", None)  # left empty: validation names the missing date
        fact["dates"] = [when]
    if kind == "occupation_list":
        fact["status"] = "other"
        fact["occupations"] = split_list(form_text(form, "new_members", limit=4000))
        _set(fact, "stated_count", _number(form_text(form, "new_stated_count", limit=6)) or None)
    if kind == "form":
        fact["name"] = form_text(form, "new_form_name", limit=200) or title
        fields = split_list(form_text(form, "new_form_fields", limit=2000))
        if fields:
            fact["fields"] = [{"label": label} for label in fields]
    if kind == "contact":
        _set(fact, "address", form_text(form, "new_address", limit=300) or None)
        fact["organization"] = form_text(form, "new_organization", limit=200) or data.get("issuer") or ""
        phones = split_list(form_text(form, "new_phones", limit=200))
        if phones:
            fact["phones"] = [{"number": p} for p in phones]
    return fact


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
        _set(fact, "questions", [q.strip() for q in str(form.get(f"{p}_questions")).splitlines() if q.strip()])
    if f"{p}_keywords" in form:
        _set(fact, "keywords", split_list(form_text(form, f"{p}_keywords", limit=1000)))
    if f"{p}_regions" in form:
        _set(fact, "regions", canonical_regions(form_text(form, f"{p}_regions", limit=500), registry))
    applies = dict(fact.get("applies") or {})
    if f"{p}_note" in form:
        _set(applies, "occupations_note", form_text(form, f"{p}_note", limit=500))
    if form.get(f"{p}_lists_shown") == "1":
        _set(applies, "occupation_lists", [v for v in form.getlist(f"{p}_lists") if isinstance(v, str) and v])
    _set(fact, "applies", applies)
    if fact.get("dates"):
        fact["dates"] = _dates(form, p, list(fact["dates"]))
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
        _set(rule, name, form_text(form, f"wd_{name}", limit=128) or None)
    for name, limit in WITHDRAWAL_TEXTS.items():
        _set(rule, name, form_text(form, f"wd_{name}", limit=limit) or None)
    rule.setdefault("grant", "")
    return rule
