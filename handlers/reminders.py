"""订阅提醒, 我的提醒, 订阅截止提醒 and 退订: starting the subscription form, listing subscriptions
with their next reminder, subscribing to a withdrawal request's dates, cancelling."""

from __future__ import annotations

import re

from handlers import form_steps
from handlers.context import Context
from handlers.messages import Command, Inbound, Reply
from handlers.reminder_form import FORM, subscribe_to, upcoming_lines, when_text
from handlers.routing import Router
from handlers.text import compact
from knowledge.reminders import Interest
from knowledge.timezone import SHANGHAI
from knowledge.workdays import format_date
from storage.models import Subscription
from storage.outbox import next_pending_for
from storage.requests import requests_of_user
from storage.subscriptions import cancel_subscriptions, subscriptions_of_user

router = Router("reminders")

REMIND_WORDS = ("提醒", "订阅", "截止提醒", "提醒我", "设置提醒")
MY_REMINDERS_WORDS = ("查看提醒", "我的订阅", "提醒列表", "查看订阅")
REQUEST_REMINDER_WORDS = ("订阅申请提醒", "提醒我截止日期")
UNSUBSCRIBE_PREFIXES = ("退订", "取消订阅", "取消提醒", "不要提醒", "关闭提醒")


@router.command(Command.REMIND, words=REMIND_WORDS)
async def start_subscribing(inbound: Inbound, ctx: Context) -> list[Reply]:
    if ctx.state.form is not None:
        return [Reply("您正在办理其他事项，请先完成，或回复“取消”后再订阅提醒。")]
    detected = ctx.regions_in(inbound.text)
    return await form_steps.start(ctx, FORM, {"region": detected[0]} if detected else None)


@router.command(Command.MY_REMINDERS, words=MY_REMINDERS_WORDS)
async def show_my_reminders(inbound: Inbound, ctx: Context) -> list[Reply]:
    return [await my_reminders_reply(ctx)]


@router.command(Command.REMIND_REQUEST, words=REQUEST_REMINDER_WORDS)
async def remind_of_my_request(inbound: Inbound, ctx: Context) -> list[Reply]:
    return [await subscribe_request_reply(ctx)]


@router.command(Command.UNSUBSCRIBE, prefixes=UNSUBSCRIBE_PREFIXES)
async def unsubscribe(inbound: Inbound, ctx: Context) -> list[Reply]:
    return [await unsubscribe_reply(ctx, inbound.text)]


async def my_reminders_reply(ctx: Context) -> Reply:
    subscriptions = await subscriptions_of_user(ctx.session, channel=ctx.channel, user_id=ctx.user_id)
    if not subscriptions:
        return Reply("您还没有订阅提醒。回复“订阅提醒”即可订阅报名、缴费、退考等截止日期的提醒。", ("订阅提醒",))
    schedule = ctx.services.schedule
    lines = [f"您有{len(subscriptions)}项提醒订阅："]
    for number, s in enumerate(subscriptions, 1):
        lines.append(f"{number}. {_describe(s)}")
        # A planned row (possibly deferred by quiet hours or the daily cap) or the next one to plan.
        pending = await next_pending_for(ctx.session, s.id)
        upcoming = schedule.upcoming(ctx.kb, interest_of_subscription(s), ctx.now, limit=1)
        candidates = [pending] if pending else []
        candidates += [(u.at, f"{u.due.title}（{format_date(u.due.day)}，{u.due.doc_no}）") for u in upcoming]
        if candidates:
            at, what = min(candidates, key=lambda c: c[0])
            lines.append(f"   下次提醒：{at.astimezone(SHANGHAI).year}年{when_text(at)}，{what}")
        else:
            lines.append("   暂无今后的日期（收录的通知中没有）；有新通知时仍会通知您。")
    lines.append("回复“退订”+编号（如“退订1”）取消一项，回复“退订全部”取消全部。")
    return Reply("\n".join(lines), ("退订全部", "订阅提醒"))


def interest_of_subscription(s: Subscription) -> Interest:
    return Interest(region=s.region, occupation=s.occupation, exam_kind=s.exam_kind, exam_date=s.exam_date)


def _describe(s: Subscription) -> str:
    parts = [s.region, s.occupation or s.exam_kind or "全部考试"]
    if s.exam_date:
        parts.append(f"本人考试日期{format_date(s.exam_date)}")
    if s.request_id:
        parts.append("退考退费申请相关")
    return "｜".join(parts)


async def unsubscribe_reply(ctx: Context, text: str) -> Reply:
    word = compact(text)
    subscriptions = await subscriptions_of_user(ctx.session, channel=ctx.channel, user_id=ctx.user_id)
    if not subscriptions:
        return Reply("您目前没有订阅提醒，无需退订。", ("订阅提醒",))
    rest = re.sub(r"^(退订|取消订阅|取消提醒)", "", word)
    if rest in {"全部", "所有", "全部提醒"} or (not rest and len(subscriptions) == 1):
        count = await cancel_subscriptions(ctx.session, channel=ctx.channel, user_id=ctx.user_id, now=ctx.now)
        return Reply(f"已退订{count}项提醒，之后不会再收到提醒。需要时可回复“订阅提醒”重新订阅。", ("订阅提醒",))
    numbers = [int(n) for n in re.findall(r"\d+", rest)]
    if not numbers:
        listing = "\n".join(f"{n}. {_describe(s)}" for n, s in enumerate(subscriptions, 1))
        return Reply(
            f"您有{len(subscriptions)}项订阅：\n{listing}\n请回复“退订”+编号（如“退订1”），或“退订全部”。",
            tuple(f"退订{n}" for n in range(1, min(len(subscriptions), 3) + 1)) + ("退订全部",),
        )
    wrong = [n for n in numbers if not 1 <= n <= len(subscriptions)]
    if wrong:
        return Reply(f"没有编号为{wrong[0]}的订阅。回复“我的提醒”查看编号。", ("我的提醒",))
    ids = [subscriptions[n - 1].id for n in numbers]
    count = await cancel_subscriptions(ctx.session, channel=ctx.channel, user_id=ctx.user_id, now=ctx.now, ids=ids)
    return Reply(f"已退订{count}项提醒。回复“我的提醒”查看其余订阅。", ("我的提醒",))


async def subscribe_request_reply(ctx: Context) -> Reply:
    """Reminders for the deadlines of the candidate's latest withdrawal request."""
    requests = await requests_of_user(ctx.session, channel=ctx.channel, user_id=ctx.user_id)
    if not requests:
        return Reply("您还没有提交过退考退费申请。要订阅一般的截止日期提醒，请回复“订阅提醒”。", ("订阅提醒",))
    request = max(requests, key=lambda r: r.created_at)
    interest = Interest(region=request.region, occupation=request.occupation, exam_date=request.exam_date)
    created = await subscribe_to(ctx, interest, request_id=request.id)
    upcoming = ctx.services.schedule.upcoming(ctx.kb, interest, ctx.now)
    head = f"已为申请{request.reference}订阅提醒。" if created else f"申请{request.reference}的提醒已订阅过。"
    body = "\n".join(["接下来的提醒：", *upcoming_lines(upcoming)]) if upcoming else "目前没有今后的相关截止日期。"
    return Reply(f"{head}\n{body}\n回复“我的提醒”查看，回复“退订”取消。", ("我的提醒",))
