"""退考退费申请 at /admin/requests: the list (filters, search, counts per status, pages, bulk
approval), a request's detail (declaration, fields, conversation, history, verification code), an
admin's audited reveal of the full numbers, and the review actions.

Every read and every action is limited to the staff member's regions: another region's request
answers 404, exactly like a missing one. The reads are `storage.request_queries`, the status changes
the workflows of `handlers.request_review`; this module reads forms and words the outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.canned import chosen
from bot.console.forms import form_text, typed_date
from bot.console.request_filters import FIELDS, parse_filters, region_choices
from bot.console.scope import ADMIN, WRITERS
from bot.console.state import Suggestions, console_state, database, knowledge, now, regions, runtime
from bot.console.templates import error_page, flash, redirect, render, url
from handlers import request_review as review
from handlers.withdrawal_form import STATUS_TEXT
from knowledge.timezone import beijing_date
from storage import request_queries as queries
from storage.declarations import verification_code
from storage.models import RequestEvent, TranscriptLine, WithdrawalRequest
from storage.requests import REFERENCE

PER_PAGE = 50
NOT_FOUND = "没有找到这份申请：它不存在，或不在您负责的地区。"
ACTION_NAMES = {"approve": "通过", "reject": "驳回", "refund": "登记退费"}
EVENT_NAMES = {"submit": "考生提交", "approve": "审核通过", "reject": "驳回", "refund": "登记退费"}


Workflow = Callable[..., Awaitable[review.StatusChange]]
"""A review workflow of `handlers.request_review`, called with the request and the staff member."""
ACTIONS_FROM = {action: source for action, (source, _) in review.ACTIONS.items()}
"""action → the only status it applies to."""


def refusal(exc: review.TransitionRefused) -> str:
    """Why an action does not apply, in the words staff see."""
    name = ACTION_NAMES[exc.action]
    return (
        f"该申请当前状态为“{STATUS_TEXT.get(exc.status, exc.status)}”，不能{name}："
        f"只有“{STATUS_TEXT[ACTIONS_FROM[exc.action]]}”的申请可以{name}。未做任何更改。"
    )


async def _suggestions(request: Request, session: AsyncSession, visible: frozenset[str] | None) -> Suggestions:
    """The occupations and institutions offered in the filters, kept a while per set of regions."""
    cache = console_state(request).suggestions
    found = cache.get(visible)
    if found is None:
        occupations = await queries.distinct_values(session, "occupation", visible=visible)
        institutions = await queries.distinct_values(session, "institution", visible=visible)
        places = await queries.distinct_values(session, "region", visible=visible)
        found = cache[visible] = (occupations, institutions, places)
    return found


@staff_page()
async def request_list(request: Request, staff: Staff) -> Response:
    """The list: counts per status, the filters, one page of requests (newest first)."""
    registry = regions(request)
    query = parse_filters(request.query_params, staff, registry)
    async with database(request).sessions() as session:
        counts = await queries.status_counts(session, query.filter)
        # The counts already say how many match: no second COUNT over the same rows.
        total = counts[query.filter.status] if query.filter.status else sum(counts.values())
        pages = max(1, -(-total // PER_PAGE))
        page = min(query.page, pages)
        rows = await queries.list_requests(session, query.filter, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
        occupations, institutions, places = await _suggestions(request, session, staff.visible)
    return render(
        request,
        "requests.html",
        {
            "rows": rows,
            "query": query,
            "values": query.values,
            "counts": counts,
            "total": total,
            "page": page,
            "pages": pages,
            "status_text": STATUS_TEXT,
            "regions": region_choices(
                staff,
                registry,
                [*places, *(r for n in knowledge(request).kb.notices.values() for r in n.regions)],
                query.values.get("region", ""),
            ),
            "occupations": occupations,
            "institutions": institutions,
            "can_write": staff.can_write,
            "back": query.query_string(page=page if page > 1 else None),
            # Resolved once: url_for walks the route table (~0.4 ms a call), and a page has dozens of links.
            # A request's page is this path plus its id (the request_detail route).
            "list_url": url(request, "requests"),
        },
    )


def _detail_context(
    request: Request,
    wr: WithdrawalRequest,
    *,
    reveal: bool,
    events: list[RequestEvent],
    lines: list[ShownLine],
) -> dict[str, Any]:
    """The detail page's values: full numbers and declaration only when `reveal` (already audited)."""
    cipher = runtime(request).services.cipher
    if reveal and not wr.erased:
        id_number = cipher.decrypt(wr.id_number_cipher, context="id_number")
        phone = cipher.decrypt(wr.phone_cipher, context="phone")
        declaration = cipher.decrypt(wr.declaration_cipher, context="declaration")
    else:
        id_number, phone, declaration = wr.id_number_masked, wr.phone_masked, wr.declaration_masked
    return {
        "r": wr,
        "reveal": reveal,
        "id_number": id_number,
        "phone": phone,
        "declaration": declaration,
        "code": verification_code(cipher, wr),
        "events": events,
        "lines": lines,
        "status_text": STATUS_TEXT,
        "event_names": EVENT_NAMES,
        "today": beijing_date(now(request)).isoformat(),
        "rejection_reasons": console_state(request).phrases.rejection_reasons,
        "refund_methods": review.REFUND_METHODS,
    }


@dataclass(frozen=True)
class ShownLine:
    """A transcript line as the detail page shows it."""

    direction: str
    text: str
    at: dt.datetime


HIDDEN = "（此消息涉及您负责地区以外的申请，已隐藏）"


def shown_lines(lines: list[TranscriptLine], staff: Staff, own: str, regions: dict[str, str]) -> list[ShownLine]:
    """The lines, each that names another request (by its reference) outside `staff`'s regions
    hidden: a candidate who filed in two regions may have listed both with 我的申请."""
    shown = []
    for line in lines:
        others = set(REFERENCE.findall(line.text)) - {own}
        foreign = any(ref not in regions or not staff.can_see_region(regions[ref]) for ref in others)
        shown.append(ShownLine(line.direction, HIDDEN if foreign else line.text, line.at))
    return shown


async def _detail(request: Request, staff: Staff, *, reveal: bool) -> Response:
    request_id = int(request.path_params["request_id"])
    async with database(request).sessions() as session:
        wr = await queries.find_request(session, request_id=request_id, visible=staff.visible)
        if wr is None:
            return error_page(request, 404, NOT_FOUND)
        events = await queries.history(session, request_id=wr.id)
        lines = shown_lines(
            await queries.conversation(session, wr), staff, wr.reference, await queries.references_of_user(session, wr)
        )
    return render(
        request, "request_detail.html", _detail_context(request, wr, reveal=reveal, events=events, lines=lines)
    )


@staff_page()
async def request_detail(request: Request, staff: Staff) -> Response:
    """One request, numbers masked."""
    return await _detail(request, staff, reveal=False)


@staff_page(roles=[ADMIN])
async def reveal(request: Request, staff: Staff) -> Response:
    """The full ID number, phone and declaration, for this response only; audited first."""
    try:
        async with database(request).transaction() as session:
            await review.record_reveal(
                session,
                request_id=int(request.path_params["request_id"]),
                actor=staff.name,
                now=now(request),
                visible=staff.visible,
            )
    except review.RequestNotFound:
        return error_page(request, 404, NOT_FOUND)
    return await _detail(request, staff, reveal=True)


async def _act(request: Request, staff: Staff, workflow: Workflow, done: str, **typed: Any) -> Response:
    """Runs `workflow` on the request in the URL in one transaction; any refusal rolls everything back
    and is shown on the detail page."""
    request_id = int(request.path_params["request_id"])
    back = redirect(request, "request_detail", request_id=request_id)
    try:
        async with database(request).transaction() as session:
            await workflow(
                session, request_id=request_id, actor=staff.name, now=now(request), visible=staff.visible, **typed
            )
    except review.RequestNotFound:
        return error_page(request, 404, NOT_FOUND)
    except review.TransitionRefused as exc:
        return flash(back, refusal(exc), kind="error")
    except review.InvalidInput as exc:
        return flash(back, exc.message, kind="error")
    return flash(back, done)


@staff_page(roles=WRITERS)
async def approve(request: Request, staff: Staff) -> Response:
    """submitted → approved once the reviewer ticked the confirmation; the candidate is told."""
    if (await request.form()).get("confirmed") != "1":
        return _unconfirmed(request, "通过")
    return await _act(request, staff, review.approve, "已通过该申请，并已通知考生。")


def _unconfirmed(request: Request, what: str) -> Response:
    back = redirect(request, "request_detail", request_id=int(request.path_params["request_id"]))
    return flash(back, f"请先勾选“确认{what}”后再提交：此操作会通知考生，不能撤回。", kind="error")


@staff_page(roles=WRITERS)
async def reject(request: Request, staff: Staff) -> Response:
    """submitted → rejected, with the reason (required) the candidate is sent."""
    form = await request.form()
    if form.get("confirmed") != "1":
        return _unconfirmed(request, "驳回")
    typed = form_text(form, "reason")
    reason = typed or chosen(
        console_state(request).phrases.rejection_reasons, form_text(form, "reason_choice", limit=4)
    )
    return await _act(request, staff, review.reject, "已驳回该申请，并已把原因通知考生。", reason=reason)


@staff_page(roles=WRITERS)
async def refund(request: Request, staff: Staff) -> Response:
    """approved → refunded on a date, 原路退回, with an internal note."""
    form = await request.form()
    day = typed_date(form_text(form, "refunded_on"))
    if day is None:
        back = redirect(request, "request_detail", request_id=int(request.path_params["request_id"]))
        return flash(back, "请填写有效的退费日期（格式如 2026-03-02）。", kind="error")
    method, note = form_text(form, "method"), form_text(form, "note")
    return await _act(
        request, staff, review.refund, "已登记退费，并已通知考生。", refunded_on=day, method=method, note=note
    )


def _back_query(raw: str) -> str:
    """The list's filters to return to, rebuilt from known fields only (never a place elsewhere)."""
    kept = [(k, v) for k, v in parse_qsl(raw)[:20] if k in (*FIELDS, "page")]
    return urlencode(kept)


@staff_page(roles=WRITERS)
async def bulk_approve(request: Request, staff: Staff) -> Response:
    """Approves the requests ticked on the list that await review in the staff member's regions."""
    form = await request.form()
    back = redirect(request, "requests", query=_back_query(form_text(form, "back")))
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) < 12]
    if not ids:
        return flash(back, "请先勾选要通过的申请。", kind="error")
    try:
        async with database(request).transaction() as session:
            result = await review.bulk_approve(
                session,
                request_ids=ids,
                actor=staff.name,
                now=now(request),
                visible=staff.visible,
            )
    except review.InvalidInput as exc:
        return flash(back, exc.message, kind="error")
    text = f"已批量通过 {len(result.approved)} 份申请，并已通知考生。"
    if result.skipped:
        text += f"跳过 {result.skipped} 份（不是待审核状态，或不在您负责的地区）。"
    return flash(back, text, kind="ok" if result.approved else "error")


routes: list[BaseRoute] = [
    Route("/requests", request_list, methods=["GET", "HEAD"], name="requests"),
    Route("/requests/approve", bulk_approve, methods=["POST"], name="requests_bulk_approve"),
    Route("/requests/{request_id:rowid}", request_detail, methods=["GET", "HEAD"], name="request_detail"),
    Route("/requests/{request_id:rowid}/reveal", reveal, methods=["POST"], name="request_reveal"),
    Route("/requests/{request_id:rowid}/approve", approve, methods=["POST"], name="request_approve"),
    Route("/requests/{request_id:rowid}/reject", reject, methods=["POST"], name="request_reject"),
    Route("/requests/{request_id:rowid}/refund", refund, methods=["POST"], name="request_refund"),
]
