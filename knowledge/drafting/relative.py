"""Deadlines relative to another date: 考前7个工作日, 考后15个工作日内, 成绩发布后15个工作日内,
定期鉴定日前10个工作日, 提前10个工作日, 在7天内.

What the deadline counts from (the anchor) is the words before 前/后; where the notice does not
say (在7天内上传成绩), the draft says so instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from knowledge.drafting.view import View

_UNIT = r"(?P<unit>个?\s*工作日|个?\s*自然日|日|天)"
_AROUND = re.compile(
    r"(?P<anchor>[\u4e00-\u9fff]{1,24}?)(?P<dir>前|后)\s*(?:的\s*)?(?P<n>\d{1,3})\s*"
    + _UNIT
    + r"(?P<within>\s*(?:内|以内))?"
)
_AHEAD = re.compile(r"提前\s*(?P<n>\d{1,3})\s*" + _UNIT)
_WITHIN = re.compile(r"(?<![\d—\-~至])(?P<n>\d{1,3})\s*" + _UNIT + r"\s*(?:内|以内)")
# The anchor is what comes after the last of these words: 各级鉴定中心要在|成绩发布.
_ANCHOR_CUT = re.compile(r".*(?:须|应|要|需|在|于|将|并|为|是|的|自|从|由|按|请|可|，|,)")
_ANCHOR_BEFORE = re.compile(r"(?P<anchor>[\u4e00-\u9fff]{2,20})前\s*[,，]?\s*[\u4e00-\u9fff]{0,4}$")
UNKNOWN_ANCHOR = "（原文未写明起算日）"


@dataclass(frozen=True)
class FoundRelative:
    amount: int
    unit: Literal["working_days", "days"]
    direction: Literal["before", "after"]
    anchor: str
    anchor_kind: Literal["exam_date", "exam_end", "results", "other"]
    text: str
    span: tuple[int, int]


def _anchor_kind(anchor: str, direction: str) -> Literal["exam_date", "exam_end", "results", "other"]:
    if "成绩" in anchor or "合格" in anchor:
        return "results"
    if direction == "before" and re.search(r"考|鉴定日|认定|实施", anchor):
        return "exam_date"
    if direction == "after" and re.search(r"考|结束", anchor):
        return "exam_end"
    return "other"


def _clean_anchor(anchor: str) -> tuple[str, int]:
    """The anchor's name (考 → 考试) and how many characters of the text it spans."""
    cut = _ANCHOR_CUT.match(anchor)
    anchor = anchor[cut.end() :] if cut else anchor
    return ("考试" if anchor in ("考", "考试日") else anchor), len(anchor)


def _unit(text: str) -> Literal["working_days", "days"]:
    return "working_days" if "工作日" in text else "days"


def find_relatives(view: View) -> list[FoundRelative]:
    """Every relative deadline in one sentence, in order."""
    text = view.text
    out: list[FoundRelative] = []
    taken: list[tuple[int, int]] = []
    for m in _AHEAD.finditer(text):
        # 实施认定前，须提前10个工作日: the anchor is the 'X前' said just before.
        before = _ANCHOR_BEFORE.search(text[: m.start()])
        anchor = _clean_anchor(before.group("anchor"))[0] if before else UNKNOWN_ANCHOR
        span = (m.start(), m.end())
        direction: Literal["before", "after"] = "before"
        kind = _anchor_kind(anchor, direction)
        out.append(FoundRelative(int(m["n"]), _unit(m["unit"]), direction, anchor, kind, view.original(*span), span))
        taken.append(span)
    for m in _AROUND.finditer(text):
        if any(m.start("n") < e and s < m.end() for s, e in taken):
            continue
        anchor, length = _clean_anchor(m.group("anchor"))
        direction = "before" if m.group("dir") == "前" else "after"
        span = (m.end("anchor") - length, m.end())
        kind = _anchor_kind(anchor, direction)
        out.append(FoundRelative(int(m["n"]), _unit(m["unit"]), direction, anchor, kind, view.original(*span), span))
        taken.append(span)
    for m in _WITHIN.finditer(text):
        if any(m.start() < e and s < m.end() for s, e in taken):
            continue
        span = m.span()
        out.append(
            FoundRelative(int(m["n"]), _unit(m["unit"]), "after", UNKNOWN_ANCHOR, "other", view.original(*span), span)
        )
        taken.append(span)
    out.sort(key=lambda r: r.span)
    return out
