"""Questions the notices cannot answer although retrieval finds a fact that shares their words: the
content of a document the knowledge base does not hold (人社部发〔2017〕68号), a year no date of the
fact is in (2018年上半年统考哪天, when the notice is 2017's), an amount of money no notice states.
Each is a reason to abstain, said to the candidate, rather than an answer about something else."""

from __future__ import annotations

import re

from knowledge.base import Entry, KnowledgeBase
from knowledge.query import Query
from knowledge.schema import DateRange, Event, OnDate

_DOC_NO = re.compile(r"([\u4e00-\u9fff]{1,10})\s*[〔\[（(【]\s*(\d{4})\s*[〕\]）)】]\s*(\d{1,4})\s*号")
_RELATION = re.compile(r"依据|根据|落实|转发|引用|贯彻|哪个通知|哪份|哪个文件|什么文件|是不是")
"""How our notices stand to a document (145号是根据哪个文件): answered from the notices' headers."""
_YEAR = re.compile(r"(?<!\d)(20\d{2})\s*年")
_ASKS_DATE = re.compile(r"什么时候|啥时候|哪天|哪几天|哪一天|几号|几月|何时")
_WHEN_CUE = re.compile(r"什么时候|啥时候|哪天|哪几天|哪一天|几号|几月|何时|截止|最晚|最迟|期限|多久|还能|还可以|来得及")
_YEARS_FROM_NOW = {"前年": -2, "去年": -1, "今年": 0, "明年": 1, "后年": 2}
_RELATIVE_YEAR = re.compile("|".join(_YEARS_FROM_NOW))
_CLAUSE = re.compile(r"[，。；？！,;?!\n]")
_FEE = r"(?:鉴定费|考试费|报名费|考务费|费用|收费|补贴|补助)"
_AMOUNT = re.compile(
    r"多少钱|几块钱|多少元|几元|价格是|多贵"
    rf"|多少{_FEE}|{_FEE}(?:标准)?(?:是|要|大概|一般|大约|得){{0,2}}(?:多少|几)(?!天|个|分钟|工作日|号|月)"
)
_MONEY = re.compile(r"\d+(?:\.\d+)?\s*元")
_MEMBERS = re.compile(
    r"(?:名单|目录)[^，。？?]{0,4}(?:有哪些|有哪几|有啥|是哪些)|具体(?:是|有)?哪些"
    r"|(?:有|是)哪(?:些|几所|几家)(?:学校|院校|技校|单位)"
)
"""The members of a list asked for (试点院校名单里有哪些学校, 第一批具体是哪些职业)…"""
_CRITERIA = re.compile(r"可以|(?<!技)能|符合|条件|要求|哪类|什么样")
"""…not who may (哪些学校可以申请: the conditions answer that)."""


def _years_asked(query: Query) -> set[int]:
    """The years of the clauses that ask when (吉林2018年上半年统考哪天), less those inside a full
    date the question gives; a year in another clause is context (2016年没考过的，补考在哪天)."""
    in_dates = {int(y) for d in query.dates for y in _YEAR.findall(query.text[d.span[0] : d.span[1]])}
    clauses = [c for c in _CLAUSE.split(query.text) if _WHEN_CUE.search(c)]
    named = {int(y) for c in clauses for y in _YEAR.findall(c)}
    # 明年的呢, 今年下半年: years counted from the day of the question.
    named |= {query.now.year + _YEARS_FROM_NOW[w] for c in clauses for w in _RELATIVE_YEAR.findall(c)}
    return named - in_dates


def _key(prefix: str, year: str, number: str) -> tuple[str, int, int]:
    return prefix, int(year), int(number)


class Unanswerable:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        held = (_DOC_NO.search(doc) for doc in kb.notices)
        self._held = {_key(*m.groups()) for m in held if m}

    def reason(self, query: Query, entry: Entry) -> str | None:
        """Why `entry`, the best fact found, cannot answer the question, or None when it can."""
        return (
            self._unheld_document(query)
            or self._other_year(query, entry)
            or self._no_amount(query, entry)
            or self._no_list(query, entry)
        )

    def _unheld_document(self, query: Query) -> str | None:
        if _RELATION.search(query.text):
            return None
        for m in _DOC_NO.finditer(query.text):
            prefix, year, number = m.groups()
            # The prefix may carry words before the issuer's abbreviation (看人社部发): its tail counts.
            if not any(_key(prefix[i:], year, number) in self._held for i in range(len(prefix))):
                return f"您问的是{m.group(0).strip()}的内容，本服务只收录了各地的鉴定通知，没有这份文件的原文"
        return None

    def _other_year(self, query: Query, entry: Entry) -> str | None:
        fact = entry.fact
        if not isinstance(fact, Event):
            return self._undated(query, entry)
        # A yearly event too: that it recurs is what reminders assume, not what a notice of 2017
        # says about 2018.
        if not query.asks_when:
            return None
        absolute = [w for w in fact.dates if isinstance(w, OnDate | DateRange)]
        if len(absolute) < len(fact.dates):
            return None  # a rule counted from a date the candidate gives holds in any year
        asked = _years_asked(query)
        if not asked:
            return None
        covered = {w.date.year for w in absolute if isinstance(w, OnDate)}
        covered |= {y for w in absolute if isinstance(w, DateRange) for y in range(w.start.year, w.end.year + 1)}
        covered |= {int(y) for y in _YEAR.findall(f"{fact.title}{fact.answer}")}
        missing = sorted(asked - covered)
        if not missing:
            return None
        known = "、".join(str(y) for y in sorted(covered))
        return f"现有通知只有{known}年的{fact.title}，没有{'、'.join(map(str, missing))}年的安排"

    @staticmethod
    def _undated(query: Query, entry: Entry) -> str | None:
        """A date asked for a year (2021年…什么时候申报) and found only a standing rule with no date,
        from a notice of another year that does not speak of that year."""
        if not _ASKS_DATE.search(query.text):
            return None
        asked = _years_asked(query)
        spoken = {int(y) for y in _YEAR.findall(f"{entry.fact.title}{entry.fact.answer}")} | {entry.notice.year}
        missing = sorted(asked - spoken)
        if not missing:
            return None
        return f"现有通知没有{'、'.join(map(str, missing))}年的安排（{entry.citation}是{entry.notice.year}年的通知）"

    @staticmethod
    def _no_amount(query: Query, entry: Entry) -> str | None:
        if _AMOUNT.search(query.text) and not _MONEY.search(f"{entry.fact.answer}{entry.fact.source.quote}"):
            return "现有通知没有写明具体金额"
        return None

    @staticmethod
    def _no_list(query: Query, entry: Entry) -> str | None:
        """The members of a list asked for, and the best fact is no list: the notice does not name
        them (广东首批试点院校 are published by the 省人社厅 later; 江苏 names no occupations)."""
        if entry.fact.kind == "occupation_list" or not _MEMBERS.search(query.text) or _CRITERIA.search(query.text):
            return None
        return f"{entry.citation}没有列出您问的具体名单"
