"""The layout of a notice file: the documents in it, their parts and numbered clauses.

A forwarding notice (转发) carries the notice it forwards, and the attachments of both may come
at the end in any order. Each document starts at its document number; each attachment goes to
the document whose 附件 list names it with the same number and title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from knowledge.drafting.docnumbers import DocNumber, header_doc_number
from knowledge.drafting.text import Line, is_date_line, is_field_line, is_org_line

Part = Literal["head", "body", "sign", "attachment"]

_ATTACHMENT_HEADER = re.compile(r"^附件\s*(\d{1,2})?\s*[:：]?\s*$")
_ATTACHMENT_LIST = re.compile(r"^附件\s*[:：]\s*(.*)$")
_LIST_ITEM = re.compile(r"^(\d{1,2})\s*[.、．]\s*(.+)$")
_TITLE = re.compile(r"关于|(?:通知|公告|意见|决定|办法|规定|方案|通告|批复|报告|函)$")
_TOP = re.compile(r"^\s*([一二三四五六七八九十]+)\s*、")
_SUB = re.compile(r"^\s*[（(]\s*([一二三四五六七八九十]+)\s*[）)]")


@dataclass
class Attachment:
    """An attachment's body: its number (None for a lone 附件), title, and lines after the title."""

    number: int | None
    title: str
    title_line: Line
    lines: list[Line] = field(default_factory=list)


@dataclass
class Document:
    """One document of the file, its attachment bodies set apart."""

    lines: list[Line]
    header: DocNumber | None = None
    header_index: int | None = None
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def listed(self) -> list[tuple[int | None, str]]:
        """The attachments the document's 附件 list names, as (number, title)."""
        out: list[tuple[int | None, str]] = []
        in_list = False
        for line in self.lines:
            text = line.text.strip()
            head = _ATTACHMENT_LIST.match(text)
            if head:
                in_list = True
                rest = head.group(1).strip()
                item = _LIST_ITEM.match(rest)
                if item:
                    out.append((int(item.group(1)), attachment_title(item.group(2))))
                elif rest:
                    out.append((None, attachment_title(rest)))
                continue
            item = _LIST_ITEM.match(text) if in_list else None
            if item:
                out.append((int(item.group(1)), attachment_title(item.group(2))))
            else:
                in_list = False
        return out


@dataclass(frozen=True)
class Passage:
    """A paragraph with where it sits: the part of the document and the clause label
    (二, 五（一）, 附件2, 文头, 引言, 落款)."""

    line: Line
    clause: str
    part: Part
    attachment: int | None = None


def attachment_title(text: str) -> str:
    """《个人弃考声明》.doc → 个人弃考声明: comparable across the list and the body."""
    t = re.sub(r"\.(?:docx?|pdf|xlsx?|wps|et)$", "", text.strip(), flags=re.I)
    t = re.sub(r"[《》\s]", "", t)
    return t


def _same_title(a: str, b: str) -> bool:
    a, b = attachment_title(a), attachment_title(b)
    return bool(a and b) and (a == b or (min(len(a), len(b)) >= 4 and (a in b or b in a)))


def split_documents(lines: list[Line]) -> list[Document]:
    """The documents in a cleaned file, in order. A file without any document number is one
    document without a header."""
    anchors: list[tuple[int, DocNumber]] = []
    for i, line in enumerate(lines):
        number = header_doc_number(line.text)
        if number and all(number.number != n.number for _, n in anchors):
            anchors.append((i, number))
    if not anchors:
        docs = [Document(list(lines))]
    else:
        starts = [0]
        for i, _ in anchors[1:]:
            start = i
            # The masthead above the number (广东省职业技能鉴定指导中心, 吉林省…厅文件) belongs to it.
            while start > starts[-1] + 1 and start > i - 2:
                prev = lines[start - 1].text.strip()
                if not (is_org_line(prev) or re.fullmatch(r"[\u4e00-\u9fff]{4,30}文件", prev)):
                    break
                start -= 1
            starts.append(start)
        bounds = [*starts, len(lines)]
        docs = [
            Document(lines[bounds[k] : bounds[k + 1]], number, anchor - bounds[k])
            for k, (anchor, number) in enumerate(anchors)
        ]
    for doc in docs:
        _set_attachments_apart(doc)
    _reassign_attachments(docs)
    _colophon_to_first(docs)
    return docs


def _set_attachments_apart(doc: Document) -> None:
    """Move the attachment bodies after the signature out of `doc.lines`."""
    listed = doc.listed
    sign = signature_index(doc)
    if sign is not None:
        start_search = sign + 1
    else:  # no signature: the bodies follow the 附件 list
        list_lines = [i for i, p in enumerate(passages(doc)) if p.clause == "附件"]
        start_search = list_lines[-1] + 1 if list_lines else len(doc.lines)
    body: list[Line] = doc.lines[:start_search]
    current: Attachment | None = None
    rest = doc.lines[start_search:]
    i = 0
    while i < len(rest):
        text = rest[i].text.strip()
        header = _ATTACHMENT_HEADER.match(text)
        if header and i + 1 < len(rest):
            number = int(header.group(1)) if header.group(1) else None
            current = Attachment(number, attachment_title(rest[i + 1].text), rest[i + 1])
            doc.attachments.append(current)
            i += 2
            continue
        titled = [n for n, t in listed if _same_title(t, text)]
        if titled and (current is None or current.title != attachment_title(text)) and "\t" not in text:
            current = Attachment(titled[0], attachment_title(text), rest[i])
            doc.attachments.append(current)
        elif current is not None:
            current.lines.append(rest[i])
        else:
            body.append(rest[i])
        i += 1
    doc.lines = body


def _reassign_attachments(docs: list[Document]) -> None:
    """An attachment found after a later document's signature goes to the document whose 附件
    list has the same number and title (a forwarding notice's attachments often come last)."""
    for doc in docs:
        for att in list(doc.attachments):
            if any(n == att.number and _same_title(t, att.title) for n, t in doc.listed):
                continue
            owner = next(
                (d for d in docs if any(n == att.number and _same_title(t, att.title) for n, t in d.listed)),
                None,
            )
            if owner is not None and owner is not doc:
                doc.attachments.remove(att)
                owner.attachments.append(att)


def _colophon_to_first(docs: list[Document]) -> None:
    """The printing record at the very end (厦门市…办公室 / 2020年8月12日印发) is the
    forwarding document's, which comes first."""
    last = docs[-1]
    holder = last.attachments[-1].lines if last.attachments else last.lines
    if len(docs) < 2 or len(holder) < 2:
        return
    org, date = holder[-2], holder[-1]
    if is_org_line(org.text) and is_date_line(date.text) and date.text.strip().endswith("印发"):
        del holder[-2:]
        docs[0].lines += [org, date]


_TITLE_END = re.compile(r"(?:通知|公告|意见|决定|办法|规定|方案|通告|批复|报告|函|计划|安排)$")


def _title_like(doc: Document, i: int) -> bool:
    text = re.sub(r"\s+", "", doc.lines[i].text)
    return not (
        is_field_line(text) or len(text) > 90 or re.search(r"[。；：:]", text) or i == doc.header_index or not text
    )


def title_index(doc: Document) -> int | None:
    """The line holding the title: near the document number, 关于… or …的通知; above the number
    when nothing after it is a title (关于印发…的通知 ⏎ 鄂人社发〔2023〕12号)."""
    first = doc.header_index + 1 if doc.header_index is not None else 0
    candidates = [*range(first, min(len(doc.lines), first + 12)), *range(0, first - 1)]
    for i in candidates:
        text = re.sub(r"\s+", "", doc.lines[i].text)
        if not _title_like(doc, i) or (is_org_line(text) and "关于" not in text):
            continue
        if _TITLE.search(text):
            return i
    return None


def title_span(doc: Document) -> tuple[int, int] | None:
    """The lines of the title: the title line with the lines printed right against it (no blank
    line between) that carry on a title broken over several lines, the issuer's name included
    when the title starts with it (凉山…中心 ⏎ 关于做好…统一考试 ⏎ 工作的通知). A 版头 or issuer
    set apart by a blank line or the document number is not part of it."""
    i = title_index(doc)
    if i is None:
        return None

    def adjacent(a: int, b: int) -> bool:
        return 0 <= a < len(doc.lines) and 0 <= b < len(doc.lines) and doc.lines[b].number == doc.lines[a].number + 1

    start = end = i
    while adjacent(start - 1, start) and _title_like(doc, start - 1):
        start -= 1
    while (
        not _TITLE_END.search(re.sub(r"\s+", "", doc.lines[end].text))
        and adjacent(end, end + 1)
        and _title_like(doc, end + 1)
    ):
        end += 1
    return start, end


def signature_index(doc: Document) -> int | None:
    """The issuer line above the first date line after the title (or that date line alone)."""
    span = title_span(doc)
    first = max(span[1] if span else -1, doc.header_index if doc.header_index is not None else -1) + 1
    for i in range(max(first, 0), len(doc.lines)):
        if is_date_line(doc.lines[i].text) and not doc.lines[i].text.strip().endswith("印发"):
            return i - 1 if i > 0 and is_org_line(doc.lines[i - 1].text) else i
    return None


def passages(doc: Document) -> list[Passage]:
    """Every paragraph of the document with its part and clause label."""
    span = title_span(doc)
    header = doc.header_index if doc.header_index is not None else -1
    head_end = max(span[1], header) if span is not None else header
    sign = signature_index(doc)
    out: list[Passage] = []
    top: str | None = None
    sub: str | None = None
    in_list = False
    for i, line in enumerate(doc.lines):
        text = line.text.strip()
        if i <= head_end:
            out.append(Passage(line, "文头", "head"))
            continue
        if sign is not None and i >= sign:
            out.append(Passage(line, "落款", "sign"))
            continue
        if _ATTACHMENT_LIST.match(text) or (in_list and _LIST_ITEM.match(text)):
            in_list = True
            out.append(Passage(line, "附件", "body"))
            continue
        in_list = False
        if m := _TOP.match(text):
            top, sub = m.group(1), None
        elif m := _SUB.match(text):
            sub = f"（{m.group(1)}）"
        clause = (top or "") + (sub or "") if top or sub else "引言"
        out.append(Passage(line, clause, "body"))
    for k, att in enumerate(doc.attachments):
        label = f"附件{att.number}" if att.number is not None else "附件"
        out.append(Passage(att.title_line, label, "attachment", k))
        out += [Passage(line, label, "attachment", k) for line in att.lines]
    return out
