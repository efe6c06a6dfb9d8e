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
from storage.statuses import RequestStatus
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


# A reminder asked for in a sentence (考试那天也提醒我一下吧, 到时候提醒我交钱), not by its command word.
_ASKS_REMINDER = re.compile(r"提醒(?:我|一下|下我)|(?:帮我|给我)(?:设|订)[个一]?提醒")
_EXAM_DAY = re.compile(r"考试(?:那天|当天|那日|日)|考前")


def _asks_reminder(inbound: Inbound, ctx: Context) -> bool:
    return ctx.state.form is None and len(inbound.text) <= 60 and bool(_ASKS_REMINDER.search(inbound.text))


@router.text(_asks_reminder)
async def reminder_in_words(inbound: Inbound, ctx: Context) -> list[Reply] | None:
    if _EXAM_DAY.search(inbound.text):
        requests = await requests_of_user(ctx.session, channel=ctx.channel, user_id=ctx.user_id)
        withdrawn = [r for r in requests if r.status != RequestStatus.REJECTED]
        if withdrawn:
            latest = max(withdrawn, key=lambda r: r.created_at)
            return [
                Reply(
                    f"您已申请放弃这次鉴定（受理编号{latest.reference}），"
                    "不会再提醒这场考试的缴费和考试日。申请的审核进度和退费结果会在状态变化时通知您；"
                    "回复“订阅截止提醒”可订阅之后的报名等日期。",
                    ("订阅截止提醒", "我的申请"),
                )
            ]
    return await start_subscribing(inbound, ctx)


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
    return Interest.of_subscription(
        s.region, s.occupation, s.exam_kind, s.exam_date, withdrawn=s.request_id is not None
    )


def _describe(s: Subscription) -> str:
    parts = [s.region, s.occupation or s.exam_kind or "全部考试"]
    if s.request_id:
        # The exam given up is not named: nothing about it is reminded any more.
        parts.append("退考退费申请：退费和审核进度、之后的报名等日期")
    elif s.exam_date:
        parts.append(f"本人考试日期{format_date(s.exam_date)}")
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
    # The candidate withdrew from this exam: its fee deadline and exam day no longer concern them.
    interest = Interest(region=request.region, occupation=request.occupation, withdrawn_from=request.exam_date)
    created = await subscribe_to(ctx, interest, request_id=request.id, exam_date=request.exam_date)
    upcoming = ctx.services.schedule.upcoming(ctx.kb, interest, ctx.now)
    head = f"已为申请{request.reference}订阅提醒。" if created else f"申请{request.reference}的提醒已订阅过。"
    status = "申请的审核进度和退费结果会在状态变化时通知您。"
    later = (
        "\n".join(["之后的报名等日期：", *upcoming_lines(upcoming)])
        if upcoming
        else "收录的通知中暂无您放弃的这次鉴定之后的报名等日期；有新通知时会通知您。"
    )
    return Reply(f"{head}{status}\n{later}\n回复“我的提醒”查看，回复“退订”取消。", ("我的提醒",))
