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
_KIND = (
    r"(?:专项职业能力)?(?:考核)?(?:职业|工种|项目|等级|级别|县（市、区）|县（区）|县（市）|县|市|区|乡镇|街道"
    r"|技工院校|职业院校|院校|学校|学院)"
)
"""What a counted list names: occupations and projects, and also levels, places and schools."""
_COUNTED_AFTER = re.compile(
    rf"(?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM}?)\s*(?:等\s*)?(?P<n>\d{{1,3}})\s*(?:个|项|所|家)\s*{_KIND}"
)
_LABELLED = re.compile(
    r"(?:(?:职业|工种|项目)(?:[(（]工种[)）])?\s*(?:[:：]|为|是|包括|有)|包括|涵盖)\s*"
    rf"(?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM}?)(?P<etc>等)?(?=\s*(?:[。;；,，)）]|$))"
)
"""全市统考职业：电工、焊工、车工 — a list introduced by its label, without a count or 等."""
_BRACKETED = re.compile(rf"[(（](?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM})[)）]")
"""（育婴员、保育员）: a list in parentheses, taken only when every name is shaped like an occupation."""
_COUNTED_BEFORE = re.compile(
    rf"(?P<n>\d{{1,3}})\s*(?:个|项|所)\s*{_KIND}?\s*[,，]?\s*(?:主要有|主要包括|包括|分别是|分别为|即|有)?\s*[:：]\s*"
    rf"(?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM}?)(?P<etc>等)?(?=\s*(?:[。;；,，)）]|$))"
)
"""共12个，主要有：电工、焊工…等 — the count first, then the names."""
_COUNTED_SOME = re.compile(
    rf"(?P<n>\d{{1,3}})\s*(?:个|项|所|家)\s*{_KIND}\s*[(（]\s*(?:含|包括|其中)\s*[:：]?\s*"
    rf"(?P<items>(?:{_ITEM}\s*、\s*)+[^、,，。;；:：\s)）]{{2,20}})(?P<etc>等)?[)）]"
)
"""11所技工院校（含赣州技师学院、于都县技工学校…）: a count and some of the names."""
_OPEN = re.compile(rf"(?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM}?)等(?P<what>[^,，。;；]{{0,10}}?)(?:职业|工种)")
_OPEN_OTHER = re.compile(
    rf"(?P<items>(?:{_ITEM}\s*、\s*){{2,}}{_ITEM}?)等(?:\d{{1,3}}个)?(?:产业|行业|领域|县|区|乡镇|院校|学校|等级)"
)
"""化工、装备制造、新能源电池等产业领域: three or more names of something other than occupations."""
_MAIN = re.compile(rf"(?:职业|工种|项目)以(?P<items>(?:{_ITEM}\s*、\s*)+{_ITEM})为主")
"""评价职业以电工、焊工为主: the main ones, not all."""
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


_LEAD_IN = re.compile(r"^.*(?:组织|开展|增报|设置|开设|包括|涉及|认定|考核|支持|面向|覆盖|涵盖)(?=.{2})")
"""What may precede a list's first name in the same run of characters (本年度全市统一组织中式面点师)."""


_OWN_PLACE = re.compile(r"^(?:我|全|本)(?:省|市|州|区|县|盟)")
"""我市鄱阳县: the issuer's own place before the first name."""


def _names(raw: str) -> tuple[str, ...]:
    names = [n for n in (re.sub(r"\s+", "", part) for part in raw.split("、")) if n]
    if names and _LEAD_IN.match(names[0]):
        names[0] = _LEAD_IN.sub("", names[0])
    if names:
        names[0] = _OWN_PLACE.sub("", re.sub(r"^.*?[(（](?=[^)）]*$)", "", names[0]).removeprefix("设"))
        names[-1] = re.sub(r"[)）]$", "", names[-1]) if "（" not in names[-1] and "(" not in names[-1] else names[-1]
    return tuple(n for n in names if n)


def find_enumerations(view: View) -> list[FoundList]:
    """Occupation enumerations in one sentence."""
    out: list[FoundList] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_COUNTED_SOME, _COUNTED_AFTER, _COUNTED_BEFORE):
        for m in pattern.finditer(view.text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            names = _names(view.original(*m.span("items")))
            etc = pattern is _COUNTED_SOME or ("etc" in pattern.groupindex and m.group("etc") is not None)
            if len(names) >= 2:
                out.append(FoundList(names, int(m["n"]), view.original(*m.span()), complete=not etc))
                taken.append(m.span())
    # How many names must look like occupations: all of a bare bracket, most where the words around
    # say the names are occupations (职业：…, …等职业), none where they name something else.
    for pattern, complete, shaped in (
        (_OPEN, False, 0.5),
        (_LABELLED, True, 0.5),
        (_MAIN, False, 0.5),
        (_BRACKETED, True, 1.0),
        (_OPEN_OTHER, False, 0.0),
    ):
        for m in pattern.finditer(view.text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            names = _names(view.original(*m.span("items")))
            # Without a count, only names shaped like occupations make a list (not 身份证、学历证书等材料).
            if len(names) >= 2 and sum(map(looks_like_occupation, names)) >= shaped * len(names):
                etc = "etc" in pattern.groupindex and m.group("etc") is not None
                out.append(FoundList(names, None, view.original(*m.span()), complete=complete and not etc))
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
