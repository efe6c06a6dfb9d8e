"""Knowledge gaps at /admin/gaps: questions the bot abstained on, grouped by similarity, with their
counts and the last time they were asked; and the question variants staff map to existing facts.

Everyone reads; admins and reviewers mark a group handled and add or withdraw variants. A reviewer
picks only facts that apply to their regions (a province's facts for a city reviewer too), since a
variant changes the bot's answers there. A variant takes effect in this process at once and in the
other server processes within VARIANTS_POLL_SECONDS. Every change is audited."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.forms import form_text, page_number
from bot.console.scope import WRITERS
from bot.console.state import database, knowledge, knowledge_sync, now
from bot.console.templates import error_page, flash, redirect, render
from handlers import gap_review as review
from handlers.channel_names import channel_label
from handlers.gap_review import MAX_VARIANT, may_use
from knowledge.base import KnowledgeBase
from knowledge.timezone import beijing_date
from storage import gaps as store

PER_PAGE = 30
QUESTIONS_SHOWN = 100
STATUS_FILTERS = {"open": "未处理", "handled": "已处理", "all": "全部"}
ORDERS = {"count": "按次数", "recent": "按最近提问"}
STATUS_LABELS = {"open": "未处理", "handled": "已处理"}
NOT_FOUND = "没有这个知识缺口。"


def fact_choices(kb: KnowledgeBase, staff: Staff) -> list[dict[str, Any]]:
    """The facts `staff` may choose, grouped by notice for the select list's optgroups."""
    groups: dict[str, dict[str, Any]] = {}
    for entry in kb.entries:
        if not may_use(kb, staff.regions, entry):
            continue
        notice = entry.notice
        group = groups.setdefault(
            notice.doc_no, {"label": f"{notice.doc_no}（{'、'.join(notice.regions)}）", "facts": []}
        )
        group["facts"].append({"id": entry.fact.id, "title": entry.fact.title})
    return list(groups.values())


def _fact_label(kb: KnowledgeBase, entry_id: str) -> str:
    entry = kb.by_id.get(entry_id)
    return f"{entry.fact.title}（{entry.doc_no}）" if entry is not None else f"{entry_id}（已不在知识库中）"


async def _refresh_variants(request: Request) -> None:
    """This process applies the change at once; the others at their next poll."""
    await knowledge_sync(request).refresh()


@staff_page()
async def gap_list(request: Request, staff: Staff) -> Response:
    shown = request.query_params.get("status", "open")
    shown = shown if shown in STATUS_FILTERS else "open"
    order = request.query_params.get("order", "count")
    order = order if order in ORDERS else "count"
    page = page_number(request.query_params.get("page"))
    status = None if shown == "all" else shown
    async with database(request).sessions() as session:
        total = await store.count_groups(session, status=status, visible=staff.visible)
        groups = await store.list_groups(
            session,
            status=status,
            visible=staff.visible,
            order="recent" if order == "recent" else "count",
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
        )
        open_count = await store.count_groups(session, status="open", visible=staff.visible)
    return render(
        request,
        "gaps.html",
        {
            "groups": groups,
            "shown": shown,
            "order": order,
            "filters": STATUS_FILTERS,
            "orders": ORDERS,
            "status_labels": STATUS_LABELS,
            "total": total,
            "open_count": open_count,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
        },
    )


@staff_page()
async def gap_detail(request: Request, staff: Staff) -> Response:
    group_id = int(request.path_params["group_id"])
    kb = knowledge(request).kb
    async with database(request).sessions() as session:
        group = await store.get_group(session, group_id=group_id)
        if group is None:
            return error_page(request, 404, NOT_FOUND)
        questions = await store.group_questions(
            session, group_id=group_id, limit=QUESTIONS_SHOWN, visible=staff.visible
        )
        if not questions and staff.visible is not None:
            return error_page(request, 404, NOT_FOUND)  # asked about other regions only
        variants = await store.list_variants(session, group_id=group_id)
    return render(
        request,
        "gap.html",
        {
            "group": group,
            "questions": questions,
            "variants": [{"v": v, "fact": _fact_label(kb, v.entry_id)} for v in variants],
            "choices": fact_choices(kb, staff) if staff.can_write else [],
            "status_labels": STATUS_LABELS,
            "channel_label": channel_label,
            "max_variant": MAX_VARIANT,
        },
    )


@staff_page(roles=WRITERS)
async def mark_handled(request: Request, staff: Staff) -> Response:
    group_id = int(request.path_params["group_id"])
    try:
        async with database(request).transaction() as session:
            changed = await review.mark_handled(session, group_id=group_id, actor=staff.name, now=now(request))
    except review.GapNotFound:
        return error_page(request, 404, NOT_FOUND)
    done = "已标记为已处理。" if changed else "此知识缺口已标记为已处理。"
    return flash(redirect(request, "gap", group_id=group_id), done)


@staff_page(roles=WRITERS)
async def add_variant(request: Request, staff: Staff) -> Response:
    """Maps a phrasing to an existing fact (see `handlers.gap_review.add_variant`)."""
    group_id = int(request.path_params["group_id"])
    form = await request.form()
    question = form_text(form, "question", limit=MAX_VARIANT + 1)
    entry_id = form_text(form, "entry_id", limit=128)
    also_handled = form.get("handled") == "1"
    back = redirect(request, "gap", group_id=group_id)
    snapshot = knowledge(request)
    try:
        async with database(request).transaction() as session:
            variant = await review.add_variant(
                session,
                group_id=group_id,
                question=question,
                entry_id=entry_id,
                also_handled=also_handled,
                actor=staff.name,
                regions=staff.regions,
                qa=snapshot.qa,
                kb=snapshot.kb,
                now=now(request),
            )
            stored = variant.question
    except review.GapNotFound:
        return error_page(request, 404, NOT_FOUND)
    except review.GapRefused as exc:
        return flash(back, exc.message, kind="error")
    await _refresh_variants(request)
    done = "已添加问法" + ("，并标记为已处理" if also_handled else "") + "。"
    # The knowledge published with the new variant, not the snapshot the check above read.
    after = knowledge(request)
    trial = review.trial(after.qa, after.kb, stored, entry_id, today=beijing_date(now(request)))
    return flash(back, f"{done}{trial}")


@staff_page()
async def variant_list(request: Request, staff: Staff) -> Response:
    show_all = request.query_params.get("all") == "1"
    kb = knowledge(request).kb
    async with database(request).sessions() as session:
        variants = await store.list_variants(session, active_only=not show_all)
    rows = []
    for v in variants:
        entry = kb.by_id.get(v.entry_id)
        rows.append(
            {
                "v": v,
                "fact": _fact_label(kb, v.entry_id),
                "mine": staff.can_write and (entry is None or may_use(kb, staff.regions, entry)),
            }
        )
    return render(request, "gap_variants.html", {"rows": rows, "show_all": show_all})


@staff_page(roles=WRITERS)
async def deactivate_variant(request: Request, staff: Staff) -> Response:
    variant_id = int(request.path_params["variant_id"])
    back = redirect(request, "gap_variants")
    try:
        async with database(request).transaction() as session:
            changed = await review.deactivate_variant(
                session,
                variant_id=variant_id,
                actor=staff.name,
                regions=staff.regions,
                kb=knowledge(request).kb,
                now=now(request),
            )
    except review.GapNotFound:
        return error_page(request, 404, "没有这个问法。")
    except review.GapRefused as exc:
        return flash(back, exc.message, kind="error")
    if not changed:
        return flash(back, "该问法已停用。")
    await _refresh_variants(request)
    return flash(back, "已停用该问法，机器人不再使用它。")


routes: list[BaseRoute] = [
    Route("/gaps", gap_list, methods=["GET", "HEAD"], name="gaps"),
    Route("/gaps/variants", variant_list, methods=["GET", "HEAD"], name="gap_variants"),
    Route(
        "/gaps/variants/{variant_id:rowid}/deactivate",
        deactivate_variant,
        methods=["POST"],
        name="gap_variant_deactivate",
    ),
    Route("/gaps/{group_id:rowid}", gap_detail, methods=["GET", "HEAD"], name="gap"),
    Route("/gaps/{group_id:rowid}/handled", mark_handled, methods=["POST"], name="gap_handled"),
    Route("/gaps/{group_id:rowid}/variants", add_variant, methods=["POST"], name="gap_variant_add"),
]
