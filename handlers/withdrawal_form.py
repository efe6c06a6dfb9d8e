"""The 退考退费 request (个人弃考声明 + 退考退费登记) as a declared form.

What may be withdrawn, by when and with which declaration comes from the notice that governs
the candidate's region (`knowledge.withdrawal`); this module only asks and records. The questions
that read the notice are in `handlers.withdrawal_answers`.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from handlers.context import Context
from handlers.field_parsers import (
    LEVEL_UNSURE,
    LEVELS,
    find_id_number,
    find_phone,
    parse_id_number,
    parse_institution,
    parse_level,
    parse_name,
    parse_phone,
    parse_receipt_no,
)
from handlers.forms import Field, Form, FormContext, FormQuestion, register
from handlers.messages import Reply
from handlers.parsing import Invalid, Ok, Parsed, Stop
from handlers.withdrawal_answers import (
    SCOPE_CHOICES,
    SCOPE_UNSURE,
    find_occupation,
    occupation_listed,
    occupation_prompt,
    parse_exam,
    parse_occupation,
    parse_region,
    parse_scope,
    rules_of,
    scope_prompt,
)
from knowledge.answer import HUMAN_HINT
from knowledge.withdrawal import WithdrawalRules, withdrawal_regions
from knowledge.workdays import format_date
from storage.masking import mask_id_number, mask_name
from storage.models import WithdrawalRequest
from storage.requests import NewRequest, create_request, find_for_exam
from storage.statuses import RequestStatus

FORM_NAME = "withdrawal"
CONFIRM_PHRASE = "确认弃考"
STATUS_TEXT = {status.value: status.label for status in RequestStatus}
"""Stored status → its Chinese label (RequestStatus.label), for the console pages that look labels up by value."""
IN_DECLARATION = frozenset({"name", "id_number", "exam_date", "occupation"})
"""Fields the declaration states: the summary shows them there, once."""


def _declaration(fctx: FormContext, *, masked: bool) -> str:
    values = fctx.values
    id_number = values.get("id_number")
    return rules_of(fctx).declaration(
        {
            "姓名": values.get("name"),
            "身份证号": mask_id_number(id_number) if masked else id_number,
            "原定考试日期": format_date(values.get("exam_date")),
            "职业": values.get("occupation"),
        },
        unsure=values.get("scope") == SCOPE_UNSURE,
    )


def _summary(fctx: FormContext) -> str:
    rules = rules_of(fctx)
    others = [(f.label, fctx.values.display(f.name)) for f in fctx.form.fields if f.name not in IN_DECLARATION]
    lines = [
        f"请核对您的退考退费登记（依据{rules.doc_no}）：",
        *(f"· {label}：{shown}" for label, shown in others if shown),
    ]
    lines += [f"您将签署的{rules.declaration_name}：", _declaration(fctx, masked=True)]
    if fctx.values.get("scope") == SCOPE_UNSURE:
        lines.append("您选择了“不确定”：声明写明由报考机构核实；核实不属于可退考范围的，不予办理。")
    if rules.policy.template_note:
        lines.append(f"说明：{rules.policy.template_note}")
    lines.append(rules.deadline_check(fctx.today).text)
    lines.append("提交后不可撤回或更改（如需更正请回复“转人工”）。")
    return "\n".join(lines)


async def _submit(fctx: FormContext) -> list[Reply]:
    ctx = fctx.ctx
    rules = rules_of(fctx)
    check = rules.deadline_check(fctx.today)
    if not check.open:
        return [Reply(check.text + f"本次登记未提交。{HUMAN_HINT}", ("转人工",))]
    new = _new_request(fctx, rules)
    existing = await _filed_before(ctx, new.id_number, new.occupation, new.exam_date)
    if existing is not None:
        return [Reply(_duplicate(ctx, existing), ("我的申请", "转人工"))]
    try:
        async with ctx.session.begin_nested():
            request = await create_request(ctx.session, new, cipher=ctx.services.cipher, now=ctx.now, today=fctx.today)
    except IntegrityError:
        # The same person filed the same exam a moment ago, from another conversation.
        existing = await _filed_before(ctx, new.id_number, new.occupation, new.exam_date)
        if existing is None:
            raise
        return [Reply(_duplicate(ctx, existing), ("我的申请", "转人工"))]
    return [_receipt(rules, request.reference)]


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
        # Listed (the notice's list holds it) only where there is a list; an unsure candidate's
        # occupation is verified by staff, as one of a notice without a list is.
        occupation_listed=rules.occupations is not None,
        level=values.get("level"),
        exam_date=values.get("exam_date"),
        institution=values.get("institution"),
        receipt_no=values.get("receipt_no"),
        scope_answer=values.display("scope") or None if "scope" in values else None,
        deadline=rules.deadline,
        declaration=_declaration(fctx, masked=False),
        consent=f"考生已同意个人信息处理说明（版本 {values.get('consent')}）",
    )


async def _filed_before(ctx: Context, id_number: str, occupation: str, exam_date: object) -> WithdrawalRequest | None:
    """The request the same person (by ID number) filed for the same exam, if any."""
    return await find_for_exam(
        ctx.session,
        id_number_hashes=ctx.services.cipher.keyed_hashes(id_number),
        occupation=occupation,
        exam_date=exam_date,  # type: ignore[arg-type]  # a date, from the form's values
    )


async def _check_duplicate(fctx: FormContext) -> Stop | Invalid | None:
    """As soon as the ID number and the exam are known: one request per person and exam."""
    values = fctx.values
    if not all(name in values for name in ("id_number", "occupation", "exam_date")):
        return None
    existing = await _filed_before(fctx.ctx, values.get("id_number"), values.get("occupation"), values.get("exam_date"))
    return Stop(_duplicate(fctx.ctx, existing)) if existing is not None else None


def _duplicate(ctx: Context, existing: WithdrawalRequest) -> str:
    if (existing.channel, existing.user_id) != (ctx.channel, ctx.user_id):
        # Someone else's request, or the same person on another account: say only that one exists.
        return "这个身份证号已为这场考试提交过退考退费申请，无需重复提交。如有疑问，请回复“转人工”联系工作人员。"
    return (
        f"您已为这场考试提交过退考退费申请（受理编号：{existing.reference}，"
        f"状态：{RequestStatus(existing.status).label}），无需重复提交。回复“我的申请”可查看详情。"
    )


def _receipt(rules: WithdrawalRules, reference: str) -> Reply:
    """Short, for a phone: the reference, where it goes next, how the fee comes back."""
    refund = rules.refund_text().split("（依据")[0].rstrip("。")
    lines = [
        f"已提交，受理编号：{reference}（{RequestStatus.SUBMITTED.label}）。",
        f"依据{rules.doc_no}，由{rules.policy.register_with}核对并报送。" + (f"退费：{refund}。" if refund else ""),
        "回复“我的申请”查看进度；如需更正请回复“转人工”。",
    ]
    return Reply("\n".join(lines), ("我的申请", "订阅截止提醒"))


def _unknown(value: str | None, shown: str) -> Parsed:
    return Ok(value, shown)


def _rules_known(fctx: FormContext) -> WithdrawalRules | None:
    return rules_of(fctx) if "region" in fctx.values else None


def _deadline_answer(fctx: FormContext) -> str | None:
    rules = _rules_known(fctx)
    return None if rules is None else rules.deadline_check(fctx.today).text


def _receiver_answer(fctx: FormContext) -> str | None:
    rules = _rules_known(fctx)
    if rules is None:
        return None
    report = rules.report_text()
    return f"登记提交后，由{rules.policy.register_with}核对并按{rules.doc_no}的规定办理。" + (
        f"{report}" if report else ""
    )


def _refund_answer(fctx: FormContext) -> str | None:
    rules = _rules_known(fctx)
    return None if rules is None else rules.refund_text() or None


def _final_answer(fctx: FormContext) -> str | None:
    return (
        "提交后不能撤回：声明写明“选择弃考后不可变更”，提交即放弃这次鉴定。"
        "提交前可以回复“修改+项目”更改，或回复“取消”不办理；提交后信息有误需要更正，请回复“转人工”。"
    )


# 截止 about something else (证书, 补考, 报名…) is that thing's deadline: the knowledge base answers it.
_OTHER_SUBJECT = re.compile(r"证书|发证|补考|报名|成绩|照片|相片|鉴定工作|完成|考完|录入|材料")
QUESTIONS = (
    FormQuestion(
        re.compile(
            r"截止|最晚|最迟|期限|哪天|几号|来得及|(?:什么时候|啥时候|何时)(?:之?前|办完|截止|结束)|还能.{0,4}(?:退|办|登记)"
        ),
        _deadline_answer,
        _OTHER_SUBJECT,
    ),
    FormQuestion(
        re.compile(r"交给谁|给谁|交到哪|交哪|谁(?:审核|处理|办理|负责|来办|看)|找谁|哪里办|去哪"), _receiver_answer
    ),
    FormQuestion(
        re.compile(r"反悔|后悔|撤回|撤销|改主意|变卦|又想考|还能考|还能参加|能不能改|可以改吗|能改吗"), _final_answer
    ),
    FormQuestion(re.compile(r"怎么退|退到哪|怎么返还|原路|到账|退回(?:到)?哪|退多少|全额"), _refund_answer),
)

REGION_BUTTONS = 8
"""Regions offered as buttons at the region question (those with online withdrawal); any may be typed."""

FIELDS = (
    Field(
        "region",
        "地区",
        "请问您是在哪个省份或城市报考的？（例如：广州、广东、福建、厦门、江苏）",
        parse_region,
        aliases=("省份", "城市", "所在地"),
        choices=lambda f: tuple(dict.fromkeys(withdrawal_regions(f.ctx.kb)))[:REGION_BUTTONS],
        help="地区是您报名参加鉴定的省份或城市。",
    ),
    Field(
        "scope",
        "是否属于可退考范围",
        scope_prompt,
        parse_scope,
        depends_on=("region",),
        ask_if=lambda f: not occupation_listed(f),
        choices=SCOPE_CHOICES,
        unknown=lambda f: parse_scope("不确定", f),
    ),
    Field(
        "occupation",
        "报考职业",
        occupation_prompt,
        parse_occupation,
        aliases=("职业", "工种"),
        depends_on=("region",),
        find=find_occupation,
        check=_check_duplicate,
        help="职业（工种）可在准考证或报名回执上查到。",
    ),
    Field(
        "exam_date",
        "原定考试日期",
        "请输入原定考试日期，例如：2017年10月15日、10月15日、10.15 或 下周六。",
        parse_exam,
        aliases=("考试日期", "日期", "考试时间"),
        depends_on=("region",),
        check=_check_duplicate,
        help="原定考试日期可在准考证或报考机构的通知中查到。",
    ),
    Field(
        "consent",
        "个人信息处理",
        lambda f: f.ctx.services.privacy_notice.text,
        lambda t, f: f.ctx.services.privacy_notice.parse(t),
        aliases=("个人信息",),
        choices=("同意", "不同意"),
        help="这是办理前必须确认的个人信息处理说明：同意后才会询问姓名、身份证号和手机号。",
        why="法律要求在收集身份证号等个人信息前告知用途、范围和保存期限，并征得您的同意。",
        back_over=True,
    ),
    Field(
        "name",
        "姓名",
        "请输入您的姓名（与身份证一致）。",
        lambda t, f: parse_name(t),
        aliases=("名字",),
        transcript=mask_name,
        help="请输入您身份证上的姓名。",
        why="姓名写入您签署的弃考声明，报考机构据此核对报名信息。",
    ),
    Field(
        "id_number",
        "身份证号",
        "请输入您的18位身份证号码。（仅用于核对报名信息，加密保存）",
        lambda t, f: parse_id_number(t, today=f.today),
        aliases=("身份证", "证件号"),
        sensitive=True,
        find=lambda t, f: find_id_number(t, today=f.today),
        check=_check_duplicate,
        help="身份证号码是您居民身份证上的18位号码。",
        why="身份证号写入弃考声明，报考机构据此核对您的报名记录，同一场考试也不会被重复登记。",
    ),
    Field(
        "level",
        "申报等级",
        "请选择申报等级：" + "、".join(LEVELS) + "；不清楚请回复“不确定”。",
        lambda t, f: parse_level(t),
        aliases=("等级", "级别"),
        help="申报等级是您报名时选择的等级（五级/初级工到一级/高级技师），可在准考证或报名回执上查到；不清楚请回复“不确定”。",
        choices=(*LEVELS, "不确定"),
        unknown=lambda f: _unknown(LEVEL_UNSURE, LEVEL_UNSURE),
    ),
    Field(
        "institution",
        "原报考机构",
        "请输入您报名时的报考机构名称（学校、培训机构或鉴定所/站）。",
        lambda t, f: parse_institution(t),
        aliases=("报考机构", "机构"),
        help="报考机构是您报名时办理手续的学校、培训机构或鉴定所/站，可在报名回执上查到。",
        why="退考退费由您的原报考机构核对并报送，登记会交给这个机构办理。",
    ),
    Field(
        "receipt_no",
        "缴费票据号",
        "如有缴费票据，请输入票据号；没有或不记得请回复“跳过”。",
        lambda t, f: parse_receipt_no(t),
        aliases=("票据号", "票据", "发票", "收据号", "收据"),
        help="缴费票据号是报名缴费时开具的收据或发票上的编号；没有或找不到可以回复“跳过”。",
        choices=("跳过",),
        skippable=True,
        unknown=lambda f: _unknown(None, "未提供"),
        why="票据号便于报考机构核对缴费、原路退费；没有可以跳过。",
    ),
    Field(
        "phone",
        "手机号",
        "最后，请输入您的11位手机号码，便于报考机构联系您退费事宜。（加密保存）",
        lambda t, f: parse_phone(t),
        aliases=("手机", "电话", "联系电话"),
        sensitive=True,
        find=lambda t, f: find_phone(t),
        help="请留一个能联系到您的手机号码。",
        why="手机号用于报考机构核实登记、联系您办理退费；审核进度也会在本对话中通知您。",
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
        questions=QUESTIONS,
    )
)
