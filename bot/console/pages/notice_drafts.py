"""A notice draft at /admin/notices/drafts/N: each extracted fact beside the sentence it came from,
editable, with a decision (采用 / 不采用 / 待审核); saving, publishing (admins), discarding. The
workflows are `handlers.notice_drafts` and `handlers.notice_publishing`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.fact_fields import NEW_KINDS
from bot.console.forms import form_text
from bot.console.notice_review import (
    BOUND_LABELS,
    DECISION_LABELS,
    DIRECTION_LABELS,
    KIND_LABELS,
    UNIT_LABELS,
    apply_form,
    fact_views,
    problems_by_fact,
    source_segments,
)
from bot.console.pages.notices import baseline, editor, may_edit
from bot.console.scope import ADMIN, WRITERS
from bot.console.state import database, knowledge, knowledge_sync, now, regions
from bot.console.templates import error_page, flash, redirect, render
from handlers import notice_drafts as drafts
from handlers import notice_publishing as publishing
from handlers.notice_drafts import DRAFT_LABELS
from knowledge.base import KnowledgeBase, citation
from storage import notices as store

HEADER_KEYS = ("doc_no", "issuer", "title", "issued", "issued_year", "regions", "summary", "review", "problems")
NOT_FOUND = "没有这份草稿。"
T = TypeVar("T")


def _supersede_choices(kb: KnowledgeBase, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Live notices of the draft's regions (or around or inside them) that it may supersede."""
    own = data.get("regions") or []
    chosen = list(data.get("supersedes") or [])
    out = []
    for notice in kb.notices.values():
        if notice.doc_no == data.get("doc_no"):
            continue
        near = any(kb.regions.contains(a, b) or kb.regions.contains(b, a) for a in own for b in notice.regions)
        if near or notice.doc_no in chosen:
            out.append(
                {
                    "doc_no": notice.doc_no,
                    "label": f"{citation(notice.doc_no, notice.version)} {notice.title}（{'、'.join(notice.regions)}）",
                    "checked": notice.doc_no in chosen,
                }
            )
    known = {c["doc_no"] for c in out}
    out += [{"doc_no": d, "label": f"{d}（已不在知识库中）", "checked": True} for d in chosen if d not in known]
    return out


def _decision_counts(data: dict[str, Any], decisions: dict[str, str]) -> dict[str, int]:
    counts = dict.fromkeys(DECISION_LABELS.values(), 0)
    for fact in data.get("facts") or []:
        counts[DECISION_LABELS[decisions.get(str(fact.get("id")), "")]] += 1
    return counts


@staff_page()
async def draft_page(request: Request, staff: Staff) -> Response:
    draft_id = int(request.path_params["draft_id"])
    async with database(request).sessions() as session:
        draft = await store.get_draft(session, draft_id)
        if draft is None or not drafts.may_see(editor(staff), draft):
            return error_page(request, 404, NOT_FOUND)
        checked = await publishing.candidate(session, draft, baseline(request))
        version = await store.version_of_draft(session, draft.id)
    header_problems, fact_problems = problems_by_fact(checked.problems, checked.mapping)
    data = draft.data
    editable = draft.status in store.OPEN and may_edit(staff, draft.regions)
    quotes = [(i, str((f.get("source") or {}).get("quote") or "")) for i, f in enumerate(data.get("facts") or [])]
    segments = source_segments(draft.source_text, quotes)
    return render(
        request,
        "notice_draft.html",
        {
            "draft": draft,
            "header": {key: data.get(key) for key in HEADER_KEYS},
            "facts": fact_views(data, draft.decisions, fact_problems),
            "header_problems": header_problems,
            "problem_count": len(checked.problems),
            "counts": _decision_counts(data, draft.decisions),
            "next_version": checked.mapping["version"],
            "supersede_choices": _supersede_choices(knowledge(request).kb, data),
            "withdrawal": data.get("withdrawal") or {},
            "source_segments": segments,
            "linked": {n for _, n in segments if n is not None},
            "fact_choices": [(str(f.get("id")), str(f.get("title") or f.get("id"))) for f in data.get("facts") or []],
            "editable": editable,
            "can_publish": editable and staff.role == ADMIN,
            "version": version,
            "status_labels": DRAFT_LABELS,
            "decision_labels": DECISION_LABELS,
            "kind_labels": KIND_LABELS,
            "new_kinds": NEW_KINDS,
            "bound_labels": BOUND_LABELS,
            "unit_labels": UNIT_LABELS,
            "direction_labels": DIRECTION_LABELS,
        },
    )


async def _save(request: Request, staff: Staff, draft_id: int) -> Response | None:
    """Applies the submitted form to the draft; a response when it could not (else None)."""
    form = await request.form()
    typed = form_text(form, "revision", limit=12)
    registry = regions(request)
    saved = await _refused(
        request,
        draft_id,
        lambda session: drafts.save_draft(
            session,
            draft_id=draft_id,
            revision=int(typed) if typed.isdigit() else None,
            edit=lambda data, decisions: apply_form(data, decisions, form, registry),
            editor=editor(staff),
            now=now(request),
        ),
    )
    return saved if isinstance(saved, Response) else None


async def _refused(request: Request, draft_id: int, work: Callable[[AsyncSession], Awaitable[T]]) -> T | Response:
    """Runs `work` in one transaction; a missing draft is a 404, a refusal a message on the draft page."""
    try:
        async with database(request).transaction() as session:
            return await work(session)
    except drafts.NoticeNotFound:
        return error_page(request, 404, NOT_FOUND)
    except drafts.NoticeRefused as exc:
        return flash(redirect(request, "notice_draft", draft_id=draft_id), exc.message, kind="error")


@staff_page(roles=WRITERS)
async def save_draft(request: Request, staff: Staff) -> Response:
    draft_id = int(request.path_params["draft_id"])
    refused = await _save(request, staff, draft_id)
    return refused or flash(redirect(request, "notice_draft", draft_id=draft_id), "已保存。")


@staff_page(roles=[ADMIN])
async def publish_draft(request: Request, staff: Staff) -> Response:
    """Saves the form, then publishes if the draft passes validation; otherwise the draft page
    lists what stops it, per fact."""
    draft_id = int(request.path_params["draft_id"])
    refused = await _save(request, staff, draft_id)
    if refused is not None:
        return refused
    published = await _refused(
        request,
        draft_id,
        lambda session: publishing.publish_draft(
            session, draft_id=draft_id, actor=staff.name, baseline=baseline(request), now=now(request)
        ),
    )
    if isinstance(published, Response):
        return published
    sync = knowledge_sync(request)
    await sync.refresh()  # this process answers from it at once
    done = f"已发布 {published.name}，机器人已开始使用；其他服务进程将在 {int(sync.interval)} 秒内更新。"
    return flash(redirect(request, "notice_version", version_id=published.version_id), done)


@staff_page(roles=WRITERS)
async def submit_draft(request: Request, staff: Staff) -> Response:
    """Saves the form and hands the draft to the admins (a reviewer cannot publish)."""
    draft_id = int(request.path_params["draft_id"])
    refused = await _save(request, staff, draft_id)
    if refused is not None:
        return refused
    submitted = await _refused(
        request,
        draft_id,
        lambda session: drafts.submit_draft(session, draft_id=draft_id, editor=editor(staff), now=now(request)),
    )
    if isinstance(submitted, Response):
        return submitted
    done = "已保存并提交，管理员的仪表盘会显示这份待发布的草稿；发布前仍可修改。"
    return flash(redirect(request, "notice_draft", draft_id=draft_id), done)


@staff_page(roles=WRITERS)
async def discard_draft(request: Request, staff: Staff) -> Response:
    draft_id = int(request.path_params["draft_id"])
    discarded = await _refused(
        request,
        draft_id,
        lambda session: drafts.discard_draft(session, draft_id=draft_id, editor=editor(staff), now=now(request)),
    )
    if isinstance(discarded, Response):
        return discarded
    return flash(redirect(request, "notices"), "已放弃这份草稿（记录保留）。")


routes: list[BaseRoute] = [
    Route("/notices/drafts/{draft_id:rowid}", draft_page, methods=["GET", "HEAD"], name="notice_draft"),
    Route("/notices/drafts/{draft_id:rowid}", save_draft, methods=["POST"], name="notice_draft_save"),
    Route("/notices/drafts/{draft_id:rowid}/publish", publish_draft, methods=["POST"], name="notice_publish"),
    Route("/notices/drafts/{draft_id:rowid}/discard", discard_draft, methods=["POST"], name="notice_draft_discard"),
    Route("/notices/drafts/{draft_id:rowid}/submit", submit_draft, methods=["POST"], name="notice_draft_submit"),
]
