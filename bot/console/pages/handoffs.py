"""The 转人工 inbox at /admin/handoffs: candidates who asked for a human, pending → open → resolved.

A member of staff opens a handoff (a pending one becomes open), reads the conversation so far,
assigns it (to themselves or a colleague), replies, and resolves it. A reply goes to the candidate
through their channel via the outbox and the dispatcher, is not counted against the reminders'
daily cap, and is written to the transcript as the staff member's line.

Region scoping: a handoff carries the region the conversation had settled on when the candidate
asked (or the region of their latest request or subscription). Staff see the handoffs of their
regions and those whose region is unknown, which anyone may pick up. Viewers read only. Every
change is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.channels.wechat_push import WINDOW, WINDOW_MARGIN, WeChatPush
from bot.console.auth import Staff, staff_page
from bot.console.forms import channel_label, form_text, new_once_token, once_token, page_number
from bot.console.scope import WRITERS, visible_regions
from bot.console.state import database, now, regions, runtime
from bot.console.templates import error_page, flash, redirect, render
from knowledge.timezone import SHANGHAI
from storage import handoffs as store
from storage.audit import append_entry
from storage.conversations import append_staff_line, last_seen, transcript
from storage.masking import mask_text, mask_user_id
from storage.models import Handoff
from storage.outbox import Planned, enqueue
from storage.staff import list_accounts
from storage.subscriptions import is_reachable

PER_PAGE = 30
TRANSCRIPT_LINES = 100
MAX_REPLY = 1000
REPLY_KIND = "staff_reply"
STATUS_LABELS = {"pending": "待处理", "open": "处理中", "resolved": "已办结"}
FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "waiting": ("未办结", store.WAITING),
    "pending": ("待处理", ("pending",)),
    "open": ("处理中", ("open",)),
    "resolved": ("已办结", ("resolved",)),
    "all": ("全部", store.STATUSES),
}
NOT_FOUND = "没有这条转人工记录，或它不在您负责的地区。"


def number(handoff: Handoff) -> str:
    """The number the candidate was told (RG-00012)."""
    return f"RG-{handoff.id:05d}"


def _visible(staff: Staff, handoff: Handoff) -> bool:
    """A handoff of the staff member's regions, or of no known region (anyone may pick it up)."""
    return handoff.region is None or staff.can_see_region(handoff.region)


@dataclass(frozen=True)
class Delivery:
    """Whether a reply can reach the candidate now, and what staff should know about how."""

    possible: bool
    warning: str | None = None
    info: str | None = None


def delivery(request: Request, handoff: Handoff, seen: dt.datetime | None, reachable: bool) -> Delivery:
    """How a reply would travel: refused where it cannot arrive, warned where WeChat's 48-hour
    customer-service window has closed (then only a template message, one short line, can go)."""
    channel = handoff.channel
    if channel not in runtime(request).pushers:
        return Delivery(
            False, f"该考生通过“{channel_label(channel)}”渠道联系，此渠道不能主动发送消息，请通过其他方式联系考生。"
        )
    if not reachable:
        return Delivery(False, "考生已取消关注或屏蔽了机器人，消息无法送达。")
    if channel != "wechat":
        return Delivery(True)
    at = now(request)
    if seen is not None and WeChatPush.in_window(seen, at):
        closes = (seen + WINDOW - WINDOW_MARGIN).astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")
        return Delivery(
            True,
            info=f"回复将以微信客服消息发送（窗口至 {closes} 关闭；考生每发一条消息后最多可收 5 条客服消息，"
            "超出将改用模板消息）。",
        )
    templates = runtime(request).settings.wechat_templates
    if REPLY_KIND in templates:
        return Delivery(
            True,
            "考生最后一次发消息已超过 48 小时，微信客服消息窗口已关闭：回复将以模板消息发送，"
            "只显示一行、不超过 20 个字，较长的内容会被截断。",
        )
    return Delivery(
        False,
        "考生最后一次发消息已超过 48 小时，微信客服消息窗口已关闭，且未配置“staff_reply”模板消息：回复无法送达。"
        "请等考生再次发来消息后回复，或通过电话联系。",
    )


async def _reply_path(session: AsyncSession, handoff: Handoff) -> tuple[dt.datetime | None, bool]:
    """When the candidate last wrote (WeChat's window) and whether they can be reached at all."""
    seen = await last_seen(session, channel=handoff.channel, user_id=handoff.user_id)
    return seen, await is_reachable(session, channel=handoff.channel, user_id=handoff.user_id)


async def _assignees(request: Request, session: AsyncSession, handoff: Handoff) -> list[str]:
    """Active accounts that may handle `handoff`: admins and reviewers who see its region."""
    registry = regions(request)
    names = []
    for account in await list_accounts(session):
        if not account.active or account.role not in WRITERS:
            continue
        seen = visible_regions(account.regions, registry)
        if handoff.region is None or seen is None or handoff.region in seen:
            names.append(account.name)
    return names


@staff_page()
async def inbox(request: Request, staff: Staff) -> Response:
    shown = request.query_params.get("status", "waiting")
    if shown not in FILTERS:
        shown = "waiting"
    mine = request.query_params.get("mine") == "1"
    page = page_number(request.query_params.get("page"))
    statuses = FILTERS[shown][1]
    assignee = staff.name if mine else None
    async with database(request).sessions() as session:
        total = await store.count_handoffs(session, statuses=statuses, regions=staff.visible, assignee=assignee)
        rows = await store.list_handoffs(
            session,
            statuses=statuses,
            regions=staff.visible,
            assignee=assignee,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
        )
        counts = await store.status_counts(session, regions=staff.visible)
    return render(
        request,
        "handoffs.html",
        {
            "rows": [{"h": h, "number": number(h), "user": mask_user_id(h.user_id)} for h in rows],
            "filters": {key: label for key, (label, _) in FILTERS.items()},
            "shown": shown,
            "mine": mine,
            "counts": counts,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "status_labels": STATUS_LABELS,
            "channel_label": channel_label,
        },
    )


@staff_page()
async def detail(request: Request, staff: Staff) -> Response:
    handoff_id = int(request.path_params["handoff_id"])
    db = database(request)
    async with db.sessions() as session:
        handoff = await store.get_handoff(session, handoff_id=handoff_id)
    if handoff is None or not _visible(staff, handoff):
        return error_page(request, 404, NOT_FOUND)
    if handoff.status == "pending" and staff.can_write:
        # Opening it tells colleagues (and the list) that someone is looking.
        at = now(request)
        async with db.transaction() as session:
            locked = await store.get_handoff(session, handoff_id=handoff_id, for_update=True)
            if locked is not None:
                before = store.handoff_snapshot(locked)
                if store.set_open(locked, now=at):
                    await append_entry(
                        session,
                        at=at,
                        actor=staff.name,
                        action="handoff.open",
                        target_type="handoff",
                        target_id=locked.id,
                        before=before,
                        after=store.handoff_snapshot(locked),
                    )
                handoff = locked
    async with db.sessions() as session:
        lines = await transcript(session, channel=handoff.channel, user_id=handoff.user_id, limit=TRANSCRIPT_LINES)
        seen, reachable = await _reply_path(session, handoff)
        assignees = await _assignees(request, session, handoff) if staff.can_write else []
    return render(
        request,
        "handoff.html",
        {
            "h": handoff,
            "number": number(handoff),
            "user": mask_user_id(handoff.user_id),
            "channel": channel_label(handoff.channel),
            "lines": lines,
            "last_seen": seen,
            "delivery": delivery(request, handoff, seen, reachable),
            "assignees": assignees,
            "once": new_once_token(),
            "max_reply": MAX_REPLY,
            "status_labels": STATUS_LABELS,
        },
    )


@dataclass(frozen=True)
class Result:
    """What a change came to: the message staff see, and whether it changed anything to audit."""

    message: str
    changed: bool = True
    note: str | None = None
    refused: bool = False


def refused(message: str) -> Result:
    return Result(message, changed=False, refused=True)


Change = Callable[[AsyncSession, Handoff, dt.datetime], Awaitable[Result]]


async def _change(request: Request, staff: Staff, action: str, change: Change) -> tuple[Response, Result | None]:
    """Applies `change` to the handoff in the URL under a row lock, in one transaction with its
    audit entry."""
    handoff_id = int(request.path_params["handoff_id"])
    at = now(request)
    async with database(request).transaction() as session:
        handoff = await store.get_handoff(session, handoff_id=handoff_id, for_update=True)
        if handoff is None or not _visible(staff, handoff):
            return error_page(request, 404, NOT_FOUND), None
        before = store.handoff_snapshot(handoff)
        outcome = await change(session, handoff, at)
        if outcome.changed:
            await append_entry(
                session,
                at=at,
                actor=staff.name,
                action=action,
                target_type="handoff",
                target_id=handoff.id,
                before=before,
                after=store.handoff_snapshot(handoff),
                note=outcome.note,
            )
    back = redirect(request, "handoff", handoff_id=handoff_id)
    return flash(back, outcome.message, kind="error" if outcome.refused else "ok"), outcome


@staff_page(roles=WRITERS)
async def assign(request: Request, staff: Staff) -> Response:
    form = await request.form()
    wanted = form_text(form, "to", limit=64)

    async def change(session: AsyncSession, handoff: Handoff, at: dt.datetime) -> Result:
        target = staff.name if wanted == "me" else (wanted or None)
        if target is not None and target not in await _assignees(request, session, handoff):
            return refused(f"不能分配给 {target}：该账号不存在、已停用、只读，或不负责这位考生的地区。")
        if handoff.status == "resolved":
            return refused("此转人工已办结，不能再分配。")
        if target == handoff.assigned_to:
            return Result("没有变化。", changed=False)
        store.assign(handoff, to=target, now=at)
        return Result(f"已分配给 {target}。" if target else "已取消分配。")

    response, _ = await _change(request, staff, "handoff.assign", change)
    return response


@staff_page(roles=WRITERS)
async def resolve(request: Request, staff: Staff) -> Response:
    form = await request.form()
    note = form_text(form, "note", limit=500) or None

    async def change(session: AsyncSession, handoff: Handoff, at: dt.datetime) -> Result:
        if handoff.status == "resolved":
            return Result(f"{number(handoff)} 已经办结。", changed=False)
        store.resolve(handoff, by=staff.name, now=at)
        return Result(f"{number(handoff)} 已办结。", note=mask_text(note) if note else None)

    response, _ = await _change(request, staff, "handoff.resolve", change)
    return response


@staff_page(roles=WRITERS)
async def reply(request: Request, staff: Staff) -> Response:
    """Queues the reply in the outbox (the key includes the form's one-time token, so a form sent
    twice sends once), writes it to the transcript, and wakes the dispatcher."""
    form = await request.form()
    text = form_text(form, "text", limit=MAX_REPLY + 1)
    token = once_token(form)
    handoff_id = int(request.path_params["handoff_id"])
    back = redirect(request, "handoff", handoff_id=handoff_id)
    if not text:
        return flash(back, "请填写回复内容。", kind="error")
    if len(text) > MAX_REPLY:
        return flash(back, f"回复不能超过 {MAX_REPLY} 字。", kind="error")
    if token is None:
        return flash(back, "表单已过期，请刷新页面后重新填写。", kind="error")

    async def change(session: AsyncSession, handoff: Handoff, at: dt.datetime) -> Result:
        if handoff.status == "resolved":
            return refused("此转人工已办结，不能再回复。考生再次请求人工服务时会生成新的记录。")
        seen, reachable = await _reply_path(session, handoff)
        route = delivery(request, handoff, seen, reachable)
        if not route.possible:
            return refused(route.warning or "回复无法送达。")
        message = f"【人工客服】{text}"
        local = at.astimezone(SHANGHAI)
        planned = Planned(
            key=f"staff:{handoff.id}:{token}",
            channel=handoff.channel,
            user_id=handoff.user_id,
            kind=REPLY_KIND,
            text=message,
            # For a WeChat template outside the 48-hour window: one short line per field.
            fields={
                "title": "人工客服回复",
                "note": text,
                "date": f"{local:%Y-%m-%d %H:%M}",
                "source": number(handoff),
            },
            due_at=at,
            capped=False,
        )
        if not await enqueue(session, [planned], now=at):
            return Result("这条回复已提交过，没有重复发送。", changed=False)  # the same form, sent again
        await append_staff_line(
            session, channel=handoff.channel, user_id=handoff.user_id, text=message, staff=staff.name, now=at
        )
        store.set_open(handoff, now=at)
        if handoff.assigned_to is None:
            store.assign(handoff, to=staff.name, now=at)  # whoever answers first has taken it on
        handoff.updated_at = at
        how = "（窗口已关闭，以模板消息发送）" if route.warning else ""
        return Result(f"回复已提交，正在发送给考生{how}。", note=mask_text(text)[:300])

    response, outcome = await _change(request, staff, "handoff.reply", change)
    service = runtime(request).reminders
    if service is not None and outcome is not None and outcome.changed:
        service.wake()  # committed: the dispatcher can claim it now
    return response


routes: list[BaseRoute] = [
    Route("/handoffs", inbox, methods=["GET", "HEAD"], name="handoffs"),
    Route("/handoffs/{handoff_id:int}", detail, methods=["GET", "HEAD"], name="handoff"),
    Route("/handoffs/{handoff_id:int}/assign", assign, methods=["POST"], name="handoff_assign"),
    Route("/handoffs/{handoff_id:int}/reply", reply, methods=["POST"], name="handoff_reply"),
    Route("/handoffs/{handoff_id:int}/resolve", resolve, methods=["POST"], name="handoff_resolve"),
]
