"""The 转人工 inbox at /admin/handoffs: candidates who asked for a human, pending → open → resolved.

A member of staff opens a handoff (a pending one becomes open), reads the conversation so far,
assigns it (to themselves or a colleague), replies, and resolves it. A reply goes to the candidate
through their channel via the outbox and the dispatcher, is not counted against the reminders'
daily cap, and is written to the transcript as the staff member's line; so does the closing message
the candidate gets when the handoff is resolved (with staff's own words, if they wrote any).

While a handoff is open the candidate's messages go to staff (`handlers.handoff`): the list shows
how many a handoff has that nobody has read, and the conversation marks them as new, until a member
of staff who can act on it opens the page or replies (a viewer reading it leaves them unread).

Region scoping: a handoff carries the region the conversation had settled on when the candidate
asked (or the region of their latest request or subscription). Staff see the handoffs of their
regions and those whose region is unknown, which anyone may pick up. Viewers read only. Every
change is audited. The workflows are `handlers.handoff_replies`; this module reads forms and shows
their outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.channels.wechat_push import WINDOW, WINDOW_MARGIN
from bot.console.auth import Staff, staff_page
from bot.console.canned import chosen
from bot.console.forms import form_text, new_once_token, once_token, page_number
from bot.console.scope import WRITERS
from bot.console.state import console_state, database, now, pushers, regions, settings, wake_dispatcher
from bot.console.templates import error_page, flash, redirect, render
from handlers import handoff_replies as replies
from handlers.channel_names import channel_label
from handlers.handoff import number
from storage import handoffs as store
from storage.conversations import transcript
from storage.masking import mask_user_id
from storage.models import TranscriptLine
from storage.requests import requests_of_user
from storage.statuses import RequestStatus

PER_PAGE = 30
TRANSCRIPT_LINES = 100
STATUS_LABELS = {"pending": "待处理", "open": "处理中", "resolved": "已办结"}
FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "waiting": ("未办结", store.WAITING),
    "pending": ("待处理", ("pending",)),
    "open": ("处理中", ("open",)),
    "resolved": ("已办结", ("resolved",)),
    "all": ("全部", store.STATUSES),
}
NOT_FOUND = "没有这条转人工记录，或它不在您负责的地区。"


def reach(request: Request) -> replies.Reach:
    """How this server can send a reply: the channels that send first, WeChat's window, its templates."""
    return replies.Reach(
        pushable=frozenset(pushers(request)),
        wechat_window=WINDOW - WINDOW_MARGIN,
        wechat_template=replies.REPLY_KIND in settings(request).wechat_templates,
    )


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
        unread = await store.unread_counts(session, rows)
        with_unread = await store.count_unread(session, regions=staff.visible)
    return render(
        request,
        "handoffs.html",
        {
            "rows": [
                {"h": h, "number": number(h), "user": mask_user_id(h.user_id), "unread": unread.get(h.id, 0)}
                for h in rows
            ],
            "with_unread": with_unread,
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
    if handoff is None or not replies.in_scope(handoff, staff.visible):
        return error_page(request, 404, NOT_FOUND)
    unread_after = handoff.unread_after  # shown as new on this view, read from now on
    if staff.can_write and (handoff.status == "pending" or unread_after is not None):
        async with db.transaction() as session:
            handoff = await replies.open_handoff(
                session, handoff_id=handoff_id, actor=staff.name, visible=staff.visible, now=now(request)
            )
    async with db.sessions() as session:
        lines = await transcript(session, channel=handoff.channel, user_id=handoff.user_id, limit=TRANSCRIPT_LINES)
        seen, reachable = await replies.reply_path(session, handoff)
        assignees = await replies.assignees(session, handoff, regions(request)) if staff.can_write else []
        theirs = [
            r
            for r in await requests_of_user(session, channel=handoff.channel, user_id=handoff.user_id)
            if staff.can_see_region(r.region)
        ]
    route = replies.delivery(handoff, seen=seen, reachable=reachable, now=now(request), reach=reach(request))
    return render(
        request,
        "handoff.html",
        {
            "h": handoff,
            "number": number(handoff),
            "user": mask_user_id(handoff.user_id),
            "channel": channel_label(handoff.channel),
            "lines": lines,
            "by_candidate": store.CANDIDATE,
            "new": {line.id for line in lines if is_new(line, unread_after)},
            "last_seen": seen,
            "delivery": route,
            "assignees": assignees,
            "once": new_once_token(),
            "max_reply": replies.MAX_REPLY,
            "status_labels": STATUS_LABELS,
            "their_requests": theirs,
            "request_labels": {s.value: s.label for s in RequestStatus},
            "canned": console_state(request).phrases.handoff_replies,
        },
    )


def is_new(line: TranscriptLine, unread_after: int | None) -> bool:
    """A line the candidate wrote that staff had not read before this view."""
    return unread_after is not None and line.direction == "in" and line.id > unread_after


Workflow = Callable[..., Awaitable[replies.Result]]
"""A workflow of `handlers.handoff_replies`, called with the handoff and the staff member."""


async def _act(
    request: Request, staff: Staff, workflow: Workflow, **typed: Any
) -> tuple[Response, replies.Result | None]:
    """Runs `workflow` on the handoff in the URL in one transaction and shows its outcome on the
    handoff's page."""
    handoff_id = int(request.path_params["handoff_id"])
    try:
        async with database(request).transaction() as session:
            outcome = await workflow(
                session, handoff_id=handoff_id, actor=staff.name, visible=staff.visible, now=now(request), **typed
            )
    except replies.HandoffNotFound:
        return error_page(request, 404, NOT_FOUND), None
    back = redirect(request, "handoff", handoff_id=handoff_id)
    return flash(back, outcome.message, kind="error" if outcome.refused else "ok"), outcome


@staff_page(roles=WRITERS)
async def assign(request: Request, staff: Staff) -> Response:
    form = await request.form()
    wanted = form_text(form, "to", limit=64)
    target = staff.name if wanted == "me" else (wanted or None)
    response, _ = await _act(request, staff, replies.assign, to=target, registry=regions(request))
    return response


@staff_page(roles=WRITERS)
async def resolve(request: Request, staff: Staff) -> Response:
    form = await request.form()
    note = form_text(form, "note", limit=replies.MAX_NOTE) or None
    message = form_text(form, "message", limit=replies.MAX_REPLY + 1) or None
    response, outcome = await _act(request, staff, replies.resolve, note=note, message=message, reach=reach(request))
    if outcome is not None and outcome.changed:
        wake_dispatcher(request)  # the closing message
    return response


@staff_page(roles=WRITERS)
async def reply(request: Request, staff: Staff) -> Response:
    """Sends the reply (see `handlers.handoff_replies.reply`) and wakes the dispatcher once it is committed."""
    form = await request.form()
    text = form_text(form, "text", limit=replies.MAX_REPLY + 1)
    # Left empty: the ready-made reply chosen, sent as it is.
    text = text or chosen(console_state(request).phrases.handoff_replies, form_text(form, "canned", limit=4))
    response, outcome = await _act(
        request, staff, replies.reply, text=text, token=once_token(form), reach=reach(request)
    )
    if outcome is not None and outcome.changed:
        wake_dispatcher(request)  # committed: the dispatcher can claim it now
    return response


routes: list[BaseRoute] = [
    Route("/handoffs", inbox, methods=["GET", "HEAD"], name="handoffs"),
    Route("/handoffs/{handoff_id:rowid}", detail, methods=["GET", "HEAD"], name="handoff"),
    Route("/handoffs/{handoff_id:rowid}/assign", assign, methods=["POST"], name="handoff_assign"),
    Route("/handoffs/{handoff_id:rowid}/reply", reply, methods=["POST"], name="handoff_reply"),
    Route("/handoffs/{handoff_id:rowid}/resolve", resolve, methods=["POST"], name="handoff_resolve"),
]
