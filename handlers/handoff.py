"""转人工: the candidate asks for a person, and while the handoff is open they talk to staff, not the bot.

- 转人工 opens a handoff (or says the open one is queued), filed under the candidate's current region
  (`current_region`): staff are scoped by region, so it must reach those of the candidate's region.
- While it is open (pending or open), `handoff_mode`, a middleware on the root router, takes what
  the candidate types before any feature does. The message stays where every message is, in the
  transcript, which is the handoff's thread in the console; the handoff is marked as having unread
  messages; and the bot answers only the first such message of the handoff, saying that staff will
  reply, and not even that if staff have already written. After that it is silent, also after a
  staff reply: the candidate is then talking with a person, and an automatic "please wait" after
  their answer to a person's question would read as the bot butting in, or as if the person had
  gone. (An empty reply list: WeChat answers `success`, Telegram and the web page show nothing.)
  Only global commands get through: 帮助, 我的申请, 转人工 (still queued) and 结束人工/取消人工,
  which ends the handoff. A menu click for anything else is not a message for staff: it is told to
  end the handoff first. A form in progress waits with its answers kept and does not repeat its
  question (`handlers.form_filling`) until the handoff ends.
- When staff close it (`handlers.handoff_replies.resolve`), the candidate is told through the
  outbox; their next message finds it closed and the conversation is the bot's again.

What the candidate writes in a handoff never reaches the policy answerer: it is neither a knowledge
gap nor a counted answer."""

from __future__ import annotations

import re

from handlers import form_steps, forms
from handlers.context import Context
from handlers.form_filling import asks_a_question
from handlers.messages import Command, Inbound, Reply
from handlers.routing import Dispatch, Handled, Middleware, Route, Router
from handlers.text import compact
from storage import handoffs as store
from storage.models import Handoff

router = Router("handoff")

HUMAN_WORDS = ("人工", "人工客服", "人工服务", "找人工", "客服", "联系人工")
LEAVE = "结束人工"
LEAVE_WORDS = frozenset(
    compact(w) for w in (LEAVE, "取消人工", "退出人工", "结束人工服务", "取消人工服务", "不用人工了")
)
PASSING = frozenset({Command.HELP, Command.MY_REQUESTS, Command.HUMAN})
"""Commands that still work while a handoff is open (besides the words that end it)."""
TOLD = f"已转给工作人员，请稍候，工作人员回复后会通知您。回复“{LEAVE}”可取消人工服务。"


def number(handoff: Handoff) -> str:
    """The number the candidate is told (RG-00012), by which staff and candidate refer to it."""
    return f"RG-{handoff.id:05d}"


# -- asking for a person and leaving ---------------------------------------------------------------


@router.command(Command.HUMAN, words=HUMAN_WORDS, prefixes=("转人工",))
async def ask_for_a_person(inbound: Inbound, ctx: Context) -> list[Reply]:
    reason = f"{inbound.text} {ctx.state.last_question or ''}".strip()
    return [await handoff_reply(ctx, reason)]


# A person asked for in a sentence: 我有事要问人, 能转人工吗, 有没有真人, 找一下工作人员.
_WANTS_A_PERSON = re.compile(
    r"(?:问|找|要|转|联系|接|换)(?:一下|个|一个)?(?:人工|真人|客服|工作人员|活人)|(?:要|想|得)问(?:下|一下)?人(?!社)"
    r"|有没有(?:真人|人工|活人|客服)|有(?:真人|人工|活人|客服)(?:吗|在吗)|^有人(?:吗|在吗)|人工(?:服务|客服)?(?:在吗|呢|有吗)"
)


def _wants_a_person(inbound: Inbound, ctx: Context) -> bool:
    return not inbound.event and len(inbound.text) <= 40 and bool(_WANTS_A_PERSON.search(inbound.text))


@router.text(_wants_a_person)
async def person_in_words(inbound: Inbound, ctx: Context) -> list[Reply] | None:
    named = ctx.regions_in(inbound.text)
    if named and ctx.state.form is None:
        ctx.state.region = named[0]  # 福建的，我有事要问人: the queue of 福建
    return await ask_for_a_person(inbound, ctx)


def _says_leave(inbound: Inbound, ctx: Context) -> bool:
    return not inbound.event and compact(inbound.text) in LEAVE_WORDS


@router.text(_says_leave)
async def leave(inbound: Inbound, ctx: Context) -> list[Reply]:
    """结束人工: the candidate closes their handoff (it is resolved, by the candidate)."""
    handoff = await store.open_handoff(ctx.session, channel=ctx.channel, user_id=ctx.user_id)
    _forget(ctx)
    if handoff is None:
        return [Reply("当前没有进行中的人工服务。需要时可回复“转人工”。", ("帮助",))]
    store.close_by_candidate(handoff, now=ctx.now)
    return [Reply(f"已结束人工服务（编号 {number(handoff)}）。如还有问题，可随时回复“转人工”。")]


async def current_region(ctx: Context) -> str | None:
    """The candidate's region now: the open form's, else their latest request's, else the one the
    conversation last named, else their latest subscription's. A request is what the candidate is
    most likely writing about, and a region named in an old question may be stale. Filed by city,
    as requests are (a question about 番禺 goes to 广州市's staff)."""
    form = ctx.state.form
    region = form.shown_value("region") if form is not None else None
    if isinstance(region, str) and region:
        return region
    who = {"channel": ctx.channel, "user_id": ctx.user_id}
    found = (
        await store.latest_request_region(ctx.session, **who)
        or ctx.state.region
        or await store.latest_subscription_region(ctx.session, **who)
    )
    return ctx.kb.regions.city_of(found) if found else None


async def handoff_reply(ctx: Context, reason: str) -> Reply:
    existing = await store.open_handoff(ctx.session, channel=ctx.channel, user_id=ctx.user_id)
    if existing is not None:
        await store.mark_unread(ctx.session, existing)  # asking again is a nudge staff should see
        if ctx.state.handoff != existing.id:
            ctx.state.handoff, ctx.state.handoff_told = existing.id, False
        return Reply(f"您的人工服务请求（编号 {number(existing)}）已在处理队列中，工作人员会尽快回复您。", (LEAVE,))
    handoff, _ = await store.request_handoff(
        ctx.session,
        channel=ctx.channel,
        user_id=ctx.user_id,
        reason=reason or "转人工",
        now=ctx.now,
        region=await current_region(ctx),
    )
    ctx.state.handoff, ctx.state.handoff_told = handoff.id, False
    found = forms.current(ctx)
    kept = f"您正在办理的{found[1].title}已保留，人工服务结束后可继续填写。" if found else ""
    return Reply(
        f"已为您转接人工服务（编号 {number(handoff)}）。工作人员会在工作时间尽快回复您，"
        f"请留意本对话的消息。您也可以先把问题描述发给我，工作人员能看到。{kept}"
    )


# -- while a handoff is open -----------------------------------------------------------------------


def _forget(ctx: Context) -> None:
    ctx.state.handoff, ctx.state.handoff_told = None, False


async def _waiting(ctx: Context) -> Handoff | None:
    """The handoff the conversation is in, locked, if it is still waiting; forgets one that is not."""
    if ctx.state.handoff is None:
        return None
    handoff = await store.get_handoff(ctx.session, handoff_id=ctx.state.handoff, for_update=True)
    if handoff is None or handoff.status not in store.WAITING or handoff.user_id != ctx.user_id:
        _forget(ctx)
        return None
    return handoff


async def _in_handoff(ctx: Context) -> Handoff:
    """The handoff `handoff_mode` found (and locked) for this message: from the session, no query."""
    handoff = await ctx.session.get(Handoff, ctx.state.handoff)
    assert handoff is not None, "only routed by handoff_mode, which found it"
    return handoff


async def to_staff(inbound: Inbound, ctx: Context) -> list[Reply]:
    """A message for staff: it is in the transcript (the thread) and unread until staff look; the
    candidate is told once that staff will reply (unless they already have), then nothing."""
    handoff = await _in_handoff(ctx)
    await store.mark_unread(ctx.session, handoff)
    if ctx.state.handoff_told:
        return []
    ctx.state.handoff_told = True
    if await store.staff_have_written(ctx.session, handoff):
        return []
    return [Reply(TOLD, (LEAVE,))]


async def hold_command(inbound: Inbound, ctx: Context) -> list[Reply]:
    """A menu click (退考退费, 订阅提醒 …) while the handoff is open: not a message for staff."""
    handoff = await _in_handoff(ctx)
    what = f"“{inbound.command.label}”" if inbound.command is not None else "其他功能"
    return [
        Reply(
            f"您正在等待人工服务（编号 {number(handoff)}），此时发送的消息会转给工作人员。"
            f"如需使用{what}，请先回复“{LEAVE}”。",
            (LEAVE,),
        )
    ]


async def resume_form_after_handoff(inbound: Inbound, ctx: Context) -> list[Reply]:
    """The first message after staff closed the handoff, in the middle of a form the candidate has
    not seen for a while: it is not taken as an answer (a 好的 could confirm a 是/否); the form's
    question is asked again instead."""
    found = forms.current(ctx)
    again = form_steps.prompt_again(ctx)
    title = found[1].title if found else "办理"
    lead = Reply(f"人工服务已结束。您的{title}尚未提交，已填写的内容已保留，请继续：")
    return [lead, again] if again is not None else [lead]


_TO_STAFF = Route(to_staff)
_HOLD = Route(hold_command)
_RESUME = Route(resume_form_after_handoff)


def handoff_mode(root: Router) -> Middleware:
    """The middleware for the root router (`handlers.features`) that keeps an open handoff's
    conversation with staff; `root` is asked which command a message means before it is routed."""

    async def middleware(call: Dispatch, inbound: Inbound, ctx: Context) -> Handled | None:
        if inbound.event or ctx.state.handoff is None:
            return await call(inbound, ctx)
        handoff = await _waiting(ctx)
        if handoff is None:  # staff closed it (the candidate was told through the outbox)
            if ctx.state.form is not None and inbound.command is None and root.command_meant(inbound, ctx) is None:
                if not _says_leave(inbound, ctx) and not asks_a_question(inbound, ctx):
                    return Handled(_RESUME, await _RESUME.handler(inbound, ctx) or [])
            return await call(inbound, ctx)
        meant = root.command_meant(inbound, ctx)
        if _says_leave(inbound, ctx) or meant in PASSING:
            handled = await call(inbound, ctx)
            if handled is not None and meant == Command.HELP:
                note = Reply(
                    f"您的人工服务请求（编号 {number(handoff)}）正在处理中，发来的消息会转给工作人员；"
                    f"回复“{LEAVE}”可结束。",
                    (LEAVE,),
                )
                return Handled(handled.route, [*handled.replies, note])
            return handled
        route = _HOLD if inbound.command is not None else _TO_STAFF
        return Handled(route, await route.handler(inbound, ctx) or [])

    return middleware
