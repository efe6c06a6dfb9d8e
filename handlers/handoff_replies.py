"""What staff do with a candidate's 转人工: open it (which also marks what the candidate wrote as
read), assign it, reply to the candidate, resolve it (the candidate is told it has ended).

Each workflow runs in the caller's transaction with the handoff locked: it checks that the handoff
is one the staff member sees (their regions, or no known region: anyone may pick those up), that
the change applies to its status and that what they typed can be used; then it writes the change and
its audit entry. A reply also goes to the candidate through their channel via the outbox (not
counted against the reminders' daily cap, keyed by the form's one-time token so that a form sent
twice sends once) and into the transcript as the staff member's line.

Whether a reply can reach the candidate at all depends on the server: the channels that can send
first, WeChat's customer-service window, a template for staff replies. The caller describes that
as a `Reach`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.channel_names import channel_label
from handlers.handoff import number
from handlers.staff_scope import WRITERS, sees, visible_regions
from knowledge.regions import RegionRegistry
from knowledge.timezone import SHANGHAI
from storage import handoffs as store
from storage.audit import append_entry
from storage.conversations import append_staff_line, append_transcript, last_seen
from storage.masking import mask_text
from storage.models import Handoff
from storage.outbox import Planned, enqueue
from storage.staff import list_accounts
from storage.subscriptions import is_reachable

MAX_REPLY = 1000
MAX_NOTE = 500
REPLY_KIND = "staff_reply"


class HandoffNotFound(Exception):
    """No such handoff, or not one the staff member sees (the two are indistinguishable on purpose)."""


def in_scope(handoff: Handoff, visible: frozenset[str] | None) -> bool:
    """A handoff of the staff member's regions (`visible`, None: all), or of no known region."""
    return handoff.region is None or sees(visible, handoff.region)


# ── whether a reply can reach the candidate ────────────────────────────────────────────────────


@dataclass(frozen=True)
class Reach:
    """How this server can send first, as a reply needs."""

    pushable: frozenset[str]
    """The channels that can send a message the candidate did not just ask for."""
    wechat_window: dt.timedelta
    """How long after the candidate's last message WeChat takes a customer-service message (48 hours,
    less a margin for clocks that differ)."""
    wechat_template: bool
    """Whether a template message for staff replies is configured (WeChat, outside the window)."""


@dataclass(frozen=True)
class Delivery:
    """Whether a reply can reach the candidate now, and what staff should know about how."""

    possible: bool
    warning: str | None = None
    info: str | None = None


def delivery(
    handoff: Handoff, *, seen: dt.datetime | None, reachable: bool, now: dt.datetime, reach: Reach
) -> Delivery:
    """How a reply would travel: refused where it cannot arrive, warned where WeChat's 48-hour
    customer-service window has closed (then only a template message, one short line, can go)."""
    channel = handoff.channel
    if channel not in reach.pushable:
        return Delivery(
            False, f"该考生通过“{channel_label(channel)}”渠道联系，此渠道不能主动发送消息，请通过其他方式联系考生。"
        )
    if not reachable:
        return Delivery(False, "考生已取消关注或屏蔽了机器人，消息无法送达。")
    if channel != "wechat":
        return Delivery(True)
    if seen is not None and now - seen < reach.wechat_window:
        closes = (seen + reach.wechat_window).astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")
        return Delivery(
            True,
            info=f"回复将以微信客服消息发送（窗口至 {closes} 关闭；考生每发一条消息后最多可收 5 条客服消息，"
            "超出将改用模板消息）。",
        )
    if reach.wechat_template:
        return Delivery(
            True,
            "考生最后一次发消息已超过 48 小时，微信客服消息窗口已关闭：回复将以模板消息发送，"
            "只显示一行、不超过 20 个字，较长的内容会被截断。",
        )
    return Delivery(
        False,
        f"考生最后一次发消息已超过 48 小时，微信客服消息窗口已关闭，且未配置“{REPLY_KIND}”模板消息：回复无法送达。"
        "请等考生再次发来消息后回复，或通过电话联系。",
    )


async def reply_path(session: AsyncSession, handoff: Handoff) -> tuple[dt.datetime | None, bool]:
    """When the candidate last wrote (WeChat's window) and whether they can be reached at all."""
    seen = await last_seen(session, channel=handoff.channel, user_id=handoff.user_id)
    return seen, await is_reachable(session, channel=handoff.channel, user_id=handoff.user_id)


async def assignees(session: AsyncSession, handoff: Handoff, registry: RegionRegistry) -> list[str]:
    """Active accounts that may handle `handoff`: admins and reviewers who see its region."""
    names = []
    for account in await list_accounts(session):
        if account.active and account.role in WRITERS and in_scope(handoff, visible_regions(account.regions, registry)):
            names.append(account.name)
    return names


# ── the workflows ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Result:
    """What a change came to: the message staff see, and whether it changed anything (audited)."""

    message: str
    changed: bool = True
    note: str | None = None
    refused: bool = False


def refused(message: str) -> Result:
    return Result(message, changed=False, refused=True)


Change = Callable[[Handoff], Awaitable[Result]]


async def _change(
    session: AsyncSession,
    *,
    handoff_id: int,
    action: str,
    actor: str,
    visible: frozenset[str] | None,
    now: dt.datetime,
    change: Change,
) -> Result:
    """Applies `change` to the handoff under a row lock and audits it when it changed something."""
    handoff = await store.get_handoff(session, handoff_id=handoff_id, for_update=True)
    if handoff is None or not in_scope(handoff, visible):
        raise HandoffNotFound(handoff_id)
    before = store.handoff_snapshot(handoff)
    outcome = await change(handoff)
    if outcome.changed:
        await append_entry(
            session,
            at=now,
            actor=actor,
            action=action,
            target_type="handoff",
            target_id=handoff.id,
            before=before,
            after=store.handoff_snapshot(handoff),
            note=outcome.note,
        )
    return outcome


async def open_handoff(
    session: AsyncSession, *, handoff_id: int, actor: str, visible: frozenset[str] | None, now: dt.datetime
) -> Handoff:
    """A member of staff is looking: pending → open, which tells colleagues (and the list), and
    the candidate's messages are read (not audited: nothing about the handoff changed)."""
    opened: list[Handoff] = []

    async def change(handoff: Handoff) -> Result:
        opened.append(handoff)
        store.mark_read(handoff)
        return Result("", changed=store.set_open(handoff, now=now))

    await _change(
        session, handoff_id=handoff_id, action="handoff.open", actor=actor, visible=visible, now=now, change=change
    )
    return opened[0]


async def assign(
    session: AsyncSession,
    *,
    handoff_id: int,
    to: str | None,
    actor: str,
    visible: frozenset[str] | None,
    registry: RegionRegistry,
    now: dt.datetime,
) -> Result:
    """Gives the handoff to `to` (None: to nobody), who must be an active writer who sees its region."""

    async def change(handoff: Handoff) -> Result:
        if to is not None and to not in await assignees(session, handoff, registry):
            return refused(f"不能分配给 {to}：该账号不存在、已停用、只读，或不负责这位考生的地区。")
        if handoff.status == "resolved":
            return refused("此转人工已办结，不能再分配。")
        if to == handoff.assigned_to:
            return Result("没有变化。", changed=False)
        store.assign(handoff, to=to, now=now)
        return Result(f"已分配给 {to}。" if to else "已取消分配。")

    return await _change(
        session, handoff_id=handoff_id, action="handoff.assign", actor=actor, visible=visible, now=now, change=change
    )


async def resolve(
    session: AsyncSession,
    *,
    handoff_id: int,
    note: str | None,
    actor: str,
    visible: frozenset[str] | None,
    reach: Reach,
    now: dt.datetime,
    message: str | None = None,
) -> Result:
    """Marks the handoff resolved; the note (masked) goes to the audit log, and the candidate is told
    through their channel that the handoff has ended, with `message` (staff's own words) if given."""
    if message is not None and len(message) > MAX_REPLY:
        return refused(f"给考生的结束语不能超过 {MAX_REPLY} 字。")

    async def change(handoff: Handoff) -> Result:
        if handoff.status == "resolved":
            return Result(f"{number(handoff)} 已经办结。", changed=False)
        store.resolve(handoff, by=actor, now=now)
        store.mark_read(handoff)
        untold = await _tell_closed(session, handoff, message=message, actor=actor, reach=reach, now=now)
        return Result(
            f"{number(handoff)} 已办结。" + (f"考生不会收到结束通知：{untold}" if untold else ""),
            note=mask_text(note[:MAX_NOTE]) if note else None,
        )

    return await _change(
        session, handoff_id=handoff_id, action="handoff.resolve", actor=actor, visible=visible, now=now, change=change
    )


def _closing_message(handoff: Handoff, *, message: str | None, now: dt.datetime) -> Planned:
    """What the candidate receives when staff close the handoff; queued once per handoff."""
    closing = f"人工服务已结束（编号 {number(handoff)}）。如还有问题，可随时回复“转人工”。"
    local = now.astimezone(SHANGHAI)
    return Planned(
        key=f"handoff:{handoff.id}:closed",
        channel=handoff.channel,
        user_id=handoff.user_id,
        kind=REPLY_KIND,
        text=f"【人工客服】{message}\n{closing}" if message else closing,
        fields={
            "title": "人工服务已结束",
            "note": message or "如还有问题，可随时回复“转人工”",
            "date": f"{local:%Y-%m-%d %H:%M}",
            "source": number(handoff),
        },
        due_at=now,
        capped=False,
    )


async def _tell_closed(
    session: AsyncSession, handoff: Handoff, *, message: str | None, actor: str, reach: Reach, now: dt.datetime
) -> str | None:
    """Queues the closing message and writes it to the transcript; why it cannot reach the candidate
    (the resolution stands either way), else None."""
    seen, reachable = await reply_path(session, handoff)
    route = delivery(handoff, seen=seen, reachable=reachable, now=now, reach=reach)
    if not route.possible:
        return route.warning or "消息无法送达。"
    planned = _closing_message(handoff, message=message, now=now)
    if await enqueue(session, [planned], now=now):
        channel, user_id = handoff.channel, handoff.user_id
        if message:
            await append_staff_line(session, channel=channel, user_id=user_id, text=planned.text, staff=actor, now=now)
        else:
            await append_transcript(session, channel=channel, user_id=user_id, lines=[("out", planned.text)], now=now)
    return None


def _reply_message(handoff: Handoff, *, text: str, token: str, now: dt.datetime) -> Planned:
    """The reply as the candidate receives it, keyed by the form's token so that it is queued once."""
    local = now.astimezone(SHANGHAI)
    return Planned(
        key=f"staff:{handoff.id}:{token}",
        channel=handoff.channel,
        user_id=handoff.user_id,
        kind=REPLY_KIND,
        text=f"【人工客服】{text}",
        # For a WeChat template outside the 48-hour window: one short line per field.
        fields={"title": "人工客服回复", "note": text, "date": f"{local:%Y-%m-%d %H:%M}", "source": number(handoff)},
        due_at=now,
        capped=False,
    )


def _reply_problem(text: str, token: str | None) -> str | None:
    """Why a reply as typed cannot be sent, in Chinese; None when it can."""
    if not text:
        return "请填写回复内容。"
    if len(text) > MAX_REPLY:
        return f"回复不能超过 {MAX_REPLY} 字。"
    if token is None:
        return "表单已过期，请刷新页面后重新填写。"
    return None


async def reply(
    session: AsyncSession,
    *,
    handoff_id: int,
    text: str,
    token: str | None,
    actor: str,
    visible: frozenset[str] | None,
    reach: Reach,
    now: dt.datetime,
) -> Result:
    """Queues the reply for the candidate, writes it to the transcript, and takes the handoff on
    (open, and assigned to `actor` if nobody had it). `token` is the form's one-time token."""
    problem = _reply_problem(text, token)
    if problem is not None or token is None:
        return refused(problem or "")

    async def change(handoff: Handoff) -> Result:
        if handoff.status == "resolved":
            return refused("此转人工已办结，不能再回复。考生再次请求人工服务时会生成新的记录。")
        seen, reachable = await reply_path(session, handoff)
        route = delivery(handoff, seen=seen, reachable=reachable, now=now, reach=reach)
        if not route.possible:
            return refused(route.warning or "回复无法送达。")
        planned = _reply_message(handoff, text=text, token=token, now=now)
        if not await enqueue(session, [planned], now=now):
            return Result("这条回复已提交过，没有重复发送。", changed=False)  # the same form, sent again
        await append_staff_line(
            session, channel=handoff.channel, user_id=handoff.user_id, text=planned.text, staff=actor, now=now
        )
        store.set_open(handoff, now=now)
        store.mark_read(handoff)  # answering, they have read what the candidate wrote
        if handoff.assigned_to is None:
            store.assign(handoff, to=actor, now=now)  # whoever answers first has taken it on
        handoff.updated_at = now
        how = "（窗口已关闭，以模板消息发送）" if route.warning else ""
        return Result(f"回复已提交，正在发送给考生{how}。", note=mask_text(text)[:300])

    return await _change(
        session, handoff_id=handoff_id, action="handoff.reply", actor=actor, visible=visible, now=now, change=change
    )
