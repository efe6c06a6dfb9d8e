"""Knowledge gaps at /admin/gaps: questions the bot abstained on, grouped by similarity, with their
counts and the last time they were asked; and the question variants staff map to existing facts.

Everyone reads; admins and reviewers mark a group handled and add or withdraw variants. A reviewer
picks only facts that apply to their regions (a province's facts for a city reviewer too), since a
variant changes the bot's answers there. A variant takes effect in this process at once and in the
other server processes within VARIANTS_POLL_SECONDS. Every change is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.forms import form_text, page_number
from bot.console.scope import WRITERS
from bot.console.state import database, now, runtime
from bot.console.templates import error_page, flash, redirect, render
from handlers.channel_names import channel_label
from knowledge.base import Entry, KnowledgeBase
from knowledge.timezone import SHANGHAI
from storage import gaps as store
from storage.audit import append_entry
from storage.models import GapGroup, QuestionVariant

PER_PAGE = 30
QUESTIONS_SHOWN = 100
MAX_VARIANT = 200
STATUS_FILTERS = {"open": "未处理", "handled": "已处理", "all": "全部"}
ORDERS = {"count": "按次数", "recent": "按最近提问"}
STATUS_LABELS = {"open": "未处理", "handled": "已处理"}


def may_use(kb: KnowledgeBase, staff: Staff, entry: Entry) -> bool:
    """Whether `staff` may point variants at `entry`: it applies to one of their regions, or a
    region inside or around it (kb.applicability), or they cover every region."""
    if not staff.regions:
        return True
    return any(kb.applicability(entry, region) > 0 for region in staff.regions)


def fact_choices(kb: KnowledgeBase, staff: Staff) -> list[dict[str, Any]]:
    """The facts `staff` may choose, grouped by notice for the select list's optgroups."""
    groups: dict[str, dict[str, Any]] = {}
    for entry in kb.entries:
        if not may_use(kb, staff, entry):
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


def _variant_snapshot(variant: QuestionVariant) -> dict[str, Any]:
    return {"question": variant.question, "entry_id": variant.entry_id, "active": variant.active}


def _group_snapshot(group: GapGroup) -> dict[str, Any]:
    return {"status": group.status, "handled_by": group.handled_by}


def _trial(request: Request, question: str, entry_id: str) -> str:
    """What the bot now answers to `question` in the fact's first region: tells staff whether the
    variant does what they meant (a variant never changes an answer the bot already gives)."""
    services = runtime(request).services
    entry = services.kb.by_id[entry_id]
    region = entry.regions[0] if entry.regions else None
    answer = services.qa.answer(question, region=region, now=now(request).astimezone(SHANGHAI).date())
    where = f"试答（{region}）" if region else "试答"
    if answer.matched and entry_id in answer.fact_ids:
        return f"{where}：已能用所选条目回答。"
    if answer.matched:
        return f"{where}：机器人已用其他条目回答此问题，问法不会改变已有的回答。"
    return f"{where}：仍未能回答，问法与考生的说法差别可能太大。"


async def _refresh_variants(request: Request) -> None:
    """This process applies the change at once; the others at their next poll."""
    sync = getattr(request.app.state, "variant_sync", None)
    if sync is not None:
        await sync.refresh()


@staff_page()
async def gap_list(request: Request, staff: Staff) -> Response:
    shown = request.query_params.get("status", "open")
    shown = shown if shown in STATUS_FILTERS else "open"
    order = request.query_params.get("order", "count")
    order = order if order in ORDERS else "count"
    page = page_number(request.query_params.get("page"))
    status = None if shown == "all" else shown
    async with database(request).sessions() as session:
        total = await store.count_groups(session, status=status)
        groups = await store.list_groups(
            session,
            status=status,
            order="recent" if order == "recent" else "count",
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
        )
        open_count = await store.count_groups(session, status="open")
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
    kb = runtime(request).services.kb
    async with database(request).sessions() as session:
        group = await store.get_group(session, group_id=group_id)
        if group is None:
            return error_page(request, 404, "没有这个知识缺口。")
        questions = await store.group_questions(session, group_id=group_id, limit=QUESTIONS_SHOWN)
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
    at = now(request)
    async with database(request).transaction() as session:
        group = await store.get_group(session, group_id=group_id)
        if group is None:
            return error_page(request, 404, "没有这个知识缺口。")
        if group.status == "handled":
            return flash(redirect(request, "gap", group_id=group_id), "此知识缺口已标记为已处理。")
        await _mark_handled(session, group, staff=staff, at=at)
    return flash(redirect(request, "gap", group_id=group_id), "已标记为已处理。")


async def _mark_handled(session: AsyncSession, group: GapGroup, *, staff: Staff, at: dt.datetime) -> None:
    """Marks the group handled, with its audit entry."""
    before = _group_snapshot(group)
    await store.mark_handled(session, group_id=group.id, by=staff.name, now=at)
    await append_entry(
        session,
        at=at,
        actor=staff.name,
        action="gap.handled",
        target_type="gap",
        target_id=group.id,
        before=before,
        after=_group_snapshot(group),
    )


@staff_page(roles=WRITERS)
async def add_variant(request: Request, staff: Staff) -> Response:
    """Maps a phrasing to an existing fact; an unknown fact id, or one outside the reviewer's
    regions, is refused (a select list can be edited in the browser)."""
    group_id = int(request.path_params["group_id"])
    form = await request.form()
    question = form_text(form, "question", limit=MAX_VARIANT + 1)
    entry_id = form_text(form, "entry_id", limit=128)
    also_handled = form.get("handled") == "1"
    back = redirect(request, "gap", group_id=group_id)
    services = runtime(request).services
    if not question:
        return flash(back, "请填写问法。", kind="error")
    if len(question) > MAX_VARIANT:
        return flash(back, f"问法不能超过 {MAX_VARIANT} 字。", kind="error")
    if not services.qa.has_entry(entry_id):
        return flash(back, "请从列表中选择知识库里已有的条目。", kind="error")
    if not may_use(services.kb, staff, services.kb.by_id[entry_id]):
        return flash(back, "该条目不适用于您负责的地区，不能为它添加问法。", kind="error")
    at = now(request)
    async with database(request).transaction() as session:
        group = await store.get_group(session, group_id=group_id)
        if group is None:
            return error_page(request, 404, "没有这个知识缺口。")
        try:
            variant = await store.add_variant(
                session, question=question, entry_id=entry_id, by=staff.name, now=at, group_id=group_id
            )
        except ValueError:
            return flash(back, "问法不能为空。", kind="error")
        await append_entry(
            session,
            at=at,
            actor=staff.name,
            action="gap.variant_add",
            target_type="variant",
            target_id=variant.id,
            after=_variant_snapshot(variant),
            note=f"知识缺口 {group_id}",
        )
        if also_handled and group.status != "handled":
            await _mark_handled(session, group, staff=staff, at=at)
        stored = variant.question
    await _refresh_variants(request)
    done = "已添加问法" + ("，并标记为已处理" if also_handled else "") + "。"
    return flash(back, f"{done}{_trial(request, stored, entry_id)}")


@staff_page()
async def variant_list(request: Request, staff: Staff) -> Response:
    show_all = request.query_params.get("all") == "1"
    kb = runtime(request).services.kb
    async with database(request).sessions() as session:
        variants = await store.list_variants(session, active_only=not show_all)
    rows = []
    for v in variants:
        entry = kb.by_id.get(v.entry_id)
        rows.append(
            {
                "v": v,
                "fact": _fact_label(kb, v.entry_id),
                "mine": staff.can_write and (entry is None or may_use(kb, staff, entry)),
            }
        )
    return render(request, "gap_variants.html", {"rows": rows, "show_all": show_all})


@staff_page(roles=WRITERS)
async def deactivate_variant(request: Request, staff: Staff) -> Response:
    variant_id = int(request.path_params["variant_id"])
    kb = runtime(request).services.kb
    at = now(request)
    back = redirect(request, "gap_variants")
    async with database(request).transaction() as session:
        variant = await session.get(QuestionVariant, variant_id)
        if variant is None:
            return error_page(request, 404, "没有这个问法。")
        entry = kb.by_id.get(variant.entry_id)
        if entry is not None and not may_use(kb, staff, entry):
            return flash(back, "该问法的条目不适用于您负责的地区，不能停用。", kind="error")
        if not variant.active:
            return flash(back, "该问法已停用。")
        before = _variant_snapshot(variant)
        await store.deactivate_variant(session, variant_id=variant_id, by=staff.name, now=at)
        await append_entry(
            session,
            at=at,
            actor=staff.name,
            action="gap.variant_deactivate",
            target_type="variant",
            target_id=variant_id,
            before=before,
            after=_variant_snapshot(variant),
        )
    await _refresh_variants(request)
    return flash(back, "已停用该问法，机器人不再使用它。")


routes: list[BaseRoute] = [
    Route("/gaps", gap_list, methods=["GET", "HEAD"], name="gaps"),
    Route("/gaps/variants", variant_list, methods=["GET", "HEAD"], name="gap_variants"),
    Route(
        "/gaps/variants/{variant_id:int}/deactivate",
        deactivate_variant,
        methods=["POST"],
        name="gap_variant_deactivate",
    ),
    Route("/gaps/{group_id:int}", gap_detail, methods=["GET", "HEAD"], name="gap"),
    Route("/gaps/{group_id:int}/handled", mark_handled, methods=["POST"], name="gap_handled"),
    Route("/gaps/{group_id:int}/variants", add_variant, methods=["POST"], name="gap_variant_add"),
]
