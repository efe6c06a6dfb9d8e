"""Occupation lists: enumerations in a sentence (企业人力资源管理师、心理咨询师…5个职业;
物流师、公共营养师、商务策划师等) and tables (the 42-row exit list), each checked against the
count the notice states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from knowledge.drafting.view import View
from knowledge.occupations import looks_like_occupation

Status = Literal["exiting_catalog", "national_unified", "provincial_unified", "makeup_unified", "other"]

_ITEM = r"[^、,，。;；:：\s]{2,20}"
_KIND = r"(?:专项职业能力)?(?:考核)?(?:职业|工种|项目)"
_COUNTED_AFTER = re.compile(
    rf"(?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM}?)\s*(?:等\s*)?(?P<n>\d{{1,3}})\s*(?:个|项)\s*{_KIND}"
)
_LABELLED = re.compile(
    r"(?:职业|工种|项目)(?:[(（]工种[)）])?\s*(?:[:：]|为|是|包括|有)\s*"
    rf"(?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM})(?=\s*(?:[。;；,，)）]|$))"
)
"""全市统考职业：电工、焊工、车工 — a list introduced by its label, without a count or 等."""
_BRACKETED = re.compile(rf"[(（](?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM})[)）]")
"""（育婴员、保育员）: a list in parentheses, taken only when every name is shaped like an occupation."""
_COUNTED_BEFORE = re.compile(rf"(?P<n>\d{{1,3}})\s*个\s*(?:职业|工种)\s*[:：]\s*(?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM})")
_OPEN = re.compile(rf"(?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM}?)等(?P<what>[^,，。;；]{{0,10}}?)(?:职业|工种)")
STATED_COUNT = re.compile(r"(?P<n>\d{1,3})\s*个\s*职业")


@dataclass(frozen=True)
class FoundList:
    """Occupations in the order listed; `stated` is the count the text gives, if any."""

    occupations: tuple[str, ...]
    stated: int | None
    text: str
    complete: bool = True
    """False for a list that ends in 等: the notice names only examples."""

    @property
    def mismatch(self) -> bool:
        return self.stated is not None and self.stated != len(self.occupations)


def status_of(context: str) -> Status:
    """What the list is, judged from the words around it."""
    if "退出" in context:
        return "exiting_catalog"
    if "补考" in context:
        return "makeup_unified"
    if "全国统一" in context:
        return "national_unified"
    if "全省统一" in context or "全省统考" in context:
        return "provincial_unified"
    return "other"


_LEAD_IN = re.compile(r"^.*(?:组织|开展|增报|设置|开设|包括|涉及|认定|考核)(?=.{2})")
"""What may precede a list's first name in the same run of characters (本年度全市统一组织中式面点师)."""


def _names(raw: str) -> tuple[str, ...]:
    names = [n for n in (re.sub(r"\s+", "", part) for part in raw.split("、")) if n]
    if names and _LEAD_IN.match(names[0]):
        names[0] = _LEAD_IN.sub("", names[0])
    return tuple(names)


def find_enumerations(view: View) -> list[FoundList]:
    """Occupation enumerations in one sentence."""
    out: list[FoundList] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_COUNTED_AFTER, _COUNTED_BEFORE):
        for m in pattern.finditer(view.text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            names = _names(view.original(*m.span("items")))
            out.append(FoundList(names, int(m["n"]), view.original(*m.span())))
            taken.append(m.span())
    for pattern, complete in ((_OPEN, False), (_LABELLED, True), (_BRACKETED, True)):
        for m in pattern.finditer(view.text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            names = _names(view.original(*m.span("items")))
            # Without a count, only names shaped like occupations make a list (not 身份证、学历证书等材料).
            if len(names) >= 2 and all(looks_like_occupation(n) for n in names):
                out.append(FoundList(names, None, view.original(*m.span()), complete=complete))
                taken.append(m.span())
    return out


def find_table_list(rows: list[str]) -> tuple[str, ...] | None:
    """The occupations of a table whose header names an occupation column (职业, 职业（工种）名称),
    ordered by the 序号 beside each; None when the table has no filled occupation column."""
    # A list has a 序号 column; a grid form (申报表) that merely has a 现职业 cell does not.
    header_at = next((i for i, r in enumerate(rows) if "序号" in r.split("\t") and re.search(r"职业|工种", r)), None)
    if header_at is None:
        return None
    header = [c.strip() for c in rows[header_at].split("\t")]
    columns = [
        i
        for i, c in enumerate(header)
        if re.search(r"职业|工种", c) and not re.search(r"人数|时间|代码|编码|等级|序号", c)
    ]
    if not columns:
        return None
    found: list[tuple[int, int, str]] = []  # (序号 or row order, column, name)
    for k, row in enumerate(rows[header_at + 1 :]):
        cells = [c.strip() for c in row.split("\t")]
        for col in columns:
            if col >= len(cells):
                continue
            name = re.sub(r"\s+", "", cells[col])
            if not name or name.isdigit():
                continue
            number = cells[col - 1] if col > 0 and header[col - 1] == "序号" and col - 1 < len(cells) else ""
            found.append((int(number) if number.isdigit() else 10_000 + k, col, name))
    if len(found) < 2:
        return None
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(name for _, _, name in found)
