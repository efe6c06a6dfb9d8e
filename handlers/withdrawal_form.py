"""The 退考退费 request (个人弃考声明 + 退考退费登记) as a declared form.

What may be withdrawn, by when and with which declaration comes from the notice that governs
the candidate's region (`knowledge.withdrawal`); this module only asks and records.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from handlers.context import Context
from handlers.field_parsers import (
    occupation_name,
    parse_exam_date,
    parse_id_number,
    parse_institution,
    parse_level,
    parse_name,
    parse_phone,
    parse_receipt_no,
    parse_yes_no,
)
from handlers.forms import Field, Form, FormContext, register
from handlers.messages import Reply
from handlers.parsing import Confirm, Invalid, Ok, Parsed, Stop
from handlers.text import compact
from knowledge.answer import HUMAN_HINT
from knowledge.base import KnowledgeBase
from knowledge.withdrawal import WithdrawalRules, withdrawal_regions, withdrawal_rules
from knowledge.workdays import format_date
from storage.masking import mask_id_number
from storage.models import WithdrawalRequest
from storage.requests import NewRequest, create_request, find_for_exam
from storage.statuses import RequestStatus

FORM_NAME = "withdrawal"
CONFIRM_PHRASE = "确认弃考"
LEVELS = ("五级/初级工", "四级/中级工", "三级/高级工", "二级/技师", "一级/高级技师")
STATUS_TEXT = {status.value: status.label for status in RequestStatus}
"""Stored status → its Chinese label (RequestStatus.label), for the console pages that look labels up by value."""


def _rules(fctx: FormContext) -> WithdrawalRules:
    rules = withdrawal_rules(fctx.ctx.kb, fctx.values.get("region"))
    assert rules is not None, "region was validated against the withdrawal rules"
    return rules


def _covered(kb: KnowledgeBase) -> str:
    return "、".join(withdrawal_regions(kb))


def _parse_region(text: str, fctx: FormContext) -> Parsed:
    ctx = fctx.ctx
    found = ctx.regions_in(text)
    if not found:
        return Invalid("没有识别出地区。请告诉我您报考所在的省份或城市，例如：广州、广东、福建、厦门、江苏。")
    region = found[0]
    rules = withdrawal_rules(ctx.kb, region)
    if rules is None:
        return Stop(
            f"目前收录的通知中，{region}没有可在线登记的退考退费规定（可在线登记的地区：{_covered(ctx.kb)}）。"
            f"请向您的原报考机构咨询。{HUMAN_HINT}"
        )
    check = rules.deadline_check(fctx.today)
    if not check.open:
        return Stop(check.text + HUMAN_HINT)
    return Ok(region, f"{region}（依据{rules.doc_no}）")


def _scope_prompt(fctx: FormContext) -> str:
    rules = _rules(fctx)
    return f"{rules.policy.scope_question}（依据{rules.cite()}）请回复“是”“否”或“不确定”。"


def _parse_scope(text: str, fctx: FormContext) -> Parsed:
    rules = _rules(fctx)
    if compact(text) in {"不确定", "不知道", "不清楚", "不太清楚", "不晓得"}:
        return Ok("unsure", "不确定（由报考机构核实）")
    answer = parse_yes_no(text)
    if answer is True:
        return Ok("yes", "是")
    if answer is False:
        return Stop(
            f"根据{rules.cite()}，只有报考了该通知所指职业的考生可以选择退考退费；"
            f"您报考的职业不在此范围，本次无需也无法在此登记退考退费。{HUMAN_HINT}"
        )
    return Invalid("请回复“是”“否”或“不确定”。" + _scope_prompt(fctx))


def _occupation_prompt(fctx: FormContext) -> str:
    rules = _rules(fctx)
    if rules.occupations is not None:
        return f"请输入您报考的职业名称（须为{rules.list_title}中的职业，例如：电工、美容师）。"
    return "请输入您报考的职业（工种）名称，例如：秘书、电子商务师。"


def _parse_occupation(text: str, fctx: FormContext) -> Parsed:
    rules = _rules(fctx)
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


def _parse_exam(text: str, fctx: FormContext) -> Parsed:
    rules = _rules(fctx)
    reason = ""
    if rules.policy.exam_by is not None:
        reason = f"根据{rules.cite(rules.policy.exam_by)}，{rules.entry(rules.policy.exam_by).fact.answer.strip()}"
    result = parse_exam_date(text, today=fctx.today, latest=rules.exam_by, latest_reason=reason)
    if isinstance(result, Ok):
        problem = rules.exam_date_problem(result.value)
        if problem:
            return Invalid(problem)
    return result


def _occupation_listed(fctx: FormContext) -> bool:
    return _rules(fctx).occupations is not None


def _declaration(fctx: FormContext, *, masked: bool) -> str:
    values = fctx.values
    id_number = values.get("id_number")
    return _rules(fctx).declaration(
        {
            "姓名": values.get("name"),
            "身份证号": mask_id_number(id_number) if masked else id_number,
            "原定考试日期": format_date(values.get("exam_date")),
            "职业": values.get("occupation"),
        }
    )


def _summary(fctx: FormContext) -> str:
    rules = _rules(fctx)
    lines = [f"请核对您的退考退费登记（依据{rules.doc_no}）："]
    lines += [f"· {label}：{shown}" for label, shown in fctx.answered()]
    lines += [
        "",
        f"您将签署的{rules.declaration_name}（身份证号已部分隐藏）：",
        "————————",
        _declaration(fctx, masked=True),
    ]
    lines.append("————————")
    if rules.policy.template_note:
        lines.append(f"说明：{rules.policy.template_note}")
    lines.append(rules.deadline_check(fctx.today).text)
    lines.append("提交后声明不可撤回、不可更改；如需更正，只能回复“转人工”由工作人员处理。")
    return "\n".join(lines)


async def _submit(fctx: FormContext) -> list[Reply]:
    ctx = fctx.ctx
    rules = _rules(fctx)
    check = rules.deadline_check(fctx.today)
    if not check.open:
        return [Reply(check.text + f"本次登记未提交。{HUMAN_HINT}", ("转人工",))]
    new = _new_request(fctx, rules)
    existing = await _filed_before(ctx, new)
    if existing is not None:
        return [_duplicate_reply(existing)]
    try:
        async with ctx.session.begin_nested():
            request = await create_request(ctx.session, new, cipher=ctx.services.cipher, now=ctx.now, today=fctx.today)
    except IntegrityError:
        # The same person filed the same exam a moment ago, from another conversation.
        existing = await _filed_before(ctx, new)
        if existing is None:
            raise
        return [_duplicate_reply(existing)]
    return [_receipt(rules, new, request.reference)]


def _new_request(fctx: FormContext, rules: WithdrawalRules) -> NewRequest:
    ctx, values = fctx.ctx, fctx.values
    return NewRequest(
        channel=ctx.channel,
        user_id=ctx.user_id,
        name=values.get("name"),
        id_number=values.get("id_number"),
        phone=values.get("phone"),
        region=values.get("region"),
        doc_no=rules.doc_no,
        occupation=values.get("occupation"),
        occupation_listed=rules.occupations is not None,
        level=values.get("level"),
        exam_date=values.get("exam_date"),
        institution=values.get("institution"),
        receipt_no=values.get("receipt_no"),
        deadline=rules.deadline,
        declaration=_declaration(fctx, masked=False),
    )


async def _filed_before(ctx: Context, new: NewRequest) -> WithdrawalRequest | None:
    """The request the same person (by ID number) filed for the same exam, if any."""
    return await find_for_exam(
        ctx.session,
        id_number_hash=ctx.services.cipher.keyed_hash(new.id_number),
        occupation=new.occupation,
        exam_date=new.exam_date,
    )


def _receipt(rules: WithdrawalRules, new: NewRequest, reference: str) -> Reply:
    lines = [
        f"已提交。受理编号：{reference}",
        f"状态：{RequestStatus.SUBMITTED.label}。",
        f"您的退考退费登记已记录，将由{rules.policy.register_with}（{new.institution}）核对并报送。",
    ]
    refund = rules.refund_text()
    if refund:
        lines.append(f"退费方式：{refund}")
    report = rules.report_text()
    if report:
        lines.append(f"后续：{report}")
    if not new.occupation_listed:
        lines.append("您报考的职业是否属于可退考范围，将由报考机构核实。")
    lines.append("可随时回复“我的申请”查看进度；声明已提交，不可更改，如需更正请回复“转人工”。")
    lines.append("需要在截止日期前提醒您吗？回复“订阅截止提醒”。")
    return Reply("\n".join(lines), ("我的申请", "订阅截止提醒"))


def _duplicate_reply(existing: WithdrawalRequest) -> Reply:
    reference, status, day = existing.reference, existing.status, existing.created_at.date().isoformat()
    return Reply(
        f"您（同一身份证号）已为这场考试提交过退考退费申请，无需重复提交。\n"
        f"受理编号：{reference}，提交日期：{day}，状态：{RequestStatus(status).label}。\n"
        "回复“我的申请”可查看详情；如需更正，请回复“转人工”。",
        ("我的申请", "转人工"),
    )


FIELDS = (
    Field(
        "region",
        "地区",
        "请问您是在哪个省份或城市报考的？（例如：广州、广东、福建、厦门、江苏）",
        _parse_region,
        aliases=("省份", "城市", "所在地"),
    ),
    Field(
        "scope",
        "适用范围",
        _scope_prompt,
        _parse_scope,
        depends_on=("region",),
        ask_if=lambda f: not _occupation_listed(f),
        choices=("是", "否", "不确定"),
    ),
    Field(
        "occupation",
        "报考职业",
        _occupation_prompt,
        _parse_occupation,
        aliases=("职业", "工种"),
        depends_on=("region",),
    ),
    Field(
        "exam_date",
        "原定考试日期",
        "请输入原定考试日期，例如：2017年10月15日、10月15日 或 10.15。",
        _parse_exam,
        aliases=("考试日期", "日期", "考试时间"),
        depends_on=("region",),
    ),
    Field("name", "姓名", "请输入您的姓名（与身份证一致）。", lambda t, f: parse_name(t), aliases=("名字",)),
    Field(
        "id_number",
        "身份证号",
        "请输入您的18位身份证号码。（仅用于核对报名信息，加密保存）",
        lambda t, f: parse_id_number(t, today=f.today),
        aliases=("身份证", "证件号"),
        sensitive=True,
    ),
    Field(
        "level",
        "申报等级",
        "请选择申报等级：" + "、".join(LEVELS) + "。",
        lambda t, f: parse_level(t),
        aliases=("等级", "级别"),
        choices=LEVELS,
    ),
    Field(
        "institution",
        "原报考机构",
        "请输入您报名时的报考机构名称（学校、培训机构或鉴定所/站）。",
        lambda t, f: parse_institution(t),
        aliases=("报考机构", "机构"),
    ),
    Field(
        "receipt_no",
        "缴费票据号",
        "如有缴费票据，请输入票据号；没有请回复“跳过”。",
        lambda t, f: parse_receipt_no(t),
        aliases=("票据号", "票据", "发票"),
        choices=("跳过",),
    ),
    Field(
        "phone",
        "手机号",
        "最后，请输入您的11位手机号码，便于报考机构联系您退费事宜。（加密保存）",
        lambda t, f: parse_phone(t),
        aliases=("手机", "电话", "联系电话"),
        sensitive=True,
    ),
)
"""The questions, in the order they are asked."""

FORM = register(
    Form(
        name=FORM_NAME,
        title="退考退费登记",
        intro=(
            "开始办理退考退费登记（个人弃考声明）。我会逐项询问，最后请您确认声明后提交。\n"
            "随时可回复“返回”回到上一项、“修改+项目”（如“修改手机号”）更改、“取消”结束办理；"
            "办理中也可以直接提问。"
        ),
        fields=FIELDS,
        summary=_summary,
        confirm_phrase=CONFIRM_PHRASE,
        submit=_submit,
    )
)
