"""Withdrawal said in everyday words (这个考试我不参加了交的钱咋办, 能不能不考了把钱要回来, 退钱):
the region's rule in brief, with the button that starts the form. Without a region the bot asks
for one, and the next message that names a region gets the rule.

"我要退考" and the other explicit requests start the form at once (`handlers.withdrawal`); a question
about one aspect of withdrawing (退费多久到账) goes to the policy answerer."""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.messages import Inbound, Reply
from handlers.region_words import region_only
from handlers.routing import Router
from handlers.withdrawal_answers import no_rules_text
from knowledge.withdrawal import not_yet_issued, not_yet_issued_text, withdrawal_regions, withdrawal_rules
from storage.requests import requests_of_user
from storage.statuses import RequestStatus

router = Router("withdrawal_intent")

AWAITING_REGION = "withdrawal_region"
TOPIC = "退考退费"
HUMAN_HINT = "如需人工帮助，请回复“转人工”。"

# The candidate will not sit the exam: 不考了, 不参加了, 考不了, 去不了, 回不来, 放弃考试.
_NOT_SITTING = re.compile(
    r"不(?:想|打算|准备|去)?(?:考|参加)了|不去考|不想考|不想去了?|不打算去|不去了|考不了|参加不了|去不了|来不了|回不来|赶不回来?"
    r"|没法考|没空考"
    r"|放弃(?:考试|鉴定|这次)|弃考(?!声明)"
)
# …and wants the fee back: 退钱, 把钱要回来, 交的钱咋办, 钱能退不. Not the word 退费 itself: 退考退费
# 截止时间 asks for a date the policy answerer gives with its source.
_MONEY_BACK = re.compile(
    r"退钱|退款|(?:钱|费)[^，。？?]{0,8}(?:退|要回|拿回|返还|咋办|怎么办|怎么弄|咋整|咋弄|怎么处理|怎么搞)"
)
# The withdrawal deadline asked for, for a region: the rule says it with the days left.
_ASKS_DEADLINE = re.compile(
    r"(?:退考|退费|弃考)[^，。？?]{0,8}(?:截止|最晚|最迟|期限|哪天|几号|什么时候|啥时候|何时|之前|来得及)"
)
# The rule itself asked for: 福建那边退考有啥规定, 退费流程, 弃考怎么办.
_ASKS_RULE = re.compile(
    r"(?:退考|退费|弃考)[^，。？?]{0,6}(?:规定|政策|流程|手续|要求|怎么办|咋办|怎么弄|怎么搞|怎么处理|如何办理|怎么办理"
    r"|哪个文件|什么文件|哪个通知|哪份|依据|根据什么|按什么|按哪)"
)
LONG = 40
"""A message longer than this is a story (voice-to-text), not a question about one subject."""
# Another subject: the policy answerer knows which fact answers it.
_OTHER_SUBJECT = re.compile(r"补考|证书|成绩|相片|照片|材料")
# One detail of the refund (退费多久到账): asked alone, the policy answerer knows which fact answers
# it; said by someone who is not sitting the exam (a rambling voice message), it is part of the intent.
_REFUND_DETAIL = re.compile(r"多久|几天|到账|多少钱|退多少|扣|手续费")


# An institution's own duty (报送名单, 我们是报考机构): what it must report by when is a policy question,
# not a candidate withdrawing.
_INSTITUTION = re.compile(
    r"名单|报送|上报|报给|汇总|(?:我们|我)是[^，。？?]{0,8}(?:报考机构|鉴定所|鉴定站|鉴定机构|学校|技校|学院|院校)(?!的学生)"
)


def _institution_asks(text: str) -> bool:
    """A short question about an institution's duty (a long story from a candidate mentions all sorts)."""
    return len(text) <= LONG and bool(_INSTITUTION.search(text))


# Whether an occupation is still examined (美发的证是不是不考了): a status question, not a withdrawal.
_STATUS_ASKED = re.compile(
    r"是不是(?:就)?不(?:让)?考了?|还考不考|还考吗|不考了吗|以后不考|不再考|停考|取消了吗|是不是取消"
)
# How the fee comes back (钱怎么退回来, 退到哪): the refund method, whether or not registration is open.
_ASKS_HOW_BACK = re.compile(r"怎么退|咋退|如何退|退到哪|退回哪|怎么返还|怎么还给|怎么拿回|原路")


def is_withdrawal_intent(text: str) -> bool:
    if _institution_asks(text) or (len(text) <= LONG and _STATUS_ASKED.search(text)):
        return False
    not_sitting = bool(_NOT_SITTING.search(text))
    if not_sitting and len(text) > LONG:
        return True  # a rambling message from someone not sitting the exam touches many subjects
    if _OTHER_SUBJECT.search(text):
        return False
    if not_sitting:
        return True
    return not _REFUND_DETAIL.search(text) and bool(_MONEY_BACK.search(text) or _ASKS_RULE.search(text))


def _said_withdrawal(inbound: Inbound, ctx: Context) -> bool:
    return ctx.state.form is None and is_withdrawal_intent(inbound.text)


# A follow-up asking "by when" with no subject of its own (她的截止是哪天, 那最晚哪天): after talk of
# withdrawing, it means the withdrawal deadline.
_ASKS_WHEN = re.compile(r"截止|最晚|最迟|期限|来得及|哪天|几号")
_OWN_SUBJECT = re.compile(r"报名|考试|考完|鉴定工作|完成|缴费|交钱|补考|证书|成绩|相片|照片|材料|录入")


def _withdrawal_follow_up(inbound: Inbound, ctx: Context) -> bool:
    text = inbound.text
    return (
        ctx.state.form is None
        and ctx.state.topic == TOPIC
        and len(text) <= 30
        and bool(_ASKS_WHEN.search(text))
        and not _OWN_SUBJECT.search(text)
        and not _institution_asks(text)
    )


@router.text(_withdrawal_follow_up)
async def withdrawal_deadline_follow_up(inbound: Inbound, ctx: Context) -> list[Reply] | None:
    return _rule_where_governed(inbound, ctx)


def _rule_where_governed(inbound: Inbound, ctx: Context) -> list[Reply] | None:
    """The rule for the region the message names, else the conversation's; None (the policy
    answerer takes the message) where no withdrawal rules govern."""
    named = ctx.regions_in(inbound.text)
    region = named[0] if named else ctx.state.region
    if region is None or withdrawal_rules(ctx.kb, region, on=ctx.today) is None:
        return None
    ctx.state.region = region
    ctx.remember_question(inbound.text)  # 那广州呢 next asks it for 广州
    return [rule_reply(ctx, region)]


def _region_after_withdrawal(inbound: Inbound, ctx: Context) -> bool:
    return ctx.state.form is None and ctx.state.topic == TOPIC and region_only(inbound.text, ctx) is not None


@router.text(_region_after_withdrawal)
async def withdrawal_elsewhere(inbound: Inbound, ctx: Context) -> list[Reply] | None:
    """那广州呢 after the withdrawal rule of 广东: the rule where the message says, if one governs
    there (otherwise the policy answerer reads it as a follow-up)."""
    region = region_only(inbound.text, ctx)
    if region is None or withdrawal_rules(ctx.kb, region, on=ctx.today) is None:
        return None
    ctx.state.region = region
    return [rule_reply(ctx, region)]


def _awaited_region(inbound: Inbound, ctx: Context) -> bool:
    return ctx.state.form is None and ctx.awaited == AWAITING_REGION


@router.text(_said_withdrawal)
async def withdrawal_in_words(inbound: Inbound, ctx: Context) -> list[Reply]:
    named = ctx.regions_in(inbound.text)
    if not named:
        requests = await requests_of_user(ctx.session, channel=ctx.channel, user_id=ctx.user_id)
        if requests:
            # Filed already (钱什么时候退回来): where the request stands, and how the fee comes back.
            latest = max(requests, key=lambda r: r.created_at)
            lines = [f"您的申请{latest.reference}目前状态：{RequestStatus(latest.status).label}。"]
            rules = withdrawal_rules(ctx.kb, latest.region, on=latest.created_at.date())
            if rules is not None:
                lines += [t for t in (rules.report_text(), rules.refund_text()) if t]
            lines.append("状态有变化会通知您；回复“我的申请”可随时查看。")
            ctx.state.topic = TOPIC
            return [Reply("\n".join(lines), ("我的申请", "转人工"))]
    region = named[0] if named else ctx.state.region
    ctx.state.region = region
    ctx.remember_question(inbound.text)
    if region is None:
        ctx.state.awaiting = AWAITING_REGION
        return [
            Reply(
                "各地退考退费的规定和截止日期不同。请问您在哪个城市或省份报的名？例如：广州、广东、福建、厦门、江苏。",
                tuple(withdrawal_regions(ctx.kb)),
            )
        ]
    return [rule_reply(ctx, region, how_back=bool(_ASKS_HOW_BACK.search(inbound.text)))]


def _asks_the_deadline(inbound: Inbound, ctx: Context) -> bool:
    text = inbound.text
    return (
        ctx.state.form is None
        and bool(_ASKS_DEADLINE.search(text))
        and not _OTHER_SUBJECT.search(text)
        and not _institution_asks(text)
    )


@router.text(_asks_the_deadline)
async def withdrawal_deadline(inbound: Inbound, ctx: Context) -> list[Reply] | None:
    """退考退费截止到哪天, for a region with withdrawal rules; otherwise the policy answerer."""
    return _rule_where_governed(inbound, ctx)


@router.text(_awaited_region)
async def region_for_withdrawal(inbound: Inbound, ctx: Context) -> list[Reply] | None:
    ctx.state.awaiting = None
    named = ctx.regions_in(inbound.text)
    if not named:
        return None  # something else: handled as if nothing had been asked
    ctx.state.region = named[0]
    return [rule_reply(ctx, named[0])]


def rule_reply(ctx: Context, region: str, *, how_back: bool = False) -> Reply:
    """Who may withdraw with a refund in `region` today, by when, how the fee comes back, and the
    button; from the notice in force today (广州 on 2017-09-21 followed 广东's, its own not yet issued).
    `how_back`: the message asked how the fee comes back, said even when registration has closed."""
    regions = ctx.kb.regions
    rules = withdrawal_rules(ctx.kb, region, on=ctx.today)
    upcoming = not_yet_issued(ctx.kb, region, ctx.today)
    ctx.state.topic = TOPIC
    if rules is None:
        return Reply(no_rules_text(ctx.kb, region, ctx.today) + HUMAN_HINT, ("转人工",), kind="abstain")
    # A policy answer, counted for the dashboard as the answerer's are.
    ctx.answers.add(day=ctx.today, channel=ctx.channel, user_id=ctx.user_id, answered=True)
    sources = (rules.doc_no,) + ((upcoming.doc_no,) if upcoming is not None else ())
    grant = rules.entry(rules.policy.grant).fact.answer.strip()
    check = rules.deadline_check(ctx.today)
    governing = next((r for r in regions.lineage(region) if r in rules.notice.regions), rules.notice.regions[0])
    # 深圳 has no notice of its own: say whose rule it is.
    label = region if governing == region else f"{region}，按{governing}的通知"
    lines = [f"【{label}】{grant}（依据{rules.cite(rules.policy.grant)}）"]
    if upcoming is not None:
        lines.append(f"{not_yet_issued_text(upcoming)}，目前按{governing}的规定办理。")
    lines.append(check.text)
    if not check.open:
        refund = rules.refund_text() if how_back else ""
        if refund:
            lines.append(f"已登记的，退费方式：{refund}")
        lines.append(HUMAN_HINT)
        return Reply("\n".join(lines), ("转人工",), sources=sources, kind="answer")
    refund = rules.refund_text()
    if refund:
        lines.append(f"退费：{refund}")
    start = f"{ctx.kb.regions.short_name(region)}退考退费"
    lines.append(f"要在线登记退考退费（个人弃考声明），请回复“{start}”。")
    return Reply("\n".join(lines), (start, "转人工"), sources=sources, kind="answer")
