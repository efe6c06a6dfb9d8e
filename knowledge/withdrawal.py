"""Withdrawal with refund (退考退费): which notice governs a region, by when, for which
occupations, and the declaration to sign. All of it read from the notices' `withdrawal` sections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from knowledge.base import Entry, KnowledgeBase
from knowledge.occupation_names import everyday_names
from knowledge.schema import Event, Form, Notice, OccupationList, WithdrawalPolicy
from knowledge.workdays import format_date

# A typed name this close to a listed one is offered as "您是指…吗"; below, it is not a match.
SUGGEST_CUTOFF = 60.0


@dataclass(frozen=True)
class DeadlineCheck:
    open: bool
    text: str
    """For a candidate: the deadline and days left, or why it is too late, with the source."""


@dataclass(frozen=True)
class OccupationCheck:
    kind: Literal["listed", "suggest", "not_listed", "unverified"]
    """listed: on the notice's list; suggest: probably `name`, ask; not_listed: refused;
    unverified: the notice has no list, staff verify."""
    name: str


@dataclass(frozen=True)
class WithdrawalRules:
    """The withdrawal rules of the notice that governs `region`."""

    region: str
    notice: Notice
    kb: KnowledgeBase

    @property
    def policy(self) -> WithdrawalPolicy:
        assert self.notice.withdrawal is not None
        return self.notice.withdrawal

    @property
    def doc_no(self) -> str:
        return self.notice.doc_no

    def entry(self, fact_id: str) -> Entry:
        return self.kb.by_id[fact_id]

    def cite(self, fact_id: str | None = None) -> str:
        """粤人社职鉴〔2017〕70号第三条 style citation of the fact (or of the grant)."""
        entry = self.entry(fact_id or self.policy.grant)
        return f"{entry.doc_no}（{entry.fact.source.clause}）"

    def _dates(self, fact_id: str | None) -> list[dt.date]:
        if fact_id is None:
            return []
        fact = self.entry(fact_id).fact
        assert isinstance(fact, Event)
        return [d.date for d in fact.dates if d.kind == "date"]

    @property
    def deadline(self) -> dt.date | None:
        """Last day to register the withdrawal (the first date of the deadline fact)."""
        dates = self._dates(self.policy.deadline)
        return dates[0] if dates else None

    @property
    def exam_by(self) -> dt.date | None:
        """The exam must take place on or before this day (the last date of the fact)."""
        dates = self._dates(self.policy.exam_by)
        return dates[-1] if dates else None

    @property
    def occupations(self) -> list[str] | None:
        if self.policy.occupation_list is None:
            return None
        fact = self.entry(self.policy.occupation_list).fact
        assert isinstance(fact, OccupationList)
        return list(fact.occupations)

    @property
    def list_title(self) -> str | None:
        if self.policy.occupation_list is None:
            return None
        return self.entry(self.policy.occupation_list).fact.title

    def deadline_check(self, today: dt.date) -> DeadlineCheck:
        if not self.notice.issued_by(today):
            return DeadlineCheck(
                False, f"{not_yet_issued_text(self.notice)}，{format_date(today)}尚未发布，还不能据此登记退考退费。"
            )
        deadline = self.deadline
        if deadline is None:
            text = f"{self.doc_no}未规定单独的登记截止日，请在原定考试日期之前办理。"
            if self.policy.exam_by is not None:
                # The dates the notice does set: after them, there is no exam left to withdraw from.
                said = self.entry(self.policy.exam_by).fact.answer.strip()
                text += f"该通知规定：{said}（依据{self.cite(self.policy.exam_by)}）"
            return DeadlineCheck(True, text)
        assert self.policy.deadline is not None
        fact = self.entry(self.policy.deadline).fact
        assert isinstance(fact, Event)
        when = format_date(deadline)
        if today > deadline:
            consequence = fact.if_missed or ""
            return DeadlineCheck(
                False,
                f"根据{self.cite(self.policy.deadline)}，退考退费须于{when}前向{self.policy.register_with}登记，"
                f"现已截止，无法再登记退考退费。{consequence}",
            )
        left = (deadline - today).days
        tail = "今天是最后一天" if left == 0 else f"还有{left}天"
        return DeadlineCheck(True, f"退考退费登记截止：{when}（{tail}，依据{self.cite(self.policy.deadline)}）。")

    def exam_date_problem(self, exam_date: dt.date) -> str | None:
        """Why an exam date cannot be the one of a withdrawable exam, or None."""
        exam_by = self.exam_by
        if exam_by is not None and exam_date > exam_by:
            assert self.policy.exam_by is not None
            fact = self.entry(self.policy.exam_by).fact
            return (
                f"根据{self.cite(self.policy.exam_by)}，{fact.answer.strip()}"
                f"您填写的{format_date(exam_date)}晚于{format_date(exam_by)}，请核对原定考试日期。"
            )
        return None

    def match_occupation(self, typed: str, repaired: str | None = None) -> OccupationCheck:
        """`repaired` is `typed` after homophone repair (电功 → 电工), when the caller has it."""
        names = self.occupations
        candidates = [c for c in dict.fromkeys([typed, repaired or typed]) if c]
        if names is None:
            known = self.kb.occupations
            if typed in known:
                return OccupationCheck("unverified", typed)
            if repaired in known:
                return OccupationCheck("suggest", repaired)
            best = process.extractOne(typed, known, scorer=fuzz.ratio, score_cutoff=75)
            if best is not None:
                return OccupationCheck("suggest", best[0])
            return OccupationCheck("unverified", typed)
        if typed in names:
            return OccupationCheck("listed", typed)
        if repaired in names:
            # A homophone repair (电功 → 电工) is still a guess: the candidate confirms it.
            return OccupationCheck("suggest", repaired)
        everyday = everyday_names(names)
        for c in candidates:
            meant = everyday.get(c.lower(), ())
            if len(meant) == 1:
                # 木匠 is 手工木工 on the list: confirmed by the candidate like any other guess.
                return OccupationCheck("suggest", meant[0])
        for c in candidates:
            # 我报的是电工 holds 电工; 美容 is part of 美容师 only.
            inside = [n for n in names if n in c] or [n for n in names if len(c) >= 2 and c in n]
            if len(inside) == 1:
                return OccupationCheck("suggest", inside[0])
        best = None
        for c in candidates:
            found = process.extractOne(c, names, scorer=fuzz.ratio, score_cutoff=SUGGEST_CUTOFF)
            if found is not None and (best is None or found[1] > best[1]):
                best = found
        if best is not None:
            return OccupationCheck("suggest", best[0])
        return OccupationCheck("not_listed", typed)

    @property
    def declaration_template(self) -> str:
        if self.policy.declaration is not None:
            form = self.entry(self.policy.declaration).fact
            assert isinstance(form, Form) and form.template
            return form.template
        assert self.policy.template is not None
        return self.policy.template

    @property
    def declaration_name(self) -> str:
        if self.policy.declaration is not None:
            form = self.entry(self.policy.declaration).fact
            assert isinstance(form, Form)
            return f"《{form.name}》（{self.cite(self.policy.declaration)}）"
        return "退考退费声明"

    def declaration(self, values: Mapping[str, str], *, unsure: bool = False) -> str:
        """The declaration filled with 姓名, 身份证号, 原定考试日期 and 职业. `unsure`: the candidate
        could not say whether the occupation is one the notice covers, so the declaration states
        no reason they did not give and leaves it to the institution to verify."""
        template = self.policy.unsure_template if unsure and self.policy.unsure_template else self.declaration_template
        return template.format_map(dict(values))

    def refund_text(self) -> str:
        if self.policy.refund is None:
            return ""
        entry = self.entry(self.policy.refund)
        return f"{entry.fact.answer.strip()}（依据{self.cite(self.policy.refund)}）"

    def report_text(self) -> str:
        if self.policy.report is None:
            return ""
        entry = self.entry(self.policy.report)
        return f"{entry.fact.answer.strip()}（依据{self.cite(self.policy.report)}）"


def _withdrawal_notices(kb: KnowledgeBase, region: str) -> list[Notice]:
    """The notices with withdrawal rules for `region` or a region containing it, innermost first
    (the city's before its province's)."""
    return [
        notice
        for name in kb.regions.lineage(region)
        for notice in kb.notices.values()
        if notice.withdrawal is not None and name in notice.regions
    ]


def withdrawal_rules(kb: KnowledgeBase, region: str, on: dt.date | None = None) -> WithdrawalRules | None:
    """The rules of the innermost region (the city before its province) whose notice has them: a
    district without rules of its own follows its city's, a city its province's. `on`: the day the
    candidate asks; a notice issued after it does not govern yet, and the one before it does."""
    for notice in _withdrawal_notices(kb, region):
        if on is None or notice.issued_by(on):
            return WithdrawalRules(region, notice, kb)
    return None


def not_yet_issued(kb: KnowledgeBase, region: str, on: dt.date) -> Notice | None:
    """The notice that governs `region`'s withdrawals once issued, when it had not been on `on`
    (145号 on 2017-09-21, when 广州 still followed 广东's 70号); None when the rules in force are
    the innermost ones."""
    for notice in _withdrawal_notices(kb, region):
        if notice.issued_by(on):
            return None
        return notice
    return None


def not_yet_issued_text(notice: Notice) -> str:
    """Says when `notice` was issued, for a day before it."""
    when = format_date(notice.issued) if notice.issued else f"{notice.year}年"
    return f"{notice.doc_no}于{when}才印发"


def withdrawal_regions(kb: KnowledgeBase) -> list[str]:
    """Regions whose notices provide for withdrawal with refund, for telling a candidate where it applies."""
    return [r for n in kb.notices.values() if n.withdrawal is not None for r in n.regions]
