"""Contacts, durations and counts: phone numbers with what they are for, e-mail addresses,
postal addresses, 60分钟, 2张, 42个职业.

A number counts as a phone number only where the text says it is one (电话, 联系方式, 传真 …):
licence numbers, postcodes and reference numbers of a web page are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.drafting.view import View

_PHONE = re.compile(
    r"(?<![\dA-Za-z-])(?:(?P<area>\(\s*0\d{2,3}\s*\)\s*|0\d{2,3}\s*[-—－–]\s*|0\d{2,3}[ \u3000](?=\d{7,8}(?!\d)))?"
    r"(?P<local>\d{5,8})(?:\s*(?:转|分机)\s*(?P<ext>\d{1,5}))?|(?P<mobile>1[3-9]\d(?:[- ]?\d{4}){2}))(?![\d-])"
)
"""A phone number: (0477)8581234, 0938-8213456, 0938—2651234 (any dash), 0999 8021234, 13847712345,
158-5641-2345, and an extension: 0717-6451234转302."""
_PHONE_WORD = re.compile(r"电话|联系方式|联系人|传真|热线|咨询|手机|Tel|TEL|tel")
_NOT_PHONE = re.compile(r"(?:邮编|邮政编码|ICP|备案|公网安备|标识码|索取号|编号|证号|账号|帐号|号段)\s*[:：]?\s*$")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_ADDRESS = re.compile(
    r"(?:办公地点及邮寄地址|邮寄地址|通讯地址|通信地址|办公地址|办公地点|地址)\s*[:：]\s*(?P<a>[^,，;；。)）]+)"
)
_ADDRESS_END = re.compile(r"\s*(?:电话|传真|邮编|邮箱|电子邮箱|联系).*$")
_POSTCODE = re.compile(r"(?:邮编|邮政编码)\s*[:：]?\s*(?P<p>\d{6})(?!\d)")
_PERSON = re.compile(r"联系人\s*[:：]\s*(?P<p>[\u4e00-\u9fff]{2,4})(?![\u4e00-\u9fff])")
_UNIT = re.compile(r"(?:承办部门|联系单位|联系部门|承办单位)\s*[:：]\s*(?P<u>[^,，;；。)）\s]+)")
_ASK = re.compile(r"请联系(?P<u>[\u4e00-\u9fff]{2,20}?)(?:[,，。;；]|$)")
_MINUTES = re.compile(r"(?P<n>\d{1,3})\s*(?P<unit>分钟|小时)")
_SUBJECT = re.compile(r"(?P<s>[\u4e00-\u9fff]{2,6})(?:科目|考试|考核)")
_LEVELS = ("高级技师", "技师", "高级工", "中级工", "初级工")
_COUNT = re.compile(
    r"(?<![\d.])(?:(?P<low>\d{1,3})\s*[—\-~至]\s*)?(?P<n>\d{1,4})\s*"
    r"(?P<unit>个职业\s*[(（]工种[)）]|个职业|项职业资格|个工种|个工作日|份|张|名|次)"
)


@dataclass(frozen=True)
class FoundPhone:
    number: str
    label: str | None


@dataclass(frozen=True)
class FoundContact:
    """The contact details of one paragraph."""

    phones: tuple[FoundPhone, ...] = ()
    emails: tuple[str, ...] = ()
    address: str | None = None
    postcode: str | None = None
    person: str | None = None
    unit: str | None = None
    found: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.phones or self.emails or self.address or self.person or self.unit)


def _label(before: str) -> str | None:
    """What a number is for: 报名咨询电话, 定期鉴定日值班电话 (the words ending in 电话 just before)."""
    piece = re.split(r"[,，;；。、()（）\s]", before.rstrip(" :："))[-1]
    named = list(re.finditer(r"[\u4e00-\u9fff]{0,10}?(?:电话|联系方式|传真|热线|手机)", piece))
    return named[-1].group(0) if named else None


def find_phones(view: View, *, in_phone_section: bool = False) -> list[tuple[FoundPhone, tuple[int, int]]]:
    """The phone numbers of a paragraph that says they are phones, or of one under a heading that
    does (八、咨询电话 ⏎ 某中心考务科：0938-8213456)."""
    text = view.text
    out: list[tuple[FoundPhone, tuple[int, int]]] = []
    previous_label: str | None = None
    for m in _PHONE.finditer(text):
        before = text[: m.start()]
        if _NOT_PHONE.search(before) or not (in_phone_section or _PHONE_WORD.search(before)):
            continue
        digits = re.sub(r"\D", "", m.group(0))
        if not m.group("mobile") and len(digits) < 7 and not m.group("area"):
            continue
        label = _label(before)
        if label is None and before.rstrip().endswith("、"):
            label = previous_label  # 报名咨询电话：88690718、88690738: one label for both
        after = text[m.end() : m.end() + 6]
        if re.match(r"\s*[(（]\s*传真\s*[)）]", after):
            label = "传真"
        previous_label = label
        # As the knowledge base stores phones: ASCII digits, brackets, hyphens and spaces only.
        number = re.sub(r"\s+", " ", view.original(*m.span()).strip().replace("\u3000", " "))
        number = re.sub(r"\s*[—－–]\s*", "-", number)
        number = number.replace("（", "(").replace("）", ")")
        out.append((FoundPhone(number, label), m.span()))
    return out


def find_contact(view: View, *, in_phone_section: bool = False) -> FoundContact:
    """Phones, e-mails, address, postcode, person and unit named in one paragraph."""
    text = view.text
    phones = find_phones(view, in_phone_section=in_phone_section)
    emails = tuple(dict.fromkeys(m.group(0) for m in _EMAIL.finditer(text)))
    address = None
    if m := _ADDRESS.search(text):
        address = _ADDRESS_END.sub("", view.original(*m.span("a"))).strip() or None
    postcode = m.group("p") if (m := _POSTCODE.search(text)) else None
    person = m.group("p") if (m := _PERSON.search(text)) else None
    unit = None
    if m := _UNIT.search(text) or _ASK.search(text):
        unit = view.original(*m.span(m.lastgroup or 1))
    found = tuple(view.original(*span) for _, span in phones) + emails
    return FoundContact(tuple(p for p, _ in phones), emails, address, postcode, person, unit, found)


@dataclass(frozen=True)
class FoundDuration:
    subject: str
    levels: tuple[str, ...]
    minutes: int
    text: str


def find_durations(view: View) -> list[FoundDuration]:
    """Exam durations: 初级工、中级工、高级工考试时长为 60 分钟."""
    text = view.text
    out: list[FoundDuration] = []
    for m in _MINUTES.finditer(text):
        # The subject is the nearest 'X科目' before the duration, else the nearest 'X考试'.
        named = [s for s in _SUBJECT.finditer(text[: m.start()]) if text[s.end() - 2 : s.end()] == "科目"]
        named = named or list(_SUBJECT.finditer(text[: m.start()]))
        subject = named[-1].group("s") if named else "考试"
        clause_start = max(text.rfind(c, 0, m.start()) for c in ",，;；。") + 1
        clause = text[clause_start : m.start()]
        levels: list[str] = []
        rest = clause
        for level in _LEVELS:  # longest first, so 高级技师 is not also read as 技师
            if level in rest:
                levels.append(level)
                rest = rest.replace(level, "")
        minutes = int(m["n"]) * (60 if m["unit"] == "小时" else 1)
        order = sorted(levels, key=lambda lv: _LEVELS[::-1].index(lv))
        out.append(FoundDuration(subject, tuple(order), minutes, view.original(*m.span())))
    return out


@dataclass(frozen=True)
class FoundCount:
    value: int
    unit: str
    text: str
    span: tuple[int, int]


def find_counts(view: View, skip: list[tuple[int, int]]) -> list[FoundCount]:
    """Counts with their unit (42个职业, 22项职业资格, 2张, 1—2个工作日 as 2), outside `skip`."""
    out: list[FoundCount] = []
    for m in _COUNT.finditer(view.text):
        if any(m.start() < e and s < m.end() for s, e in skip):
            continue
        unit = re.sub(r"\s+", "", m["unit"]).replace("(", "（").replace(")", "）")
        out.append(FoundCount(int(m["n"]), unit, view.original(*m.span()), m.span()))
    return out
