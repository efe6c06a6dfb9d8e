"""Attached forms (附件): 个人弃考声明, 申报表, 统计表 with their field labels, table columns and
notes. A form named in the 附件 list but not attached is still listed, marked as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.drafting.layout import Attachment

_FIELD = re.compile(r"^(?P<label>[^:：，。；,\t]{1,16}?)\s*[:：]\s*$")
_DATE_BLANK = re.compile(r"^年\s*月\s*日\s*(?:[(（]章[)）])?$")
_NOTE_HEAD = re.compile(r"^(?:注意事项|注|说明|填表说明)\s*[:：]\s*(?P<rest>.*)$")
_KINDS = (
    (r"身份证", "id_number"),
    (r"电话|手机", "phone"),
    (r"签名|签字|签章", "signature"),
    (r"照片|相片", "photo"),
    (r"(?:日期|时间|出生年月)$", "date"),
    (r"(?:等级|级别)$", "level"),
    (r"(?:职业|工种)$", "occupation"),
)


@dataclass(frozen=True)
class FoundForm:
    name: str
    fields: tuple[tuple[str, str], ...]
    """(label, kind) in the order of the form."""
    columns: tuple[str, ...]
    notes: tuple[str, ...]
    blanks: int
    """Blanks (____) to fill inside the form's wording, such as a declaration's exam date."""


def field_kind(label: str) -> str:
    return next((kind for pattern, kind in _KINDS if re.search(pattern, label)), "text")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def read_form(att: Attachment) -> FoundForm:
    """Field labels, table columns and notes of an attachment's body."""
    fields: list[tuple[str, str]] = []
    columns: list[str] = []
    notes: list[str] = []
    blanks = 0
    in_notes = False

    def add(label: str) -> None:
        label = _compact(label).rstrip(":：")
        if label and not label.isdigit() and label not in (f for f, _ in fields):
            fields.append((label, field_kind(label)))

    for line in att.lines:
        text = line.text.strip(" ")
        if head := _NOTE_HEAD.match(text.strip()):
            in_notes = True
            if head.group("rest"):
                notes.append(head.group("rest"))
            continue
        if in_notes:
            notes.append(text.strip())
            continue
        if "\t" in text:
            cells = [c.strip() for c in text.split("\t") if c.strip()]
            if not columns and cells and cells[0] == "序号":
                columns = [_compact(c) for c in cells]  # a list to fill in, row by row
            elif not columns:
                for cell in cells:  # a grid form: every filled cell is a label
                    if not _DATE_BLANK.match(_compact(cell)) and not re.fullmatch(r"[\d\s]+", cell):
                        add(cell)
            continue
        text = text.strip()
        if m := _FIELD.match(text):
            add(m.group("label"))
        elif _DATE_BLANK.match(_compact(text)):
            add("日期")
        else:
            blanks += len(re.findall(r"_{2,}", text))
    return FoundForm(att.title, tuple(fields), tuple(columns), tuple(notes), blanks)


def listed_form(title: str) -> FoundForm | None:
    """A form the 附件 list names without attaching it; None for an attached notice (公告, 通知)."""
    if re.search(r"〔\d{4}〕|\(\d{4}\)|（\d{4}）|(?:通知|公告|意见|决定)(?:[(（].*[)）])?$", title):
        return None
    return FoundForm(title, (), (), ("正文未附此表，只在附件列表中列出名称",), 0)


_MENTIONED = re.compile(r"《(?P<name>[^《》]{2,40}?(?:表|书|单|册))》")
_FILLED = re.compile(r"填写|填报|提交|下载|签署|签订|打印|报送|上传|领取|附件|交回|携带")


def mentioned_forms(sentence: str) -> list[str]:
    """Forms a sentence tells candidates to fill, sign or hand in by name (填写《考生退考申请表》)."""
    if not _FILLED.search(sentence):
        return []
    return list(dict.fromkeys(m.group("name").strip() for m in _MENTIONED.finditer(sentence)))
