"""The 订阅提醒 form: subscribing to the dates of a region (and an occupation or exam kind, and the
candidate's own exam date). Listing and cancelling subscriptions are in `handlers.reminders`."""

from __future__ import annotations

import datetime as dt
import re

from handlers.context import Context
from handlers.field_parsers import occupation_name, parse_exam_date
from handlers.forms import Field, Form, FormContext, register
from handlers.messages import Reply
from handlers.parsing import Invalid, Ok, Parsed, Stop
from handlers.reminder_schedule import Upcoming
from handlers.text import compact
from knowledge.regions import PREFECTURE
from knowledge.reminders import Interest
from knowledge.timezone import SHANGHAI
from knowledge.workdays import format_date
from storage.subscriptions import NewSubscription, subscribe

FORM_NAME = "subscription"
CONFIRM_PHRASE = "确认订阅"
EXAM_KINDS = {
    "日常鉴定": "日常鉴定",
    "日常": "日常鉴定",
    "统一鉴定": "全国统一鉴定",
    "全国统一鉴定": "全国统一鉴定",
    "统考": "全国统一鉴定",
    "全省统一鉴定": "全省统一鉴定",
    "全省统考": "全省统一鉴定",
    "补考": "补考",
}
ALL_WORDS = frozenset({"全部", "都要", "都关心", "所有", "不限", "跳过", "都可以"})
SKIP_WORDS = frozenset({"跳过", "不知道", "不清楚", "没有", "无", "不确定", "还没定"})


def _parse_region(text: str, fctx: FormContext) -> Parsed:
    ctx = fctx.ctx
    found = ctx.regions_in(text)
    if not found:
        return Invalid(ctx.no_region_text(text, "广州、广东、吉林、福建、江苏"))
    region = found[0]  # innermost: 广东佛山 is 佛山市
    regions = ctx.kb.regions
    if not ctx.kb.covers(region):
        name = regions.full_name(region)
        return Stop(f"目前收录的通知都不涉及{name}，暂时无法为您提醒{name}的日期。需要帮助请回复“转人工”。")
    # Kept by city, as requests are: the dates of a district are its city's.
    return Ok(regions.city_of(region), regions.full_name(region, PREFECTURE))


def _parse_interest(text: str, fctx: FormContext) -> Parsed:
    word = compact(text)
    if word in ALL_WORDS:
        return Ok({}, "全部考试")
    kind = EXAM_KINDS.get(word)
    if kind is not None:
        return Ok({"exam_kind": kind}, kind)
    occupation = occupation_name(text)
    if not re.search(r"[\u4e00-\u9fff]", occupation) or len(occupation) > 20:
        return Invalid("请回复职业名称（如：电工）或考试类别（日常鉴定、统一鉴定、补考），都关心请回复“全部”。")
    return Ok({"occupation": occupation}, occupation)


def _parse_exam_date(text: str, fctx: FormContext) -> Parsed:
    if compact(text) in SKIP_WORDS:
        return Ok(None, "未填写")
    return parse_exam_date(text, today=fctx.today)


def interest_of(region: str, interest: dict[str, str] | None, exam_date: object) -> Interest:
    interest = interest or {}
    return Interest(
        region=region,
        occupation=interest.get("occupation"),
        exam_kind=interest.get("exam_kind"),
        exam_date=exam_date,  # type: ignore[arg-type]
    )


def when_text(at: dt.datetime) -> str:
    local = at.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def upcoming_lines(items: list[Upcoming]) -> list[str]:
    """One line per date reminded of, with the times of its reminders."""
    by_due: dict[str, list[Upcoming]] = {}
    for u in items:
        by_due.setdefault(u.due.key, []).append(u)
    lines = []
    for group in by_due.values():
        due = group[0].due
        note = "，按往年通知推算，以当年通知为准" if due.recurring else ""
        times = "、".join(when_text(u.at) for u in group)
        lines.append(f"· {due.title}（{format_date(due.day)}，{due.doc_no}{note}）：{times} 提醒")
    return lines


def _summary(fctx: FormContext) -> str:
    ctx = fctx.ctx
    values = fctx.values
    interest = interest_of(values.get("region"), values.get("interest"), values.get("exam_date"))
    lines = ["请确认订阅：", *(f"{label}：{shown}" for label, shown in fctx.answered())]
    upcoming = ctx.services.schedule.upcoming(ctx.kb, interest, ctx.now, limit=9)
    if upcoming:
        lines += ["接下来的提醒：", *upcoming_lines(upcoming)]
    else:
        lines.append(
            f"目前收录的通知中没有{interest.region}今后的相关日期，暂时不会收到日期提醒；"
            "订阅后仍可收到主管部门发布的新通知。"
        )
    return "\n".join(lines)


async def _submit(fctx: FormContext) -> list[Reply]:
    ctx = fctx.ctx
    values = fctx.values
    interest = interest_of(values.get("region"), values.get("interest"), values.get("exam_date"))
    created = await subscribe_to(ctx, interest)
    head = "已订阅。" if created else "您已订阅过相同的提醒，无需重复订阅。"
    return [Reply(f"{head}{_quiet_note(ctx)}回复“我的提醒”查看，回复“退订”取消。", ("我的提醒",))]


async def subscribe_to(
    ctx: Context, interest: Interest, *, request_id: int | None = None, exam_date: dt.date | None = None
) -> bool:
    """Subscribes the user to `interest` (for a withdrawal request, `exam_date` is the exam withdrawn
    from); False when the same subscription existed already."""
    new = NewSubscription(
        channel=ctx.channel,
        user_id=ctx.user_id,
        region=interest.region,
        occupation=interest.occupation,
        exam_kind=interest.exam_kind,
        exam_date=exam_date or interest.exam_date,
        request_id=request_id,
    )
    _, created = await subscribe(ctx.session, new, now=ctx.now)
    return created


def _quiet_note(ctx: Context) -> str:
    rules = ctx.services.schedule.rules
    return (
        f"提醒在截止日前按时发送，{rules.quiet_start:%H:%M}至次日{rules.quiet_end:%H:%M}不打扰，"
        f"每天最多{rules.daily_cap}条。"
    )


def build_reminder_form() -> Form:
    fields = (
        Field(
            "region",
            "地区",
            "请问您在哪个省份或城市报考？（例如：广州、吉林、福建、江苏）",
            _parse_region,
            aliases=("省份", "城市"),
        ),
        Field(
            "interest",
            "关注的考试",
            "您关心哪类考试？可回复职业名称（如：电工），或考试类别：日常鉴定、统一鉴定、补考；都关心请回复“全部”。",
            _parse_interest,
            aliases=("职业", "考试类别", "类别"),
            choices=("日常鉴定", "统一鉴定", "补考", "全部"),
            skippable=True,
            unknown=lambda f: Ok({}, "全部考试"),
        ),
        Field(
            "exam_date",
            "本人考试日期",
            "如已知道自己的考试日期，请输入（例如：2026年12月20日），我会按通知推算报名、缴费等截止日；"
            "不知道请回复“跳过”。",
            _parse_exam_date,
            aliases=("考试日期",),
            choices=("跳过",),
            skippable=True,
            unknown=lambda f: Ok(None, "未填写"),
        ),
    )
    return Form(
        name=FORM_NAME,
        title="订阅提醒",
        intro="订阅截止日期提醒：回答三个问题，确认后生效。随时可回复“取消”。",
        fields=fields,
        summary=_summary,
        confirm_phrase=CONFIRM_PHRASE,
        submit=_submit,
    )


FORM = register(build_reminder_form())
