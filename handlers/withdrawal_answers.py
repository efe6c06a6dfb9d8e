"""The withdrawal form's own questions: the region, whether the occupation is one the notice covers,
the occupation and the exam date, each read against the notice that governs the region
(`knowledge.withdrawal`)."""

from __future__ import annotations

import datetime as dt
import re

from handlers.field_parsers import occupation_name, parse_exam_date, parse_yes_no
from handlers.forms import FormContext
from handlers.parsing import Confirm, Invalid, Ok, Parsed, Stop
from handlers.text import compact
from knowledge.answer import HUMAN_HINT
from knowledge.base import KnowledgeBase
from knowledge.regions import PREFECTURE
from knowledge.withdrawal import (
    WithdrawalRules,
    not_yet_issued,
    not_yet_issued_text,
    withdrawal_regions,
    withdrawal_rules,
)
from knowledge.workdays import format_date

SCOPE_CHOICES = ("是", "否", "不确定")
SCOPE_UNSURE = "unsure"
_UNSURE = frozenset("不确定 不知道 不清楚 不太清楚 不晓得 说不准 不好说 拿不准 没把握".split())
# The scope question is asked positively (属于目录之外的职业吗 / 属于退出目录的职业资格吗): natural answers
# name the catalog. "Not in the catalog" and "has left it" mean yes; "still in it", "does not belong" no.
_SCOPE_NO = re.compile(r"不属于|没有退出|未退出|没退出|(?<!不)在目录[里内中上]|目录[里内中]的|还在目录|仍在目录|目录内")
_NOT_IN_CATALOG = re.compile(r"不在(?:国家职业资格|《国家职业资格目录》|国家)?目录")
_SCOPE_YES = re.compile(r"不在目录|不在了|不在|目录外|目录之外|之外|以外|退出|属于")
# What an occupation's name looks like when the lists do not hold it (育婴员, 秘书, 美发师, 电焊工).
_OCCUPATION_LIKE = re.compile(r"[\u4e00-\u9fff]{1,10}(?:员|师|工|匠|手|秘书|技术员|操作员)")


def rules_of(fctx: FormContext) -> WithdrawalRules:
    rules = withdrawal_rules(fctx.ctx.kb, fctx.values.get("region"), on=fctx.today)
    assert rules is not None, "region was validated against the withdrawal rules"
    return rules


def no_rules_text(kb: KnowledgeBase, region: str, today: dt.date) -> str:
    """Why nothing can be registered for `region` today: its notice not yet issued, or none."""
    place = kb.regions.full_name(region)
    upcoming = not_yet_issued(kb, region, today)
    if upcoming is not None:
        return f"{not_yet_issued_text(upcoming)}，{format_date(today)}{place}还没有可依据的退考退费规定，暂不能登记。"
    covered = "、".join(withdrawal_regions(kb))
    return (
        f"目前收录的通知中，{place}没有可在线登记的退考退费规定（可在线登记的地区：{covered}）。"
        "请向您的原报考机构咨询。"
    )


def parse_region(text: str, fctx: FormContext) -> Parsed:
    """The innermost region named (广东省广州市 is 广州市), checked against the withdrawal rules in
    force today; kept as its city (番禺区 → 广州市), where exams are run and staff work."""
    ctx = fctx.ctx
    regions = ctx.kb.regions
    found = ctx.regions_in(text)
    if not found:
        return Invalid(ctx.no_region_text(text, "广州、广东、福建、厦门、江苏"))
    region = found[0]
    rules = withdrawal_rules(ctx.kb, region, on=fctx.today)
    upcoming = not_yet_issued(ctx.kb, region, fctx.today)
    if rules is None:
        return Stop(no_rules_text(ctx.kb, region, fctx.today) + HUMAN_HINT)
    check = rules.deadline_check(fctx.today)
    if not check.open:
        return Stop(check.text + HUMAN_HINT)
    governing = next(r for r in regions.lineage(region) if r in rules.notice.regions)
    note = ""
    if upcoming is not None:
        note = f"{not_yet_issued_text(upcoming)}，目前按{governing}的规定（{rules.doc_no}）办理。"
    elif governing != region:
        note = f"{regions.name_within(region, governing)}属于{governing}，按{governing}的规定（{rules.doc_no}）办理。"
    return Ok(regions.city_of(region), regions.full_name(region, PREFECTURE), note)


def scope_prompt(fctx: FormContext) -> str:
    rules = rules_of(fctx)
    return f"{rules.policy.scope_question}（依据{rules.cite()}）"


def parse_scope(text: str, fctx: FormContext) -> Parsed:
    """是 (the occupation is one the notice covers), 否 (it is not: nothing to file here), or
    不确定, which staff verify; also the natural answers (对，不在 / 还在目录里) and an occupation's
    name, which the candidate gives when they cannot tell (then staff verify too)."""
    rules = rules_of(fctx)
    word = compact(text)
    answer = parse_yes_no(text)
    if word in _UNSURE or word.startswith("不确定"):
        return Ok(SCOPE_UNSURE, "不确定，由报考机构核实")
    if answer is None and _NOT_IN_CATALOG.search(word):
        answer = True  # 不在目录里的: 目录里的 alone would read as "still in it"
    elif answer is None and _SCOPE_NO.search(word):
        answer = False
    elif answer is None and _SCOPE_YES.search(word):
        answer = True
    if answer is True:
        return Ok("yes", "是")
    if answer is False:
        return Stop(
            f"根据{rules.cite()}，只有报考了该通知所指职业的考生可以选择退考退费；"
            f"您报考的职业不在此范围，本次无需也无法在此登记退考退费。{HUMAN_HINT}"
        )
    occupation = named_occupation(text, fctx)
    if occupation is not None:
        return Ok(SCOPE_UNSURE, f"不确定（{occupation}），由报考机构核实")
    return Invalid(f"请回复“是”“否”或“不确定”。{scope_prompt(fctx)}")


def named_occupation(text: str, fctx: FormContext) -> str | None:
    """The occupation `text` names: one of the knowledge base's lists, or, for a message that is
    nothing but a name that reads like an occupation's (育婴员), that name."""
    word = compact(text)
    names = [o for o in fctx.ctx.kb.occupations if compact(o) in word]
    if names:
        return max(names, key=len)
    typed = occupation_name(text)
    return typed if _OCCUPATION_LIKE.fullmatch(typed) else None


def find_occupation(text: str, fctx: FormContext) -> tuple[Parsed, tuple[int, int]] | None:
    """An occupation named in a message typed for another question (the scope question answered
    with 育婴员, 广州考电工的), with its span."""
    name = named_occupation(text, fctx)
    if name is None:
        return None
    start = text.find(name)
    span = (start, start + len(name)) if start >= 0 else (0, len(text))
    return parse_occupation(name, fctx), span


def occupation_prompt(fctx: FormContext) -> str:
    rules = rules_of(fctx)
    if rules.occupations is not None:
        return f"请输入您报考的职业名称（须为{rules.list_title}中的职业，例如：电工、美容师）。"
    return "请输入您报考的职业（工种）名称，例如：秘书、电子商务师。"


def parse_occupation(text: str, fctx: FormContext) -> Parsed:
    rules = rules_of(fctx)
    typed = occupation_name(text)
    if not re.search(r"[\u4e00-\u9fff]", typed) or len(typed) > 20:
        return Invalid("请输入职业（工种）的中文名称，例如：电工、美容师。")
    check = rules.match_occupation(typed, fctx.ctx.qa.analyzer.repair(typed))
    if check.kind == "listed":
        return Ok(check.name, check.name)
    if check.kind == "unverified":
        return Ok(check.name, f"{check.name}（由报考机构核实）")
    if check.kind == "suggest":
        return Confirm(check.name, check.name, f"您是指『{check.name}』吗？请回复“是”或“否”。")
    return Invalid(
        f"“{typed}”不在{rules.list_title}（{rules.cite(rules.policy.occupation_list)}）中，"
        f"按该通知只有名单内职业的已报名考生可以退考退费。请核对职业名称后重新输入；"
        f"如确认无误，可回复“转人工”咨询，或回复“取消”结束办理。"
    )


def parse_exam(text: str, fctx: FormContext) -> Parsed:
    rules = rules_of(fctx)
    reason = ""
    if rules.policy.exam_by is not None:
        reason = f"根据{rules.cite(rules.policy.exam_by)}，{rules.entry(rules.policy.exam_by).fact.answer.strip()}"
    result = parse_exam_date(text, today=fctx.today, latest=rules.exam_by, latest_reason=reason)
    if isinstance(result, Ok):
        problem = rules.exam_date_problem(result.value)
        if problem:
            return Invalid(problem)
    return result


def occupation_listed(fctx: FormContext) -> bool:
    return rules_of(fctx).occupations is not None
