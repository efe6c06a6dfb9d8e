"""Broadcasts at /admin/broadcasts: a message to the subscribers of a region (and of the cities in
it), optionally only those of one occupation or one channel, now or at a Beijing time.

The form goes through a preview (audience size and a few masked user ids) before a confirmation
creates the broadcast; the running server's planner writes its outbox rows when it falls due and
the dispatcher sends them, under the reminders' quiet hours and daily cap. The list shows each
broadcast's progress from the outbox and lets it be cancelled. Admins broadcast anywhere,
reviewers to their regions; viewers see the list of their regions. Creating and cancelling are
audited. The same functions serve `python -m bot broadcast`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.forms import form_text, new_once_token, once_token, page_number, typed_date
from bot.console.scope import WRITERS
from bot.console.state import database, knowledge, now, runtime
from bot.console.templates import error_page, flash, redirect, render
from bot.reminders.planner import (
    BROADCAST_CHANNELS,
    MAX_BROADCAST_TEXT,
    broadcast_audience,
    broadcast_text,
    cancel_broadcast_in,
)
from handlers.channel_names import channel_label
from knowledge.timezone import SHANGHAI
from storage.audit import append_entry
from storage.masking import mask_user_id
from storage.models import Broadcast, Subscription
from storage.outbox import broadcast_counts, cost_lines, quota_outlook

PER_PAGE = 20
SAMPLE = 5
MAX_AHEAD = dt.timedelta(days=180)
STATUS_LABELS = {"scheduled": "待发送", "queued": "发送中", "done": "已完成", "cancelled": "已取消"}
TIME_FORMAT = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class Draft:
    """A broadcast as the form describes it, checked."""

    region: str
    occupation: str | None
    channel: str | None
    text: str
    send_at: dt.datetime
    """Aware UTC; the form's time (Beijing) or now."""
    at_text: str
    """As typed (YYYY-MM-DDTHH:MM), empty for "now": carried through the preview unchanged."""

    def probe(self) -> Broadcast:
        return Broadcast(region=self.region, occupation=self.occupation, channel=self.channel, text=self.text)

    def fields(self) -> dict[str, str]:
        return {
            "region": self.region,
            "occupation": self.occupation or "",
            "channel": self.channel or "",
            "text": self.text,
            "at": self.at_text,
        }


def _regions_for(request: Request, staff: Staff) -> list[str]:
    """Regions `staff` may broadcast to, in the registry's order."""
    names = knowledge(request).kb.regions.main_regions
    return [name for name in names if staff.can_see_region(name)]


def parse_draft(request: Request, staff: Staff, form: FormData) -> tuple[Draft | None, str | None]:
    """The form's broadcast, or the reason (Chinese) it is refused."""
    registry = knowledge(request).kb.regions
    region = registry.resolve(form_text(form, "region", limit=32))
    if region is None or region not in registry.regions:
        return None, "请选择受众地区。"
    if not staff.can_see_region(region):
        return None, f"您只能向负责的地区群发，{region} 不在其中。"
    occupation = form_text(form, "occupation", limit=65) or None
    if occupation is not None and len(occupation) > 64:
        return None, "职业名称过长。"
    channel = form_text(form, "channel", limit=16) or None
    if channel is not None and channel not in BROADCAST_CHANNELS:
        return None, "渠道不正确。"
    text = form_text(form, "text", limit=MAX_BROADCAST_TEXT + 1)
    if not text:
        return None, "请填写群发内容。"
    if len(text) > MAX_BROADCAST_TEXT:
        return None, f"群发内容不能超过 {MAX_BROADCAST_TEXT} 字。"
    at_text = form_text(form, "at", limit=32)
    current = now(request)
    send_at = current
    if at_text:
        try:
            local = dt.datetime.strptime(at_text[:16], TIME_FORMAT)
        except ValueError:
            return None, "发送时间格式应为 年-月-日 时:分（北京时间）。"
        if typed_date(local.date().isoformat()) is None:
            return None, "发送时间不在有效范围内，请选择以后的时间，或留空立即发送。"
        send_at = local.replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
        if send_at < current - dt.timedelta(minutes=1):
            return None, "发送时间已经过去，请选择以后的时间，或留空立即发送。"
        if send_at > current + MAX_AHEAD:
            return None, "发送时间不能晚于 180 天以后。"
        at_text = at_text[:16]
    return Draft(region, occupation, channel, text, send_at, at_text), None


def _timing_note(request: Request, draft: Draft) -> str:
    """When it will really go out: quiet hours and the daily cap apply to broadcasts too."""
    schedule = runtime(request).services.schedule
    when = "立即" if not draft.at_text else draft.send_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    note = f"发送时间：{when}（北京时间）起。"
    if schedule is not None:
        rules = schedule.rules
        if rules.quiet(draft.send_at):
            note += f"该时间处于免打扰时段（{rules.quiet_start:%H:%M}–{rules.quiet_end:%H:%M}），将在时段结束后发送。"
        note += f"每位考生每天最多收到 {rules.daily_cap} 条提醒与群发，超出的顺延到次日上午。"
    return note


async def _occupations(request: Request) -> list[str]:
    """Occupations subscribers chose, for the form's suggestions (the audience matches them exactly)."""
    stmt = (
        select(distinct(Subscription.occupation))
        .where(Subscription.active.is_(True), Subscription.occupation.is_not(None))
        .order_by(Subscription.occupation)
        .limit(300)
    )
    async with database(request).sessions() as session:
        return [str(o) for o in (await session.execute(stmt)).scalars() if o]


async def _page(
    request: Request, staff: Staff, *, entered: dict[str, str] | None = None, error: str = "", status_code: int = 200
) -> Response:
    page = page_number(request.query_params.get("page"))
    stmt = select(Broadcast)
    if staff.visible is not None:
        stmt = stmt.where(Broadcast.region.in_(sorted(staff.visible)))
    async with database(request).sessions() as session:
        rows = list(
            (
                await session.execute(
                    stmt.order_by(Broadcast.id.desc()).limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE)
                )
            ).scalars()
        )
        more = len(rows) > PER_PAGE
        rows = rows[:PER_PAGE]
        progress = await broadcast_counts(session, [b.id for b in rows])
    items = []
    for b in rows:
        counts = progress.get(b.id, {})
        sent, failed = counts.get("sent", 0), counts.get("failed", 0)
        waiting = counts.get("pending", 0) + counts.get("sending", 0)
        stopped = counts.get("cancelled", 0) + counts.get("skipped", 0)
        total = sum(counts.values())
        items.append(
            {
                "b": b,
                "sent": sent,
                "failed": failed,
                "waiting": waiting,
                "stopped": stopped,
                "total": total,
                "width": f"w{round(sent / total * 20) * 5}" if total else "w0",
                "can_cancel": staff.can_write and b.status in ("scheduled", "queued") and (waiting or not total),
                # The planner leaves a broadcast "queued"; once nothing waits, it has gone out.
                "label": "已发完" if b.status == "queued" and not waiting else STATUS_LABELS.get(b.status, b.status),
            }
        )
    return render(
        request,
        "broadcasts.html",
        {
            "items": items,
            "page": page,
            "more": more,
            "regions": _regions_for(request, staff) if staff.can_write else [],
            "occupations": await _occupations(request) if staff.can_write else [],
            "channels": {c: channel_label(c) for c in BROADCAST_CHANNELS},
            "channel_label": channel_label,
            "status_labels": STATUS_LABELS,
            "form": entered or {"region": "", "occupation": "", "channel": "", "text": "", "at": ""},
            "error": error,
            "max_text": MAX_BROADCAST_TEXT,
        },
        status_code=status_code,
    )


@staff_page()
async def broadcast_list(request: Request, staff: Staff) -> Response:
    return await _page(request, staff)


def _entered(form: FormData) -> dict[str, str]:
    return {
        key: form_text(form, key, limit=MAX_BROADCAST_TEXT + 1)
        for key in ("region", "occupation", "channel", "text", "at")
    }


@staff_page(roles=WRITERS)
async def preview(request: Request, staff: Staff) -> Response:
    form = await request.form()
    if form.get("edit") == "1":  # back from the preview to the form, as filled in
        return await _page(request, staff, entered=_entered(form))
    draft, problem = parse_draft(request, staff, form)
    if draft is None:
        return await _page(request, staff, entered=_entered(form), error=problem or "", status_code=400)
    audience = await broadcast_audience(database(request), knowledge(request).kb, draft.probe(), sample=SAMPLE)
    async with database(request).sessions() as session:
        outlooks = await quota_outlook(session, runtime(request).services.schedule.rules, now=now(request))
    return render(
        request,
        "broadcast_preview.html",
        {
            "draft": draft,
            "fields": draft.fields(),
            "size": audience.size,
            "sample": [{"channel": channel_label(c), "user": mask_user_id(u)} for c, u in audience.sample],
            "quota_cost": [
                line
                for o in outlooks
                for line in cost_lines(audience.channels[o.channel], o, channel_name=channel_label(o.channel))
            ],
            "message": broadcast_text(draft.probe()),
            "timing": _timing_note(request, draft),
            "channel_name": channel_label(draft.channel) if draft.channel else "全部渠道",
            "once": new_once_token(),
        },
    )


def _snapshot(b: Broadcast) -> dict[str, Any]:
    return {
        "region": b.region,
        "occupation": b.occupation,
        "channel": b.channel,
        "text": b.text,
        "send_at": b.send_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        "audience": b.audience,
        "status": b.status,
    }


@staff_page(roles=WRITERS)
async def create(request: Request, staff: Staff) -> Response:
    """Creates the previewed broadcast. The preview's one-time token is stored with it (unique),
    so confirming twice creates one broadcast, not two messages per candidate."""
    form = await request.form()
    draft, problem = parse_draft(request, staff, form)
    token = once_token(form)
    if draft is None:
        return await _page(request, staff, entered=_entered(form), error=problem or "", status_code=400)
    if token is None:
        return await _page(request, staff, entered=draft.fields(), error="表单已过期，请重新预览。", status_code=400)
    size = (await broadcast_audience(database(request), knowledge(request).kb, draft.probe(), sample=0)).size
    at = now(request)
    try:
        async with database(request).transaction() as session:
            broadcast = Broadcast(
                region=draft.region,
                occupation=draft.occupation,
                channel=draft.channel,
                text=draft.text,
                send_at=draft.send_at,
                status="scheduled",
                audience=size,
                created_by=staff.name,
                created_at=at,
                token=token,
            )
            session.add(broadcast)
            await session.flush()
            await append_entry(
                session,
                at=at,
                actor=staff.name,
                action="broadcast.create",
                target_type="broadcast",
                target_id=broadcast.id,
                after=_snapshot(broadcast),
            )
            number = broadcast.id
    except IntegrityError:
        return flash(redirect(request, "broadcasts"), "这条群发已经创建过，没有重复创建。")
    return flash(redirect(request, "broadcasts"), f"群发 {number} 已创建：约 {size} 人，{_timing_note(request, draft)}")


@staff_page(roles=WRITERS)
async def cancel(request: Request, staff: Staff) -> Response:
    broadcast_id = int(request.path_params["broadcast_id"])
    at = now(request)
    async with database(request).transaction() as session:
        broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
        if broadcast is None or not staff.can_see_region(broadcast.region):
            return error_page(request, 404, "没有这条群发，或它不在您负责的地区。")
        if broadcast.status == "cancelled":
            return flash(redirect(request, "broadcasts"), f"群发 {broadcast_id} 已经取消。")
        before = _snapshot(broadcast)
        stopped = await cancel_broadcast_in(session, broadcast_id)
        await session.refresh(broadcast)
        await append_entry(
            session,
            at=at,
            actor=staff.name,
            action="broadcast.cancel",
            target_type="broadcast",
            target_id=broadcast_id,
            before=before,
            after={**_snapshot(broadcast), "cancelled": stopped},
        )
    return flash(redirect(request, "broadcasts"), f"群发 {broadcast_id} 已取消：{stopped} 条未发出的消息不再发送。")


routes: list[BaseRoute] = [
    Route("/broadcasts", broadcast_list, methods=["GET", "HEAD"], name="broadcasts"),
    Route("/broadcasts", create, methods=["POST"], name="broadcast_create"),
    Route("/broadcasts/preview", preview, methods=["POST"], name="broadcast_preview"),
    Route("/broadcasts/{broadcast_id:rowid}/cancel", cancel, methods=["POST"], name="broadcast_cancel"),
]
